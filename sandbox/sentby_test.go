package sandbox_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// sentByRecorder passes everything to the local target and records, per
// artifact, the SentByWorkflows the sandbox gave Assess and Put.
type sentByRecorder struct {
	sandbox.Target
	mu            sync.Mutex
	assessed, put map[string][]string
}

func (r *sentByRecorder) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	r.mu.Lock()
	r.assessed[obj.ArtifactID] = obj.SentByWorkflows
	r.mu.Unlock()
	return r.Target.Assess(ctx, obj)
}

func (r *sentByRecorder) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	r.mu.Lock()
	r.put[obj.ArtifactID] = obj.SentByWorkflows
	r.mu.Unlock()
	return r.Target.Put(ctx, obj, liveID)
}

// A target is told, at planning and at promotion, which workflows send an
// email (so a platform that needs another object for a workflow's send can
// make it); emails no workflow sends are told none.
func TestObjectSentByWorkflows(t *testing.T) {
	rec := &sentByRecorder{assessed: map[string][]string{}, put: map[string][]string{}}
	e := newEnv(t, envOptions{wrap: func(lt sandbox.Target) sandbox.Target { rec.Target = lt; return rec }})
	c := stageCampaign(t, e, "Spring")
	// A second workflow sends a broadcast email too.
	w2, err := e.sb.StageWorkflow(context.Background(), "test", sandbox.WorkflowInput{CampaignID: c.id, Name: "Re-send", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: c.segments[0]},
		Steps:   []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: c.emails[0], Next: "s2"}, {ID: "s2", Type: "send_email", EmailID: c.followUp}}})
	if err != nil {
		t.Fatal(err)
	}
	promoteAll(t, e, c.id)
	both := []string{c.workflow, w2.Artifact.ID}
	slices.Sort(both)
	want := map[string][]string{c.followUp: both, c.emails[0]: {w2.Artifact.ID}, c.emails[1]: nil, c.emails[2]: nil, c.page: nil, c.workflow: nil}
	for id, w := range want {
		if got := rec.assessed[id]; !slices.Equal(got, w) {
			t.Errorf("Assess of %s got SentByWorkflows %v, want %v", id, got, w)
		}
		if got := rec.put[id]; !slices.Equal(got, w) {
			t.Errorf("Put of %s got SentByWorkflows %v, want %v", id, got, w)
		}
	}
}
