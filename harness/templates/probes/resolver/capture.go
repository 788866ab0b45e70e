package main

import "os"

// captureStderr runs f with file descriptor 2 (or Windows' standard error
// handle) pointed at a temporary file, and returns what was written there.
// The runtime's own println, which the net package's debug output uses,
// writes to that descriptor directly, so os.Stderr cannot be swapped instead.
func captureStderr(f func()) (string, error) {
	tmp, err := os.CreateTemp("", "crossprobe-stderr-")
	if err != nil {
		f()
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	restore, err := redirectStderr(tmp)
	if err != nil {
		f()
		return "", err
	}
	f()
	restore()
	b, err := os.ReadFile(tmp.Name())
	return string(b), err
}
