package main

// Shared by every Go probe: facts leave the probe as one line of JSON behind
// a fixed marker, so the check phase can find them among anything else the
// program or the emulator prints.

import (
	"encoding/json"
	"fmt"
	"os"
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
