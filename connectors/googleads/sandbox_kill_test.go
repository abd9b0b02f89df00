package googleads_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/sandbox"
)

// The same exactly-once rule through the sandbox: an approved plan (create
// the ad campaign paused, then enable it) is confirmed by a child process
// that is SIGKILLed while the atomic googleAds:mutate is held by Google;
// confirming again ends with one campaign, enabled once — whether the
// held mutate commits before the second confirmation or after it (then it
// meets DUPLICATE_CAMPAIGN_NAME and is refused).

func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	cfg := googleads.Config{CustomerID: googleadstest.DefaultCustomerID, BaseURL: base, TokenURL: base + "/token", Currency: "USD",
		TimeZone: "America/New_York", RequestsPerSecond: 1000, Timeout: time.Second}
	return promotetest.Open(t, dir, "gads", "google_ads", nil, func() (sandbox.Target, error) {
		return googleads.New("gads", dir, cfg, googleads.WithLandingLag(200*time.Millisecond), googleads.WithLogger(quiet()),
			googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken))
	})
}

// TestHelperSandboxKill is the confirming child of TestSandboxKilledDuringMutate.
func TestHelperSandboxKill(t *testing.T) { promotetest.ConfirmChild(t, killSandbox) }

func stageAdPlan(t *testing.T, dir, base string) string {
	t.Helper()
	sb, done := killSandbox(t, dir, base)
	defer done()
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Killed ads", Target: "gads", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	end := time.Now().UTC().AddDate(0, 0, 27).Format(time.DateOnly)
	ad := sandbox.Ad{Headlines: []string{"Spring gear, 30% off", "Tents, packs and boots", "Free returns"},
		Descriptions: []string{"Thirty percent off tents, packs and boots this week.", "Order by Friday."}, FinalURL: "https://www.acme.com/spring"}
	in := sandbox.AdCampaignInput{CampaignID: c.ID, Name: "Spring search", Objective: sandbox.ObjectiveTraffic, Target: "gads",
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "20.00", Currency: "USD"},
		StartDate: start, EndDate: end, Locations: []string{"US"}, Languages: []string{"en"}, Enable: true,
		Groups: []sandbox.AdGroup{
			{Name: "Tents", MaxCPC: "1.20", Keywords: []sandbox.Keyword{{Text: "camping tents", Match: "phrase"}}, Ads: []sandbox.Ad{ad}},
			{Name: "Boots", MaxCPC: "0.90", Keywords: []sandbox.Keyword{{Text: "hiking boots", Match: "exact"}}, Ads: []sandbox.Ad{ad}},
		}}
	if _, err := sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	return promotetest.Approve(t, sb, c.ID)
}

func TestSandboxKilledDuringMutate(t *testing.T) {
	promotetest.Parent(t)
	for _, order := range []string{"late-commit-first", "resume-first"} {
		t.Run(order, func(t *testing.T) {
			srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
			dir := t.TempDir()
			plan := stageAdPlan(t, dir, srv.BaseURL())
			if n := srv.Counts().ValidateOnly; n != 1 {
				t.Errorf("planning made %d validate-only requests, want the one dry run", n)
			}
			srv.HoldNextMutate()
			p := promotetest.Promotion{Open: killSandbox, Dir: dir, Base: srv.BaseURL(), Plan: plan, Child: "TestHelperSandboxKill"}
			p.Kill(t, "its mutate was held", func() bool { return srv.Holding() > 0 })
			if order == "late-commit-first" {
				srv.Release()
				waitLate(t, srv, "committed")
			}
			p.ConfirmAgain(t)
			if order == "resume-first" {
				srv.Release()
				waitLate(t, srv, "refused")
			}
			camps := srv.Campaigns()
			if len(camps) != 1 || srv.Budgets() != 1 {
				t.Fatalf("%d campaigns, %d budgets: want one of each: %+v", len(camps), srv.Budgets(), camps)
			}
			c := camps[0]
			// Created PAUSED, then enabled once by the plan's enable step.
			if c.Status != "ENABLED" || c.StatusUpdates != 1 || !strings.HasPrefix(c.Name, "Spring search [lm-ad_") {
				t.Errorf("campaign %+v: want it enabled exactly once", c)
			}
			if tree := srv.Tree(strconv.FormatInt(c.ID, 10)); len(tree.Groups) != 2 || len(tree.Ads) != 2 {
				t.Errorf("%d groups, %d ads; want 2 and 2", len(tree.Groups), len(tree.Ads))
			}
		})
	}
}
