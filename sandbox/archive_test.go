package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

func archiveRefused(t *testing.T, e *env, id string, want ...string) {
	t.Helper()
	_, err := e.sb.ArchiveArtifact(context.Background(), "agent", id)
	var ve *sandbox.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("archive %s: err = %v, want it refused", id, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("archive %s: %v; want it to mention %q", id, err, w)
		}
	}
}

// An artifact that never went live leaves its campaign: not listed, not
// planned, not checked; what references it is refused first; a plan that
// included it is stale; its revisions stay readable.
func TestArchiveArtifact(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "A")
	p := planAndApprove(t, e, c.id)

	// The follow-up email is sent by the workflow; the leads segment is
	// the workflow's trigger and an email's audience.
	archiveRefused(t, e, c.followUp, "referenced by workflow "+c.workflow)
	archiveRefused(t, e, c.segments[1], "workflow "+c.workflow, "email "+c.emails[1])

	res, err := e.sb.ArchiveArtifact(ctx, "agent", c.workflow)
	if err != nil || res.Unchanged || res.Artifact.Status() != sandbox.StatusArchived {
		t.Fatalf("archive workflow: %+v, %v", res, err)
	}
	if again, err := e.sb.ArchiveArtifact(ctx, "agent", c.workflow); err != nil || !again.Unchanged {
		t.Fatalf("archive twice: %+v, %v", again, err)
	}
	if _, err := e.sb.ArchiveArtifact(ctx, "agent", c.followUp); err != nil {
		t.Fatalf("the follow-up once nothing sends it: %v", err)
	}

	// The approved plan included them: stale.
	_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
	if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), c.workflow) {
		t.Fatalf("confirm after archive: %v", err)
	}
	if files := liveFiles(t, e.dir); len(files) != 0 {
		t.Fatalf("live files: %v", files)
	}

	v, err := e.sb.GetCampaign(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Artifacts {
		if a.ID == c.workflow || a.ID == c.followUp {
			t.Fatalf("get_campaign lists archived %s", a.ID)
		}
	}
	arch, err := e.sb.ArchivedArtifacts(ctx, c.id)
	if err != nil || len(arch) != 2 {
		t.Fatalf("archived: %v, %v", arch, err)
	}
	if got, err := e.sb.GetArtifact(ctx, c.workflow, 1); err != nil || got.Revision.Workflow == nil {
		t.Fatalf("the archived revision: %+v, %v", got, err)
	}
	if _, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: c.workflow}); err == nil {
		t.Errorf("an archived artifact was checked")
	}

	// A new plan leaves them out; new references and revisions are refused.
	p2, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p2.Steps {
		if st.ArtifactID == c.workflow || st.ArtifactID == c.followUp {
			t.Fatalf("plan has a step for archived %s", st.ArtifactID)
		}
	}
	_, err = e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.id, WorkflowID: c.workflow, Name: "Nurture",
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: c.segments[1]}, Steps: []sandbox.Step{{ID: "x", Type: "exit"}}})
	if err == nil || !strings.Contains(err.Error(), "archived") {
		t.Errorf("new revision of an archived workflow: %v", err)
	}
	_, err = e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.id, Name: "Nurture 2",
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: c.segments[1]}, Steps: []sandbox.Step{{ID: "send", Type: "send_email", EmailID: c.followUp}}})
	if err == nil || !strings.Contains(err.Error(), "archived") {
		t.Errorf("a workflow sending an archived email: %v", err)
	}

	for _, id := range []string{c.workflow, c.followUp} {
		if n := count(auditActions(t, e, id), "archive_artifact"); n != 1 {
			t.Errorf("audit has %d archive_artifact entries for %s, want 1", n, id)
		}
	}
}

// A live artifact is refused, with what to do instead.
func TestArchiveLiveArtifactRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "A")
	p := planAndApprove(t, e, c.id)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	archiveRefused(t, e, c.page, "is live on local", "retire it on its platform through a plan")
	// A page archived before it went live frees its slug.
	pg, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.id, Title: "Draft", Slug: "draft", HTML: "<html><body><h1>Draft</h1></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.ArchiveArtifact(ctx, "agent", pg.Artifact.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.id, Title: "Draft 2", Slug: "draft", HTML: "<html><body><h1>Draft</h1></body></html>"}); err != nil {
		t.Fatalf("the archived page's slug is still taken: %v", err)
	}
}

// A plan that failed part way may have written the artifact without its
// binding being recorded yet: archiving waits until it is resumed or expired.
func TestArchiveDuringPromotionRefused(t *testing.T) {
	e, _, c, p := failedPlan(t, envOptions{})
	archiveRefused(t, e, c.page, "plan "+p.ID, "may have written it")
}
