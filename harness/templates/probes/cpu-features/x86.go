//go:build 386 || amd64

package main

import (
	"sort"
	"strings"
)

// Implemented in cpuid_386.s and cpuid_amd64.s, as golang.org/x/sys/cpu does.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// x86Features are the names x86 reports, in cpuinfo comparisons.
var x86Features = []string{
	"sse2", "sse3", "pclmulqdq", "ssse3", "fma", "cx16", "sse41", "sse42", "movbe",
	"popcnt", "aes", "osxsave", "f16c", "avx", "bmi1", "avx2", "bmi2", "erms", "adx",
	"sha", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "lahf", "lzcnt",
}

// x86 reads the feature bits internal/cpu reads, and the GOAMD64 level they
// make up (the levels of the x86-64 psABI that cmd/go documents).
func x86() map[string]any {
	maxID, _, _, _ := cpuid(0, 0)
	_, _, ecx1, edx1 := cpuid(1, 0)
	bit := func(r uint32, n uint) bool { return r&(1<<n) != 0 }
	f := map[string]bool{
		"sse2": bit(edx1, 26), "sse3": bit(ecx1, 0), "pclmulqdq": bit(ecx1, 1),
		"ssse3": bit(ecx1, 9), "fma": bit(ecx1, 12), "cx16": bit(ecx1, 13),
		"sse41": bit(ecx1, 19), "sse42": bit(ecx1, 20), "movbe": bit(ecx1, 22),
		"popcnt": bit(ecx1, 23), "aes": bit(ecx1, 25), "osxsave": bit(ecx1, 27),
		"f16c": bit(ecx1, 29),
	}
	// AVX needs the OS to save the YMM registers too (XCR0 bits 1 and 2).
	osYMM, osZMM := false, false
	if f["osxsave"] {
		xcr0, _ := xgetbv()
		osYMM = xcr0&6 == 6
		osZMM = osYMM && xcr0&0xe0 == 0xe0
	}
	f["avx"] = bit(ecx1, 28) && osYMM
	if maxID >= 7 {
		_, ebx7, _, _ := cpuid(7, 0)
		f["bmi1"] = bit(ebx7, 3)
		f["avx2"] = bit(ebx7, 5) && osYMM
		f["bmi2"] = bit(ebx7, 8)
		f["erms"] = bit(ebx7, 9)
		f["adx"] = bit(ebx7, 19)
		f["sha"] = bit(ebx7, 29)
		f["avx512f"] = bit(ebx7, 16) && osZMM
		f["avx512dq"] = bit(ebx7, 17) && osZMM
		f["avx512cd"] = bit(ebx7, 28) && osZMM
		f["avx512bw"] = bit(ebx7, 30) && osZMM
		f["avx512vl"] = bit(ebx7, 31) && osZMM
	}
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if maxExt >= 0x80000001 {
		_, _, ecxE, _ := cpuid(0x80000001, 0)
		f["lahf"] = bit(ecxE, 0)
		f["lzcnt"] = bit(ecxE, 5)
	}
	all := func(names ...string) bool {
		for _, n := range names {
			if !f[n] {
				return false
			}
		}
		return true
	}
	level := "v1"
	if all("cx16", "lahf", "popcnt", "sse3", "sse41", "sse42", "ssse3") {
		level = "v2"
		if all("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "osxsave") {
			level = "v3"
			if all("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl") {
				level = "v4"
			}
		}
	}
	var names []string
	for n, on := range f {
		if on {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	vendor := func() string {
		_, b, c, d := cpuid(0, 0)
		var s []byte
		for _, r := range []uint32{b, d, c} {
			s = append(s, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
		}
		return string(s)
	}()
	return map[string]any{
		"vendor":      vendor,
		"features":    strings.Join(names, " "),
		"amd64_level": level,
		"avx2":        f["avx2"],
		"sse42":       f["sse42"],
		"popcnt":      f["popcnt"],
	}
}
