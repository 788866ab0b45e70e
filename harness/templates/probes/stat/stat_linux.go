package main

import (
	"syscall"
	"unsafe"
)

func goSide(facts map[string]any) {
	var st syscall.Stat_t
	facts["go"] = map[string]any{
		"size":        int(unsafe.Sizeof(st)),
		"size_offset": int(unsafe.Offsetof(st.Size)),
		"mtim_offset": int(unsafe.Offsetof(st.Mtim)),
		"sec_size":    int(unsafe.Sizeof(st.Mtim.Sec)),
	}
}

func rawStat(path string) (rawResult, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return rawResult{}, false
	}
	return rawResult{size: int64(st.Size), mtime: int64(st.Mtim.Sec)}, true
}
