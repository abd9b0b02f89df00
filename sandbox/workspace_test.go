package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// A workspace segment — a suppression list — is staged once, promoted
// through the workspace's own plan, and excluded by several campaigns'
// sends; the policy can require every send to exclude it. A campaign's
// plan records the segment as live and is stale when another revision of
// it goes live after approval; archiving it while campaigns use it is
// refused.
func TestWorkspaceSegments(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: mustPolicy(t, "always_exclude: [Suppression]\n")})

	if _, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{Name: "Nobody's"}); err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("a segment with neither a campaign nor the workspace scope: %v", err)
	}
	sup, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{Scope: sandbox.ScopeWorkspace, Name: "Suppression", StaticEmails: []string{"ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	supID := sup.Artifact.ID
	if sup.Artifact.CampaignID != sandbox.WorkspaceID {
		t.Fatalf("workspace segment in campaign %s", sup.Artifact.CampaignID)
	}
	if _, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: sandbox.WorkspaceID, Name: "x", Subject: "x", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>x</p>"}); err == nil || !strings.Contains(err.Error(), "holds only segments") {
		t.Errorf("an email staged in the workspace: %v", err)
	}

	// Three account campaigns, each excluding the suppression list.
	var campaigns, emails []string
	for _, name := range []string{"Acme Corp", "Globex", "Initech"} {
		c, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: name, Markets: []string{"US"}, UTM: sandbox.UTM{Source: "lastmile", Medium: "email", Campaign: strings.ToLower(strings.ReplaceAll(name, " ", "-"))}})
		if err != nil {
			t.Fatal(err)
		}
		seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: name + " customers", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
		if err != nil {
			t.Fatal(err)
		}
		em, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: name + " intro", Subject: "For " + name, FromName: "Acme", FromEmail: "news@acme.com",
			HTML: "<html><body><p>Hello.</p></body></html>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}, Exclude: []string{supID}}})
		if err != nil {
			t.Fatalf("an email excluding a workspace segment: %v", err)
		}
		campaigns, emails = append(campaigns, c.ID), append(emails, em.Artifact.ID)
	}

	// Not live yet: the plan says how to make it so.
	var pe *sandbox.PlanError
	if _, err := e.sb.PlanPromotion(ctx, "agent", campaigns[0]); !errors.As(err, &pe) || !strings.Contains(err.Error(), "is not live") || !strings.Contains(err.Error(), sandbox.WorkspaceID) {
		t.Fatalf("plan before the workspace segment is live: %v", err)
	}
	promoteAll(t, e, sandbox.WorkspaceID)

	// An email that does not exclude it breaks the policy.
	c4, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Careless", Markets: []string{"US"}, UTM: sandbox.UTM{Source: "lastmile", Medium: "email", Campaign: "careless"}})
	if err != nil {
		t.Fatal(err)
	}
	seg4, _ := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c4.ID, Name: "All customers", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	em4, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c4.ID, Name: "Blast", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>Hi.</p>", Audience: sandbox.Audience{Include: []string{seg4.Artifact.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.PlanPromotion(ctx, "agent", c4.ID); !errors.As(err, &pe) || !strings.Contains(err.Error(), "does not exclude workspace segment "+supID) || !strings.Contains(err.Error(), "create_email with email_id "+em4.Artifact.ID) {
		t.Errorf("plan of a send that ignores the policy's always_exclude: %v", err)
	}

	// The first account campaign goes out without the suppressed contact.
	p := planAndApprove(t, e, campaigns[0])
	var recorded bool
	for _, st := range p.Steps {
		if st.ArtifactID == supID {
			recorded = st.Op == sandbox.OpUnchanged && st.LiveID != "" && st.Revision == 1
		}
	}
	if !recorded {
		t.Errorf("the plan does not record the workspace segment as live: %+v", p.Steps)
	}
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(e.dir, "outbox", emails[0])
	entries, err := os.ReadDir(box)
	if err != nil || len(entries) == 0 {
		t.Fatalf("nothing in %s: %v", box, err)
	}
	for _, en := range entries {
		if strings.Contains(en.Name(), "ada") {
			t.Errorf("the suppressed contact was mailed: %s", en.Name())
		}
	}

	// The attack: after a human approved the second campaign, the agent
	// narrows the suppression list and promotes it. The approved plan is
	// stale: its audience is not the one the human saw.
	p2 := planAndApprove(t, e, campaigns[1])
	if _, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{Scope: sandbox.ScopeWorkspace, SegmentID: supID, Name: "Suppression", StaticEmails: []string{"nobody@example.com"}}); err != nil {
		t.Fatal(err)
	}
	promoteAll(t, e, sandbox.WorkspaceID)
	if _, err := e.sb.Confirm(ctx, "agent", p2.ID, nil); refusalCode(err) != sandbox.RefusedStale {
		t.Fatalf("confirm after the workspace segment changed: %v, want stale", err)
	}

	// Archiving it while campaigns use it is refused, naming them.
	if _, err := e.sb.StageRetire(ctx, "agent", supID, sandbox.OpArchive); err == nil || !strings.Contains(err.Error(), emails[0]) {
		t.Errorf("archiving a workspace segment campaigns use: %v", err)
	}

	// The workspace is no campaign: not listed, not in reports.
	page, err := e.sb.ListCampaigns(ctx, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Campaigns {
		if c.ID == sandbox.WorkspaceID {
			t.Errorf("list_campaigns lists the workspace")
		}
	}
	if v, err := e.sb.GetCampaign(ctx, sandbox.WorkspaceID); err != nil || len(v.Artifacts) != 1 || !v.Campaign.Workspace {
		t.Errorf("get_campaign of the workspace: %+v %v", v, err)
	}
}

