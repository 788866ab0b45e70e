package main

// static-net: with cgo on, net and os/user call glibc's getaddrinfo and
// getpwuid_r. Linked with -extldflags=-static, glibc cannot make those
// static: the linker warns "Using 'getaddrinfo' in statically linked
// applications requires at runtime the shared libraries from the glibc
// version used for linking" (golang/go#21421), and the binary breaks on a
// machine with another glibc. -tags netgo,osusergo uses Go's own resolver
// and user lookup, and the same link is clean.

// static int answer(void) { return 42; }
import "C"

import (
	"net"
	"os/user"
	"runtime"
)

func main() {
	facts := map[string]any{
		"goos":   runtime.GOOS,
		"goarch": runtime.GOARCH,
		"answer": int(C.answer()),
		"build":  buildSettings(),
	}
	if addrs, err := net.LookupHost("localhost"); err != nil {
		facts["lookup_error"] = err.Error()
	} else {
		facts["lookup"] = addrs
	}
	if u, err := user.Current(); err != nil {
		facts["user_error"] = err.Error()
	} else {
		facts["user"] = u.Username
	}
	emitFacts(facts)
}
