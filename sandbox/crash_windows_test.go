//go:build windows

package sandbox_test

import (
	"errors"
	"os/exec"

	"golang.org/x/sys/windows"
)

// killedCode is the exit code killSelf leaves: a test that fails exits 1,
// and a Go panic 2, so neither passes for a kill.
const killedCode = 0x4b11

// killSelf ends the process as a crash would: TerminateProcess runs
// nothing more in it, the Windows counterpart of SIGKILL.
func killSelf() { windows.TerminateProcess(windows.CurrentProcess(), killedCode) }

// killedItself reports whether a child's error is killSelf's doing.
func killedItself(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == killedCode
}
