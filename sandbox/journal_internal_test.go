package sandbox

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
)

// A journal held by one promoter is busy for every other, until closed; the
// lock is on an open file, so two opens in one process exclude each other
// as two processes do.
func TestJournalLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openJournal(dir, "pln_x"); !errors.Is(err, ErrPromotionBusy) {
		t.Fatalf("second open while held: err = %v, want ErrPromotionBusy", err)
	}
	other, err := openJournal(dir, "pln_y")
	if err != nil {
		t.Fatalf("another plan's journal: %v", err)
	}
	other.close()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	j, err = openJournal(dir, "pln_x")
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
	j, err := openJournal(dir, "pln_x")
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

	j, err = openJournal(dir, "pln_x")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.append(journalRecord{Step: 3, Key: "k", Type: recResult}); err != nil {
		t.Fatal(err)
	}
	j.close()

	recs, err := readJournal(dir, "pln_x")
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
