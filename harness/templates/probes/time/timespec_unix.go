//go:build linux || darwin

package main

import (
	"syscall"
	"unsafe"
)

func timespecSize(out map[string]any) {
	var ts syscall.Timespec
	out["go_timespec_sec"] = int(unsafe.Sizeof(ts.Sec))
}
