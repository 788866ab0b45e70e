package main

// Under qemu-user the process the kernel runs is qemu itself, and qemu
// does not rename it: /proc/self/status says `Name: qemu-aarch64`. qemu
// fakes /proc/self/exe, auxv and uname for the guest, but not this line.

import (
	"os"
	"strings"
)

// emulator names what the probe runs under: "" when on bare hardware (or
// a VM), "qemu-aarch64" under qemu-user, "wine-8.0" under wine.
func emulator() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "Name:"); ok {
			name = strings.TrimSpace(name)
			if strings.HasPrefix(name, "qemu-") {
				return name
			}
			return ""
		}
	}
	return ""
}
