//go:build cgo

package main

// time_t as the target's C compiler sees it: 4 bytes on 32-bit glibc ports
// unless _TIME_BITS=64 (glibc 2.34), 8 elsewhere.

/*
#include <time.h>
*/
import "C"

func cSide(facts map[string]any) {
	facts["time_t"].(map[string]any)["c_time_t"] = int(C.sizeof_time_t)
}
