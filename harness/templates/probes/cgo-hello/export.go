package main

import "C"

// CrossprobeMain is what crossprobe's C host program calls when the probe is
// built with -buildmode=c-archive or c-shared, where main never runs.
//
//export CrossprobeMain
func CrossprobeMain() { run() }
