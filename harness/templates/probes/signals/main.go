package main

// Two things programs rely on without thinking: that a signal sent to the
// process reaches os/signal, and what a write to a pipe whose reader has
// gone does. Go documents the second precisely (os/signal, "SIGPIPE"): on
// a descriptor other than 1 and 2 the write fails with EPIPE and the
// process lives; with signal.Notify(SIGPIPE) the signal also reaches the
// channel. On Windows there is no SIGUSR1 and no SIGPIPE; the write fails
// with a Windows error instead. Under qemu-user and wine the answers are
// the emulator's, so the probe names the emulator beside them.

import (
	"errors"
	"os"
	"syscall"
	"time"
)

func main() {
	facts := map[string]any{"emulator": emulator()}
	facts["sigusr1"] = sigusr1()
	facts["pipe"] = closedPipe(false)
	facts["pipe_notified"] = closedPipe(true)
	emitFacts(facts)
}

// writeToClosedPipe writes to a pipe after closing its read end.
func writeToClosedPipe() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	r.Close()
	defer w.Close()
	_, err = w.Write([]byte("x"))
	return err
}

// wait is how long a signal may take to arrive: generous, because an
// emulator delivers signals between translated blocks.
const wait = 5 * time.Second

// describe reports a write's error: its text, whether it is EPIPE, and the
// raw errno (a Windows error code on Windows).
func describe(err error) map[string]any {
	out := map[string]any{"survived": true}
	if err == nil {
		out["error"] = "none: the write succeeded"
		return out
	}
	out["error"] = err.Error()
	out["epipe"] = errors.Is(err, syscall.EPIPE)
	var errno syscall.Errno
	if errors.As(err, &errno) {
		out["errno"] = int(errno)
	}
	return out
}
