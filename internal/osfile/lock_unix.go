//go:build unix

package osfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// flock(2) locks belong to the open file description: two os.Files on one
// path exclude each other even within a process, and the kernel drops the
// lock when the process dies.

// Lock blocks until f is locked in mode. The kernel queues waiters, so
// nobody polls.
func Lock(f *os.File, mode LockMode) error {
	return flock(f, how(mode))
}

// TryLock locks f in mode or returns ErrLocked at once.
func TryLock(f *os.File, mode LockMode) error {
	err := flock(f, how(mode)|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

// Unlock releases f's lock.
func Unlock(f *os.File) error {
	return flock(f, unix.LOCK_UN)
}

func how(mode LockMode) int {
	if mode == Exclusive {
		return unix.LOCK_EX
	}
	return unix.LOCK_SH
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err == unix.EINTR {
			continue // a signal interrupted a blocking wait: wait on
		}
		if err != nil {
			return fmt.Errorf("flock %s: %w", f.Name(), err)
		}
		return nil
	}
}
