package store

import (
	"context"
	"errors"
)

// ErrJournalBusy means another process holds the journal: it is promoting
// the plan the journal belongs to right now.
var ErrJournalBusy = errors.New("store: the journal is held by another process")

// ErrJournalLost means the holder lost its hold on the journal (its lease
// ran out, and another process may have taken over); nothing more it
// appends is recorded.
var ErrJournalLost = errors.New("store: this process no longer holds the journal")

// Journaler is implemented by stores that keep append-only journals (the
// promotion journal of each plan) themselves, so that every process using
// the store sees them: a PostgreSQL store shared by several hosts. Other
// stores leave the journals to files in the data directory.
type Journaler interface {
	// OpenJournal takes the journal called name for this process, or
	// returns ErrJournalBusy while another live process holds it. A
	// holder that dies loses it (a lease that is not renewed ends).
	OpenJournal(ctx context.Context, name string) (Journal, error)
	// ReadJournal returns the records appended so far, in order; none for
	// a journal never written.
	ReadJournal(ctx context.Context, name string) ([][]byte, error)
	// JournalNames lists the journals that hold records, in no order.
	JournalNames(ctx context.Context) ([]string, error)
}

// Journal is a journal held by this process.
type Journal interface {
	// Append records one record durably before it returns. After a
	// failure every Append fails: the journal can no longer be trusted to
	// hold what its writer was told it holds.
	Append(ctx context.Context, record []byte) error
	// Close lets go of the journal.
	Close() error
}
