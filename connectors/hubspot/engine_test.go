package hubspot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// The sandbox's planner and promoter drive the HubSpot target against the
// fake: a campaign with a segment, an email sent to it, an automated email,
// a landing page and a workflow is planned, approved and promoted, and the
// fake then holds exactly one of each, sent, published and turned on.
func TestPromotionThroughTheSandbox(t *testing.T) {
	ctx := context.Background()
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond})
	sb := sandboxOver(t, srv, hubspot.Config{})
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring launch", Target: "hubspot", UTM: sandbox.UTM{Source: "hubspot", Medium: "email", Campaign: "spring"}})
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
	html := `<p>Hi {{ contact.firstname | default: "there" }}, <a href="https://acme.test/spring">see what's new</a>.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`
	id(sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "Spring is here", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: html, Audience: sandbox.Audience{Include: []string{seg}}}))
	welcome := id(sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Welcome", Subject: "Welcome", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: html}))
	id(sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: c.ID, Title: "Spring launch", Slug: "spring-launch", HTML: "<h1>Spring</h1><p>New things.</p>"}))
	id(sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Welcome series", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg},
		Steps:   []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: welcome, Next: "s2"}, {ID: "s2", Type: "wait", Duration: "2d"}}}))

	plan, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, s := range plan.Steps {
		notes = append(notes, s.Notes...)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "automated email") {
		t.Errorf("plan notes lack the automated-email note: %q", notes)
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
	if got := srv.Counts(); got["lists"] != 1 || got["emails"] != 2 || got["pages"] != 1 || got["flows"] != 1 {
		t.Errorf("fake holds %v", got)
	}
	for _, e := range srv.Emails() {
		if !e.IsPublished {
			t.Errorf("email %q is %s", e.Name, e.State)
		}
		html := e.Doc["content"].(map[string]any)["widgets"].(map[string]any)["lastmile_body"].(map[string]any)["body"].(map[string]any)["html"].(string)
		if !strings.Contains(html, "utm_campaign=spring") || !strings.Contains(html, `|default("there")`) {
			t.Errorf("email body lacks UTM or HubL: %s", html)
		}
	}
	if p := srv.Pages(); len(p) != 1 || !p[0].Published {
		t.Errorf("pages %+v", p)
	}
	if f := srv.Flows(); len(f) != 1 || !f[0].IsEnabled {
		t.Errorf("flows %+v", f)
	}
	// Planning again: everything is unchanged and nothing is written.
	calls := srv.Stats().Calls
	again, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again.Steps {
		if s.Op != sandbox.OpUnchanged {
			t.Errorf("re-plan step %s is %s", s.ArtifactID, s.Op)
		}
	}
	after := srv.Stats().Calls
	for _, op := range []string{"emails.create", "lists.create", "pages.create", "flows.create", "emails.publish", "flows.update"} {
		if after[op] != calls[op] {
			t.Errorf("planning wrote: %s %d → %d", op, calls[op], after[op])
		}
	}
}

func mustPlanCode(t testing.TB, sb *sandbox.Sandbox, planID string) string {
	t.Helper()
	code, err := sb.PlanCode(context.Background(), planID)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// A create HubSpot applies after every deadline (the request timed out,
// the connector waited out the landing window, found nothing and created
// the email again) leaves a second, draft email; the sweep of the next plan
// finds it, sees it never reached anyone, deletes it and says so in the
// audit log.
func TestLateApplyIsSweptByTheNextPlan(t *testing.T) {
	ctx := context.Background()
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond})
	sb := sandboxOver(t, srv, hubspot.Config{Timeout: 300 * time.Millisecond, CommitLag: 100 * time.Millisecond})
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Late", Target: "hubspot"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Welcome", Subject: "Welcome", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: `<p>Hi.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`}); err != nil {
		t.Fatal(err)
	}
	plan, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: plan.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, plan.ID)}); err != nil {
		t.Fatal(err)
	}
	srv.Inject(faketest.Fault{Op: "emails.create", Kind: faketest.LateApply, Delay: time.Second})
	if _, err := sb.Confirm(ctx, "agent", plan.ID, nil); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	srv.Settle() // the first create lands now, after every deadline
	if _, err := sb.PlanPromotion(ctx, "agent", c.ID); err != nil {
		t.Fatal(err)
	}
	if got := srv.Counts(); got["emails"] != 1 {
		t.Fatalf("HubSpot holds %v after the sweep, want exactly the one bound email", got)
	}
	entries, err := sb.Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	swept := false
	for _, e := range entries {
		swept = swept || e.Action == "stray_discarded"
	}
	if !swept {
		t.Fatal("the audit log does not record the discarded stray")
	}
}

