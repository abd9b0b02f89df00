package store

import (
	"context"
	"slices"
	"sync"
)

// MemoryJournals is a Journaler in memory, for tests: one process, so a
// journal is held until its Close.
type MemoryJournals struct {
	mu      sync.Mutex
	records map[string][][]byte
	held    map[string]bool
}

// NewMemoryJournals returns a Journaler with no journals.
func NewMemoryJournals() *MemoryJournals {
	return &MemoryJournals{records: map[string][][]byte{}, held: map[string]bool{}}
}

func (m *MemoryJournals) OpenJournal(ctx context.Context, name string) (Journal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held[name] {
		return nil, ErrJournalBusy
	}
	m.held[name] = true
	return &memJournal{m: m, name: name}, nil
}

func (m *MemoryJournals) ReadJournal(ctx context.Context, name string) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, len(m.records[name]))
	for i, r := range m.records[name] {
		out[i] = slices.Clone(r)
	}
	return out, ctx.Err()
}

func (m *MemoryJournals) JournalNames(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name, recs := range m.records {
		if len(recs) > 0 {
			out = append(out, name)
		}
	}
	return out, ctx.Err()
}

type memJournal struct {
	m      *MemoryJournals
	name   string
	closed bool
}

func (j *memJournal) Append(ctx context.Context, record []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.m.mu.Lock()
	defer j.m.mu.Unlock()
	if j.closed {
		return ErrJournalLost
	}
	j.m.records[j.name] = append(j.m.records[j.name], slices.Clone(record))
	return nil
}

func (j *memJournal) Close() error {
	j.m.mu.Lock()
	defer j.m.mu.Unlock()
	if !j.closed {
		j.closed = true
		delete(j.m.held, j.name)
	}
	return nil
}
