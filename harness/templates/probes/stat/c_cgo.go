//go:build cgo && linux

package main

// C's struct stat as cgo compiles it: with the C compiler's default flags,
// which on 32-bit glibc ports mean the 32-bit off_t layout unless
// _FILE_OFFSET_BITS=64 is defined.

/*
#include <stddef.h>
#include <sys/stat.h>
static size_t crossprobe_size_off(void) { return offsetof(struct stat, st_size); }
static size_t crossprobe_mtim_off(void) { return offsetof(struct stat, st_mtim); }
*/
import "C"

func cSide(facts map[string]any) {
	facts["c"] = map[string]any{
		"size":        int(C.sizeof_struct_stat),
		"size_offset": int(C.crossprobe_size_off()),
		"mtim_offset": int(C.crossprobe_mtim_off()),
	}
}
