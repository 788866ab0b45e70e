package main

// go-c-layout: a Go struct written to mirror a C struct, next to the C
// struct itself. Go aligns int64 to 4 bytes on 32-bit ports
// (golang/go#599); C on arm aligns it to 8 (AAPCS), on 386 to 4 (SysV i386
// psABI). So on arm the two disagree: b at offset 4 in Go and 8 in C, sizes
// 12 and 16. Code that passes such a struct by pointer, or reads it from a
// file written by C, reads garbage there. The check phase reports each
// difference as `layout.mismatch`.

/*
#include "layout.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// pair is what a Go programmer writes for C's struct pair.
type pair struct {
	a int32
	b int64
}

func main() {
	var p pair
	var cp C.struct_pair
	emitFacts(map[string]any{
		"goos":   runtime.GOOS,
		"goarch": runtime.GOARCH,
		"go": map[string]any{
			"sizeof":     unsafe.Sizeof(p),
			"alignof":    unsafe.Alignof(p),
			"offsetof_b": unsafe.Offsetof(p.b),
		},
		"c": map[string]any{
			"sizeof":     uint64(C.pair_sizeof()),
			"alignof":    uint64(C.pair_alignof()),
			"offsetof_b": uint64(C.pair_offsetof_b()),
		},
		// cgo's own Go type for the C struct follows C, padding included:
		// the safe way to share the struct.
		"cgo_type": map[string]any{
			"sizeof":     unsafe.Sizeof(cp),
			"offsetof_b": unsafe.Offsetof(cp.b),
		},
		"build": buildSettings(),
	})
}
