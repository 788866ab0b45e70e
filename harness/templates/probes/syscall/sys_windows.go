package main

import (
	"os"
	"syscall"
)

// Windows has no syscall numbers a program may use: the stable interface is
// kernel32.dll. GetCurrentProcessId through a lazily loaded DLL is the raw
// call here.
func raw(facts map[string]any) {
	facts["sys"] = map[string]any{"numbers": "none on windows"}
	p := syscall.NewLazyDLL("kernel32.dll").NewProc("GetCurrentProcessId")
	if err := p.Find(); err != nil {
		facts["raw_getpid_error"] = err.Error()
		return
	}
	pid, _, _ := p.Call()
	facts["raw_getpid"] = int(pid)
	facts["raw_matches_os"] = int(pid) == os.Getpid()
}
