package main

import (
	"syscall"
	"unsafe"
)

// Darwin names the field Mtimespec.
func goSide(facts map[string]any) {
	var st syscall.Stat_t
	facts["go"] = map[string]any{
		"size":        int(unsafe.Sizeof(st)),
		"size_offset": int(unsafe.Offsetof(st.Size)),
		"mtim_offset": int(unsafe.Offsetof(st.Mtimespec)),
		"sec_size":    int(unsafe.Sizeof(st.Mtimespec.Sec)),
	}
}

func rawStat(path string) (rawResult, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return rawResult{}, false
	}
	return rawResult{size: st.Size, mtime: st.Mtimespec.Sec}, true
}
