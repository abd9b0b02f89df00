package webflow_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
)

// Exactly once while Webflow is slow: a promotion is killed (SIGKILL) or
// cancelled while an item create is in flight, and Webflow commits the
// create after the promoter has gone. Confirming again must end with
// exactly the planned items, one per marker, each published.
//
// Requests time out after promotetest.Timeout and the landing lag is
// promotetest.LandingLag, so LandWithin is 1.3 s; every slow create commits
// within it. Were the
// create to land later still, the resumed create would be refused because
// the slug is taken and would adopt the item carrying the marker.

func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	cfg := webflow.Config{
		SiteID: webflowtest.DefaultSiteID, CollectionID: webflowtest.DefaultCollectionID, CollectionSlug: "lp",
		BodyField: "body", MetaField: "meta-description", MarkerField: webflow.DefaultMarkerField,
		URLPrefix: "https://" + webflowtest.DefaultDomain + "/lp", BaseURL: base, Timeout: promotetest.Timeout, RateLimit: 1000,
	}
	log := quiet()
	if os.Getenv("WF_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("dir", dir)
	}
	return promotetest.Open(t, dir, "wf", "webflow", log, func() (sandbox.Target, error) {
		return webflow.New("wf", dir, cfg, webflow.WithToken(webflowtest.DefaultToken), webflow.WithLandingLag(promotetest.LandingLag), webflow.WithLogger(log))
	})
}

// TestHelperKillConfirm is the promoting child process of TestSlowCreateKilled.
func TestHelperKillConfirm(t *testing.T) { promotetest.ConfirmChild(t, killSandbox) }

// stageKillCampaign stages, plans and approves two pages: two creates, two publishes.
func stageKillCampaign(t *testing.T, srv *webflowtest.Server, dir string) string {
	t.Helper()
	sb, done := killSandbox(t, dir, srv.BaseURL())
	defer done()
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Slow Webflow", Target: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.ID, Title: fmt.Sprintf("Spring %d", i), Slug: fmt.Sprintf("spring-%d", i),
			HTML: fmt.Sprintf("<!DOCTYPE html><html><head><title>Spring %d</title></head><body><h1>Spring %d</h1><p>Thirty percent off.</p></body></html>", i, i)}); err != nil {
			t.Fatal(err)
		}
	}
	return promotetest.Approve(t, sb, c.ID)
}

func TestSlowCreateKilled(t *testing.T) {
	promotetest.Parent(t)
	for seed := range 8 {
		for _, how := range []string{"kill", "cancel"} {
			t.Run(fmt.Sprintf("%s-seed-%d", how, seed), func(t *testing.T) {
				t.Parallel()
				delay := 300*time.Millisecond + time.Duration(seed/2)*80*time.Millisecond
				srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.RateLimit = 1000 })
				dir := t.TempDir()
				plan := stageKillCampaign(t, srv, dir)
				srv.Inject(faketest.Fault{Op: "create-item", Skip: seed % 2, Kind: faketest.SlowApply, Delay: delay})
				p := promotetest.Promotion{Open: killSandbox, Dir: dir, Base: srv.BaseURL(), Plan: plan, Child: "TestHelperKillConfirm"}
				p.KillOrCancelSlowCreate(t, how, srv)
				checkExactlyPlanned(t, srv)
			})
		}
	}
}

// checkExactlyPlanned: two items, one per marker, each live.
func checkExactlyPlanned(t *testing.T, srv *webflowtest.Server) {
	t.Helper()
	items := srv.Items(webflowtest.DefaultCollectionID)
	markers := map[string]int{}
	var names []string
	for _, it := range items {
		m, _ := it.FieldData[webflow.DefaultMarkerField].(string)
		markers[m]++
		names = append(names, fmt.Sprintf("%v (%v, marker %s, live %v)", it.FieldData["name"], it.FieldData["slug"], m, it.Live != nil))
		if it.Live == nil {
			t.Errorf("item %v is not live", it.FieldData["slug"])
		}
	}
	for m, n := range markers {
		if n != 1 {
			t.Errorf("%d items carry the marker %q: a create was repeated while the first was still landing", n, m)
		}
	}
	if len(items) != 2 {
		t.Errorf("%d items, want 2:\n  %s", len(items), strings.Join(names, "\n  "))
	}
	for i := range 2 {
		if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, fmt.Sprintf("spring-%d", i)); !ok {
			t.Errorf("spring-%d is not on the live site", i)
		}
	}
}
