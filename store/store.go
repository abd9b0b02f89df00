// Package store is lastmile's persistence: ordered key/value buckets with
// serializable transactions, behind an interface narrow enough that a
// PostgreSQL table (bucket, key, value) can implement it too.
//
// A bucket name of the form "parent/child" is a bucket like any other, and
// also a hint: its entries belong together. Bolt keeps such a bucket as a
// sub-bucket of parent, so the entries of one child (an artifact's head and
// its revisions) share pages instead of each touching its own B+tree path,
// and a write transaction touches fewer pages. A parent holds sub-buckets
// only; Get, Put and Scan on the parent itself are not meaningful.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// SchemaVersion is the data layout this build writes. Opening refuses newer
// data; Migrate brings older data forward with the steps of the layer whose
// layout changed (sandbox.Migrations).
const SchemaVersion = 2

// ErrReadOnly is returned by writes inside View.
var ErrReadOnly = errors.New("store: write in a read-only transaction")

// ErrNewerSchema means the data was written by a newer lastmile.
var ErrNewerSchema = errors.New("store: data directory was written by a newer lastmile")

// KV is one entry returned by Scan.
type KV struct {
	Key   string
	Value []byte
}

// Tx is a transaction. Values returned are the caller's to keep.
type Tx interface {
	// Get returns the value, or nil when the key is absent.
	Get(bucket, key string) ([]byte, error)
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	// Scan returns up to limit entries whose key starts with prefix and sorts
	// after `after` (exclusive; empty means from the start), in key order.
	Scan(bucket, prefix, after string, limit int) ([]KV, error)
	// Count returns how many keys start with prefix, counting no further
	// than limit (0: all of them).
	Count(bucket, prefix string, limit int) (int, error)
	// NextSeq returns the bucket's next sequence number, starting at 1.
	NextSeq(bucket string) (uint64, error)
}

// Store runs transactions. Update runs fn in one serializable write
// transaction: all of its writes land, or none do.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Generational is implemented by stores that can tell cheaply whether
// anything changed: the generation grows with every write transaction, in
// any process. Callers cache what they derive from the store under it.
type Generational interface {
	Generation(ctx context.Context) (uint64, error)
}

// Notifier is implemented by stores that can wake a waiter when any
// process or replica writes, so nobody needs to poll.
type Notifier interface {
	// WaitChange returns the generation once it is greater than since, or
	// ctx's error.
	WaitChange(ctx context.Context, since uint64) (uint64, error)
}

const (
	metaB      = "__meta"
	versionKey = "schema_version"
)

// Migration moves data from layout version To-1 to To.
type Migration struct {
	To    int
	Name  string
	Apply func(Tx) error
}

// storedVersion returns the layout version the data records; 0 means none
// is recorded (a new, empty store).
func storedVersion(tx Tx) (int, error) {
	v, err := tx.Get(metaB, versionKey)
	if err != nil || v == nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("store: bad schema version %q", v)
	}
	if n > SchemaVersion {
		return 0, fmt.Errorf("%w (schema %d; this build reads up to %d): upgrade lastmile", ErrNewerSchema, n, SchemaVersion)
	}
	return n, nil
}

// stamp stamps a new store with the current schema version and refuses
// data written by a newer lastmile, as every Open does. Older data is left
// for Migrate, whose steps belong to the layers above. A store already
// stamped is only read (a bolt write costs two syncs).
func stamp(ctx context.Context, s Store) error {
	stamped := false
	err := s.View(ctx, func(tx Tx) error {
		n, err := storedVersion(tx)
		stamped = n > 0
		return err
	})
	if errors.Is(err, ErrNewerSchema) || err == nil && stamped {
		return err
	}
	// Bolt: no database file yet (a read-only open fails), or not stamped.
	return s.Update(ctx, func(tx Tx) error {
		n, err := storedVersion(tx)
		if err != nil || n > 0 {
			return err
		}
		return tx.Put(metaB, versionKey, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// Migrate brings the data to SchemaVersion: the steps it has not had yet
// run in order, in one write transaction with the new version, so a crash
// leaves the data as it was and the next start tries again. A new store is
// only stamped. Several processes may call it at once; one migrates and the
// others find the work done.
func Migrate(ctx context.Context, s Store, steps []Migration) error {
	current := false
	if err := s.View(ctx, func(tx Tx) error {
		n, err := storedVersion(tx)
		current = n == SchemaVersion
		return err
	}); err != nil || current {
		return err
	}
	return s.Update(ctx, func(tx Tx) error {
		have, err := storedVersion(tx)
		if err != nil || have == SchemaVersion {
			return err
		}
		if have > 0 {
			for want := have + 1; want <= SchemaVersion; want++ {
				i := slices.IndexFunc(steps, func(m Migration) bool { return m.To == want })
				if i < 0 {
					return fmt.Errorf("store: no step migrates schema %d to %d", want-1, want)
				}
				if err := steps[i].Apply(tx); err != nil {
					return fmt.Errorf("store: migrate to schema %d (%s): %w", want, steps[i].Name, err)
				}
			}
		}
		return tx.Put(metaB, versionKey, []byte(strconv.Itoa(SchemaVersion)))
	})
}
