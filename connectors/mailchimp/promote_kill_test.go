package mailchimp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// Exactly-once while Mailchimp is slow: a promotion is killed (SIGKILL) or
// cancelled while a create is in flight and Mailchimp is still working on
// it. The create commits after the promoter has gone. Confirming again must
// end with exactly the planned segments and campaigns, each sent once.
//
// The requests time out after promotetest.Timeout and Mailchimp may apply
// a write up to promotetest.LandingLag after that, so LandWithin is 1.3 s;
// every slow create commits within it (0.3–0.65 s after it arrived).
//
// A resume that reconciles at once looks for the marker before the first
// create has committed, finds nothing and creates a second object: the test
// then fails with "carry the marker … twice". It passes once the sandbox
// waits out Landing.LandWithin before it reconciles an interrupted create.

// killSandbox opens the data directory's store and a sandbox whose only
// target is the Mailchimp fake at base.
func killSandbox(t testing.TB, dir, base string) (*sandbox.Sandbox, func()) {
	t.Helper()
	return promotetest.Open(t, dir, "mc", "mailchimp", nil, func() (sandbox.Target, error) {
		return mailchimp.New("mc", dir, mailchimp.Config{ListID: mailchimptest.DefaultListID, BaseURL: base, Timeout: promotetest.Timeout},
			mailchimp.WithLandingLag(promotetest.LandingLag), mailchimp.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	})
}

// TestHelperKillConfirm is the promoting child process of TestSlowCreateKilled.
func TestHelperKillConfirm(t *testing.T) { promotetest.ConfirmChild(t, killSandbox) }

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
	return promotetest.Approve(t, sb, c.ID)
}

func TestSlowCreateKilled(t *testing.T) {
	promotetest.Parent(t)
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
				p := promotetest.Promotion{Open: killSandbox, Dir: dir, Base: srv.BaseURL(), Plan: plan, Child: "TestHelperKillConfirm"}
				p.KillOrCancelSlowCreate(t, how, srv)
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
