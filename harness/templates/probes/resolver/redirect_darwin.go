package main

import (
	"os"
	"syscall"
)

func redirectStderr(to *os.File) (func(), error) {
	saved, err := syscall.Dup(2)
	if err != nil {
		return nil, err
	}
	if err := syscall.Dup2(int(to.Fd()), 2); err != nil {
		syscall.Close(saved)
		return nil, err
	}
	return func() {
		syscall.Dup2(saved, 2)
		syscall.Close(saved)
	}, nil
}
