package sandbox_test

import (
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

const abPolicy = "version: 1\nrules:\n  - id: no-guarantees\n    kind: existence\n    level: error\n    message: \"cannot claim %s\"\n    tokens: [guaranteed]\n"

// abEmail stages a campaign with one segment and returns an A/B email input
// over it, for the tests to change.
func abEmail(t *testing.T, e *env) sandbox.EmailInput {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "AB", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: "Everyone", Match: "any",
		Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}, {Property: "lifecycle_stage", Operator: "eq", Value: "lead"}}})
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.EmailInput{
		CampaignID: c.ID, Name: "Launch", Subject: "Our new plan", FromName: "Acme", FromEmail: "news@acme.com",
		HTML:     `<html><body><h1>New plan</h1><p>Hi, <a href="https://www.acme.com/">read more</a>.</p></body></html>`,
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}},
		ABTest: &sandbox.ABTest{Winner: "opens", DecideAfter: "4h", Variants: []sandbox.Variant{
			{Subject: "Our newest plan"},
		}},
	}
}

// A hostile agent hides what the policy forbids in variant b, whose
// recipients get it as surely as variant a's get theirs: every variant is
// checked like the email itself, and the finding names the variant.
func TestABTestGovernanceChecksEveryVariant(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		variant sandbox.Variant
		field   string
	}{
		{"subject", sandbox.Variant{Subject: "Guaranteed returns"}, "ab_test.variants[1].subject"},
		{"preview", sandbox.Variant{PreviewText: "guaranteed returns inside"}, "ab_test.variants[1].preview_text"},
		{"from name", sandbox.Variant{FromName: "Guaranteed Acme"}, "ab_test.variants[1].from_name"},
		{"html", sandbox.Variant{HTML: `<html><body><p>Returns guaranteed.</p></body></html>`}, "ab_test.variants[1].html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{policy: mustPolicy(t, abPolicy)})
			in := abEmail(t, e)
			in.ABTest.Variants = append(in.ABTest.Variants, tc.variant)
			res, err := e.sb.StageEmail(ctx, "agent", in)
			if err != nil {
				t.Fatal(err)
			}
			rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: res.Artifact.ID})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Errors == 0 {
				t.Fatalf("variant c's forbidden content passed governance: %+v", rep.Findings)
			}
			var found bool
			for _, f := range rep.Findings {
				if f.Rule != "no-guarantees" {
					continue
				}
				// The text part derived from the variant's HTML is
				// found too, under its own field.
				if !strings.HasPrefix(f.Field, "ab_test.variants[1].") || !strings.HasPrefix(f.Message, "variant c: ") {
					t.Errorf("finding %q: %q does not name the variant", f.Field, f.Message)
				}
				found = found || f.Field == tc.field
			}
			if !found {
				t.Fatalf("no no-guarantees finding: %+v", rep.Findings)
			}
			// And the plan refuses it like any other governance error.
			p, err := e.sb.PlanPromotion(ctx, "agent", in.CampaignID)
			if err == nil && p.Governance.Errors == 0 {
				t.Fatal("the plan's governance report missed the variant")
			}
		})
	}
}

// A finding in what every variant shares is reported once, on the email.
func TestABTestSharedFindingReportedOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: mustPolicy(t, abPolicy)})
	in := abEmail(t, e)
	in.HTML = `<html><body><p>Returns guaranteed.</p></body></html>`
	res, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: res.Artifact.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Field, "ab_test") {
			t.Errorf("the email's own finding was reported again for a variant: %+v", f)
		}
	}
	if rep.Errors == 0 {
		t.Fatal("the email's finding is gone")
	}
}

func TestABTestValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		name   string
		change func(*sandbox.EmailInput)
		fields []string
	}{
		{"no audience", func(in *sandbox.EmailInput) { in.Audience = sandbox.Audience{} }, []string{"ab_test"}},
		{"no variants", func(in *sandbox.EmailInput) { in.ABTest.Variants = nil }, []string{"ab_test.variants"}},
		{"three variants", func(in *sandbox.EmailInput) {
			in.ABTest.Variants = []sandbox.Variant{{Subject: "x"}, {Subject: "y"}, {Subject: "z"}}
		}, []string{"ab_test.variants"}},
		{"same as a", func(in *sandbox.EmailInput) { in.ABTest.Variants[0] = sandbox.Variant{Subject: in.Subject} }, []string{"ab_test.variants[0]"}},
		{"same as b", func(in *sandbox.EmailInput) {
			in.ABTest.Variants = append(in.ABTest.Variants, sandbox.Variant{Subject: in.ABTest.Variants[0].Subject})
		}, []string{"ab_test.variants[1]"}},
		{"empty variant", func(in *sandbox.EmailInput) { in.ABTest.Variants[0] = sandbox.Variant{} }, []string{"ab_test.variants[0]"}},
		{"subject line break", func(in *sandbox.EmailInput) { in.ABTest.Variants[0].Subject = "a\nb" }, []string{"ab_test.variants[0].subject"}},
		{"html and blocks", func(in *sandbox.EmailInput) {
			in.ABTest.Variants[0].HTML = "<p>x</p>"
			in.ABTest.Variants[0].Blocks = []content.Block{{Cell: content.Cell{Type: "paragraph", Text: "x"}}}
		}, []string{"ab_test.variants[0].blocks"}},
		{"percent", func(in *sandbox.EmailInput) { in.ABTest.TestPercent = 60 }, []string{"ab_test.test_percent"}},
		{"winner", func(in *sandbox.EmailInput) { in.ABTest.Winner = "revenue" }, []string{"ab_test.winner"}},
		{"decide after short", func(in *sandbox.EmailInput) { in.ABTest.DecideAfter = "30m" }, []string{"ab_test.decide_after"}},
		{"decide after long", func(in *sandbox.EmailInput) { in.ABTest.DecideAfter = "8d" }, []string{"ab_test.decide_after"}},
		{"decide after garbage", func(in *sandbox.EmailInput) { in.ABTest.DecideAfter = "soon" }, []string{"ab_test.decide_after"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := abEmail(t, e)
			tc.change(&in)
			err := e.sb.CheckEmail(ctx, in)
			var ve *sandbox.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error, got %v", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
			}
			for _, f := range tc.fields {
				if !strings.Contains(strings.Join(got, " "), f) {
					t.Errorf("problems %v do not name %s", ve.Problems, f)
				}
			}
		})
	}
	in := abEmail(t, e)
	in.ABTest.DecideAfter = "1d"
	res, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.sb.GetArtifact(ctx, res.Artifact.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ab := v.Revision.Email.ABTest; ab == nil || ab.TestPercent != sandbox.DefaultTestPercent || ab.Wait().Hours() != 24 {
		t.Fatalf("defaults not filled: %+v", ab)
	}
}

// The revision hash, and so the plan hash, covers every variant.
func TestABTestVariantsInHash(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	in := abEmail(t, e)
	r1, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	in.EmailID = r1.Artifact.ID
	in.ABTest.Variants[0].Subject = "Something else"
	r2, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Artifact.Hash == r2.Artifact.Hash {
		t.Fatal("changing variant b's subject kept the revision hash")
	}
}

// A test send of an A/B email proofs every variant, each its own message
// with the variant's letter before its subject and in a header.
func TestABTestSendTestProofsEveryVariant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: mustPolicy(t, testSendPolicy)})
	in := abEmail(t, e)
	in.ABTest.Variants = append(in.ABTest.Variants, sandbox.Variant{HTML: `<html><body><p>Body C</p></body></html>`})
	res, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := e.sb.SendTest(ctx, "agent", res.Artifact.ID, []string{"qa@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sent.Variants, ",") != "a,b,c" {
		t.Fatalf("variants proofed: %v", sent.Variants)
	}
	dir := filepath.Join(e.dir, "outbox", "tests", res.Artifact.ID)
	entries, _ := os.ReadDir(dir)
	got := map[string]string{}
	for _, en := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, en.Name()))
		m, err := mail.ReadMessage(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		got[m.Header.Get("X-Lastmile-Variant")] = m.Header.Get("Subject")
		if m.Header.Get("X-Lastmile-Variant") == "c" && !strings.Contains(string(data), "Body C") {
			t.Error("variant c's proof is not variant c")
		}
	}
	want := map[string]string{"a": "[Test] [A] Our new plan", "b": "[Test] [B] Our newest plan", "c": "[Test] [C] Our new plan"}
	for v, s := range want {
		if got[v] != s {
			t.Errorf("variant %s's proof has subject %q, want %q (all: %v)", v, got[v], s, got)
		}
	}
}

// An approval covers every variant: changing only variant b after the
// approval makes the plan stale, and nothing is sent.
func TestABTestVariantChangeMakesThePlanStale(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	in := abEmail(t, e)
	res, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, in.CampaignID)
	in.EmailID = res.Artifact.ID
	in.ABTest.Variants[0].Subject = "Switched after the approval"
	if _, err := e.sb.StageEmail(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	if refusalCode(err) != sandbox.RefusedStale {
		t.Fatalf("confirm after variant b changed: %v, want stale", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "outbox", res.Artifact.ID)); len(entries) != 0 {
		t.Fatalf("%d messages went out on a stale plan", len(entries))
	}
}

// A workflow cannot send an A/B email: the plan says why.
func TestABTestNotSentByAWorkflow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	in := abEmail(t, e)
	res, err := e.sb.StageEmail(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: in.CampaignID, Name: "Nurture",
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: in.Audience.Include[0]},
		Steps:   []sandbox.Step{{ID: "send", Type: "send_email", EmailID: res.Artifact.ID}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.PlanPromotion(ctx, "agent", in.CampaignID)
	if err == nil || !strings.Contains(err.Error(), "is an A/B test") {
		t.Fatalf("plan: %v, want the A/B email refused for the workflow", err)
	}
}
