package main

// A reader for just enough of the pprof format (profile.proto, gzipped) to
// count samples and name the function they land in. The standard library
// has the writer but no reader, and probes build with the standard library
// only. Field numbers are from github.com/google/pprof/proto/profile.proto.

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
)

type profile struct {
	samples  int64
	period   int64
	top      string
	topShare float64
}

type pbField struct {
	num   int
	wire  int
	v     uint64
	bytes []byte
}

// fields splits one protobuf message into its fields.
func fields(b []byte) ([]pbField, error) {
	var out []pbField
	for len(b) > 0 {
		key, n := uvarint(b)
		if n == 0 {
			return nil, errors.New("bad field key")
		}
		b = b[n:]
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n = uvarint(b)
			if n == 0 {
				return nil, errors.New("bad varint")
			}
			b = b[n:]
		case 2:
			l, n := uvarint(b)
			if n == 0 || uint64(len(b)-n) < l {
				return nil, errors.New("bad length")
			}
			f.bytes = b[n : n+int(l)]
			b = b[n+int(l):]
		case 1:
			if len(b) < 8 {
				return nil, errors.New("short fixed64")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return nil, errors.New("short fixed32")
			}
			b = b[4:]
		default:
			return nil, errors.New("unknown wire type")
		}
		out = append(out, f)
	}
	return out, nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// ints reads a repeated integer field, packed or not.
func ints(f pbField) []uint64 {
	if f.wire == 0 {
		return []uint64{f.v}
	}
	var out []uint64
	b := f.bytes
	for len(b) > 0 {
		v, n := uvarint(b)
		if n == 0 {
			break
		}
		out = append(out, v)
		b = b[n:]
	}
	return out
}

func parseProfile(gz []byte) (*profile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	top, err := fields(raw)
	if err != nil {
		return nil, err
	}
	var strs []string
	// Each sample's stack (leaf first) and count; function id of each
	// location's innermost line; name (string index) of each function.
	type sample struct {
		locs []uint64
		n    int64
	}
	var samples []sample
	locFunc := map[uint64]uint64{}
	funcName := map[uint64]uint64{}
	p := &profile{}
	for _, f := range top {
		switch f.num {
		case 2: // Sample: location_id = 1, value = 2
			sf, err := fields(f.bytes)
			if err != nil {
				return nil, err
			}
			var locs, vals []uint64
			for _, s := range sf {
				switch s.num {
				case 1:
					locs = append(locs, ints(s)...)
				case 2:
					vals = append(vals, ints(s)...)
				}
			}
			// A CPU profile's first value is the sample count.
			if len(vals) > 0 {
				p.samples += int64(vals[0])
				if len(locs) > 0 {
					samples = append(samples, sample{locs, int64(vals[0])})
				}
			}
		case 4: // Location: id = 1, line = 4 (Line: function_id = 1)
			lf, err := fields(f.bytes)
			if err != nil {
				return nil, err
			}
			var id, fn uint64
			seenLine := false
			for _, l := range lf {
				switch {
				case l.num == 1:
					id = l.v
				case l.num == 4 && !seenLine:
					// The first line is the innermost inlined function.
					seenLine = true
					inner, err := fields(l.bytes)
					if err != nil {
						return nil, err
					}
					for _, x := range inner {
						if x.num == 1 {
							fn = x.v
						}
					}
				}
			}
			locFunc[id] = fn
		case 5: // Function: id = 1, name = 2
			ff, err := fields(f.bytes)
			if err != nil {
				return nil, err
			}
			var id, name uint64
			for _, x := range ff {
				switch x.num {
				case 1:
					id = x.v
				case 2:
					name = x.v
				}
			}
			funcName[id] = name
		case 6:
			strs = append(strs, string(f.bytes))
		case 12:
			p.period = int64(f.v)
		}
	}
	name := func(loc uint64) string {
		if i := funcName[locFunc[loc]]; int(i) < len(strs) {
			return strs[i]
		}
		return "?"
	}
	byFunc := map[string]int64{}
	for _, s := range samples {
		// A sample taken while the runtime preempts a goroutine
		// asynchronously has runtime.asyncPreempt as its leaf; the time is
		// the interrupted function's, one frame up. On a loaded machine
		// that is a good share of a busy loop's samples.
		leaf := name(s.locs[0])
		for i := 1; i < len(s.locs) && strings.HasPrefix(leaf, "runtime.asyncPreempt"); i++ {
			leaf = name(s.locs[i])
		}
		byFunc[leaf] += s.n
	}
	var best int64
	for name, n := range byFunc {
		if n > best || (n == best && name < p.top) {
			p.top, best = name, n
		}
	}
	if p.top == "" {
		p.top = "none"
	}
	if p.samples > 0 {
		p.topShare = float64(best) / float64(p.samples)
	}
	return p, nil
}