// sandboxOver is a sandbox on a fresh data directory whose one target is
// the HubSpot connector, connected to srv with a private-app token.
func sandboxOver(t *testing.T, srv *hubspottest.Server, hc hubspot.Config) *sandbox.Sandbox {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("LASTMILE_E2E_HUBSPOT_TOKEN", srv.PrivateAppToken())
	limits := hubspot.NewLimits() // the probe's requests count in the portal's window too
	if _, err := hubspot.ConnectPrivateApp(context.Background(), dir, "hubspot", "LASTMILE_E2E_HUBSPOT_TOKEN", hubspot.WithBaseURL(srv.URL), hubspot.WithLimits(limits)); err != nil {
		t.Fatal(err)
	}
	tgt, err := hubspot.New("hubspot", dir, hc, hubspot.WithLimits(limits))
	if err != nil {
		t.Fatal(err)
	}
	return sandboxOn(t, dir, tgt, 0)
}

// sandboxOn opens dir's store (closed when the test ends) and a sandbox
// whose target "hubspot" is tgt, promoting up to par steps at once (0: the
// default).
func sandboxOn(t *testing.T, dir string, tgt sandbox.Target, par int) *sandbox.Sandbox {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := sandbox.DefaultConfig()
	cfg.Targets["hubspot"] = sandbox.TargetConfig{Type: "hubspot"}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: map[string]sandbox.Target{"hubspot": tgt}, Policy: sandbox.StaticPolicy{}, DataDir: dir, Parallelism: par})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// Retirements through the sandbox: a HubSpot workflow switched off is
// planned with HubSpot's effect, approved and promoted once; unpublishing a
// HubSpot landing page is refused when it is staged, naming HubSpot.
func TestRetireThroughTheSandbox(t *testing.T) {
	ctx := context.Background()
	srv := hubspottest.New(t, hubspottest.Options{Window: 100 * time.Millisecond})
	sb := sandboxOver(t, srv, hubspot.Config{})
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Autumn", Target: "hubspot"})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Tag customers", Activate: true,
		Trigger: sandbox.Trigger{Type: "manual"},
		Steps:   []sandbox.Step{{ID: "s1", Type: "set_property", Property: "lifecyclestage", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	pg, err := sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: c.ID, Title: "Autumn", Slug: "autumn", HTML: "<h1>Autumn</h1>"})
	if err != nil {
		t.Fatal(err)
	}
	promote := func() {
		t.Helper()
		plan, err := sb.PlanPromotion(ctx, "agent", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: plan.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, plan.ID)}); err != nil {
			t.Fatal(err)
		}
		if res, err := sb.Confirm(ctx, "agent", plan.ID, nil); err != nil || res.Status != sandbox.PlanPromoted {
			t.Fatalf("promotion: %+v %v", res, err)
		}
	}
	promote()
	if f := srv.Flows(); len(f) != 1 || !f[0].IsEnabled {
		t.Fatalf("flows %+v", f)
	}

	_, err = sb.StageRetire(ctx, "agent", pg.Artifact.ID, sandbox.OpUnpublish)
	if err == nil || !strings.Contains(err.Error(), "HubSpot's CMS Pages API cannot unpublish a landing page") {
		t.Errorf("staging unpublish of a HubSpot page: %v", err)
	}
	r, err := sb.StageRetire(ctx, "agent", wf.Artifact.ID, sandbox.OpDeactivate)
	if err != nil || !strings.Contains(r.Effect, "HubSpot turns the workflow off") {
		t.Fatalf("staging deactivate: %+v %v", r, err)
	}
	plan, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var diff string
	for _, s := range plan.Steps {
		if s.ArtifactID == wf.Artifact.ID && s.Op == sandbox.OpDeactivate {
			diff = s.Diff
		}
	}
	if !strings.Contains(diff, "HubSpot turns the workflow off") {
		t.Errorf("plan steps %+v lack the deactivate step with HubSpot's effect", plan.Steps)
	}
	updates := srv.Stats().Calls["flows.update"]
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: plan.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, plan.ID)}); err != nil {
		t.Fatal(err)
	}
	if res, err := sb.Confirm(ctx, "agent", plan.ID, nil); err != nil || res.Status != sandbox.PlanPromoted {
		t.Fatalf("promotion of the retirement: %+v %v", res, err)
	}
	if f := srv.Flows(); len(f) != 1 || f[0].IsEnabled {
		t.Errorf("flows after deactivate %+v", f)
	}
	if n := srv.Stats().Calls["flows.update"] - updates; n != 1 {
		t.Errorf("%d PUTs of the flow, want 1", n)
	}
}
