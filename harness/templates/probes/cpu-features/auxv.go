package main

import (
	"fmt"
	"runtime"
	"strings"
	_ "unsafe" // for go:linkname
)

// getAuxv returns the auxiliary vector the runtime was started with. The
// runtime keeps it for golang.org/x/sys/cpu, which reads it the same way.
//
//go:linkname getAuxv runtime.getAuxv
func getAuxv() []uintptr

const (
	atPlatform = 15
	atHWCap    = 16
	atHWCap2   = 26
)

// Bit names of AT_HWCAP, from the kernel's asm/hwcap.h per architecture.
var hwcapNames = map[string][]string{
	"arm64": {"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp", "asimdhp", "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4", "asimddp", "sha512", "sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg"},
	"arm":   {"swp", "half", "thumb", "26bit", "fastmult", "fpa", "vfp", "edsp", "java", "iwmmxt", "crunch", "thumbee", "neon", "vfpv3", "vfpv3d16", "tls", "vfpv4", "idiva", "idivt", "vfpd32", "lpae", "evtstrm"},
}

func auxvFacts() map[string]any {
	v := getAuxv()
	if len(v) == 0 {
		return map[string]any{"present": false}
	}
	out := map[string]any{"present": true}
	for i := 0; i+1 < len(v); i += 2 {
		tag, val := v[i], v[i+1]
		switch tag {
		case atHWCap:
			out["hwcap"] = fmt.Sprintf("%#x", val)
			if names, ok := decode(uint64(val)); ok {
				out["hwcap_names"] = names
			}
		case atHWCap2:
			out["hwcap2"] = fmt.Sprintf("%#x", val)
		case atPlatform:
			out["platform"] = cString(val)
		}
	}
	return out
}

// decode names the bits of AT_HWCAP where the probe knows their names.
// (On 386 and amd64 they are CPUID's EDX, reported under cpuid instead.)
func decode(bits uint64) (string, bool) {
	var names []string
	if runtime.GOARCH == "riscv64" {
		// One bit per single-letter ISA extension: bit 0 is 'a'.
		for i := 0; i < 26; i++ {
			if bits&(1<<i) != 0 {
				names = append(names, string(rune('a'+i)))
			}
		}
		return strings.Join(names, ""), true
	}
	table, ok := hwcapNames[runtime.GOARCH]
	if !ok {
		return "", false
	}
	for i := 0; i < 64; i++ {
		if bits&(1<<i) == 0 {
			continue
		}
		if i < len(table) {
			names = append(names, table[i])
		} else {
			names = append(names, fmt.Sprintf("bit%d", i))
		}
	}
	return strings.Join(names, " "), true
}
