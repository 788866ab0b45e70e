//go:build linux || darwin

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

func sigusr1() map[string]any {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	t0 := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		return map[string]any{"delivered": false, "error": err.Error()}
	}
	select {
	case s := <-c:
		return map[string]any{
			"delivered":  s == syscall.SIGUSR1,
			"latency_ms": time.Since(t0).Milliseconds(),
		}
	case <-time.After(wait):
		return map[string]any{"delivered": false, "error": "not delivered within " + wait.String()}
	}
}

func closedPipe(notify bool) map[string]any {
	var c chan os.Signal
	if notify {
		c = make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGPIPE)
		defer signal.Stop(c)
	}
	out := describe(writeToClosedPipe())
	if notify {
		select {
		case <-c:
			out["sigpipe_delivered"] = true
		case <-time.After(wait):
			out["sigpipe_delivered"] = false
		}
	}
	return out
}
