package hubspot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// dualCampaign stages, in a campaign for HubSpot, an email with an
// audience (a broadcast) that a workflow also sends: the case of issue 18.
// It returns the campaign, the email and the workflow ids.
func dualCampaign(t *testing.T, sb *sandbox.Sandbox) (campaign, email, workflow string) {
	t.Helper()
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring launch", Target: "hubspot"})
	if err != nil {
		t.Fatal(err)
	}
	id := func(r *sandbox.StageResult, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	seg := id(sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Germany",
		Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "DE"}}}))
	email = id(sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "Spring is here", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: `<p>Hi, see what's new.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
		Audience: sandbox.Audience{Include: []string{seg}}}))
	workflow = id(sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Launch for newcomers", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg},
		Steps:   []sandbox.Step{{ID: "s1", Type: "wait", Duration: "1d", Next: "s2"}, {ID: "s2", Type: "send_email", EmailID: email}}}))
	return c.ID, email, workflow
}

// promoteAll plans the campaign, approves the plan at the CLI and confirms
// it, failing the test unless it is promoted.
func promoteAll(t *testing.T, sb *sandbox.Sandbox, campaign string) *sandbox.Plan {
	t.Helper()
	ctx := context.Background()
	plan, err := sb.PlanPromotion(ctx, "agent", campaign)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: plan.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, plan.ID)}); err != nil {
		t.Fatal(err)
	}
	res, err := sb.Confirm(ctx, "agent", plan.ID, nil)
	if err != nil {
		t.Fatalf("promotion: %v", err)
	}
	if res.Status != sandbox.PlanPromoted {
		t.Fatalf("status %s: %+v", res.Status, res.Steps)
	}
	return plan
}

// dualForms checks that HubSpot holds the email in both forms: a regular
// (batch) email sent to its list and an automated one, published, that
// the workflow's send step names. It returns the two.
func dualForms(t *testing.T, srv *hubspottest.Server) (regular, automated hubspottest.Email) {
	t.Helper()
	var regs, autos []hubspottest.Email
	for _, e := range srv.Emails() {
		switch e.Type {
		case "BATCH_EMAIL":
			regs = append(regs, e)
		case "AUTOMATED_EMAIL":
			autos = append(autos, e)
		}
	}
	if len(regs) != 1 || len(autos) != 1 {
		t.Fatalf("HubSpot holds %d regular and %d automated emails, want one of each: %+v", len(regs), len(autos), srv.Emails())
	}
	regular, automated = regs[0], autos[0]
	if !regular.IsPublished || regular.Sends != 1 {
		t.Errorf("the regular email is %s, sent %d times; want sent once", regular.State, regular.Sends)
	}
	if !automated.IsPublished {
		t.Errorf("the automated email is %s, want published (AUTOMATED)", automated.State)
	}
	flows := srv.Flows()
	if len(flows) != 1 || !flows[0].IsEnabled {
		t.Fatalf("flows %+v, want one, on", flows)
	}
	var sent []string
	for _, a := range flows[0].Doc["actions"].([]any) {
		am := a.(map[string]any)
		if am["actionTypeId"] == "0-4" {
			sent = append(sent, am["fields"].(map[string]any)["content_id"].(string))
		}
	}
	if len(sent) != 1 || sent[0] != automated.ID {
		t.Errorf("the workflow sends %v, want the automated email %s", sent, automated.ID)
	}
	return regular, automated
}

// Issue 18: an email broadcast to a list and also sent by a workflow. A
// HubSpot workflow can only send an automated email, and a broadcast needs
// a regular one: the promotion makes both, and the plan says so.
func TestEmailBroadcastAndSentByWorkflow(t *testing.T) {
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond})
	sb := sandboxOver(t, srv, hubspot.Config{})
	campaign, email, _ := dualCampaign(t, sb)
	plan := promoteAll(t, sb, campaign)
	var notes []string
	for _, s := range plan.Steps {
		if s.ArtifactID == email {
			notes = append(notes, s.Notes...)
		}
	}
	if !strings.Contains(strings.Join(notes, "\n"), "HubSpot needs two emails for this") {
		t.Errorf("the plan does not say that HubSpot gets two emails: %q", notes)
	}
	dualForms(t, srv)
}
