//go:build !386 && !amd64

package main

func x86() map[string]any { return nil }

var x86Features []string
