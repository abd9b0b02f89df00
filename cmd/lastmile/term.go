package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal a person types at: /dev/null,
// NUL and pipes are not.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
