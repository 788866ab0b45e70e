package main

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"unsafe"
)

func main() {
	facts := map[string]any{
		"goos":       runtime.GOOS,
		"goarch":     runtime.GOARCH,
		"go_version": runtime.Version(),
		"ptr_size":   int(unsafe.Sizeof(uintptr(0))),
		"int_size":   strconv.IntSize,
		"byte_order": byteOrder(),
		"num_cpu":    runtime.NumCPU(),
	}
	// The settings the toolchain recorded: what really went into the binary,
	// as opposed to what the matrix asked for (cgo can go off silently).
	if info, ok := debug.ReadBuildInfo(); ok {
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		facts["build"] = settings
	}
	emitFacts(facts)
}

func byteOrder() string {
	var x uint16 = 1
	b := (*[2]byte)(unsafe.Pointer(&x))
	if b[0] == 1 {
		return "little"
	}
	return "big"
}
