//go:build !cgo || !linux

package main

// Without cgo there is no C side to compare with (and only Linux's C has
// st_mtim under that name).
func cSide(map[string]any) {}
