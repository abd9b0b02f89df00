package googleads_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// The same exactly-once rule through the sandbox: an approved plan (create
// the ad campaign paused, then enable it) is confirmed by a child process
// that is SIGKILLed while the atomic googleAds:mutate is held by Google;
// confirming again ends with one campaign, enabled once — whether the
// held mutate commits before the second confirmation or after it (then it
// meets DUPLICATE_CAMPAIGN_NAME and is refused).

const (
	envSbKillDir  = "LASTMILE_GADS_SB_DIR"
	envSbKillURL  = "LASTMILE_GADS_SB_URL"
	envSbKillPlan = "LASTMILE_GADS_SB_PLAN"
)

func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := googleads.Config{CustomerID: googleadstest.DefaultCustomerID, BaseURL: base, TokenURL: base + "/token", Currency: "USD",
		TimeZone: "America/New_York", RequestsPerSecond: 1000, Timeout: time.Second}
	tg, err := googleads.New("gads", dir, cfg, googleads.WithLandingLag(200*time.Millisecond), googleads.WithLogger(quiet()),
		googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken))
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	sc := sandbox.DefaultConfig()
	sc.Targets["gads"] = sandbox.TargetConfig{Type: "google_ads"}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: sc, Targets: map[string]sandbox.Target{"gads": tg}, DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return sb, func() { st.Close() }
}

// TestHelperSandboxKill is the confirming child of TestSandboxKilledDuringMutate.
func TestHelperSandboxKill(t *testing.T) {
	dir := os.Getenv(envSbKillDir)
	if dir == "" {
		t.Skip("runs only as TestSandboxKilledDuringMutate's child")
	}
	sb, done := killSandbox(t, dir, os.Getenv(envSbKillURL))
	defer done()
	_, err := sb.Confirm(context.Background(), "agent", os.Getenv(envSbKillPlan), nil)
	t.Fatalf("the child should have been killed during the mutate; confirm returned %v", err)
}

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
	p, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.PlanCode(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: code}); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestSandboxKilledDuringMutate(t *testing.T) {
	if os.Getenv(envSbKillDir) != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, order := range []string{"late-commit-first", "resume-first"} {
		t.Run(order, func(t *testing.T) {
			srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
			dir := t.TempDir()
			plan := stageAdPlan(t, dir, srv.BaseURL())
			if n := srv.Counts().ValidateOnly; n != 1 {
				t.Errorf("planning made %d validate-only requests, want the one dry run", n)
			}
			srv.HoldNextMutate()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxKill$", "-test.count=1")
			cmd.Env = append(os.Environ(), envSbKillDir+"="+dir, envSbKillURL+"="+srv.BaseURL(), envSbKillPlan+"="+plan)
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for srv.Holding() == 0 {
				select {
				case err := <-exited:
					t.Fatalf("the child ended before its mutate was held (%v):\n%s", err, out.String())
				case <-time.After(2 * time.Millisecond):
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			waitLate := func(want string) {
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
					c, r := srv.Late()
					if (want == "committed" && c == 1) || (want == "refused" && r == 1) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the held mutate was not %s (committed %d, refused %d)", want, c, r)
					}
				}
			}
			if order == "late-commit-first" {
				srv.Release()
				waitLate("committed")
			}
			sb, done := killSandbox(t, dir, srv.BaseURL())
			_, err := sb.Confirm(context.Background(), "agent", plan, nil)
			done()
			if err != nil {
				t.Fatalf("confirming again: %v", err)
			}
			if order == "resume-first" {
				srv.Release()
				waitLate("refused")
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
