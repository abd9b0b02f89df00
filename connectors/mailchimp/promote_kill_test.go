package mailchimp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// Exactly-once while Mailchimp is slow: a promotion is killed (SIGKILL) or
// cancelled while a create is in flight and Mailchimp is still working on
// it. The create commits after the promoter has gone. Confirming again must
// end with exactly the planned segments and campaigns, each sent once.
//
// The requests time out after killTimeout and Mailchimp may apply a write up
// to killLag after that, so LandWithin is 1.3 s; every slow create commits
// within it (0.3–0.65 s after it arrived).
//
// A resume that reconciles at once looks for the marker before the first
// create has committed, finds nothing and creates a second object: the test
// then fails with "carry the marker … twice". It passes once the sandbox
// waits out Landing.LandWithin before it reconciles an interrupted create.

const (
	envKillDir  = "LASTMILE_MC_KILL_DIR"
	envKillURL  = "LASTMILE_MC_KILL_URL"
	envKillPlan = "LASTMILE_MC_KILL_PLAN"

	killTimeout = time.Second
	killLag     = 300 * time.Millisecond
)

// killSandbox opens the data directory's store and a sandbox whose only
// target is the Mailchimp fake at base.
func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: mailchimptest.DefaultListID, BaseURL: base, Timeout: killTimeout},
		mailchimp.WithLandingLag(killLag), mailchimp.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	cfg := sandbox.DefaultConfig()
	cfg.Targets["mc"] = sandbox.TargetConfig{Type: "mailchimp"}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: map[string]sandbox.Target{"mc": tgt}, DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

// stageKillCampaign connects dir to the fake and stages, plans and approves
// two static segments and two emails, one to each: four create steps.
func stageKillCampaign(t *testing.T, srv *mailchimptest.Server, dir string) string {
	t.Helper()
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", "LASTMILE_TEST_MC_KEY", mailchimp.WithBaseURL(srv.BaseURL()),
		mailchimp.WithPrompt(io.Discard)); err != nil {
		t.Fatal(err)
	}
	sb, done := killSandbox(t, dir, srv.BaseURL())
	defer done()
	ctx := context.Background()
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Slow Mailchimp", Target: "mc"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		seg, err := sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprintf("List %d", i),
			StaticEmails: []string{fmt.Sprintf("member%02d@example.com", i+1), fmt.Sprintf("member%02d@example.com", i+3)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Email %d", i), Subject: "Spring at Acme",
			PreviewText: "Lighter fabrics and brighter colours.", FromName: "Acme", FromEmail: "news@acme.com",
			HTML:     "<html><body><p>Hello. <a href=\"*|UNSUB|*\">Unsubscribe</a></p></body></html>",
			Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}); err != nil {
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
	// Every fake accepts the default key; subtests run in parallel, so it
	// is set here once.
	t.Setenv("LASTMILE_TEST_MC_KEY", mailchimptest.DefaultAPIKey)
	creates := []string{"/lists/{list_id}/segments", "/lists/{list_id}/segments", "/campaigns", "/campaigns"}
	for seed := range 32 {
		for _, how := range []string{"kill", "cancel"} {
			t.Run(fmt.Sprintf("%s-seed-%02d", how, seed), func(t *testing.T) {
				t.Parallel()
				step := seed % len(creates)
				delay := 300*time.Millisecond + time.Duration(seed/len(creates))*50*time.Millisecond
				srv := mailchimptest.New(t)
				dir := t.TempDir()
				plan := stageKillCampaign(t, srv, dir)
				// The step-th create (the first or second of its path) is slow.
				srv.Inject(faketest.Fault{Op: "POST " + creates[step], Skip: step % 2, Kind: faketest.SlowApply, Delay: delay})
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

				// Confirm again at once, as a user would.
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

// checkExactlyPlanned: two segments and two campaigns, one per marker, each
// campaign sent once.
func checkExactlyPlanned(t *testing.T, srv *mailchimptest.Server) {
	t.Helper()
	markers := map[string]int{}
	var names []string
	for _, s := range srv.Segments() {
		markers[markerSuffix(s.Name)]++
		names = append(names, "segment "+s.Name)
	}
	for _, c := range srv.Campaigns() {
		markers[markerSuffix(c.Settings.Title)]++
		names = append(names, fmt.Sprintf("campaign %s (%s, sent %d times)", c.Settings.Title, c.Status, c.SendActions))
		if c.SendActions != 1 {
			t.Errorf("campaign %s: %d send actions, want 1", c.Settings.Title, c.SendActions)
		}
	}
	for m, n := range markers {
		if n != 1 {
			t.Errorf("%d objects carry the marker %s twice or more: a create was repeated while the first was still landing", n, m)
		}
	}
	if len(srv.Segments()) != 2 || len(srv.Campaigns()) != 2 {
		t.Errorf("%d segments and %d campaigns, want 2 and 2:\n  %s", len(srv.Segments()), len(srv.Campaigns()), strings.Join(names, "\n  "))
	}
}

func markerSuffix(name string) string {
	if i := strings.LastIndex(name, " [lm-"); i >= 0 {
		return name[i+2:]
	}
	return name
}
