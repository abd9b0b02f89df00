package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// journalPairs returns, for every implementation, two handles on one set
// of journals and locks, as two processes have.
func journalPairs(t *testing.T) map[string][2]interface {
	Journaler
	Locker
} {
	t.Helper()
	type both = interface {
		Journaler
		Locker
	}
	mem := struct {
		*MemoryJournals
		*MemoryLocks
	}{NewMemoryJournals(), NewMemoryLocks()}
	out := map[string][2]both{"memory": {mem, mem}}
	if pgTestURL() != "" {
		u := newPostgresSchema(t)
		out["postgres"] = [2]both{openPostgresTest(t, u), openPostgresTest(t, u)}
	}
	return out
}

func TestJournalHeldByOneProcess(t *testing.T) {
	ctx := context.Background()
	for name, pair := range journalPairs(t) {
		t.Run(name, func(t *testing.T) {
			a, b := pair[0], pair[1]
			ja, err := a.OpenJournal(ctx, "pln_1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.OpenJournal(ctx, "pln_1"); !errors.Is(err, ErrJournalBusy) {
				t.Fatalf("second holder: %v, want ErrJournalBusy", err)
			}
			other, err := b.OpenJournal(ctx, "pln_2")
			if err != nil {
				t.Fatalf("another plan's journal: %v", err)
			}
			other.Close()
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					if err := ja.Append(ctx, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if err := ja.Append(ctx, []byte(`{"last":true}`)); err != nil {
				t.Fatal(err)
			}
			ja.Close()
			recs, err := b.ReadJournal(ctx, "pln_1")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 21 || string(recs[20]) != `{"last":true}` {
				t.Fatalf("the other process reads %d records, last %q; want 21 ending with the last appended", len(recs), recs[len(recs)-1])
			}
			jb, err := b.OpenJournal(ctx, "pln_1")
			if err != nil {
				t.Fatalf("after Close the other process takes it: %v", err)
			}
			jb.Close()
			if recs, _ := a.ReadJournal(ctx, "pln_never"); len(recs) != 0 {
				t.Fatalf("a journal never written has %d records", len(recs))
			}
		})
	}
}

func TestLockHeldByOneProcess(t *testing.T) {
	ctx := context.Background()
	for name, pair := range journalPairs(t) {
		t.Run(name, func(t *testing.T) {
			a, b := pair[0], pair[1]
			la, err := a.TryLock(ctx, "scheduler")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.TryLock(ctx, "scheduler"); !errors.Is(err, ErrLocked) {
				t.Fatalf("second holder: %v, want ErrLocked", err)
			}
			// A lock and a journal of one name are different things.
			j, err := b.OpenJournal(ctx, "scheduler")
			if err != nil {
				t.Fatal(err)
			}
			j.Close()
			la.Unlock()
			select {
			case <-la.Lost():
			default:
				t.Fatal("Lost is open after Unlock")
			}
			lb, err := b.TryLock(ctx, "scheduler")
			if err != nil {
				t.Fatalf("after Unlock the other process takes it: %v", err)
			}
			lb.Unlock()
		})
	}
}

// expire ends every lease of the schema now, as if its holder had stopped
// renewing it a lease ago (a process that died, or stalled).
func expire(t *testing.T, p *Postgres) {
	t.Helper()
	if _, err := p.pool.Exec(context.Background(), `UPDATE lastmile_lease SET expires_at = clock_timestamp() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresLeaseTakeover: a holder that stops renewing (it died, or
// stalled past its lease) loses the journal; another process takes it
// over; and the first, if it comes back, can append nothing more (a
// fence), and sees its lock lost.
func TestPostgresLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ja, err := a.OpenJournal(ctx, "pln_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ja.Append(ctx, []byte(`{"step":1,"type":"intent"}`)); err != nil {
		t.Fatal(err)
	}
	la, err := a.TryLock(ctx, "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	expire(t, a)
	jb, err := b.OpenJournal(ctx, "pln_1")
	if err != nil {
		t.Fatalf("taking over an ended lease: %v", err)
	}
	defer jb.Close()
	lb, err := b.TryLock(ctx, "scheduler")
	if err != nil {
		t.Fatalf("taking over an ended lock: %v", err)
	}
	defer lb.Unlock()
	if err := ja.Append(ctx, []byte(`{"step":1,"type":"result"}`)); !errors.Is(err, ErrJournalLost) {
		t.Fatalf("the former holder appended after the takeover: %v", err)
	}
	if err := ja.Append(ctx, []byte(`{"step":2}`)); err == nil {
		t.Fatal("a journal that failed accepts appends again")
	}
	if err := jb.Append(ctx, []byte(`{"step":1,"type":"result","by":"b"}`)); err != nil {
		t.Fatal(err)
	}
	recs, err := a.ReadJournal(ctx, "pln_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || string(recs[1]) != `{"step":1,"type":"result","by":"b"}` {
		t.Fatalf("records %q: want the first holder's intent and the successor's result", recs)
	}
	select {
	case <-la.Lost():
	case <-time.After(2 * DefaultLease):
		t.Fatal("the former holder never saw its lock lost")
	}
	// Closing the former holder's journal leaves the successor's lease.
	ja.Close()
	la.Unlock()
	if _, err := a.OpenJournal(ctx, "pln_1"); !errors.Is(err, ErrJournalBusy) {
		t.Fatalf("the former holder's Close let go of the successor's lease: %v", err)
	}
}

// TestPostgresLeaseEndsWhenHolderDies: a process that dies holding a lock
// (here: its connections closed, so it renews nothing) holds it no longer
// than the lease, and the lease is renewed while the holder lives.
func TestPostgresLeaseEndsWhenHolderDies(t *testing.T) {
	ctx := context.Background()
	// Three seconds, renewed every second: a second's stall of a loaded
	// machine (the race detector, parallel packages) costs no renewal.
	u := newPostgresSchema(t) + "&" + leaseParam + "=3s"
	a, err := OpenPostgres(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b := openPostgresTest(t, u)
	ja, err := a.OpenJournal(ctx, "pln_1")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(7 * time.Second) // over two leases: kept by renewals
	if _, err := b.OpenJournal(ctx, "pln_1"); !errors.Is(err, ErrJournalBusy) {
		t.Fatalf("a live holder's lease ended: %v", err)
	}
	_ = ja         // never closed: the process died
	a.pool.Close() // the holder is gone: no renewal, no Close
	deadline := time.Now().Add(10 * time.Second)
	for {
		jb, err := b.OpenJournal(ctx, "pln_1")
		if err == nil {
			jb.Close()
			return
		}
		if !errors.Is(err, ErrJournalBusy) || time.Now().After(deadline) {
			t.Fatalf("taking over a dead holder's journal: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPostgresLeaseParam(t *testing.T) {
	u := needPostgres(t)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	for _, bad := range []string{"0s", "soon", "500ms"} {
		if _, err := OpenPostgres(context.Background(), u+sep+leaseParam+"="+bad); err == nil {
			t.Errorf("lease %q accepted", bad)
		}
	}
}