// A workspace segment is an audience only where a campaign sends to it:
// the consent rule passes it in the workspace (a suppression list is only
// ever excluded) and holds it in each campaign that includes it, under that
// campaign's markets; a campaign that only excludes it is not held to it.
func TestWorkspaceSegmentConsent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: mustPolicy(t, "rules:\n  - id: consent\n    kind: consent\n    level: error\n    markets: [DE]\n    property: marketing_consent\n")})
	ws, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{Scope: sandbox.ScopeWorkspace, Name: "Customers", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: sandbox.WorkspaceID})
	if err != nil || rep.Errors != 0 {
		t.Fatalf("the workspace's own check: %+v %v", rep, err)
	}
	promoteAll(t, e, sandbox.WorkspaceID)
	for _, tc := range []struct {
		name     string
		audience sandbox.Audience
		errors   int
	}{
		{"sends to it", sandbox.Audience{Include: []string{ws.Artifact.ID}}, 1},
		{"excludes it", sandbox.Audience{Exclude: []string{ws.Artifact.ID}}, 0},
	} {
		c, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: tc.name, Markets: []string{"DE"}, UTM: sandbox.UTM{Source: "lastmile", Medium: "email", Campaign: "de"}})
		if err != nil {
			t.Fatal(err)
		}
		in := sandbox.EmailInput{CampaignID: c.ID, Name: "Hallo", Subject: "Hallo", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>Hallo.</p>", Audience: tc.audience}
		if len(tc.audience.Include) == 0 {
			seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Opted in", Conditions: []sandbox.Condition{{Property: "marketing_consent", Operator: "eq", Value: true}}})
			if err != nil {
				t.Fatal(err)
			}
			in.Audience.Include = []string{seg.Artifact.ID}
		}
		if _, err := e.sb.StageEmail(ctx, "agent", in); err != nil {
			t.Fatal(err)
		}
		rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Errors != tc.errors || (tc.errors > 0 && rep.Findings[0].ArtifactID != ws.Artifact.ID) {
			t.Errorf("%s: %d errors %+v, want %d on the workspace segment", tc.name, rep.Errors, rep.Findings, tc.errors)
		}
	}
}
