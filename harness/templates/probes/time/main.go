package main

// Two clocks and a database that programs take for granted.
//
// time.Now carries a monotonic reading (Go 1.9, golang/go#12914), so that
// durations survive wall-clock steps; the probe checks it is there and that
// a 20 ms sleep measures at least 20 ms.
//
// time.LoadLocation reads the IANA database from, in order: $ZONEINFO, the
// system (/usr/share/zoneinfo and friends; Windows has none), the copy
// embedded by importing time/tzdata or building with -tags timetzdata, and
// last $GOROOT/lib/time/zoneinfo.zip of the machine that built the binary.
// The last one is why a binary works on a developer's machine and fails in
// a scratch container or on a Windows machine without Go: built with
// -trimpath it is gone too. See the time/tzdata documentation.
//
// time_t: syscall.Timespec's seconds are 4 bytes on 32-bit Linux ports,
// which overflow in January 2038; the C side is reported in cgo cells.

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

func main() {
	facts := map[string]any{"emulator": emulator()}

	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	d := time.Since(t0)
	facts["monotonic"] = map[string]any{
		"present":    strings.Contains(t0.String(), " m=+"),
		"sleep_ms":   d.Milliseconds(),
		"elapsed_ok": d >= 20*time.Millisecond,
	}

	tz := map[string]any{
		"zoneinfo_env": os.Getenv("ZONEINFO"),
		"goroot":       runtime.GOROOT(),
		"system_files": systemZoneinfo(),
		"embedded":     embedded(),
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		tz["berlin"] = err.Error()
		tz["source"] = "none"
	} else {
		tz["berlin"] = "ok"
		// Summer time in Berlin is UTC+2: a database, not a guess.
		_, off := time.Date(2024, 7, 1, 12, 0, 0, 0, loc).Zone()
		tz["berlin_summer_offset"] = off
		tz["source"] = source(tz)
	}
	facts["tz"] = tz

	cts := map[string]any{}
	timespecSize(cts)
	facts["time_t"] = cts
	cSide(facts)
	emitFacts(facts)
}

// embedded says whether this binary carries time/tzdata: through the
// timetzdata build tag (the import would show in the module's own code).
func embedded() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" {
			for _, t := range strings.Split(s.Value, ",") {
				if t == "timetzdata" {
					return true
				}
			}
		}
	}
	return false
}

// source names where LoadLocation found the zone, by the order it looks.
func source(tz map[string]any) string {
	switch {
	case tz["zoneinfo_env"] != "":
		return "ZONEINFO"
	case tz["system_files"] == true:
		return "system"
	case tz["embedded"] == true:
		return "embedded"
	case tz["goroot"] != "":
		return "goroot"
	}
	return "unknown"
}

// Go's list of system zoneinfo directories on Unix (time/zoneinfo_unix.go).
func systemZoneinfo() bool {
	if runtime.GOOS == "windows" {
		return false
	}
	for _, dir := range []string{"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"} {
		if _, err := os.Stat(dir + "Europe/Berlin"); err == nil {
			return true
		}
	}
	return false
}
