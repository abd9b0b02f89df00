package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

// A live page's slug stays its own until a plan moves the page off it:
// while the move is only staged, no other campaign can take the slug (and
// overwrite the live page with nothing in its plan); once the move is
// live, it is free. Moving a page removes only its own file, not a page
// nested under its old path.
func TestLiveSlugsAreOwned(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	stage := func(campaign, id, slug string) (*sandbox.StageResult, error) {
		return e.sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: campaign, PageID: id, Title: "Page " + slug, Slug: slug, HTML: "<html><body><h1>" + slug + "</h1></body></html>"})
	}
	promote := func(campaign string) {
		t.Helper()
		p := planAndApprove(t, e, campaign)
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	c1, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "One", Markets: []string{"US"}})
	c2, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Two", Markets: []string{"US"}})
	events, err := stage(c1.ID, "", "events")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stage(c1.ID, "", "events/spring"); err != nil {
		t.Fatal(err)
	}
	promote(c1.ID)
	site := filepath.Join(e.dir, "site")
	for _, f := range []string{"events/index.html", "events/spring/index.html"} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			t.Fatalf("not published: %v", err)
		}
	}

	// The move is staged, not live: "events" is still the live page's.
	if _, err := stage(c1.ID, events.Artifact.ID, "happenings"); err != nil {
		t.Fatal(err)
	}
	_, err = stage(c2.ID, "", "events")
	if err == nil || !strings.Contains(err.Error(), "already used on target local by page "+events.Artifact.ID) || !strings.Contains(err.Error(), "campaign "+c1.ID) {
		t.Fatalf("another campaign took a live page's slug: %v", err)
	}

	// Once the move is live, the old slug is free, and the page nested
	// under its old path is untouched.
	promote(c1.ID)
	if _, err := os.Stat(filepath.Join(site, "events/spring/index.html")); err != nil {
		t.Fatalf("moving a page removed the page nested under it: %v", err)
	}
	if _, err := os.Stat(filepath.Join(site, "events/index.html")); !os.IsNotExist(err) {
		t.Fatalf("the moved page's old file is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(site, "happenings/index.html")); err != nil {
		t.Fatalf("the moved page is not at its new slug: %v", err)
	}
	if _, err := stage(c2.ID, "", "events"); err != nil {
		t.Fatalf("the freed slug: %v", err)
	}
}

// activate: false in a new revision turns the live workflow off, as its
// plan shows.
func TestDeactivationIsApplied(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c := stageCampaign(t, e, "Flow")
	p := planAndApprove(t, e, c.id)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		st, _, err := e.local.Live(ctx, sandbox.KindWorkflow, c.workflow)
		if err != nil {
			t.Fatal(err)
		}
		return st.Status
	}
	if got := status(); got != "enabled" {
		t.Fatalf("after activating: %s", got)
	}
	av, err := e.sb.GetArtifact(ctx, c.workflow, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := av.Revision.Workflow
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.id, WorkflowID: c.workflow, Name: w.Name, Activate: false, Trigger: w.Trigger, Steps: w.Steps}); err != nil {
		t.Fatal(err)
	}
	p = planAndApprove(t, e, c.id)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "disabled" {
		t.Fatalf("after a revision with activate false: %s", got)
	}
}

// Suppression is global on local: an unsubscribe in events.jsonl (from any
// campaign) and a line in suppressions.csv keep an address out of every
// later send; the plan says how many and why.
func TestSuppressionIsGlobal(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.local.AppendEvents([]local.Event{{Type: "unsubscribe", Artifact: "eml_01other", Email: "Grace@example.com", At: epoch}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.local.SuppressionsFile(), []byte("email,reason\n# people who asked\nkatherine@example.com, asked by phone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := stageCampaign(t, e, "Suppressed")
	p := planAndApprove(t, e, c.id)
	note := ""
	for _, st := range p.Steps {
		if st.ArtifactID == c.emails[0] {
			note += strings.Join(st.Notes, " ")
		}
	}
	if !strings.Contains(note, "2 of the audience are suppressed and will not be mailed: 1 listed in suppressions.csv, 1 unsubscribed") {
		t.Fatalf("the plan's notes for the send: %q", note)
	}
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(filepath.Join(e.dir, "outbox", c.emails[0]))
	if len(files) == 0 {
		t.Fatal("nobody was mailed")
	}
	for _, f := range files {
		if strings.HasPrefix(f.Name(), "grace@") || strings.HasPrefix(f.Name(), "katherine@") {
			t.Fatalf("a suppressed address was mailed: %s", f.Name())
		}
	}
}

// On local, {% if %} renders per recipient: each gets only their branch.
// A construct local cannot render is a check error naming the target, and
// the plan refuses it.
func TestLiquidOnLocal(t *testing.T) {
	pol, err := governance.Parse("policy.yaml", []byte("version: 1\nname: tiny\nrules:\n  - id: voice.no-shouting\n    kind: existence\n    level: suggestion\n    message: calm\n    tokens: [SHOUT]\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: pol})
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Liquid", Markets: []string{"US"}})
	seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	em, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Plans", Subject: "{% if contact.plan == \"pro\" %}Pro news{% else %}News{% endif %}", FromName: "Acme", FromEmail: "news@acme.com",
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}},
		HTML:     `<html><body><p>{% if contact.plan == "pro" %}PROBRANCH{% elsif contact.plan == "enterprise" %}ENTBRANCH{% else %}BASICBRANCH{% endif %}</p><p>Acme, 1 Main St. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`})
	if err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(e.dir, "outbox", em.Artifact.ID)
	want := map[string]string{"ada@": "PROBRANCH", "grace@": "ENTBRANCH", "margaret@": "BASICBRANCH"}
	files, _ := os.ReadDir(box)
	for _, f := range files {
		data, _ := os.ReadFile(filepath.Join(box, f.Name()))
		for prefix, branch := range want {
			if !strings.HasPrefix(f.Name(), prefix) {
				continue
			}
			n := 0
			for _, b := range []string{"PROBRANCH", "ENTBRANCH", "BASICBRANCH"} {
				if strings.Contains(string(data), b) {
					n++
				}
			}
			if !strings.Contains(string(data), branch) || n != 1 || strings.Contains(string(data), "{%") {
				t.Errorf("%s got the wrong branches:\n%s", f.Name(), data)
			}
			delete(want, prefix)
		}
	}
	if len(want) != 0 {
		t.Fatalf("no message for %v", want)
	}

	c2, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Loop", Markets: []string{"US"}})
	seg2, _ := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c2.ID, Name: "All", StaticEmails: []string{"ada@example.com"}})
	if _, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c2.ID, Name: "Loop", Subject: "Loop", FromName: "Acme", FromEmail: "news@acme.com",
		Audience: sandbox.Audience{Include: []string{seg2.Artifact.ID}},
		HTML:     `<html><body>{% for p in products %}<p>{{ p.name }}</p>{% endfor %}<p>Acme, 1 Main St. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`}); err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: c2.ID})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.Rule == "lastmile.target-cannot-render" && f.Level == "error" && strings.Contains(f.Message, "local cannot render {% for p in products %}")
	}
	if !found {
		t.Fatalf("no error for {%% for %%}: %+v", rep.Findings)
	}
	if _, err := e.sb.PlanPromotion(ctx, "agent", c2.ID); err == nil || !strings.Contains(err.Error(), "local cannot render") {
		t.Fatalf("planning an email local cannot render: %v", err)
	}
}
