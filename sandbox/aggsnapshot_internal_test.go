package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/store"
)

// keepEvents puts events in the outcome log after its last, as
// SyncOutcomes keeps them.
func keepEvents(t *testing.T, st store.Store, from, n int, contact string) {
	t.Helper()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	types := []string{outcomes.Sent, outcomes.Delivered, outcomes.Open, outcomes.Click, outcomes.Purchase}
	if err := st.Update(context.Background(), func(tx store.Tx) error {
		for i := from; i < from+n; i++ {
			e := outcomes.Event{ID: fmt.Sprint(i), Type: types[i%len(types)], Source: "local:events.jsonl", Target: "local", LiveID: fmt.Sprintf("L%d", i%3),
				Contact: fmt.Sprintf("%s%d@example.com", contact, i%7), At: at.Add(time.Duration(i) * time.Minute)}
			if e.Type == outcomes.Purchase {
				e.LiveID, e.Value = "", &outcomes.Money{Minor: int64(100 * i), Currency: "EUR"}
			}
			if err := putJSON(tx, bOutcomeLog, seqKey(uint64(i+1)), e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// aggregateNow is the sandbox's aggregate, brought up to date.
func aggregateNow(t *testing.T, sb *Sandbox) *outcomes.Aggregate {
	t.Helper()
	agg, unlock, err := sb.aggregate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	return agg
}

func boltSandbox(t *testing.T, dir string) (*Sandbox, *store.Bolt) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(Options{Store: st, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return sb, st
}

// A process just started takes the aggregate an earlier one kept, and
// reads only the events kept after it; one kept from another store's
// events, or damaged, is not used: the aggregate is built from the events
// and is the same as if no file had been there.
func TestAggregateKept(t *testing.T) {
	old := saveAggregateEvery
	saveAggregateEvery = 10
	t.Cleanup(func() { saveAggregateEvery = old })
	dir := t.TempDir()
	sb, st := boltSandbox(t, dir)
	keepEvents(t, st, 0, 40, "ada")
	aggregateNow(t, sb)
	st.Close()
	path := filepath.Join(dir, aggregateFile)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no aggregate kept after 40 events: %v", err)
	}

	// From scratch, for comparison: the same store without the file.
	fresh := func() *outcomes.Aggregate {
		t.Helper()
		cp := t.TempDir()
		data, err := os.ReadFile(filepath.Join(dir, "lastmile.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, "lastmile.db"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		sb, st := boltSandbox(t, cp)
		defer st.Close()
		saveAggregateEvery = 1 << 30
		defer func() { saveAggregateEvery = 10 }()
		return aggregateNow(t, sb)
	}

	sb, st = boltSandbox(t, dir)
	agg, last := sb.loadAggregate(context.Background())
	if agg == nil || last != 40 {
		t.Fatalf("the kept aggregate was not taken (last %d)", last)
	}
	keepEvents(t, st, 40, 5, "ada")
	got := aggregateNow(t, sb)
	if sb.outcomes.last != 45 {
		t.Fatalf("caught up to %d, want 45", sb.outcomes.last)
	}
	st.Close()
	if want := fresh(); !reflect.DeepEqual(got, want) {
		t.Fatal("the kept aggregate with the later events differs from one built from every event")
	}

	// Another store's aggregate, at a sequence this one also has.
	other := t.TempDir()
	osb, ost := boltSandbox(t, other)
	keepEvents(t, ost, 0, 45, "grace")
	aggregateNow(t, osb)
	ost.Close()
	kept, err := os.ReadFile(filepath.Join(other, aggregateFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"another store's": kept, "cut short": kept[:len(kept)/2], "empty": nil} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sb, st := boltSandbox(t, dir)
		if agg, _ := sb.loadAggregate(context.Background()); agg != nil {
			t.Errorf("%s aggregate was taken", name)
		}
		got := aggregateNow(t, sb)
		st.Close()
		if want := fresh(); !reflect.DeepEqual(got, want) {
			t.Errorf("with %s aggregate file, the aggregate differs from one built from every event", name)
		}
	}
}
