package main

// net.Listen("tcp", "[::]:0") opens one IPv6 socket with IPV6_V6ONLY off,
// so that it takes IPv4 connections too, as IPv4-mapped addresses
// (::ffff:127.0.0.1). "tcp6" sets IPV6_V6ONLY and must refuse them (see
// "Listen" in the net package documentation). Systems
// where IPv6 is off, or where net.ipv6.bindv6only=1, answer differently,
// and so may an emulator that translates socket options. Loopback only:
// nothing leaves the machine.

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	facts := map[string]any{"emulator": emulator()}
	facts["tcp_any"] = listenAndDial("tcp", "[::]:0", "127.0.0.1")
	facts["tcp6_any"] = listenAndDial("tcp6", "[::]:0", "127.0.0.1")
	facts["tcp6_loopback"] = listenAndDial("tcp6", "[::1]:0", "::1")
	facts["tcp4_loopback"] = listenAndDial("tcp4", "127.0.0.1:0", "127.0.0.1")
	emitFacts(facts)
}

// listenAndDial listens on addr and dials host at the port it got. Its
// "result" is "accepted", "refused", "no-ipv6" (listening failed for want
// of IPv6) or "error: ...".
func listenAndDial(network, addr, host string) map[string]any {
	out := map[string]any{}
	ln, err := net.Listen(network, addr)
	if err != nil {
		out["listen_error"] = err.Error()
		if noIPv6(err) {
			out["result"] = "no-ipv6"
		} else {
			out["result"] = "error: " + err.Error()
		}
		return out
	}
	defer ln.Close()
	out["listen_addr"] = ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	peers := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		peers <- c.RemoteAddr().String()
		c.Close()
	}()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "refused") {
			out["result"] = "refused"
		} else {
			out["result"] = "error: " + err.Error()
		}
		return out
	}
	defer c.Close()
	select {
	case p := <-peers:
		out["result"] = "accepted"
		out["peer"] = p
	case <-time.After(5 * time.Second):
		// Connected, but not through this listener: another socket on the
		// same port (an IPv4 one, where the stack splits them) took it.
		out["result"] = "connected elsewhere"
	}
	return out
}

func noIPv6(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}
