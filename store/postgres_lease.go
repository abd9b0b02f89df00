package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultLease is how long a lock of the PostgreSQL store (a plan's
// promotion journal, the scheduler) outlives its holder's last renewal: a
// replica that dies, or stops reaching the database, holds it no longer.
// The holder renews it every third of that.
const DefaultLease = 15 * time.Second

// leaseParam sets the lease in the store's URL: postgres://…?lastmile_lease=30s.
const leaseParam = "lastmile_lease"

// Locks and journals of the PostgreSQL store are leases in
// lastmile_lease: a row per lock naming its holder (a random id per hold)
// and when it ends, by the database's clock, so the hosts' clocks do not
// matter. A lock is taken when absent or ended. Every journal record is
// written only while its writer still holds the journal's lease (the
// check is in the INSERT), so a replica that stalled past its lease while
// another took over cannot add to what the other reads: a fence. What it
// may still have sent to a platform is what the journal's in-flight
// records and the resumed promotion's wait are for.

// TryLock implements Locker.
func (p *Postgres) TryLock(ctx context.Context, name string) (Lock, error) {
	return p.lease(ctx, "lock:"+name)
}

// OpenJournal implements Journaler: the journal's lease, and appends
// fenced by it.
func (p *Postgres) OpenJournal(ctx context.Context, name string) (Journal, error) {
	l, err := p.lease(ctx, "journal:"+name)
	if errors.Is(err, ErrLocked) {
		return nil, ErrJournalBusy
	}
	if err != nil {
		return nil, err
	}
	return &pgJournal{l: l, name: name}, nil
}

// ReadJournal implements Journaler.
func (p *Postgres) ReadJournal(ctx context.Context, name string) ([][]byte, error) {
	rows, err := p.pool.Query(ctx, `SELECT record FROM lastmile_journal WHERE name = $1 ORDER BY id`, name)
	if err != nil {
		return nil, p.fail("read journal", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			return nil, p.fail("read journal", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, p.fail("read journal", err)
	}
	return out, nil
}

// JournalNames implements Journaler.
func (p *Postgres) JournalNames(ctx context.Context) ([]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT DISTINCT name FROM lastmile_journal`)
	if err != nil {
		return nil, p.fail("list journals", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, p.fail("list journals", err)
	}
	return names, nil
}

type pgLease struct {
	p      *Postgres
	name   string
	holder string
	lost   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func (p *Postgres) lease(ctx context.Context, name string) (*pgLease, error) {
	var b [16]byte
	rand.Read(b[:])
	l := &pgLease{p: p, name: name, holder: hex.EncodeToString(b[:]), lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	tag, err := p.pool.Exec(ctx, `INSERT INTO lastmile_lease (name, holder, expires_at) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
WHERE lastmile_lease.expires_at < clock_timestamp()`, name, l.holder, p.leaseFor.Milliseconds())
	if err != nil {
		return nil, p.fail("take lock "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, ErrLocked
	}
	go l.renew()
	return l, nil
}

// renew extends the lease every third of its length. Once the database
// says another holds it, or it could not be renewed before it would have
// ended, it is lost.
func (l *pgLease) renew() {
	defer close(l.done)
	every := l.p.leaseFor / 3
	renewed := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		tag, err := l.p.pool.Exec(ctx, `UPDATE lastmile_lease SET expires_at = clock_timestamp() + $3 * interval '1 millisecond'
WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()`, l.name, l.holder, l.p.leaseFor.Milliseconds())
		cancel()
		switch {
		case err == nil && tag.RowsAffected() == 1:
			renewed = time.Now()
		case err == nil || time.Since(renewed) >= l.p.leaseFor-every:
			l.once.Do(func() { close(l.lost) })
			return
		}
	}
}

func (l *pgLease) Lost() <-chan struct{} { return l.lost }

func (l *pgLease) Unlock() error {
	select {
	case <-l.stop:
		return nil
	default:
		close(l.stop)
	}
	<-l.done
	l.once.Do(func() { close(l.lost) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.p.pool.Exec(ctx, `DELETE FROM lastmile_lease WHERE name = $1 AND holder = $2`, l.name, l.holder); err != nil {
		return l.p.fail("let go of lock "+l.name, err)
	}
	return nil
}

type pgJournal struct {
	l    *pgLease
	name string

	mu  sync.Mutex
	err error
}

// Append writes the record in one statement that holds only while the
// lease does; the commit is durable (synchronous_commit) before it returns.
func (j *pgJournal) Append(ctx context.Context, record []byte) error {
	j.mu.Lock()
	if err := j.err; err != nil {
		j.mu.Unlock()
		return err
	}
	j.mu.Unlock()
	tag, err := j.l.p.pool.Exec(ctx, `INSERT INTO lastmile_journal (name, record)
SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM lastmile_lease WHERE name = $3 AND holder = $4 AND expires_at > clock_timestamp())`,
		j.name, record, j.l.name, j.l.holder)
	switch {
	case err != nil:
		// The record may or may not have committed: nothing after it can
		// be trusted to follow it.
		err = j.l.p.fail("append to journal "+j.name, err)
	case tag.RowsAffected() == 0:
		err = fmt.Errorf("%w (journal %s)", ErrJournalLost, j.name)
	default:
		return nil
	}
	j.mu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.mu.Unlock()
	return err
}

func (j *pgJournal) Close() error { return j.l.Unlock() }
