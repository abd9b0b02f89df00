package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// TestPromotionJournalInTheStore: with a store that keeps journals (as
// PostgreSQL does, for replicas on several hosts), a promotion records
// every step there and nothing in the data directory; while one process
// holds a plan's journal, a confirm elsewhere is refused as busy; what
// get_plan reports comes from the store's journal.
func TestPromotionJournalInTheStore(t *testing.T) {
	ctx := context.Background()
	js := store.NewMemoryJournals()
	e := newEnv(t, envOptions{journals: js})
	c := stageCampaign(t, e, "Stored")
	p := planAndApprove(t, e, c.id)

	held, err := js.OpenJournal(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	var re *sandbox.RefusedError
	if !errors.As(err, &re) || re.Code != sandbox.RefusedBusy {
		t.Fatalf("confirm while another process holds the journal: %v, want refused busy", err)
	}
	held.Close()

	res, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != sandbox.PlanPromoted {
		t.Fatalf("status %s", res.Status)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "journal", p.ID+".jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a journal file was written beside a store that keeps journals: %v", err)
	}
	recs, err := js.ReadJournal(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	intents, results := 0, 0
	for _, r := range recs {
		switch {
		case strings.Contains(string(r), `"type":"intent"`):
			intents++
		case strings.Contains(string(r), `"type":"result"`):
			results++
		}
	}
	if intents != len(p.Steps) || results != len(p.Steps) {
		t.Fatalf("journal holds %d intents and %d results for %d steps", intents, results, len(p.Steps))
	}
	st, err := e.sb.GetPlanStatus(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Steps {
		if s.Status != "done" {
			t.Fatalf("step %d: %s, want done (read from the store's journal)", s.N, s.Status)
		}
	}
	again, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if err != nil || !again.AlreadyPromoted {
		t.Fatalf("second confirm: %+v, %v; want the earlier result", again, err)
	}
}

// TestLostJournalStopsThePromotion: a journal the store says this process
// no longer holds (its lease ran out while it stalled, and another
// replica may have taken over) fails the step: nothing more is done.
func TestLostJournalStopsThePromotion(t *testing.T) {
	ctx := context.Background()
	js := &losingJournals{MemoryJournals: store.NewMemoryJournals()}
	e := newEnv(t, envOptions{journals: js})
	c := stageCampaign(t, e, "Lost")
	p := planAndApprove(t, e, c.id)
	_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if !errors.Is(err, store.ErrJournalLost) {
		t.Fatalf("confirm with a lost journal: %v, want ErrJournalLost", err)
	}
	for _, id := range append(c.segments, c.page, c.workflow) {
		if live := boundID(t, e, id); live != "" {
			t.Fatalf("%s went live as %s though the journal was lost before any intent", id, live)
		}
	}
}

// losingJournals loses every journal before its first record.
type losingJournals struct{ *store.MemoryJournals }

func (l *losingJournals) OpenJournal(ctx context.Context, name string) (store.Journal, error) {
	j, err := l.MemoryJournals.OpenJournal(ctx, name)
	if err != nil {
		return nil, err
	}
	return lostJournal{j}, nil
}

type lostJournal struct{ store.Journal }

func (lostJournal) Append(context.Context, []byte) error { return store.ErrJournalLost }
