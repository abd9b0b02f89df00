//go:build !windows

package main

// A person at a terminal, for tests: `lastmile approve` refuses anything
// else, so the tests that approve run it on a pseudo-terminal, read the
// code off the screen and type it back.

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is a lastmile process on a pseudo-terminal.
type terminal struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	screen *syncBuffer
	exited chan struct{}
	status int
}

// onTerminal starts the binary with stdin, stdout and stderr on a new
// pseudo-terminal, as a shell in a terminal window would.
func onTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	return onTerminalWith(t, nil, args...)
}

// onTerminalWith is onTerminal with setup run on the command just before
// it starts, to take a stream off the terminal.
func onTerminalWith(t *testing.T, setup func(*exec.Cmd), args ...string) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	// The screen is compared byte for byte: the driver must not turn the
	// CLI's "\n" into "\r\n" (which would also hide a raw newline).
	if err := exactOutput(tty); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv(t)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if setup != nil {
		setup(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	term := &terminal{t: t, cmd: cmd, pty: ptmx, screen: &syncBuffer{}, exited: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.screen.Write(buf[:n])
			if err != nil { // EIO once the child has gone and the screen is drained
				return
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		<-read
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			term.status = ee.ExitCode()
		}
		close(term.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-term.exited:
		default:
			cmd.Process.Kill()
			<-term.exited
		}
		ptmx.Close()
	})
	return term
}

// waitFor waits until the screen shows want, and returns the screen.
func (term *terminal) waitFor(want string) string {
	term.t.Helper()
	deadline := time.After(safety)
	for {
		s := term.screen.String()
		if strings.Contains(s, want) {
			return s
		}
		select {
		case <-term.exited:
			if s := term.screen.String(); strings.Contains(s, want) {
				return s
			}
			term.t.Fatalf("lastmile exited (status %d) without showing %q:\n%s", term.status, want, term.screen.String())
		case <-deadline:
			term.t.Fatalf("the screen never showed %q:\n%s", want, term.screen.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// typeLine types line and Enter.
func (term *terminal) typeLine(line string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(line + "\n")); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns the whole screen and
// its exit status.
func (term *terminal) wait() (string, int) {
	term.t.Helper()
	select {
	case <-term.exited:
	case <-time.After(safety):
		term.t.Fatalf("lastmile did not exit:\n%s", term.screen.String())
	}
	return term.screen.String(), term.status
}

const codePrompt = "Type the code above to approve"

var codeOnScreen = regexp.MustCompile(`(?m)^Code: ([0-9a-z]{6})$`)

// readCode parses the read-back code off an approve screen.
func readCode(t *testing.T, screen string) string {
	t.Helper()
	m := codeOnScreen.FindAllStringSubmatch(screen, -1)
	if len(m) != 1 {
		t.Fatalf("want exactly one code on the screen, found %d:\n%s", len(m), screen)
	}
	return m[0][1]
}

// approveAtTerminal approves a plan as a person does: `lastmile approve
// PLAN` on a terminal, the code read off the screen and typed back. It
// returns the screen and the code.
func approveAtTerminal(t *testing.T, dir, planID string) (screen, code string) {
	t.Helper()
	term := onTerminal(t, "approve", planID, "--data-dir", dir)
	code = readCode(t, term.waitFor(codePrompt))
	term.typeLine(code)
	term.waitFor("Approved by")
	screen, status := term.wait()
	if status != 0 {
		t.Fatalf("approve at the terminal: status %d\n%s", status, screen)
	}
	return screen, code
}

// approveTyping runs approve at a terminal and types typed(code) instead
// of the code; it returns the screen and exit status.
func approveTyping(t *testing.T, dir, planID string, typed func(code string) string) (string, int) {
	t.Helper()
	term := onTerminal(t, "approve", planID, "--data-dir", dir)
	term.typeLine(typed(readCode(t, term.waitFor(codePrompt))))
	return term.wait()
}
