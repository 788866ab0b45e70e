package main

// Go has two resolvers: its own, and the C library's through cgo. Which one
// a binary uses depends on cgo being on at build time, on the netgo and
// netcgo build tags, on GODEBUG=netdns, and on the system's configuration
// (see "Name Resolution" in the net package's documentation). The two
// answer differently for nsswitch modules (LDAP, mDNS, systemd-resolved's
// myhostname), so a binary that resolves names fine on a developer's
// machine can fail in production when cgo went off in a cross build.
//
// With GODEBUG=netdns=2 the net package says which one it chose, on stderr,
// the first time it resolves. The probe sets GODEBUG before that, points
// its own stderr at a file for the one lookup, and reads the words back.

import (
	"context"
	"errors"
	"net"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
)

func main() {
	facts := map[string]any{"emulator": emulator()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "CGO_ENABLED":
				facts["cgo_enabled"] = s.Value
			case "-tags":
				facts["tags"] = s.Value
			}
		}
	}
	// The net package reads GODEBUG when it first needs its configuration;
	// os.Setenv updates the runtime's copy (Go 1.21 and later).
	os.Setenv("GODEBUG", "netdns=2")
	var addrs []string
	var lookupErr error
	var mu sync.Mutex // the Go resolver asks for A and AAAA at once
	var asked []string
	// The Go resolver asks DNS when the hosts file does not list localhost
	// (Windows' does not: Windows answers it itself). The probe never uses
	// the network: a DNS server that is not on loopback is refused, and
	// the attempt is a fact.
	r := &net.Resolver{Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		asked = append(asked, network+" "+address)
		mu.Unlock()
		if host, _, err := net.SplitHostPort(address); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				var d net.Dialer
				return d.DialContext(ctx, network, address)
			}
		}
		return nil, errors.New("crossprobe: no network: refused to ask " + address)
	}}
	lines, capErr := captureStderr(func() {
		addrs, lookupErr = r.LookupHost(context.Background(), "localhost")
	})
	facts["dns_queried"] = len(asked) > 0
	if len(asked) > 0 {
		facts["dns_servers"] = asked
	}
	if capErr != nil {
		facts["capture_error"] = capErr.Error()
	}
	if lookupErr != nil {
		facts["localhost_error"] = lookupErr.Error()
	} else {
		sort.Strings(addrs)
		facts["localhost"] = strings.Join(addrs, ",")
	}
	var said []string
	for _, l := range strings.Split(lines, "\n") {
		if strings.HasPrefix(l, "go package net: ") {
			said = append(said, strings.TrimPrefix(l, "go package net: "))
		}
	}
	facts["netdns_lines"] = said
	facts["resolver"], facts["order"] = decide(said, runtime.GOOS)
	emitFacts(facts)
}

var orderRe = regexp.MustCompile(`^hostLookupOrder\(localhost\) = (\S+)`)

// decide reads the resolver the net package chose from what it said: "go",
// "cgo" (the C library's getaddrinfo), "windows" (GetAddrInfoW, which Go
// calls without cgo and names "cgo" in its debug output), or "unknown" when
// it said nothing.
func decide(said []string, goos string) (resolver, order string) {
	resolver = "unknown"
	for _, l := range said {
		switch {
		case strings.Contains(l, "using the Go DNS resolver"),
			strings.Contains(l, "forcing use of the Go resolver"):
			resolver = "go"
		case strings.Contains(l, "using the cgo DNS resolver"),
			strings.Contains(l, "forcing use of the cgo resolver"):
			resolver = "cgo"
		case strings.Contains(l, "dynamic selection"):
			resolver = "dynamic"
		}
		if m := orderRe.FindStringSubmatch(l); m != nil {
			order = m[1]
		}
	}
	// Under dynamic selection the order says which one answered: "cgo"
	// means the C library, any other (files,dns, dns, ...) the Go resolver.
	if resolver == "dynamic" && order != "" {
		switch {
		case order == "cgo" && goos == "windows":
			resolver = "windows"
		case order == "cgo":
			resolver = "cgo"
		default:
			resolver = "go"
		}
	}
	if order == "" {
		order = "none"
	}
	return resolver, order
}
