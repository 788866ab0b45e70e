package main

import "unsafe"

// cString reads the NUL-terminated string the kernel (or qemu) left at p in
// this process's memory, as AT_PLATFORM points to.
func cString(p uintptr) string {
	if p == 0 {
		return ""
	}
	var b []byte
	for i := uintptr(0); i < 64; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}
