package store

import (
	"context"
	"errors"
	"sync"
)

// ErrLocked means another process holds the lock.
var ErrLocked = errors.New("store: the lock is held by another process")

// Locker is implemented by stores that several hosts share (PostgreSQL):
// a named lock that one process of all those using the store holds at a
// time, so work that must run in one place (the scheduler) does. Stores
// of one host leave such work to file locks.
type Locker interface {
	// TryLock takes the lock called name, or returns ErrLocked.
	TryLock(ctx context.Context, name string) (Lock, error)
}

// Lock is a held lock. A holder that dies, or cannot reach the store to
// keep it, loses it, and another process may take it.
type Lock interface {
	// Lost is closed once the lock is no longer held (also after Unlock).
	Lost() <-chan struct{}
	Unlock() error
}

// MemoryLocks is a Locker in memory, for tests.
type MemoryLocks struct {
	mu   sync.Mutex
	held map[string]*memLock
}

// NewMemoryLocks returns a Locker with no lock held.
func NewMemoryLocks() *MemoryLocks { return &MemoryLocks{held: map[string]*memLock{}} }

func (m *MemoryLocks) TryLock(ctx context.Context, name string) (Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held[name] != nil {
		return nil, ErrLocked
	}
	l := &memLock{m: m, name: name, lost: make(chan struct{})}
	m.held[name] = l
	return l, nil
}

// Break takes the lock called name from its holder, as a lease that ran
// out does.
func (m *MemoryLocks) Break(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.held[name]; l != nil {
		delete(m.held, name)
		close(l.lost)
	}
}

type memLock struct {
	m    *MemoryLocks
	name string
	lost chan struct{}
}

func (l *memLock) Lost() <-chan struct{} { return l.lost }

func (l *memLock) Unlock() error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.m.held[l.name] == l {
		delete(l.m.held, l.name)
		close(l.lost)
	}
	return nil
}
