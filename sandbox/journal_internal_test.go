package sandbox

import (
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A journal held by one promoter is busy for every other, until closed; the
// lock is on an open file, so two opens in one process exclude each other
// as two processes do.
func TestJournalLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	j, err := openFileJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openFileJournal(dir, "pln_x"); !errors.Is(err, ErrPromotionBusy) {
		t.Fatalf("second open while held: err = %v, want ErrPromotionBusy", err)
	}
	other, err := openFileJournal(dir, "pln_y")
	if err != nil {
		t.Fatalf("another plan's journal: %v", err)
	}
	other.close()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	j, err = openFileJournal(dir, "pln_x")
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	j.close()
}

// Records appended at once all arrive whole; a torn last line (a process
// died inside a write) is cut on the next open, and what follows it is
// written after the last whole record.
func TestJournalAppendsAndCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	j, err := openFileJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := j.append(journalRecord{Step: i, Key: "k", Type: recIntent}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	j.close()

	f, err := os.OpenFile(journalPath(dir, "pln_x"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":9,"key":"k","ty`)
	f.Close()

	j, err = openFileJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.append(journalRecord{Step: 3, Key: "k", Type: recResult}); err != nil {
		t.Fatal(err)
	}
	j.close()

	recs, err := readFileJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 || recs[8].Step != 3 || recs[8].Type != recResult {
		t.Fatalf("read %d records (last %+v), want the 8 intents then step 3's result", len(recs), recs[len(recs)-1])
	}
	data, _ := os.ReadFile(journalPath(dir, "pln_x"))
	if strings.Contains(string(data), `"ty{`) || strings.Count(string(data), "\n") != 9 {
		t.Fatalf("journal is not 9 whole lines:\n%s", data)
	}
}

// Once a sync fails, the journal refuses every record after it, even when
// syncing works again: a failed fsync may have dropped what was written
// while reporting the pages clean, so a later success proves nothing.
func TestJournalSyncFailureIsSticky(t *testing.T) {
	j, err := openFileJournal(t.TempDir(), "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if err := j.append(journalRecord{Step: 1, Key: "k", Type: recIntent}); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("injected: I/O error")
	var syncs atomic.Int32
	j.sync = func(f *os.File) error {
		if syncs.Add(1) == 1 {
			return broken
		}
		return f.Sync()
	}
	if err := j.append(journalRecord{Step: 1, Key: "k", Type: recResult}); !errors.Is(err, broken) {
		t.Fatalf("append whose sync failed: err = %v, want the sync's error", err)
	}
	for i := range 3 {
		err := j.append(journalRecord{Step: 2, Key: "k", Type: recIntent})
		if !errors.Is(err, errJournalBroken) || !errors.Is(err, broken) {
			t.Fatalf("append %d after the failure: err = %v, want errJournalBroken wrapping the failure", i, err)
		}
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs after the failure; a broken journal should not sync again", n-1)
	}
}

// Appends sharing a sync that fails all fail; none returns as if durable.
func TestJournalFailedGroupSyncFailsEveryAppend(t *testing.T) {
	j, err := openFileJournal(t.TempDir(), "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	broken := errors.New("injected: I/O error")
	j.sync = func(*os.File) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return broken
	}
	const n = 6
	errs := make(chan error, n)
	go func() { errs <- j.append(journalRecord{Step: 0, Key: "k", Type: recIntent}) }()
	<-entered // the first sync is under way; the others queue behind it
	for i := 1; i < n; i++ {
		go func() { errs <- j.append(journalRecord{Step: i, Key: "k", Type: recIntent}) }()
	}
	close(release)
	for range n {
		if err := <-errs; err == nil {
			t.Fatal("an append returned as if durable after its sync failed")
		}
	}
}
