//go:build !linux && !darwin && !windows

package main

import (
	"errors"
	"os"
)

func redirectStderr(*os.File) (func(), error) {
	return nil, errors.New("cannot redirect stderr on this OS")
}
