package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// promoteAll plans, approves and confirms the campaign, failing the test
// on any error.
func promoteAll(t *testing.T, e *env, campaignID string) *sandbox.Plan {
	t.Helper()
	p := planAndApprove(t, e, campaignID)
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); err != nil {
		t.Fatalf("confirm %s: %v", p.ID, err)
	}
	return p
}

func stepOps(p *sandbox.Plan) map[string][]string {
	out := map[string][]string{}
	for _, st := range p.Steps {
		out[st.ArtifactID] = append(out[st.ArtifactID], st.Op)
	}
	return out
}

func artifactStatus(t *testing.T, e *env, campaignID, id string) string {
	t.Helper()
	v, err := e.sb.GetCampaign(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Artifacts {
		if a.ID == id {
			return a.Status()
		}
	}
	t.Fatalf("%s is not in campaign %s", id, campaignID)
	return ""
}

// Taking back what is live — unscheduling a scheduled email, unpublishing
// a page, switching off a workflow, archiving a sent email — is staged on
// the artifact, shown in the plan as its own step, approved, promoted
// exactly once and visible on the target; nothing changes before the
// confirmation, and a retired artifact stays retired in later plans until
// a new revision is staged.
func TestRetire(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "Winter")
	at := epoch.Add(72 * time.Hour)
	sched, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.id, Name: "Reminder", Subject: "Last days", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Last days of the sale.</p></body></html>", Audience: sandbox.Audience{Include: []string{c.segments[0]}}, SendAt: at.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	reminder := sched.Artifact.ID
	promoteAll(t, e, c.id)
	sitePage := filepath.Join(e.dir, "site", slugFor("Winter"), "index.html")
	if _, err := os.Stat(sitePage); err != nil {
		t.Fatalf("the page is not on the site after promotion: %v", err)
	}

	refused := func(id, op, want string) {
		t.Helper()
		_, err := e.sb.StageRetire(ctx, "agent", id, op)
		var ve *sandbox.ValidationError
		var nf *sandbox.NotFoundError
		if (!errors.As(err, &ve) && !errors.As(err, &nf)) || !strings.Contains(err.Error(), want) {
			t.Errorf("retire %s %s: %v, want a refusal saying %q", op, id, err, want)
		}
	}
	draft, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.id, Name: "Draft", Subject: "Soon", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>Soon.</p>"})
	if err != nil {
		t.Fatal(err)
	}
	refused(draft.Artifact.ID, sandbox.OpArchive, "is not live")
	refused(c.emails[0], sandbox.OpUnschedule, "a sent email cannot be unsent")
	refused(c.emails[0], sandbox.OpUnpublish, "an email cannot be unpublished")
	refused(c.segments[0], sandbox.OpArchive, "is used by")
	refused(c.followUp, sandbox.OpArchive, "is used by "+c.workflow)
	refused(c.page, sandbox.OpCancelRetire, "has no retirement staged")
	refused("eml_00000000000000000000000000", sandbox.OpArchive, "no artifact")

	for id, op := range map[string]string{reminder: sandbox.OpUnschedule, c.page: sandbox.OpUnpublish, c.workflow: sandbox.OpDeactivate, c.emails[1]: sandbox.OpArchive} {
		res, err := e.sb.StageRetire(ctx, "agent", id, op)
		if err != nil {
			t.Fatalf("retire %s %s: %v", op, id, err)
		}
		if res.Effect == "" || res.Artifact.Status() != sandbox.StatusRetiring {
			t.Errorf("retire %s %s: effect %q status %q", op, id, res.Effect, res.Artifact.Status())
		}
	}
	// Staged, nothing changed yet.
	if _, err := os.Stat(sitePage); err != nil {
		t.Fatalf("staging an unpublish took the page down: %v", err)
	}

	p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	ops := stepOps(p)
	for id, want := range map[string]string{reminder: sandbox.OpUnschedule, c.page: sandbox.OpUnpublish, c.workflow: sandbox.OpDeactivate, c.emails[1]: sandbox.OpArchive} {
		if len(ops[id]) != 1 || ops[id][0] != want {
			t.Errorf("plan steps of %s: %v, want only %s", id, ops[id], want)
		}
	}
	for _, st := range p.Steps {
		if sandbox.IsRetire(st.Op) && (!st.Irreversible || st.Diff == "" || st.LiveID == "" || !strings.Contains(st.Diff, "—")) {
			t.Errorf("retire step %+v: want irreversible, with the live id and a description with the target's effect", st)
		}
		if st.ArtifactID == c.page && !strings.Contains(st.Diff, "/"+slugFor("Winter")+"/") {
			t.Errorf("the unpublish step does not name the page's path: %q", st.Diff)
		}
	}

	// The attack: the agent withdraws one retirement after the human
	// approved the plan, and confirms. The plan is a value: it is refused.
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageRetire(ctx, "agent", c.workflow, sandbox.OpCancelRetire); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), "no longer needs deactivate") {
		t.Fatalf("confirm after a retirement was withdrawn: %v, want stale", err)
	}
	// And one staged after approval is not applied by it either.
	if _, err := e.sb.StageRetire(ctx, "agent", c.workflow, sandbox.OpDeactivate); err != nil {
		t.Fatal(err)
	}
	p2 := planAndApprove(t, e, c.id)
	if _, err := e.sb.StageRetire(ctx, "agent", c.followUp, sandbox.OpArchive); err == nil {
		t.Fatal("archiving the email a live workflow sends was staged")
	}
	res, err := e.sb.Confirm(ctx, "agent", p2.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != sandbox.PlanPromoted {
		t.Fatalf("promotion %+v", res)
	}

	// On the target.
	if _, err := os.Stat(sitePage); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the page is still on the site after unpublish: %v", err)
	}
	for id, want := range map[string]string{reminder: "draft", c.page: "draft", c.workflow: "disabled"} {
		kind := map[string]sandbox.Kind{reminder: sandbox.KindEmail, c.page: sandbox.KindPage, c.workflow: sandbox.KindWorkflow}[id]
		st, found, err := e.local.Live(ctx, kind, id)
		if err != nil || !found || st.Status != want {
			t.Errorf("live %s: %+v found=%v err=%v, want status %s", id, st, found, err, want)
		}
	}
	if _, found, _ := e.local.Live(ctx, sandbox.KindEmail, c.emails[1]); found {
		t.Errorf("the archived email %s is still live on local", c.emails[1])
	}
	e.clock.Add(96 * time.Hour)
	rep, err := e.local.Tick(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 0 || rep.Enrolled != 0 || rep.Steps != 0 {
		t.Errorf("after the send time the clock did %+v: the unscheduled email went out or the switched-off workflow ran", rep)
	}
	for _, id := range []string{reminder, c.page, c.workflow, c.emails[1]} {
		if got := artifactStatus(t, e, c.id, id); got != sandbox.StatusRetired {
			t.Errorf("%s status %q, want %q", id, got, sandbox.StatusRetired)
		}
	}

	// Exactly once: confirming again changes nothing.
	again, err := e.sb.Confirm(ctx, "agent", p2.ID, nil)
	if err != nil || !again.AlreadyPromoted {
		t.Fatalf("second confirm: %+v %v", again, err)
	}

	// Later plans leave retired work as it is, and say so.
	p3, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p3.Steps {
		switch st.ArtifactID {
		case reminder, c.page, c.workflow, c.emails[1]:
			if st.Op != sandbox.OpUnchanged || len(st.Notes) == 0 || !strings.Contains(st.Notes[0], "stage a new revision") {
				t.Errorf("a later plan's step for retired %s: %+v", st.ArtifactID, st)
			}
		}
	}
	// Archived off the platform: metrics no longer read it.
	ms, err := e.sb.FetchMetrics(ctx, sandbox.MetricsScope{CampaignID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ArtifactID == c.emails[1] {
			t.Errorf("metrics read the archived email: %+v", m)
		}
	}

	// A new revision of the page brings it back through a plan.
	if _, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.id, PageID: c.page, Title: "Winter page", Slug: slugFor("Winter"), HTML: "<html><body><h1>Back</h1></body></html>", Form: formOf("email")}); err != nil {
		t.Fatal(err)
	}
	p4, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := stepOps(p4)[c.page]; len(got) != 2 || got[0] != sandbox.OpUpdate || got[1] != sandbox.OpPublish {
		t.Errorf("plan of a new revision of the unpublished page: %v, want update and publish", got)
	}
}

