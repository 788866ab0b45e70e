// Package limits has a constant that overflows int on 32-bit targets: the
// package does not build for 386 or arm.
package limits

// MaxUpload is 4 GiB.
const MaxUpload = 1 << 32

// Max is MaxUpload as an int.
var Max int = MaxUpload
