package sandbox_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
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

// Campaigns stored before revisions (no "revision" in their JSON) read as
// revision 1, and their first update keeps that revision.
func TestUpdateCampaignStoredBeforeRevisions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Old", Markets: []string{"US"}, UTM: sandbox.UTM{Source: "news", Medium: "email", Campaign: "old"}})
	if err != nil {
		t.Fatal(err)
	}
	old := `{"id":"` + c.ID + `","name":"Old","markets":["US"],"target":"local","utm":{"source":"news","medium":"email","campaign":"old"},"created_at":"2027-03-01T09:00:00Z"}`
	if err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Put("campaigns", c.ID, []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	v, err := e.sb.GetCampaign(ctx, c.ID)
	if err != nil || v.Campaign.Revision != 1 {
		t.Fatalf("old campaign: %+v, %v", v, err)
	}
	res, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: c.ID, Goal: "200 demos", UTM: sandbox.UTM{PageMedium: "web"}})
	if err != nil || res.Campaign.Revision != 2 || strings.Join(res.Changed, ",") != "goal,utm.page_medium" {
		t.Fatalf("update: %+v, %v", res, err)
	}
	if res.Campaign.Name != "Old" || res.Campaign.UTM.Source != "news" || res.Campaign.UTM.Medium != "email" {
		t.Fatalf("fields not given changed: %+v", res.Campaign)
	}
	first, err := e.sb.CampaignRevision(ctx, c.ID, 1)
	if err != nil || first.Goal != "" || first.UTM.PageMedium != "" || first.Revision != 1 {
		t.Fatalf("revision 1: %+v, %v", first, err)
	}
}

// update_campaign validates what it is given as create_campaign does,
// names every wrong field, and writes nothing.
func TestUpdateCampaignValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "A")
	_, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: c.id, Markets: []string{"UK", "Narnia"}, Industry: "Fin Serv", UTM: sandbox.UTM{Term: "two words", PageMedium: "a/b"}})
	var ve *sandbox.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	if got := strings.Join(fields, " "); got != "markets[0] markets[1] industry utm.term utm.page_medium" {
		t.Fatalf("fields = %s (%v)", got, err)
	}
	if !strings.Contains(err.Error(), "use GB for the United Kingdom") {
		t.Errorf("no hint for UK: %v", err)
	}
	v, _ := e.sb.GetCampaign(ctx, c.id)
	if v.Campaign.Revision != 1 || v.Campaign.Markets[0] != "US" {
		t.Fatalf("a refused update changed the campaign: %+v", v.Campaign)
	}
	if _, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: "cmp_nope"}); !errors.Is(err, sandbox.ErrNotFound) {
		t.Errorf("unknown campaign: %v", err)
	}
}

// A finding that asks for a campaign setting names the call that sets it,
// and that call clears it.
func TestUTMFixNamesUpdateCampaign(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{policy: mustPolicy(t, string(src))})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Untagged", Markets: []string{"US"}, Industry: "retail"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "N", Subject: "Spring at Acme", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: `<html><body><p>Hi. <a href="https://www.acme.com/spring">See the range</a>.</p></body></html>`}); err != nil {
		t.Fatal(err)
	}
	utmFix := func() string {
		rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			if f.Rule == "links.utm" {
				return f.Fix
			}
		}
		return ""
	}
	if fix := utmFix(); !strings.Contains(fix, `update_campaign {utm: {source: "newsletter", medium: "email", campaign: …}}`) {
		t.Fatalf("links.utm fix = %q", fix)
	}
	res, err := e.sb.UpdateCampaign(ctx, "agent", sandbox.CampaignUpdate{CampaignID: c.ID, UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}})
	if err != nil {
		t.Fatal(err)
	}
	if fix := utmFix(); fix != "" || res.Report == nil {
		t.Fatalf("after update_campaign: fix %q, report %v", fix, res.Report)
	}
	for _, f := range res.Report.Findings {
		if f.Rule == "links.utm" {
			t.Fatalf("update_campaign's report still has %+v", f)
		}
	}
}
