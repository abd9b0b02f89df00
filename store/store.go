// Package store is lastmile's persistence: ordered key/value buckets with
// serializable transactions, behind an interface narrow enough that a
// PostgreSQL table (bucket, key, value) can implement it too.
package store

import (
	"context"
	"errors"
)

// SchemaVersion is the layout version this build writes. Open migrates older
// data forward and refuses newer data.
const SchemaVersion = 1

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
