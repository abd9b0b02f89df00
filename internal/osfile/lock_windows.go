//go:build windows

package osfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// Windows byte-range locks are mandatory: while one handle holds a lock on
// a range, reads and writes of that range through any other handle fail,
// even in the same process. So the lock covers one byte at the very end of
// the 64-bit offset space, where no data ever is (bbolt locks its database
// file the same way), and the file's contents stay readable by everyone.
// Locks belong to the handle, like flock's to an open file description,
// and Windows drops them when the handle closes or the process dies.
const lockOffset = ^uint32(0)

func overlapped() *windows.Overlapped {
	return &windows.Overlapped{Offset: lockOffset, OffsetHigh: lockOffset}
}

// Lock blocks until f is locked in mode.
func Lock(f *os.File, mode LockMode) error {
	if err := windows.LockFileEx(windows.Handle(f.Fd()), flags(mode), 0, 1, 0, overlapped()); err != nil {
		return fmt.Errorf("LockFileEx %s: %w", f.Name(), err)
	}
	return nil
}

// TryLock locks f in mode or returns ErrLocked at once.
func TryLock(f *os.File, mode LockMode) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags(mode)|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, overlapped())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrLocked
	}
	if err != nil {
		return fmt.Errorf("LockFileEx %s: %w", f.Name(), err)
	}
	return nil
}

// Unlock releases f's lock.
func Unlock(f *os.File) error {
	if err := windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, overlapped()); err != nil {
		return fmt.Errorf("UnlockFileEx %s: %w", f.Name(), err)
	}
	return nil
}

func flags(mode LockMode) uint32 {
	if mode == Exclusive {
		return windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	return 0 // shared
}
