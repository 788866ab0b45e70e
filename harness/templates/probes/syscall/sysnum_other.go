//go:build !linux && !windows && !darwin

package main

const sysGetpid = -1
