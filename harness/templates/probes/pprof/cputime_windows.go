package main

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and kernel CPU time so far.
func cpuTime() (time.Duration, error) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, err
	}
	var c, e, k, u syscall.Filetime
	if err := syscall.GetProcessTimes(h, &c, &e, &k, &u); err != nil {
		return 0, err
	}
	// Filetime counts 100 ns; Nanoseconds() would subtract the 1601 epoch.
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(k) + ticks(u)) * 100), nil
}
