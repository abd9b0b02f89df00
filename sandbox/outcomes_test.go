package sandbox_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// SyncOutcomes keeps every event local reports once: a second sync adds
// only what arrived since, unknown types are kept and counted, and the
// contacts a campaign touched are remembered for the targets that look
// conversions up by contact.
func TestSyncOutcomesKeepsEachEventOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	welcome, _, _ := welcomeFlow(t, e)
	if _, err := e.local.Tick(ctx, epoch); err != nil {
		t.Fatal(err)
	}
	first, err := e.sb.SyncOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].Target != "local" || first[0].New == 0 || first[0].New != first[0].Read || first[0].Error != "" {
		t.Fatalf("first sync: %+v", first)
	}
	sent := first[0].New
	if err := e.local.AppendEvents([]local.Event{
		{Type: "open", Artifact: welcome, Email: "ada@example.com", At: epoch.Add(time.Hour)},
		{Type: "deal_won", Email: "ada@example.com", Amount: "1200.50", Currency: "USD", At: epoch.Add(48 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	appendLine(t, e.local.EventsFile(), `{"type":"webinar_attended","email":"ada@example.com","at":"2027-03-02T10:00:00Z"}`)
	second, err := e.sb.SyncOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second[0].New != 3 || second[0].Read != 3 || second[0].Unknown["webinar_attended"] != 1 {
		t.Fatalf("second sync: %+v", second)
	}
	if third, _ := e.sb.SyncOutcomes(ctx); third[0].New != 0 {
		t.Fatalf("third sync: %+v", third)
	}
	var kept, deals int
	var won outcomes.Money
	if _, err := e.sb.Outcomes(ctx, 0, func(ev outcomes.Event) error {
		kept++
		if ev.Type == outcomes.DealWon {
			deals++
			won = *ev.Value
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if kept != sent+3 || deals != 1 || won != (outcomes.Money{Minor: 120050, Currency: "USD"}) {
		t.Fatalf("kept %d (want %d), %d deals, won %v", kept, sent+3, deals, won)
	}
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// A campaign's cost is a person's figure, kept on the campaign and in the
// audit log; nil clears it.
func TestSetCampaignCost(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Costly", Markets: []string{"US"}})
	cost := outcomes.Money{Minor: 120000, Currency: "USD"}
	if _, err := e.sb.SetCampaignCost(ctx, "dana", c.ID, &cost); err != nil {
		t.Fatal(err)
	}
	got, err := e.sb.GetCampaign(ctx, c.ID)
	if err != nil || got.Campaign.Cost == nil || *got.Campaign.Cost != cost {
		t.Fatalf("campaign after set: %+v, %v", got, err)
	}
	if _, err := e.sb.SetCampaignCost(ctx, "dana", c.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.sb.GetCampaign(ctx, c.ID); got.Campaign.Cost != nil {
		t.Fatalf("cost after clearing: %v", got.Campaign.Cost)
	}
	log, _ := e.sb.Audit(ctx, 0, 0)
	var sets []any
	for _, a := range log {
		if a.Action == "set_cost" && a.Actor == "dana" {
			sets = append(sets, a.Detail["cost"])
		}
	}
	if len(sets) != 2 || sets[0] != "1200.00 USD" || sets[1] != nil {
		t.Fatalf("audit: %v", sets)
	}
}

// A deal a customer won after clicking the campaign's email is credited
// to that email and campaign, with its money exact and the events behind
// it named; insights and the history note answer from the same events.
func TestAttributionOverLocalOutcomes(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	welcome, _, _ := welcomeFlow(t, e)
	if _, err := e.local.Tick(ctx, epoch); err != nil {
		t.Fatal(err)
	}
	if err := e.local.AppendEvents([]local.Event{
		{Type: "click", Artifact: welcome, Email: "ada@example.com", URL: "https://acme.com/", At: epoch.Add(time.Hour)},
		{Type: "deal_won", Email: "ada@example.com", Amount: "1200.50", Currency: "USD", At: epoch.Add(48 * time.Hour)},
		{Type: "purchase", Email: "nobody@example.org", Revenue: "10", Currency: "USD", At: epoch.Add(48 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.SyncOutcomes(ctx); err != nil {
		t.Fatal(err)
	}
	att, err := e.sb.Attribution(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if att.Model != outcomes.LastTouch {
		t.Errorf("model %s, want the configured default last_touch", att.Model)
	}
	var credited *outcomes.Total
	for i, tot := range att.Artifacts {
		if tot.ArtifactID == welcome {
			credited = &att.Artifacts[i]
		}
	}
	if credited == nil || credited.Conversions != 1000 || len(credited.Value) != 1 || credited.Value[0] != (outcomes.Money{Minor: 120050, Currency: "USD"}) || len(credited.EventIDs) != 1 {
		t.Fatalf("the welcome email's credit: %+v (all: %+v)", credited, att.Artifacts)
	}
	if att.Unattributed.Conversions != 1000 {
		t.Errorf("unattributed %v, want the stranger's purchase", att.Unattributed.Conversions)
	}
	if _, err := e.sb.Insights(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.HistoryNote(ctx, ""); err != nil {
		t.Fatal(err)
	}
}

// SnapshotMetrics keeps a snapshot of every live artifact of every
// campaign: each call adds one to each artifact's series.
func TestSnapshotMetrics(t *testing.T) {
	clk := &clock{t: epoch}
	e := newEnv(t, envOptions{clock: clk})
	ctx := context.Background()
	welcome, _, _ := welcomeFlow(t, e)
	for range 2 {
		clk.Add(15 * time.Minute)
		n, err := e.sb.SnapshotMetrics(ctx)
		if err != nil || n < 4 { // three emails and the workflow
			t.Fatalf("snapshot: %d, %v", n, err)
		}
	}
	hist, err := e.sb.MetricsHistory(ctx, welcome, 0)
	if err != nil || len(hist) != 2 {
		t.Fatalf("welcome's series: %d snapshots, %v", len(hist), err)
	}
}

// The catalog is kept between questions, and a write by any process, this
// one or another on the same data directory, makes the next question read
// it again: an artifact that went live is in it at once.
func TestCatalogFollowsWrites(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	liveIn := func(sb *sandbox.Sandbox) int {
		t.Helper()
		cat, err := sb.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(cat.Artifacts)
	}
	if n := liveIn(e.sb); n != 0 {
		t.Fatalf("%d live artifacts before anything went live", n)
	}
	first := stageCampaign(t, e, "First")
	p := planAndApprove(t, e, first.id)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	n := liveIn(e.sb)
	if n == 0 {
		t.Fatal("the confirmed campaign's emails and page are not in the catalog")
	}
	if again := liveIn(e.sb); again != n {
		t.Fatalf("%d live artifacts, then %d, with nothing written between", n, again)
	}
	other := openEnv(t, e.dir, envOptions{clock: e.clock})
	second := stageCampaign(t, other, "Second")
	p = planAndApprove(t, other, second.id)
	if _, err := other.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := liveIn(e.sb); got != 2*n {
		t.Fatalf("%d live artifacts after another process confirmed a second campaign like the first, want %d", got, 2*n)
	}
}
