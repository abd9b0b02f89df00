package sandbox_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

func formOf(names ...string) *content.Form {
	f := &content.Form{SubmitLabel: "Send"}
	for _, n := range names {
		f.Fields = append(f.Fields, content.FormField{Name: n, Label: n, Type: "email", Required: true})
	}
	return f
}

// liveFiles lists every file the local target wrote: nothing may appear
// there without an approved, unchanged plan.
func liveFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"outbox", "site", "emails", "segments", "pages", "workflows", "events.jsonl"} {
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, strings.TrimPrefix(p, dir+"/"))
			}
			return nil
		})
	}
	return out
}

// TestSecurityRefusals is the table of agent-side attempts to promote
// without a valid human approval. Each must be refused with a message that
// says what the human must do, and leave the live folders untouched.
func TestSecurityRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// setup returns the plan id the agent confirms.
		setup    func(t *testing.T, e *env) string
		wantCode string
		want     []string
	}{
		{
			name: "no approval",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
				if err != nil {
					t.Fatal(err)
				}
				return p.ID
			},
			wantCode: sandbox.RefusedNeedsApproval,
			want:     []string{"not approved", "lastmile approve pln_"},
		},
		{
			name: "another plan's approval",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				mine, err := e.sb.PlanPromotion(ctx, "agent", c.id)
				if err != nil {
					t.Fatal(err)
				}
				planAndApprove(t, e, c.id) // a second plan of the same campaign, approved
				return mine.ID
			},
			wantCode: sandbox.RefusedNeedsApproval,
			want:     []string{"not approved"},
		},
		{
			name: "edit after approval",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				p := planAndApprove(t, e, c.id)
				_, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.id, EmailID: c.emails[0], Name: "News", Subject: "Changed after approval",
					FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>sneaky</p>", Audience: sandbox.Audience{Include: c.segments[:1]}})
				if err != nil {
					t.Fatal(err)
				}
				return p.ID
			},
			wantCode: sandbox.RefusedStale,
			want:     []string{"stale", "revision 2", "plan_promotion again"},
		},
		{
			name: "new artifact staged after approval",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				p := planAndApprove(t, e, c.id)
				if _, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.id, Name: "late", StaticEmails: []string{"x@example.com"}}); err != nil {
					t.Fatal(err)
				}
				return p.ID
			},
			wantCode: sandbox.RefusedStale,
			want:     []string{"stale"},
		},
		{
			name: "after expiry",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				p := planAndApprove(t, e, c.id)
				e.clock.Add(25 * time.Hour)
				return p.ID
			},
			wantCode: sandbox.RefusedExpired,
			want:     []string{"expired", "plan_promotion again"},
		},
		{
			name: "after rejection",
			setup: func(t *testing.T, e *env) string {
				c := stageCampaign(t, e, "A")
				p := planAndApprove(t, e, c.id)
				if _, err := e.sb.Reject(ctx, p.ID, "dana", "wrong audience", sandbox.ChannelCLI); err != nil {
					t.Fatal(err)
				}
				return p.ID
			},
			wantCode: sandbox.RefusedRejected,
			want:     []string{"rejected by dana", "wrong audience"},
		},
		{
			name: "another campaign's approved plan does not cover this one",
			setup: func(t *testing.T, e *env) string {
				a := stageCampaign(t, e, "A")
				b := stageCampaign(t, e, "B")
				planAndApprove(t, e, a.id)
				p, err := e.sb.PlanPromotion(ctx, "agent", b.id)
				if err != nil {
					t.Fatal(err)
				}
				return p.ID
			},
			wantCode: sandbox.RefusedNeedsApproval,
			want:     []string{"not approved"},
		},
		{
			name: "live object changed outside lastmile after approval",
			setup: func(t *testing.T, e *env) string {
				// Promote once, then plan a change, approve, and edit the
				// live page behind lastmile's back.
				c := stageCampaign(t, e, "A")
				p := planAndApprove(t, e, c.id)
				if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := e.sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: c.id, PageID: c.page, Title: "A page", Slug: slugFor("A"), HTML: "<p>v2</p>"}); err != nil {
					t.Fatal(err)
				}
				p2 := planAndApprove(t, e, c.id)
				site := filepath.Join(e.dir, "site", slugFor("A"), "index.html")
				if err := os.WriteFile(site, []byte("edited by hand"), 0o644); err != nil {
					t.Fatal(err)
				}
				return p2.ID
			},
			wantCode: sandbox.RefusedStale,
			want:     []string{"stale", "changed on local outside lastmile"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			planID := c.setup(t, e)
			before := liveFiles(t, e.dir)
			mtimes := modTimes(t, e.dir, before)
			_, err := e.sb.Confirm(ctx, "agent", planID, nil)
			var re *sandbox.RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Confirm: err = %v, want a refusal", err)
			}
			if re.Code != c.wantCode {
				t.Errorf("refusal code = %q, want %q (%v)", re.Code, c.wantCode, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not mention %q", err, w)
				}
			}
			after := liveFiles(t, e.dir)
			if strings.Join(before, "\n") != strings.Join(after, "\n") {
				t.Errorf("live files changed:\nbefore %v\nafter  %v", before, after)
			}
			for f, m := range modTimes(t, e.dir, after) {
				if !m.Equal(mtimes[f]) {
					t.Errorf("%s was rewritten", f)
				}
			}
		})
	}
}

func modTimes(t *testing.T, dir string, files []string) map[string]time.Time {
	out := map[string]time.Time{}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = st.ModTime()
	}
	return out
}

