//go:build !linux && !darwin && !windows

package main

import (
	"errors"
	"time"
)

func cpuTime() (time.Duration, error) { return 0, errors.New("no CPU clock on this OS") }
