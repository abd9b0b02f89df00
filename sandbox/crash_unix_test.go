//go:build unix

package sandbox_test

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// killSelf ends the process as a crash or kill -9 would: at once, running
// nothing more.
func killSelf() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }

// killedItself reports whether a child's error is killSelf's doing.
func killedItself(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
