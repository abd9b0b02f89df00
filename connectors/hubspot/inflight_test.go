package hubspot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// Exactly once with a create in flight: HubSpot is slow (every create
// commits a while after it arrives, whatever becomes of its client), and
// the promoting process is SIGKILLed, or its confirm cancelled, while one
// create is still being processed. A confirm started at once must not
// create that object again: the fake ends holding exactly the planned
// objects, each bound to its artifact.
//
// The seeds choose which create is in flight when the promoter dies (every
// create step: the list, both emails, the page, the workflow), how slow
// HubSpot is, and whether steps run one at a time or in parallel.

const (
	envInflightDir  = "LASTMILE_HS_INFLIGHT_DIR"
	envInflightPlan = "LASTMILE_HS_INFLIGHT_PLAN"
	envInflightPar  = "LASTMILE_HS_INFLIGHT_PARALLEL"
	inflightSeeds   = 32
)

// inflightConfig keeps LandWithin short for the test (1s + 200ms) and
// above the slowest commit the seeds choose (500ms).
var inflightConfig = hubspot.Config{Timeout: time.Second, CommitLag: 200 * time.Millisecond}

// TestInflightChild is the promoting process of TestInflightCreateSurvivesKill.
func TestInflightChild(t *testing.T) {
	dir := os.Getenv(envInflightDir)
	if dir == "" {
		t.Skip("runs only as TestInflightCreateSurvivesKill's child")
	}
	par, _ := strconv.Atoi(os.Getenv(envInflightPar))
	sb := openInflight(t, dir, par)
	_, err := sb.Confirm(context.Background(), "agent", os.Getenv(envInflightPlan), nil)
	t.Fatalf("the promotion ended (%v); the parent kills it while a create is in flight", err)
}

func TestInflightCreateSurvivesKill(t *testing.T) {
	if os.Getenv(envInflightDir) != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	runInflight(t, func(t *testing.T, dir, plan string, par int, armed func(kill func())) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInflightChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envInflightDir+"="+dir, envInflightPlan+"="+plan, envInflightPar+"="+strconv.Itoa(par))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		armed(func() { cmd.Process.Kill() }) // SIGKILL: nothing more runs in the child
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Exited() {
			t.Fatalf("the child was not killed while a create was in flight (%v):\n%s", err, out.String())
		}
	})
}

func TestInflightCreateSurvivesCancel(t *testing.T) {
	if os.Getenv(envInflightDir) != "" {
		t.Skip("child")
	}
	runInflight(t, func(t *testing.T, dir, plan string, par int, armed func(kill func())) {
		sb := openInflight(t, dir, par)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		armed(cancel)
		if _, err := sb.Confirm(ctx, "agent", plan, nil); err == nil {
			t.Fatal("the promotion finished; it was to be cancelled while a create was in flight")
		}
	})
}

// runInflight runs the seeds. interrupt starts a promotion of plan in dir
// and returns once it has been interrupted; armed hands it the function
// the fake calls (through kill) when the chosen create is in flight.
func runInflight(t *testing.T, interrupt func(t *testing.T, dir, plan string, par int, armed func(kill func()))) {
	var mu sync.Mutex
	interrupted := map[string]int{} // operation in flight at the kill → seeds
	t.Run("seeds", func(t *testing.T) {
		seeds := inflightSeeds
		if testing.Short() {
			seeds = 10 // still every create step, one at a time and in parallel
		}
		for seed := range seeds {
			t.Run(fmt.Sprintf("seed-%02d", seed), func(t *testing.T) {
				t.Parallel()
				at := seed%5 + 1                                                           // the at-th create is in flight
				delay := 50*time.Millisecond + time.Duration(seed*97%450)*time.Millisecond // HubSpot's processing time
				par := 1 + 3*(seed/5%2)                                                    // one step at a time, or four
				k := &killer{at: at}
				srv := hubspottest.New(t, hubspottest.Options{Window: time.Second, SlowApply: hubspottest.Apply{Delay: delay}, OnPending: k.pending})
				dir, plan := prepareInflight(t, srv, seed)
				interrupt(t, dir, plan, par, k.arm)
				op := k.interrupted()
				if op == "" {
					t.Fatalf("no create was in flight at the interruption")
				}
				mu.Lock()
				interrupted[op]++
				mu.Unlock()

				// Confirm again at once, as a person retrying would.
				sb := openInflight(t, dir, par)
				res, err := sb.Confirm(context.Background(), "agent", plan, nil)
				if err != nil || res.Status != sandbox.PlanPromoted {
					t.Fatalf("confirming again after the %s was interrupted: %+v, %v", op, res, err)
				}
				srv.Settle() // every create that was in flight has landed (or failed at its commit)
				verifyInflight(t, srv, sb, plan, fmt.Sprintf("create %d of 5 (a %s, %d steps at a time)", at, op, par))
			})
		}
	})
	if t.Failed() {
		return
	}
	for _, op := range []string{"lists.create", "emails.create", "pages.create", "flows.create"} {
		if interrupted[op] == 0 {
			t.Errorf("no seed interrupted a %s (interrupted: %v)", op, interrupted)
		}
	}
}

