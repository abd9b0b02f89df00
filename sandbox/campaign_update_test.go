package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// The attack: a human approves a plan, then the agent changes what the
// plan's content resolves to (the UTM on every link, the markets the
// disclaimers follow, the name the platforms show) and confirms. The
// approval was of the campaign as it was, so the confirmation is refused
// as stale and nothing goes live.
func TestUpdateCampaignAfterApprovalIsStale(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		upd  sandbox.CampaignUpdate
		why  string
	}{
		{"utm source", sandbox.CampaignUpdate{UTM: sandbox.UTM{Source: "evil"}}, "UTM"},
		{"utm content", sandbox.CampaignUpdate{UTM: sandbox.UTM{Content: "hero"}}, "UTM"},
		{"utm term", sandbox.CampaignUpdate{UTM: sandbox.UTM{Term: "tents"}}, "UTM"},
		{"page medium", sandbox.CampaignUpdate{UTM: sandbox.UTM{PageMedium: "web"}}, "UTM"},
		{"markets", sandbox.CampaignUpdate{Markets: []string{"CA"}}, "campaign was updated"},
		{"industry", sandbox.CampaignUpdate{Industry: "finserv"}, "campaign was updated"},
		{"name", sandbox.CampaignUpdate{Name: "Something else"}, "campaign was updated"},
		{"brief", sandbox.CampaignUpdate{Brief: "new brief"}, "campaign was updated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			c := stageCampaign(t, e, "A")
			p := planAndApprove(t, e, c.id)
			tc.upd.CampaignID = c.id
			res, err := e.sb.UpdateCampaign(ctx, "agent", tc.upd)
			if err != nil {
				t.Fatal(err)
			}
			if res.Unchanged || res.Campaign.Revision != 2 {
				t.Fatalf("update: %+v", res)
			}
			_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
			if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("confirm after update: err = %v, want stale mentioning %q", err, tc.why)
			}
			if files := liveFiles(t, e.dir); len(files) != 0 {
				t.Fatalf("live files written: %v", files)
			}
		})
	}
	t.Run("control: an update that changes nothing keeps the plan", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		c := stageCampaign(t, e, "A")
		p := planAndApprove(t, e, c.id)
		res, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: c.id, Markets: []string{"us"}, UTM: sandbox.UTM{Source: "test"}})
		if err != nil || !res.Unchanged || res.Campaign.Revision != 1 {
			t.Fatalf("update: %+v, %v", res, err)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			t.Fatalf("confirm: %v", err)
		}
	})
}

// A plan that failed half way is not resumed over a campaign updated
// since: the rest of its steps would carry content nobody approved.
func TestUpdateCampaignBlocksResume(t *testing.T) {
	ctx := context.Background()
	e, _, c, p := failedPlan(t, envOptions{})
	if _, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: c.id, UTM: sandbox.UTM{Campaign: "other"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), "campaign was updated") {
		t.Fatalf("resume after update: err = %v, want stale", err)
	}
}
