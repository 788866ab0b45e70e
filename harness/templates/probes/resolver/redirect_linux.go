package main

import (
	"os"
	"syscall"
)

// Dup3, because arm64, riscv64 and loong64 have no dup2 system call.
func redirectStderr(to *os.File) (func(), error) {
	saved, err := syscall.Dup(2)
	if err != nil {
		return nil, err
	}
	if err := syscall.Dup3(int(to.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		return nil, err
	}
	return func() {
		syscall.Dup3(saved, 2, 0)
		syscall.Close(saved)
	}, nil
}