// killer interrupts the promoter when the at-th create is held in flight.
type killer struct {
	mu   sync.Mutex
	at   int
	n    int
	kill func()
	op   string
}

func (k *killer) arm(kill func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kill = kill
}

func (k *killer) pending(op string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n++
	if k.n == k.at && k.kill != nil {
		k.op = op
		k.kill()
	}
}

func (k *killer) interrupted() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.op
}

// prepareInflight connects a data directory to the fake and stages, plans
// and approves a campaign with one create of every kind: a list, a batch
// email to it, an automated email, a landing page and a workflow.
func prepareInflight(t *testing.T, srv *hubspottest.Server, seed int) (dir, plan string) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	// The seeds run in parallel, so no t.Setenv: a variable of their own.
	envVar := fmt.Sprintf("LASTMILE_TEST_HS_INFLIGHT_TOKEN_%d_%d", os.Getpid(), seed)
	os.Setenv(envVar, srv.PrivateAppToken())
	t.Cleanup(func() { os.Unsetenv(envVar) })
	if _, err := hubspot.ConnectPrivateApp(ctx, dir, "hubspot", envVar, hubspot.WithBaseURL(srv.URL), hubspot.WithPrompt(io.Discard)); err != nil {
		t.Fatal(err)
	}
	sb := openInflight(t, dir, 1)
	c, err := sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "In flight", Target: "hubspot"})
	if err != nil {
		t.Fatal(err)
	}
	id := func(r *sandbox.StageResult, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	html := `<p>Hi {{ contact.firstname | default: "there" }}.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`
	seg := id(sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Germany",
		Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "DE"}}}))
	id(sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "Spring is here", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: html, Audience: sandbox.Audience{Include: []string{seg}}}))
	welcome := id(sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Welcome", Subject: "Welcome", FromName: "Acme",
		FromEmail: "news@acme.test", HTML: html}))
	id(sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: c.ID, Title: "Spring launch", Slug: "spring-launch", HTML: "<h1>Spring</h1>"}))
	id(sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Welcome series", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg},
		Steps:   []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: welcome, Next: "s2"}, {ID: "s2", Type: "wait", Duration: "2d"}}}))
	p, err := sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "marketer", Channel: "cli", Code: mustPlanCode(t, sb, p.ID)}); err != nil {
		t.Fatal(err)
	}
	return dir, p.ID
}

// openInflight opens the data directory's store and a sandbox over the
// HubSpot target; the store closes when the test ends.
func openInflight(t *testing.T, dir string, par int) *sandbox.Sandbox {
	t.Helper()
	return openInflightWith(t, dir, par, func(h *hubspot.Target) sandbox.Target { return h })
}

func openInflightWith(t *testing.T, dir string, par int, wrap func(*hubspot.Target) sandbox.Target) *sandbox.Sandbox {
	t.Helper()
	tgt, err := hubspot.New("hubspot", dir, inflightConfig, hubspot.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		hubspot.WithRetry(5, time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return sandboxOn(t, dir, wrap(tgt), par)
}

// verifyInflight checks that the fake holds exactly the planned objects:
// one list, two emails, one page, one workflow, each the one its artifact
// is bound to.
func verifyInflight(t *testing.T, srv *hubspottest.Server, sb *sandbox.Sandbox, planID, what string) {
	t.Helper()
	ctx := context.Background()
	p, err := sb.GetPlan(ctx, planID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ids := map[string]bool{}
	for _, l := range srv.Lists() {
		names, ids[l.ID] = append(names, "list "+l.Name), true
	}
	for _, e := range srv.Emails() {
		names, ids[e.ID] = append(names, "email "+e.Name), true
	}
	for _, pg := range srv.Pages() {
		names, ids[pg.ID] = append(names, "page "+pg.Name), true
	}
	for _, f := range srv.Flows() {
		names, ids[f.ID] = append(names, "workflow "+f.Name), true
	}
	sort.Strings(names)
	if c := srv.Counts(); c["lists"] != 1 || c["emails"] != 2 || c["pages"] != 1 || c["flows"] != 1 {
		t.Fatalf("after %s was interrupted in flight and the plan confirmed again, HubSpot holds %v, want 1 list, 2 emails, 1 page, 1 workflow:\n  %s",
			what, c, strings.Join(names, "\n  "))
	}
	v, err := sb.GetCampaign(ctx, p.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Artifacts {
		if a.Live == nil || !ids[a.Live.LiveID] {
			t.Errorf("%s is bound to %+v, which HubSpot does not hold", a.ID, a.Live)
		}
	}
}
