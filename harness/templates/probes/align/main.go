package main

// The layout of three structs that real programs hold counters in. On 386,
// arm and 32-bit mips a uint64 is only 4-byte aligned, so a uint64 that
// follows a uint32 sits at offset 4, and 64-bit atomic operations on it
// panic (golang/go#599; "Bugs" in the sync/atomic documentation).
// atomic.Int64 (Go 1.19) carries an alignment marker that makes the
// compiler put it on an 8-byte boundary everywhere.
//
// Nothing here panics: the probe reports layouts, and checks the address of
// a heap-allocated value, which is what atomics care about.

import (
	"sync/atomic"
	"unsafe"
)

type afterUint32 struct {
	flags uint32
	n     uint64
}

type boolSandwich struct {
	a bool
	n int64
	b bool
}

type withAtomic struct {
	flags uint32
	n     atomic.Int64
}

// layout describes one struct; safe says whether its 64-bit field may be
// used with sync/atomic: 8-byte aligned offset in an 8-byte aligned struct.
func layout(size, align, off uintptr, addr uintptr) map[string]any {
	return map[string]any{
		"size":         int(size),
		"align":        int(align),
		"field_offset": int(off),
		"heap_aligned": addr%8 == 0,
		"atomic_safe":  off%8 == 0 && addr%8 == 0,
	}
}

func main() {
	a := new(afterUint32)
	b := new(boolSandwich)
	c := new(withAtomic)
	var u uint64
	emitFacts(map[string]any{
		"uint64_align":       int(unsafe.Alignof(u)),
		"uint64_field_align": int(unsafe.Alignof(a.n)),
		"atomic_int64_align": int(unsafe.Alignof(c.n)),
		"after_uint32":       layout(unsafe.Sizeof(*a), unsafe.Alignof(*a), unsafe.Offsetof(a.n), uintptr(unsafe.Pointer(&a.n))),
		"bool_sandwich":      layout(unsafe.Sizeof(*b), unsafe.Alignof(*b), unsafe.Offsetof(b.n), uintptr(unsafe.Pointer(&b.n))),
		"with_atomic":        layout(unsafe.Sizeof(*c), unsafe.Alignof(*c), unsafe.Offsetof(c.n), uintptr(unsafe.Pointer(&c.n))),
		"emulator":           emulator(),
	})
}
