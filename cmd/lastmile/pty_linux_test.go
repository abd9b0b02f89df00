//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// exactOutput turns off the terminal's output processing (ONLCR).
func exactOutput(tty *os.File) error {
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Oflag &^= unix.ONLCR
	return unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, tio)
}
