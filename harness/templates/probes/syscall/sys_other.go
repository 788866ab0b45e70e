//go:build !linux && !windows

package main

import (
	"os"
	"syscall"
)

// Darwin's syscall numbers are private (programs go through libSystem), but
// Go still defines them, and syscall.Getpid goes through libSystem.
func raw(facts map[string]any) {
	facts["sys"] = map[string]any{"getpid": sysGetpid}
	facts["raw_getpid"] = syscall.Getpid()
	facts["raw_matches_os"] = syscall.Getpid() == os.Getpid()
}
