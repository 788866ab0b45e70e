package main

// A syscall number is an ABI of the kernel on one architecture, not of
// Linux: getpid is 39 on amd64, 20 on 386 and arm, 172 on arm64 and
// riscv64, 4020 on mips o32. arm64 and riscv64 use the generic table, which
// has no open(2) at all (only openat), so code that names syscall.SYS_OPEN
// does not build there. A raw call must reach the same kernel function that
// the os package reaches; under qemu-user it is qemu that translates it.

import "os"

func main() {
	facts := map[string]any{
		"os_getpid": os.Getpid(),
		"emulator":  emulator(),
	}
	raw(facts)
	emitFacts(facts)
}
