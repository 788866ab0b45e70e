//go:build !linux && !windows

package main

// emulator: no way to tell on this OS; "" means none detected.
func emulator() string { return "" }
