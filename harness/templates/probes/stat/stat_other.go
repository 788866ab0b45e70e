//go:build !linux && !darwin

package main

// Windows (and wasm) have no syscall.Stat_t: os.Stat is all there is.
func goSide(facts map[string]any) {
	facts["go"] = map[string]any{"stat_t": "absent"}
}

func rawStat(string) (rawResult, bool) { return rawResult{}, false }
