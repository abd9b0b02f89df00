package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
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

// A crash, or a cancelled confirm, while the regular email or its copy is
// being created (HubSpot commits every write a while after it arrives,
// whatever becomes of its client) makes no second email of either form:
// confirming again finds the regular email by its marker, waits out the
// copy's landing window and finds or makes the copy.
func TestDualEmailCreatesSurviveInterruption(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out landing windows")
	}
	// Creates, one step at a time: the list (1), the regular email (2),
	// its automated copy (3), the workflow (4).
	for _, at := range []int{2, 3} {
		t.Run(map[int]string{2: "regular", 3: "copy"}[at], func(t *testing.T) {
			t.Parallel()
			k := &killer{at: at}
			srv := hubspottest.New(t, hubspottest.Options{Window: time.Second, SlowApply: hubspottest.Apply{Delay: 300 * time.Millisecond}, OnPending: k.pending})
			dir := t.TempDir()
			envVar := "LASTMILE_TEST_HS_DUAL_TOKEN_" + map[int]string{2: "REG", 3: "COPY"}[at]
			os.Setenv(envVar, srv.PrivateAppToken())
			t.Cleanup(func() { os.Unsetenv(envVar) })
			if _, err := hubspot.ConnectPrivateApp(context.Background(), dir, "hubspot", envVar, hubspot.WithBaseURL(srv.URL), hubspot.WithPrompt(io.Discard)); err != nil {
				t.Fatal(err)
			}
			sb := openInflight(t, dir, 1)
			campaign, _, _ := dualCampaign(t, sb)
			plan, err := sb.PlanPromotion(context.Background(), "agent", campaign)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sb.Approve(context.Background(), sandbox.ApproveInput{PlanID: plan.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, plan.ID)}); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(context.Background())
			k.arm(cancel)
			if _, err := sb.Confirm(cctx, "agent", plan.ID, nil); err == nil {
				t.Fatal("the promotion finished; it was to be cancelled while an email was being created")
			}
			cancel()
			if k.interrupted() != "emails.create" {
				t.Fatalf("interrupted %q, want an emails.create", k.interrupted())
			}
			res, err := sb.Confirm(context.Background(), "agent", plan.ID, nil)
			if err != nil || res.Status != sandbox.PlanPromoted {
				t.Fatalf("confirming again: %+v, %v", res, err)
			}
			srv.Settle()
			if c := srv.Counts(); c["emails"] != 2 {
				t.Fatalf("HubSpot holds %d emails, want the regular one and its copy: %+v", c["emails"], srv.Emails())
			}
			dualForms(t, srv)
		})
	}
}

// A new revision of a dual email changes both HubSpot emails. (On a
// Professional portal nothing is published through the API, so both stay
// drafts HubSpot lets lastmile edit.)
func TestDualEmailUpdateChangesBoth(t *testing.T) {
	ctx := context.Background()
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond, Tier: hubspottest.TierProfessional})
	sb := sandboxOver(t, srv, hubspot.Config{})
	campaign, email, _ := dualCampaign(t, sb)
	promoteAll(t, sb, campaign)
	v, err := sb.GetCampaign(ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	var seg string
	for _, a := range v.Artifacts {
		if a.Kind == sandbox.KindSegment {
			seg = a.ID
		}
	}
	if _, err := sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: campaign, EmailID: email, Name: "Launch", Subject: "Spring is really here", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: `<p>Hi, see what's new.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
		Audience: sandbox.Audience{Include: []string{seg}}}); err != nil {
		t.Fatal(err)
	}
	creates := srv.Stats().Calls["emails.create"]
	plan := promoteAll(t, sb, campaign)
	for _, s := range plan.Steps {
		if s.ArtifactID == email && s.Kind == sandbox.KindEmail && s.Op != sandbox.OpUpdate && s.Op != sandbox.OpSend {
			t.Errorf("the email's step is %s, want update", s.Op)
		}
	}
	if n := srv.Stats().Calls["emails.create"] - creates; n != 0 {
		t.Errorf("the update created %d emails", n)
	}
	es := srv.Emails()
	if len(es) != 2 {
		t.Fatalf("HubSpot holds %+v, want two emails", es)
	}
	for _, e := range es {
		if e.Subject != "Spring is really here" {
			t.Errorf("%s email %q has subject %q, want the new revision's", e.Type, e.Name, e.Subject)
		}
	}
}

// A workflow added later to send an email already broadcast: the email's
// revision is live and unchanged, but HubSpot needs its automated copy, so
// the plan puts the email again (and says why), and the workflow sends
// the copy. Someone editing the copy in HubSpot then makes a plan stale.
func TestWorkflowAddedToALiveBroadcast(t *testing.T) {
	ctx := context.Background()
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond})
	sb := sandboxOver(t, srv, hubspot.Config{})
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Later", Target: "hubspot"})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Germany",
		Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "DE"}}})
	if err != nil {
		t.Fatal(err)
	}
	em, err := sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "Spring is here", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: `<p>Hi.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	promoteAll(t, sb, c.ID)
	if _, err := sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Again for newcomers", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg.Artifact.ID},
		Steps:   []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: em.Artifact.ID}}}); err != nil {
		t.Fatal(err)
	}
	plan := promoteAll(t, sb, c.ID)
	var op, diff string
	for _, s := range plan.Steps {
		if s.ArtifactID == em.Artifact.ID {
			op, diff = s.Op, s.Diff
		}
	}
	if op != sandbox.OpUpdate || !strings.Contains(diff, "automated copy") {
		t.Errorf("the email's step is %s (%q), want an update that makes the automated copy", op, diff)
	}
	_, automated := dualForms(t, srv)

	// Planned again, nothing is to do; an edit of the copy in HubSpot
	// (outside lastmile) then makes that plan stale.
	again, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again.Steps {
		if s.Op != sandbox.OpUnchanged {
			t.Errorf("re-plan step %s is %s", s.ArtifactID, s.Op)
		}
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: again.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, again.ID)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // updatedAt has a resolution of a second
	patchEmail(t, srv, automated.ID, map[string]any{"subject": "Edited in HubSpot"})
	if _, err := sb.Confirm(ctx, "agent", again.ID, nil); err == nil || !strings.Contains(err.Error(), "changed on hubspot outside lastmile") {
		t.Errorf("confirming after the copy was edited in HubSpot: %v, want a stale plan", err)
	}
}

// patchEmail edits an email through HubSpot's API, as someone else would.
func patchEmail(t *testing.T, srv *hubspottest.Server, id string, body map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/marketing/v3/emails/"+id, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+srv.PrivateAppToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH email %s: HTTP %d", id, resp.StatusCode)
	}
}
