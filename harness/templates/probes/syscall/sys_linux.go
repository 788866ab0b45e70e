package main

import (
	"os"
	"syscall"
	"unsafe"
)

func raw(facts map[string]any) {
	facts["sys"] = map[string]any{
		"getpid":        syscall.SYS_GETPID,
		"gettid":        syscall.SYS_GETTID,
		"openat":        syscall.SYS_OPENAT,
		"write":         syscall.SYS_WRITE,
		"exit_group":    syscall.SYS_EXIT_GROUP,
		"clock_gettime": syscall.SYS_CLOCK_GETTIME,
	}
	pid, _, errno := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	if errno != 0 {
		facts["raw_getpid_error"] = errno.Error()
	} else {
		facts["raw_getpid"] = int(pid)
		facts["raw_matches_os"] = int(pid) == os.Getpid()
	}
	var u syscall.Utsname
	if err := syscall.Uname(&u); err == nil {
		facts["uname_machine"] = cstr(unsafe.Pointer(&u.Machine), len(u.Machine))
		facts["uname_release"] = cstr(unsafe.Pointer(&u.Release), len(u.Release))
	}
}

// Utsname's fields are [65]int8 on most ports and [65]uint8 on arm, ppc64
// and s390x: read them as bytes either way.
func cstr(p unsafe.Pointer, n int) string {
	b := unsafe.Slice((*byte)(p), n)
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
