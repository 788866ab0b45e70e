// Package sizes holds a 64-bit int assumption: it is true on amd64 and
// arm64, and false on 386 and arm, where int is 32 bits.
package sizes

import "strconv"

// IntBits is the size of int on the target.
func IntBits() int { return strconv.IntSize }

// Offset adds n to base the way code written on a 64-bit machine does: it
// silently wraps where int is 32 bits.
func Offset(base, n int) int { return base + n }
