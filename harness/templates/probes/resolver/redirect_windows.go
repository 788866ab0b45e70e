package main

import (
	"os"
	"syscall"
)

// The runtime asks GetStdHandle(STD_ERROR_HANDLE) on every write, so
// SetStdHandle redirects its println.
func redirectStderr(to *os.File) (func(), error) {
	const stdErrorHandle = ^uintptr(11) // (DWORD)-12
	set := syscall.NewLazyDLL("kernel32.dll").NewProc("SetStdHandle")
	if err := set.Find(); err != nil {
		return nil, err
	}
	old, err := syscall.GetStdHandle(syscall.STD_ERROR_HANDLE)
	if err != nil {
		return nil, err
	}
	if r, _, e := set.Call(stdErrorHandle, to.Fd()); r == 0 {
		return nil, e
	}
	return func() { set.Call(stdErrorHandle, uintptr(old)) }, nil
}
