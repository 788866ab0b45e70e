//go:build !linux && !darwin

package main

// No SIGUSR1 and no SIGPIPE on Windows (or wasm).
func sigusr1() map[string]any {
	return map[string]any{"delivered": false, "error": "no SIGUSR1 on this OS"}
}

func closedPipe(notify bool) map[string]any {
	if notify {
		return map[string]any{"error": "no SIGPIPE on this OS"}
	}
	return describe(writeToClosedPipe())
}
