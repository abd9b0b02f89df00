package sandbox_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// readCounter counts what transactions read: one per Get or Count, one per
// entry a Scan returns.
type readCounter struct {
	store.Store
	reads atomic.Int64
}

type countedTx struct {
	store.Tx
	c *readCounter
}

func (c *readCounter) View(ctx context.Context, fn func(store.Tx) error) error {
	return c.Store.View(ctx, func(tx store.Tx) error { return fn(countedTx{tx, c}) })
}

func (c *readCounter) Update(ctx context.Context, fn func(store.Tx) error) error {
	return c.Store.Update(ctx, func(tx store.Tx) error { return fn(countedTx{tx, c}) })
}

func (t countedTx) Get(bucket, key string) ([]byte, error) {
	t.c.reads.Add(1)
	return t.Tx.Get(bucket, key)
}

func (t countedTx) Scan(bucket, prefix, after string, limit int) ([]store.KV, error) {
	kvs, err := t.Tx.Scan(bucket, prefix, after, limit)
	t.c.reads.Add(int64(len(kvs)))
	return kvs, err
}

func (t countedTx) Count(bucket, prefix string, limit int) (int, error) {
	t.c.reads.Add(1)
	return t.Tx.Count(bucket, prefix, limit)
}

// Staging reads what the new revision refers to, never the rest of the
// campaign: the 60th segment or email costs the reads the 2nd does. (A
// write that read the campaign made staging a campaign quadratic.)
func TestStagingReadsDoNotGrowWithTheCampaign(t *testing.T) {
	dir := t.TempDir()
	lt, err := local.New("local", dir, local.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := governance.Load("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st := &readCounter{Store: store.NewMemory()}
	sb, err := sandbox.New(sandbox.Options{Store: st, Targets: map[string]sandbox.Target{"local": lt}, Policy: sandbox.StaticPolicy{P: pol}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Growing", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	var base string
	stage := func(i int) (segment, email int64) {
		before := st.reads.Load()
		seg := sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprint("Segment ", i), Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}}}
		if base != "" {
			seg.IncludeSegments = []string{base}
		}
		r, err := sb.StageSegment(ctx, "test", seg)
		if err != nil {
			t.Fatal(err)
		}
		sb.StagedGovernanceLine(ctx, r)
		if base == "" {
			base = r.Artifact.ID
		}
		mid := st.reads.Load()
		e, err := sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprint("Email ", i), Subject: "Hello", FromName: "Acme", FromEmail: "news@acme.com",
			HTML: "<p>Hello</p>", Audience: sandbox.Audience{Include: []string{r.Artifact.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		sb.StagedGovernanceLine(ctx, e)
		return mid - before, st.reads.Load() - mid
	}
	stage(0)
	seg2, email2 := stage(1)
	for i := 2; i < 30; i++ {
		stage(i)
	}
	seg30, email30 := stage(30)
	if seg30 != seg2 || email30 != email2 {
		t.Fatalf("staging read %d entries for the 2nd segment and %d for the 31st; %d for the 2nd email and %d for the 31st", seg2, seg30, email2, email30)
	}
}