// A retirement staged while a newer revision waits takes the live one back
// and says the newer one is not promoted; a retirement resumed after a
// failure goes on only while it is still staged.
func TestRetireOverStagedRevision(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "Spring")
	promoteAll(t, e, c.id)
	if _, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.id, PageID: c.page, Title: "Spring page", Slug: slugFor("Spring"), HTML: "<html><body><h1>New</h1></body></html>", Form: formOf("email")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageRetire(ctx, "agent", c.page, sandbox.OpUnpublish); err != nil {
		t.Fatal(err)
	}
	p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Steps {
		if st.ArtifactID != c.page {
			continue
		}
		if st.Op != sandbox.OpUnpublish || st.Revision != 1 || len(st.Notes) == 0 || !strings.Contains(st.Notes[0], "revision 2") {
			t.Errorf("step %+v: want the unpublish of live revision 1, noting revision 2 is not promoted", st)
		}
	}
}

// Archiving an email and the segment it goes to in one plan takes the
// email first: a platform never holds a scheduled email whose segment is
// gone.
func TestRetireOrder(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var done []string
	e := newEnv(t, envOptions{hook: func(point string) {
		if strings.HasSuffix(point, ":done") {
			mu.Lock()
			done = append(done, point)
			mu.Unlock()
		}
	}})
	c, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Pair", Markets: []string{"US"}, UTM: sandbox.UTM{Source: "lastmile", Medium: "email", Campaign: "pair"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Pair customers", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	at := epoch.Add(48 * time.Hour).Format(time.RFC3339)
	em, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Pair news", Subject: "News", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>News.</p>",
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}, SendAt: at})
	if err != nil {
		t.Fatal(err)
	}
	promoteAll(t, e, c.ID)
	if _, err := e.sb.StageRetire(ctx, "agent", seg.Artifact.ID, sandbox.OpArchive); err == nil {
		t.Fatal("archiving a segment a scheduled email uses was staged alone")
	}
	for _, id := range []string{em.Artifact.ID, seg.Artifact.ID} {
		if _, err := e.sb.StageRetire(ctx, "agent", id, sandbox.OpArchive); err != nil {
			t.Fatalf("archive %s: %v", id, err)
		}
	}
	mu.Lock()
	done = nil
	mu.Unlock()
	p := promoteAll(t, e, c.ID)
	var segStep, emlStep string
	for _, st := range p.Steps {
		switch st.ArtifactID {
		case seg.Artifact.ID:
			segStep = fmt.Sprintf("step:%d:done", st.N)
		case em.Artifact.ID:
			emlStep = fmt.Sprintf("step:%d:done", st.N)
		}
	}
	if i, j := slices.Index(done, emlStep), slices.Index(done, segStep); i < 0 || j < 0 || i > j {
		t.Errorf("steps done in the order %v: the email (%s) must be archived before its segment (%s)", done, emlStep, segStep)
	}
}
