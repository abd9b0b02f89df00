package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
)

// draftsOnly is a target whose tier cannot send through the API, like a
// HubSpot Starter portal: it keeps emails as drafts.
type draftsOnly struct{ *local.Target }

func (d draftsOnly) Send(_ context.Context, obj sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	return live, fmt.Errorf("this portal's tier cannot send through the API; %s stays a draft: %w", obj.ArtifactID, sandbox.ErrNotSupported)
}

// A send the platform cannot do is recorded as skipped, with the reason;
// the rest of the plan is promoted and nothing is marked sent.
func TestUnsupportedSendIsSkipped(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	sb, err := sandbox.New(sandbox.Options{Store: e.st, Config: sandbox.DefaultConfig(), Targets: map[string]sandbox.Target{"local": draftsOnly{e.local}}, Now: e.clock.Now, DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	c := stageCampaign(t, e, "Drafts")
	p := planAndApprove(t, e, c.id)
	res, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	skipped := 0
	for _, st := range res.Steps {
		switch st.Op {
		case sandbox.OpSend:
			if st.Status != "skipped" || st.Error == "" {
				t.Errorf("send step %d: status %s (%s), want skipped with the reason", st.N, st.Status, st.Error)
			}
			skipped++
		default:
			if st.Status != "done" && st.Status != "unchanged" {
				t.Errorf("step %d (%s) is %s", st.N, st.Op, st.Status)
			}
		}
	}
	if skipped != len(c.emails) {
		t.Fatalf("%d sends skipped, want %d", skipped, len(c.emails))
	}
	for _, id := range c.emails {
		v, _ := e.sb.GetArtifact(ctx, id, 0)
		if v.Artifact.Live == nil || v.Artifact.Live.SentAt != nil {
			t.Errorf("%s: binding %+v, want live but not sent", id, v.Artifact.Live)
		}
	}
	got, _ := e.sb.GetPlan(ctx, p.ID)
	if got.Status != sandbox.PlanPromoted {
		t.Fatalf("plan status %s", got.Status)
	}
}
