package main

// syscall.Stat_t is Go's copy of the kernel's struct stat, one per port,
// generated from the C headers. Code that hands a Stat_t to C, or reads a
// C struct stat through unsafe, must agree with C on its size and on where
// st_size and st_mtim are. They differ between ports, and on 32-bit ports
// C's own layout depends on _FILE_OFFSET_BITS (and, since glibc 2.34, on
// _TIME_BITS): Go always uses the 64-bit stat64 layout there.
//
// The probe also stats its own executable through syscall and through os,
// so a layout that an emulator translates wrongly shows up as a mismatch.

import (
	"os"
)

func main() {
	facts := map[string]any{"emulator": emulator()}
	goSide(facts)
	cSide(facts)
	exe, err := os.Executable()
	if err == nil {
		var fi os.FileInfo
		fi, err = os.Stat(exe)
		if err == nil {
			facts["os_size"] = fi.Size()
			facts["os_mtime"] = fi.ModTime().Unix()
			if sys, ok := rawStat(exe); ok {
				facts["raw_size"] = sys.size
				facts["raw_mtime"] = sys.mtime
				facts["raw_matches_os"] = sys.size == fi.Size() && sys.mtime == fi.ModTime().Unix()
			}
		}
	}
	if err != nil {
		facts["error"] = err.Error()
	}
	if c, ok := facts["c"].(map[string]any); ok {
		g := facts["go"].(map[string]any)
		facts["layout_matches_c"] = c["size"] == g["size"] &&
			c["size_offset"] == g["size_offset"] && c["mtim_offset"] == g["mtim_offset"]
	}
	emitFacts(facts)
}

type rawResult struct {
	size  int64
	mtime int64
}
