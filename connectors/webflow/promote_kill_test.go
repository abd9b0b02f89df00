package webflow_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// Exactly once while Webflow is slow: a promotion is killed (SIGKILL) or
// cancelled while an item create is in flight, and Webflow commits the
// create after the promoter has gone. Confirming again must end with
// exactly the planned items, one per marker, each published.
//
// Requests time out after killTimeout and the landing lag is killLag, so
// LandWithin is 1.3 s; every slow create commits within it. Were the
// create to land later still, the resumed create would be refused because
// the slug is taken and would adopt the item carrying the marker.

const (
	envKillDir  = "LASTMILE_WF_KILL_DIR"
	envKillURL  = "LASTMILE_WF_KILL_URL"
	envKillPlan = "LASTMILE_WF_KILL_PLAN"

	killTimeout = time.Second
	killLag     = 300 * time.Millisecond
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := webflow.Config{
		SiteID: webflowtest.DefaultSiteID, CollectionID: webflowtest.DefaultCollectionID, CollectionSlug: "lp",
		BodyField: "body", MetaField: "meta-description", MarkerField: webflow.DefaultMarkerField,
		URLPrefix: "https://" + webflowtest.DefaultDomain + "/lp", BaseURL: base, Timeout: killTimeout, RateLimit: 1000,
	}
	log := quiet()
	if os.Getenv("WF_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("dir", dir)
	}
	tgt, err := webflow.New("wf", dir, cfg, webflow.WithToken(webflowtest.DefaultToken), webflow.WithLandingLag(killLag), webflow.WithLogger(log))
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	sc := sandbox.DefaultConfig()
	sc.Targets["wf"] = sandbox.TargetConfig{Type: "webflow"}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: sc, Targets: map[string]sandbox.Target{"wf": tgt}, DataDir: dir, Logger: log})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return sb, func() { st.Close() }
}

// TestHelperKillConfirm is the promoting child process of TestSlowCreateKilled.
func TestHelperKillConfirm(t *testing.T) {
	dir := os.Getenv(envKillDir)
	if dir == "" {
		t.Skip("runs only as TestSlowCreateKilled's child")
	}
	sb, done := killSandbox(t, dir, os.Getenv(envKillURL))
	defer done()
	_, err := sb.Confirm(context.Background(), "agent", os.Getenv(envKillPlan), nil)
	t.Fatalf("the child should have been killed during a create; confirm returned %v", err)
}

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

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestSlowCreateKilled(t *testing.T) {
	if os.Getenv(envKillDir) != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for seed := range 8 {
		for _, how := range []string{"kill", "cancel"} {
			t.Run(fmt.Sprintf("%s-seed-%d", how, seed), func(t *testing.T) {
				t.Parallel()
				delay := 300*time.Millisecond + time.Duration(seed/2)*80*time.Millisecond
				srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.RateLimit = 1000 })
				dir := t.TempDir()
				plan := stageKillCampaign(t, srv, dir)
				srv.Inject(faketest.Fault{Op: "create-item", Skip: seed % 2, Kind: faketest.SlowApply, Delay: delay})
				inFlight := func() bool { return srv.Applying() > 0 }

				switch how {
				case "kill":
					cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKillConfirm$", "-test.count=1")
					cmd.Env = append(os.Environ(), envKillDir+"="+dir, envKillURL+"="+srv.BaseURL(), envKillPlan+"="+plan)
					out := &syncBuffer{}
					cmd.Stdout, cmd.Stderr = out, out
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					exited := make(chan error, 1)
					go func() { exited <- cmd.Wait() }()
					for !inFlight() {
						select {
						case err := <-exited:
							t.Fatalf("the child ended before the slow create (%v):\n%s", err, out.String())
						case <-time.After(2 * time.Millisecond):
						}
					}
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					<-exited
				case "cancel":
					sb, done := killSandbox(t, dir, srv.BaseURL())
					ctx, cancel := context.WithCancel(context.Background())
					go func() {
						for !inFlight() && ctx.Err() == nil {
							time.Sleep(2 * time.Millisecond)
						}
						cancel()
					}()
					_, err := sb.Confirm(ctx, "agent", plan, nil)
					cancel()
					done()
					if err == nil {
						t.Fatal("the cancelled confirmation succeeded")
					}
				}
				if srv.Applied() != 0 {
					t.Fatal("the slow create committed before the promoter was gone; the test proves nothing")
				}

				sb, done := killSandbox(t, dir, srv.BaseURL())
				_, err := sb.Confirm(context.Background(), "agent", plan, nil)
				done()
				if err != nil {
					t.Fatalf("confirming again: %v", err)
				}
				waitFor(t, "the slow create to commit", func() bool { return srv.Applying() == 0 && srv.Applied() == 1 })
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
