package main

// Wine's ntdll exports wine_get_version, which no Windows ntdll has: the
// way Wine itself documents for telling that a program runs under it.

import (
	"syscall"
	"unsafe"
)

// emulator names what the probe runs under: "" on Windows itself,
// "wine-8.0" under wine.
func emulator() string {
	p := syscall.NewLazyDLL("ntdll.dll").NewProc("wine_get_version")
	if p.Find() != nil {
		return ""
	}
	r, _, _ := p.Call()
	if r == 0 {
		return "wine"
	}
	var b []byte
	for i := uintptr(0); i < 64; i++ {
		c := *(*byte)(unsafe.Pointer(r + i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return "wine-" + string(b)
}
