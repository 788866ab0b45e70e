package main

// cgo-hello: the smallest real cgo program. It calls into C and reports the
// C compiler and libc that C was built with, and the build settings Go
// recorded (CGO_ENABLED, -buildmode, CGO_CFLAGS, ...).

/*
#include "hello.h"
*/
import "C"

import "runtime"

func main() { run() }

func run() {
	emitFacts(map[string]any{
		"goos":       runtime.GOOS,
		"goarch":     runtime.GOARCH,
		"go_version": runtime.Version(),
		"c": map[string]any{
			"add":     int(C.hello_add(40, 2)),
			"cc":      C.GoString(C.hello_cc()),
			"version": C.GoString(C.hello_cc_version()),
			"libc":    C.GoString(C.hello_libc()),
		},
		"build": buildSettings(),
	})
}
