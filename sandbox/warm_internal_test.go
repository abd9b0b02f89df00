package sandbox

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/store"
)

// The report of the check started before the commit is, finding for
// finding, the report of checking the artifact once it is stored.
func TestWarmCheckIsTheStoredCheck(t *testing.T) {
	sb := sampleSandbox(t)
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", CampaignInput{Name: "Warm", Markets: []string{"US", "DE"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := sb.StageSegment(ctx, "test", SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []Condition{{Property: "country", Operator: "in", Value: []any{"US", "DE"}}}})
	if err != nil {
		t.Fatal(err)
	}
	email, err := sb.StageEmail(ctx, "test", EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "GUARANTEED results!!!", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: `<html><body><p>Click <a href="https://acme.com/x">here</a>, risk-free.</p><img src="https://acme.com/a.png"></body></html>`, Audience: Audience{Include: []string{seg.Artifact.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*StageResult{seg, email} {
		if res.warm == nil {
			t.Fatalf("%s: no check was started before the commit", res.Artifact.ID)
		}
		<-res.warm.done
		stored, _, err := sb.Check(ctx, CheckScope{ArtifactID: res.Artifact.ID})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(res.warm.rep)
		want, _ := json.Marshal(stored)
		if string(got) != string(want) {
			t.Errorf("%s: started before the commit\n%s\nafter it\n%s", res.Artifact.ID, got, want)
		}
	}
	if len(email.warm.rep.Findings) == 0 {
		t.Fatal("the email's check found nothing: the comparison proves little")
	}
}

// sampleSandbox is a sandbox over the memory store under the sample policy.
func sampleSandbox(t *testing.T) *Sandbox {
	t.Helper()
	p, err := governance.Load("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(Options{Store: store.NewMemory(), Policy: StaticPolicy{P: p}, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}
