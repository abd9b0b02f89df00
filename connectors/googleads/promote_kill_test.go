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

// Exactly once while a promotion dies: the promoting process is SIGKILLed
// while its one atomic googleAds:mutate is in flight, and Google commits
// the mutate after the process has gone. A resumed promotion (Find by
// marker, then Put, then Publish) must end with exactly one campaign,
// whether the late commit lands before the resume looks or after it has
// created the campaign itself (then the late one meets
// DUPLICATE_CAMPAIGN_NAME and is refused).

// killObj is the campaign both processes promote, by artifact id.
func killObj(id string) sandbox.Object {
	obj := adObj("Killed launch", 3, 2)
	obj.ArtifactID, obj.Marker = id, "lm-"+id
	return obj
}

func killTarget(t testing.TB, base string) *googleads.Target {
	cfg := googleads.Config{CustomerID: googleadstest.DefaultCustomerID, BaseURL: base, TokenURL: base + "/token", Currency: "USD", TimeZone: "America/New_York", RequestsPerSecond: 1000}
	tg, err := googleads.New("gads", t.TempDir(), cfg, googleads.WithLogger(quiet()),
		googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken))
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestHelperKillPromote is the promoting child of TestKilledDuringMutate.
func TestHelperKillPromote(t *testing.T) {
	base := promotetest.Arg("url")
	if base == "" {
		t.Skip("runs only as TestKilledDuringMutate's child")
	}
	tg := killTarget(t, base)
	_, err := tg.Put(context.Background(), killObj(promotetest.Arg("id")), "")
	t.Fatalf("the child should have been killed during the mutate; Put returned %v", err)
}

func TestKilledDuringMutate(t *testing.T) {
	promotetest.Parent(t)
	for _, order := range []string{"late-commit-first", "resume-first"} {
		t.Run(order, func(t *testing.T) {
			srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
			id := "ad_01kill" + strings.ReplaceAll(order, "-", "")
			srv.HoldNextMutate()
			promotetest.StartChild(t, "TestHelperKillPromote", "url", srv.BaseURL(), "id", id).
				KillWhen(t, "its mutate was held", func() bool { return srv.Holding() > 0 })
			if n := len(srv.Campaigns()); n != 0 {
				t.Fatalf("%d campaigns while the mutate is held; the test proves nothing", n)
			}
			ctx := context.Background()
			tg := killTarget(t, srv.BaseURL())
			obj := killObj(id)
			obj.Resumed = true
			if order == "late-commit-first" {
				srv.Release()
				waitLate(t, srv, "committed")
			}
			// Resume as the promoter does: Find by marker; update what is
			// found, else create; then the enable step.
			st, found, err := tg.Find(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			if found != (order == "late-commit-first") {
				t.Fatalf("Find after the kill: found=%v", found)
			}
			liveID := ""
			if found {
				liveID = st.ID
			}
			st, err = tg.Put(ctx, obj, liveID)
			if err != nil {
				t.Fatal(err)
			}
			if order == "resume-first" {
				srv.Release()
				waitLate(t, srv, "refused")
			}
			if _, err := tg.Publish(ctx, obj, st, time.Time{}); err != nil {
				t.Fatal(err)
			}
			camps := srv.Campaigns()
			if len(camps) != 1 || srv.Budgets() != 1 {
				t.Fatalf("%d campaigns and %d budgets, want exactly one of each: %+v", len(camps), srv.Budgets(), camps)
			}
			if c := camps[0]; c.Status != "ENABLED" || !strings.Contains(c.Name, "[lm-"+id+"]") {
				t.Errorf("campaign %+v", c)
			}
			if tree := srv.Tree(strconv.FormatInt(camps[0].ID, 10)); len(tree.Groups) != 3 || len(tree.Ads) != 6 {
				t.Errorf("%d groups and %d ads, want 3 and 6", len(tree.Groups), len(tree.Ads))
			}
		})
	}
}
