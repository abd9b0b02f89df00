package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

// Checking one artifact reads only what it needs (the campaign, the
// artifact, the campaign's segments), and finds exactly what checking the
// whole campaign finds for it.
func TestCheckOneArtifactMatchesCampaign(t *testing.T) {
	sample, err := os.ReadFile("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A rule for emails to an audience of at least one: it fires only when
	// the audience is counted, which takes the campaign's segments.
	p, err := governance.Parse("acme.yaml", append(sample, []byte(`
  - id: test.counted-audience
    kind: required_text
    level: warning
    channels: [email]
    min_recipients: 1
    text: A text no email has.
`)...))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: p})
	c := stageCampaign(t, e, "Spring")
	ctx := context.Background()
	all, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	ids := append(append(append([]string{}, c.segments...), c.emails...), c.followUp, c.page, c.workflow)
	found := 0
	for _, id := range ids {
		one, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: id})
		if err != nil {
			t.Fatal(err)
		}
		var want []governance.Finding
		for _, f := range all.Findings {
			if f.ArtifactID == id {
				want = append(want, f)
			}
		}
		got, _ := json.Marshal(one.Findings)
		exp, _ := json.Marshal(want)
		if len(want) == 0 {
			exp = []byte("null")
		}
		if string(got) != string(exp) && !(len(one.Findings) == 0 && len(want) == 0) {
			t.Errorf("%s: checked alone\n%s\nin the campaign\n%s", id, got, exp)
		}
		found += len(one.Findings)
	}
	if found == 0 {
		t.Fatal("the sample policy found nothing in the staged campaign: the comparison proves nothing")
	}
	counted := false
	for _, f := range all.Findings {
		counted = counted || f.Rule == "test.counted-audience"
	}
	if !counted {
		t.Fatal("no email's audience was counted: the comparison proves nothing about segments")
	}
}

// CheckEmail checks everything StageEmail checks and writes nothing.
func TestCheckEmailStagesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Checked"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.sb.Audit(ctx, 0, 0)
	in := sandbox.EmailInput{CampaignID: c.ID, Name: "Hello", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>Hi</p>"}
	if err := e.sb.CheckEmail(ctx, in); err != nil {
		t.Fatalf("a valid email: CheckEmail = %v, want nil", err)
	}
	in.Audience.Include = []string{"seg_nope"}
	err = e.sb.CheckEmail(ctx, in)
	var ve *sandbox.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "audience.include[0]") {
		t.Fatalf("an unknown segment: CheckEmail = %v", err)
	}
	var nf *sandbox.NotFoundError
	if err := e.sb.CheckSegment(ctx, sandbox.SegmentInput{CampaignID: "cmp_nope", Name: "S", Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}}}); !errors.As(err, &nf) {
		t.Fatalf("an unknown campaign: CheckSegment = %v, want a NotFoundError", err)
	}
	view, _ := e.sb.GetCampaign(ctx, c.ID)
	after, _ := e.sb.Audit(ctx, 0, 0)
	if len(view.Artifacts) != 0 || len(after) != len(before) {
		t.Fatalf("CheckEmail staged %d artifacts and wrote %d audit entries", len(view.Artifacts), len(after)-len(before))
	}
}

// The check started before the commit reports what checking the staged
// artifact afterwards reports.
func TestStagedGovernanceLineMatchesCheck(t *testing.T) {
	p, err := governance.Load("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: p})
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Warm", Markets: []string{"US"}, Industry: "retail"})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	email, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "GUARANTEED results!!!", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: `<html><body><p>Click <a href="https://acme.com/x">here</a></p><img src="https://acme.com/a.png"></body></html>`, Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.ID, Title: "Launch", Slug: "launch", HTML: "<h1>Launch</h1><p>Best ever.</p>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*sandbox.StageResult{seg, email, page} {
		staged := e.sb.StagedGovernanceLine(ctx, res)
		checked := e.sb.GovernanceLine(ctx, res.Artifact.ID)
		if staged != checked {
			t.Errorf("%s: staged %q, checked %q", res.Artifact.ID, staged, checked)
		}
	}
	if line := e.sb.StagedGovernanceLine(ctx, email); !strings.Contains(line, "error") && !strings.Contains(line, "warning") {
		t.Fatalf("the email's check found nothing (%q): the comparison proves little", line)
	}
}
