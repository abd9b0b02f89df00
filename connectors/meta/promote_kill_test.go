package meta_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
)

// Exactly-once while Meta is slow: a promotion is killed (SIGKILL) or
// cancelled while one of its creates (the campaign, an ad set, a creative
// or an ad) is in flight and Meta is still applying it; the create commits
// after the promoter has gone. Confirming again must end with exactly the
// planned objects: one campaign, two ad sets, four creatives, four ads,
// each enabled once.
//
// Requests time out after promotetest.Timeout and a write may land up to
// promotetest.LandingLag after that, so LandWithin is 1.3 s; every slow
// create commits within it (0.3–0.6 s after it arrived). The resumed confirmation waits that out
// before it reconciles, finds the campaign by its marker, and Put with
// Resumed finds the children by theirs.

func pkSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	return promotetest.Open(t, dir, "fb", "meta", quiet(), func() (sandbox.Target, error) {
		return meta.New("fb", dir, meta.Config{BaseURL: base, Timeout: promotetest.Timeout}, meta.WithLandingLag(promotetest.LandingLag), meta.WithLogger(quiet()))
	})
}

// TestHelperMetaConfirm is the promoting child of TestSlowCreateKilled.
func TestHelperMetaConfirm(t *testing.T) { promotetest.ConfirmChild(t, pkSandbox) }

// stagePK connects dir to the fake, stages an enabled 2×2 link-ad
// campaign and approves its plan.
func stagePK(t *testing.T, srv *metatest.Server, dir string) string {
	t.Helper()
	if _, err := meta.Connect(context.Background(), dir, meta.ConnectInput{Name: "fb", Token: srv.Token, AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL},
		meta.WithLogger(quiet())); err != nil {
		t.Fatal(err)
	}
	sb, done := pkSandbox(t, dir, srv.URL)
	defer done()
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Slow Meta", Target: "fb", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 10)
	in := sandbox.AdCampaignInput{CampaignID: c.ID, Name: "Spring sale", Objective: sandbox.ObjectiveTraffic,
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "25.00", Currency: "USD"},
		StartDate: start.Format(time.DateOnly), EndDate: start.AddDate(0, 0, 13).Format(time.DateOnly),
		Locations: []string{"US"}, Enable: true}
	for g := range 2 {
		grp := sandbox.AdGroup{Name: fmt.Sprintf("Set %d", g), MaxCPC: "1.20"}
		for a := range 2 {
			grp.Ads = append(grp.Ads, sandbox.Ad{PrimaryText: "Thirty percent off tents this week.", Headline: fmt.Sprintf("Tents %d-%d", g, a),
				ImageURL: "https://acme.example/img/spring.jpg", CallToAction: "SHOP_NOW", FinalURL: "https://acme.example/spring"})
		}
		in.Groups = append(in.Groups, grp)
	}
	if _, err := sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	return promotetest.Approve(t, sb, c.ID)
}

func TestSlowCreateKilled(t *testing.T) {
	promotetest.Parent(t)
	creates := []struct {
		op   string
		skip int
	}{{"POST /act_{id}/campaigns", 0}, {"POST /act_{id}/adsets", 1}, {"POST /act_{id}/adcreatives", 2}, {"POST /act_{id}/ads", 3}, {"POST /act_{id}/ads", 0}, {"POST /act_{id}/adsets", 0}}
	for seed := range 12 {
		for _, how := range []string{"kill", "cancel"} {
			t.Run(fmt.Sprintf("%s-seed-%02d", how, seed), func(t *testing.T) {
				t.Parallel()
				c := creates[seed%len(creates)]
				delay := 300*time.Millisecond + time.Duration(seed/len(creates))*150*time.Millisecond
				srv := metatest.New(t, metatest.WithQuota(100_000))
				dir := t.TempDir()
				plan := stagePK(t, srv, dir)
				srv.Inject(faketest.Fault{Op: c.op, Skip: c.skip, Kind: faketest.SlowApply, Delay: delay})
				p := promotetest.Promotion{Open: pkSandbox, Dir: dir, Base: srv.URL, Plan: plan, Child: "TestHelperMetaConfirm"}
				p.KillOrCancelSlowCreate(t, how, srv)
				checkExactlyPlanned(t, srv)
			})
		}
	}
}

func checkExactlyPlanned(t *testing.T, srv *metatest.Server) {
	t.Helper()
	want := map[string]int{"campaign": 1, "adset": 2, "adcreative": 4, "ad": 4}
	var names []string
	for typ, n := range want {
		objs := srv.Objects(typ)
		tags := map[string]int{}
		for _, o := range objs {
			names = append(names, fmt.Sprintf("%s %q %s", typ, o.Name, o.Status))
			tags[o.Name[strings.LastIndex(o.Name, "["):]]++
			if typ != "adcreative" && (o.Status != "ACTIVE" || o.Activations != 1) {
				t.Errorf("%s %s is %s, enabled %d times; want ACTIVE, once", typ, o.Name, o.Status, o.Activations)
			}
		}
		if len(objs) != n {
			t.Errorf("%d %ss, want %d", len(objs), typ, n)
		}
		for tag, k := range tags {
			if k != 1 {
				t.Errorf("%d %ss carry %s: a create was repeated while the first was still landing", k, typ, tag)
			}
		}
	}
	if t.Failed() {
		t.Logf("objects:\n  %s", strings.Join(names, "\n  "))
	}
}
