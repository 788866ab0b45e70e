package main

// On 386, arm and 32-bit mips, the 64-bit atomic functions need 8-byte
// alignment, which Go only guarantees for the first word of an allocated
// struct. Here `counter` sits at offset 4 on those ports, so AddUint64 panics
// with "unaligned 64-bit atomic operation" (golang/go#599, and the Bugs
// section of sync/atomic's documentation). atomic.Uint64 (Go 1.19) is the fix.

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

type stats struct {
	flags   uint32
	counter uint64
}

var s stats

func main() {
	emitFacts(map[string]any{
		"counter_offset": int(unsafe.Offsetof(s.counter)),
		"aligned8":       uintptr(unsafe.Pointer(&s.counter))%8 == 0,
	})
	atomic.AddUint64(&s.counter, 1)
	fmt.Println("atomic add ok:", atomic.LoadUint64(&s.counter))
}
