// Package osfile holds every operating-system call lastmile makes on files:
// advisory locks, syncing data to disk, and a few words of a file shared by
// every process that opens it. Each is in build-tagged files, so the rest of
// the code builds unchanged for every GOOS.
//
// Two implementations of the shared words exist. The mapped one (unix)
// shares the words through a memory mapping: reading them costs no system
// call. The portable one reads and writes them with file I/O, so it runs
// anywhere. With either, callers change the words only under an exclusive
// lock. The build tag
// lastmile_portable selects the portable code (and f.Sync for DataSync) on
// every OS, so its paths can be tested on Linux:
//
//	go test -tags lastmile_portable ./store/ ./sandbox/
//
// Locks have no portable form (Go's standard library exports none): they
// are flock(2) on unix and LockFileEx on Windows, and elsewhere they fail
// with errors.ErrUnsupported rather than pretend to exclude anyone.
package osfile

import "errors"

// ErrLocked means a non-blocking lock was refused: another open file (in
// this process or another) holds a conflicting lock.
var ErrLocked = errors.New("file is locked by another process")

// LockMode says which kind of lock to take.
type LockMode int

const (
	// Shared locks may be held by many at once, but not with an exclusive one.
	Shared LockMode = iota
	// Exclusive locks exclude every other lock on the file.
	Exclusive
)

// WordsSize is how many bytes of a file OpenWords uses: two 64-bit words.
// The file must be at least this long before OpenWords.
const WordsSize = 16