// Changing the policy after approval makes the plan stale: the policy's
// hash is part of the plan's.
func TestPolicyChangeMakesPlanStale(t *testing.T) {
	ctx := context.Background()
	pol := &switchablePolicy{p: governance.Default()}
	e := newEnv(t, envOptions{})
	e.sb = mustSandbox(t, e, pol)
	c := stageCampaign(t, e, "A")
	p := planAndApprove(t, e, c.id)
	changed, err := governance.Parse("new.yaml", []byte("version: 1\nrules:\n  - id: no-hype\n    kind: existence\n    level: warning\n    message: \"hype: %s\"\n    tokens: [revolutionary]\n"))
	if err != nil {
		t.Fatal(err)
	}
	pol.p = changed
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	var re *sandbox.RefusedError
	if !errors.As(err, &re) || re.Code != sandbox.RefusedStale || !strings.Contains(err.Error(), "policy changed") {
		t.Fatalf("err = %v, want stale because the policy changed", err)
	}
	if files := liveFiles(t, e.dir); len(files) != 0 {
		t.Fatalf("live files written: %v", files)
	}
}

type switchablePolicy struct{ p *governance.Policy }

func (s *switchablePolicy) Policy() (*governance.Policy, error) { return s.p, nil }

func mustSandbox(t *testing.T, e *env, pol sandbox.PolicySource) *sandbox.Sandbox {
	sb, err := sandbox.New(sandbox.Options{Store: e.st, Config: sandbox.DefaultConfig(), Targets: map[string]sandbox.Target{"local": e.local}, Policy: pol, Now: e.clock.Now, DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// A plan whose content breaks an error-level rule cannot be approved or
// promoted.
func TestGovernanceErrorsBlock(t *testing.T) {
	ctx := context.Background()
	pol, err := governance.Parse("p.yaml", []byte("version: 1\nrules:\n  - id: no-guarantees\n    kind: existence\n    level: error\n    scope: body\n    message: \"cannot claim %s\"\n    tokens: [guaranteed]\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: pol})
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "G"})
	if _, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "e", Subject: "s", FromName: "A", FromEmail: "a@acme.com", HTML: "<p>Results guaranteed.</p>"}); err != nil {
		t.Fatal(err)
	}
	p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Governance.Errors == 0 {
		t.Fatalf("governance = %+v, want an error", p.Governance)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err == nil || !strings.Contains(err.Error(), "governance errors") {
		t.Fatalf("Approve: err = %v, want a refusal for governance errors", err)
	}
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	var re *sandbox.RefusedError
	if !errors.As(err, &re) || re.Code != sandbox.RefusedGovernance {
		t.Fatalf("Confirm: err = %v, want a governance refusal", err)
	}
}

// The wrong code, a repeated approver and a stale plan are refused at
// approval time, and nothing is recorded.
func TestApprovalChecks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "A")
	p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: "wrong1"}); err == nil || !strings.Contains(err.Error(), "code does not match") {
		t.Fatalf("wrong code: err = %v", err)
	}
	got, _ := e.sb.GetPlan(ctx, p.ID)
	if len(got.Approvals.Have) != 0 {
		t.Fatalf("a refused approval was recorded: %+v", got.Approvals.Have)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: strings.ToUpper(planCode(t, e.sb, p.ID))}); err != nil {
		t.Fatalf("the right code, in capitals: %v", err)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "Dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err == nil || !strings.Contains(err.Error(), "already approved") {
		t.Fatalf("second approval by the same person: err = %v", err)
	}
	got, _ = e.sb.GetPlan(ctx, p.ID)
	a := got.Approvals.Have[0]
	if a.Approver != "dana" || a.Channel != sandbox.ChannelCLI || a.PlanHash != p.Hash || a.At.IsZero() {
		t.Fatalf("approval record = %+v", a)
	}
	entries, _ := e.sb.Audit(ctx, 0, 0)
	found := false
	for _, en := range entries {
		if en.Action == "approve_plan" && en.Object == p.ID && en.Actor == "dana" && en.Detail["channel"] == "cli" && en.Detail["hash"] == p.Hash {
			found = true
		}
	}
	if !found {
		t.Fatal("no audit entry for the approval")
	}
	// A plan staled before approval cannot be approved.
	p2, _ := e.sb.PlanPromotion(ctx, "agent", c.id)
	e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.id, Name: "late", StaticEmails: []string{"x@example.com"}})
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p2.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p2.ID)}); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("approving a stale plan: err = %v", err)
	}
}

// Approval rules from the policy: two approvers, one of them legal.
func TestPolicyApprovalRules(t *testing.T) {
	ctx := context.Background()
	pol, err := governance.Parse("p.yaml", []byte(`version: 1
roles:
  legal: [dana@acme.com]
approval:
  channels:
    cli: {roles: true}
rules:
  - id: approvals.us
    kind: approvals
    level: error
    message: "US campaigns need legal review"
    markets: [US]
    approvers: 2
    roles: [legal]
`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: pol})
	c := stageCampaign(t, e, "A")
	p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Approvals.Required != 2 || len(p.Approvals.Roles) != 1 || p.Approvals.Roles[0] != "legal" {
		t.Fatalf("approvals = %+v, want 2 with role legal", p.Approvals)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "sam", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	if err == nil || !strings.Contains(err.Error(), "role legal") {
		t.Fatalf("after one approval: err = %v, want it to ask for legal", err)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana@acme.com", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatalf("with both approvals: %v", err)
	}
}
