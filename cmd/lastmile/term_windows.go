//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// isTerminal asks for a console mode, which only a console has: NUL and
// pipes must not count as a person at a keyboard.
func isTerminal(f *os.File) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
}
