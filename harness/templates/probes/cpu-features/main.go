package main

// What the CPU offers, seen three ways: /proc/cpuinfo (what tools and
// people read), the auxiliary vector's AT_HWCAP (what the kernel, or
// qemu-user, tells the process, and what the Go runtime reads on arm,
// arm64 and riscv64), and CPUID on 386 and amd64 (what the runtime's
// internal/cpu reads there, and what decides whether a GOAMD64=v3 binary
// may start).
//
// Under qemu-user the process sees the emulated CPU in its auxv and CPUID,
// but /proc/cpuinfo is the host's file unless qemu fakes it: an arm64
// program can read an x86 cpuinfo. Code that parses cpuinfo to pick a fast
// path then disagrees with the CPU it runs on.

import (
	"os"
	"runtime"
	"sort"
	"strings"
)

func main() {
	facts := map[string]any{"emulator": emulator(), "goarch": runtime.GOARCH}
	facts["cpuinfo"] = cpuinfo()
	facts["auxv"] = auxvFacts()
	if x := x86(); x != nil {
		facts["cpuid"] = x
		facts["cpuinfo_overclaims"] = overclaims(facts["cpuinfo"].(map[string]any)["flags"], x["features"])
	}
	emitFacts(facts)
}

// cpuinfo reads /proc/cpuinfo's first processor: which architecture the
// file describes, the model, and its feature list.
func cpuinfo() map[string]any {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	out := map[string]any{}
	kv := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" && len(kv) > 0 {
			break // the first processor is enough
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, dup := kv[k]; !dup {
			kv[k] = v
		}
	}
	arch := "unknown"
	switch {
	case kv["vendor_id"] != "" || kv["flags"] != "" && kv["cpu family"] != "":
		arch = "x86"
	case kv["CPU implementer"] != "" || kv["CPU architecture"] != "":
		arch = "arm"
	case strings.HasPrefix(kv["isa"], "rv"):
		arch = "riscv"
	case strings.Contains(kv["cpu model"], "MIPS"):
		arch = "mips"
	}
	out["arch"] = arch
	out["matches_goarch"] = archOf(runtime.GOARCH) == arch
	for _, k := range []string{"model name", "cpu model", "CPU part", "isa", "uarch"} {
		if kv[k] != "" {
			out["model"] = kv[k]
			break
		}
	}
	flags := kv["flags"]
	if flags == "" {
		flags = kv["Features"]
	}
	if flags == "" {
		flags = kv["ASEs implemented"]
	}
	list := strings.Fields(flags)
	sort.Strings(list)
	out["flags_count"] = len(list)
	out["flags"] = strings.Join(list, " ")
	return out
}

func archOf(goarch string) string {
	switch goarch {
	case "386", "amd64":
		return "x86"
	case "arm", "arm64":
		return "arm"
	case "riscv64":
		return "riscv"
	case "mips", "mipsle", "mips64", "mips64le":
		return "mips"
	}
	return goarch
}

// cpuinfo's names for the CPUID features the probe reads, where they differ.
var cpuinfoName = map[string]string{
	"sse3": "pni", "sse41": "sse4_1", "sse42": "sse4_2", "lahf": "lahf_lm",
	"lzcnt": "abm", "sha": "sha_ni",
}

// overclaims lists the features /proc/cpuinfo names that CPUID says the CPU
// does not have: what code that picks a fast path from cpuinfo would get
// wrong, and die of SIGILL for.
func overclaims(cpuinfoFlags, cpuidFeatures any) string {
	listed, _ := cpuinfoFlags.(string)
	if listed == "" {
		return ""
	}
	inInfo := map[string]bool{}
	for _, f := range strings.Fields(listed) {
		inInfo[f] = true
	}
	has := map[string]bool{}
	for _, f := range strings.Fields(cpuidFeatures.(string)) {
		has[f] = true
	}
	var out []string
	for _, f := range x86Features {
		name := f
		if n, ok := cpuinfoName[f]; ok {
			name = n
		}
		if inInfo[name] && !has[f] {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
