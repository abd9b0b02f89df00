package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// lastmile approve shows every A/B variant and the test's settings, the
// agent's text in them inert.
func TestPrintPlanShowsEveryABVariant(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	lt, err := local.New("local", dir, local.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{Store: store.NewMemory(), Config: sandbox.DefaultConfig(), Targets: map[string]sandbox.Target{"local": lt}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "All", StaticEmails: []string{"ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "News", Subject: "Spring", FromName: "Acme", FromEmail: "news@acme.com",
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}, HTML: "<html><body><p>A</p></body></html>",
		ABTest: &sandbox.ABTest{Winner: "opens", DecideAfter: "2h", Variants: []sandbox.Variant{
			{Subject: "Spring B\x1b[2J"}, {PreviewText: "Only in C", HTML: "<html><body><p>C body</p></body></html>"},
		}}}); err != nil {
		t.Fatal(err)
	}
	p, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, diffs := range []bool{true, false} {
		var b strings.Builder
		printPlan(&b, p, diffs)
		out := b.String()
		want := []string{"A/B test of variants a–c", "20% of the audience", "opens"}
		if diffs {
			want = append(want, "variant b subject", "Spring B", "variant c preview_text", "Only in C", "variant c html", "variant c text")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("diffs %v: the plan lacks %q:\n%s", diffs, w, out)
			}
		}
		if strings.Contains(out, "\x1b") {
			t.Errorf("an escape sequence reached the terminal:\n%q", out)
		}
	}
}
