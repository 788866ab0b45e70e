//go:build !cgo

package main

// Without cgo there is no C side to compare with.
func cSide(map[string]any) {}
