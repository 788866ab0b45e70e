package main

// Shared by the probes that need cgo (probe.yaml: `cgo: true`), in place of
// _common/facts.go. Every file of such a probe imports "C", this one too:
// with cgo off, Go then finds no file to build and says "build constraints
// exclude all Go files", as it does for any cgo-only package
// (golang/go#24068), instead of some later, stranger error.

import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
)

const factsMarker = "CROSSPROBE-FACTS: "

func emitFacts(facts map[string]any) {
	b, err := json.Marshal(facts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crossprobe: cannot encode facts:", err)
		os.Exit(3)
	}
	fmt.Println(factsMarker + string(b))
}

// buildSettings is what the toolchain recorded in the binary: what really
// went into it (CGO_ENABLED, -buildmode, ...), as opposed to what the matrix
// asked for.
func buildSettings() map[string]string {
	settings := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	return settings
}
