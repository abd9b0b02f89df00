package mcpsession

import (
	"context"
	"testing"
	"time"

	"github.com/lastmile/lastmile/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestSessionsAcrossReplicas: two processes on one store (two bolt handles
// on one data directory, as two replicas): a session one issues is valid
// at the other, and ended at both once either ends it.
func TestSessionsAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	a, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := &clock{t: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	one, two := New(a, nil, c.now).For(""), New(b, nil, c.now).For("")
	id := one.Generate()
	if ended, err := two.Validate(id); err != nil || ended {
		t.Fatalf("the other replica: ended=%v err=%v, want a live session", ended, err)
	}
	if _, err := two.Terminate(id); err != nil {
		t.Fatal(err)
	}
	if ended, err := one.Validate(id); err != nil || !ended {
		t.Fatalf("after DELETE at the other replica: ended=%v err=%v, want ended", ended, err)
	}
}

func TestSessionRules(t *testing.T) {
	c := &clock{t: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(store.NewMemory(), nil, c.now)
	alice, mallory := s.For("token:alice"), s.For("token:mallory")
	id := alice.Generate()
	if _, err := alice.Validate(id); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "lms_", id + "0", "mcp-session-" + id[4:], "lms_" + "00000000000000000000000000000000"} {
		if _, err := alice.Validate(bad); err == nil {
			t.Errorf("Validate(%q) accepted an id never issued", bad)
		}
	}
	// Another principal holding the id gets nothing from it, and cannot end it.
	if _, err := mallory.Validate(id); err == nil {
		t.Fatal("a session was valid for a principal that did not begin it")
	}
	if _, err := s.For("").Validate(id); err == nil {
		t.Fatal("a session was valid without the principal that began it")
	}
	mallory.Terminate(id)
	if ended, err := alice.Validate(id); err != nil || ended {
		t.Fatalf("another principal ended the session: ended=%v err=%v", ended, err)
	}
	// Sessions expire after MaxAge.
	c.t = c.t.Add(MaxAge + time.Second)
	if _, err := alice.Validate(id); err == nil {
		t.Fatal("a session older than MaxAge is still valid")
	}
}

// TestPruneBoundsWhatIsRemembered: ended sessions are forgotten an hour
// after they end and live ones after MaxAge, so a client that opens and
// ends sessions in a loop cannot grow the store without bound.
func TestPruneBoundsWhatIsRemembered(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := store.NewMemory()
	s := New(st, nil, c.now)
	m := s.For("")
	var ended []string
	for range 1200 {
		id := m.Generate()
		m.Terminate(id)
		ended = append(ended, id)
	}
	live := m.Generate()
	c.t = c.t.Add(endedKept + time.Minute)
	n, err := s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ended) {
		t.Fatalf("pruned %d, want the %d ended sessions", n, len(ended))
	}
	if _, err := m.Validate(live); err != nil {
		t.Fatalf("a live session was pruned: %v", err)
	}
	if _, err := m.Validate(ended[0]); err == nil {
		t.Fatal("a pruned session is still valid")
	}
	count := 0
	st.View(ctx, func(tx store.Tx) error { count, _ = tx.Count(bucket, "", 0); return nil })
	if count != 1 {
		t.Fatalf("%d sessions remembered after pruning, want 1", count)
	}
}
