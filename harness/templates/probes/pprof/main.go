package main

// runtime/pprof samples a CPU profile 100 times per CPU-second, driven by
// SIGPROF from per-thread timers on Linux (timer_create, Go 1.18,
// golang/go#35057) and by a thread that suspends the others on Windows.
// An emulator that delivers those signals late, merged or not at all gives
// profiles that look plausible and are wrong. The probe spins until the
// process has used one CPU-second, then counts the samples and finds the
// function with the most of them, which should be main.spin.

import (
	"bytes"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func spin(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}

func main() {
	facts := map[string]any{"emulator": emulator()}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		facts["error"] = err.Error()
		emitFacts(facts)
		return
	}
	cpu0, cpuErr := cpuTime()
	wall0 := time.Now()
	// One CPU-second, but at most ten seconds of wall time: a loaded host
	// or a slow emulator still finishes.
	for {
		spin(1 << 22)
		c, err := cpuTime()
		if err != nil || c-cpu0 >= time.Second || time.Since(wall0) > 10*time.Second {
			break
		}
	}
	pprof.StopCPUProfile()
	cpu1, _ := cpuTime()
	wall := time.Since(wall0)
	facts["wall_ms"] = wall.Milliseconds()
	if cpuErr == nil {
		facts["cpu_ms"] = (cpu1 - cpu0).Milliseconds()
	} else {
		facts["cpu_error"] = cpuErr.Error()
	}
	p, err := parseProfile(buf.Bytes())
	if err != nil {
		facts["error"] = "reading the profile: " + err.Error()
		emitFacts(facts)
		return
	}
	facts["samples"] = p.samples
	facts["period_ns"] = p.period
	facts["top_function"] = p.top
	facts["top_share"] = round2(p.topShare)
	// The ratio of samples to the nominal 100 per CPU-second: 1 is faithful.
	if cpuErr == nil && cpu1 > cpu0 {
		facts["ratio"] = round2(float64(p.samples) / (float64(cpu1-cpu0) / float64(10*time.Millisecond)))
	}
	// Against wall time: Windows' profiler samples every thread each 10 ms
	// of wall time, so where the loop waited for a CPU this is the closer one.
	if wall > 0 {
		facts["wall_ratio"] = round2(float64(p.samples) / (float64(wall) / float64(10*time.Millisecond)))
	}
	emitFacts(facts)
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }
