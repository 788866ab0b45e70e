//go:build !linux && !darwin

package main

func timespecSize(out map[string]any) {
	out["go_timespec_sec"] = "no Timespec on this OS"
}
