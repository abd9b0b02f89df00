package mailchimp_test

import (
	"context"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// TestHelperPromoter is the child process of TestKilledPromoterResumes: it
// promotes a segment and an email into the fake named by the environment.
func TestHelperPromoter(t *testing.T) {
	dir := promotetest.Arg("dir")
	if dir == "" {
		t.Skip("helper process only")
	}
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: mailchimptest.DefaultListID, BaseURL: promotetest.Arg("url")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seg, em := killedArtifacts()
	st, err := tgt.Put(ctx, seg, "")
	if err != nil {
		t.Fatal(err)
	}
	em.Refs["seg_vip"] = st.ID
	if _, err := tgt.Put(ctx, em, ""); err != nil { // the parent kills us in here
		t.Fatal(err)
	}
	t.Fatal("the helper should have been killed during the email create")
}

func killedArtifacts() (seg, em sandbox.Object) {
	seg = segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com", "member02@example.com"}})
	em = emailObj("eml_1", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_vip"} })
	return seg, em
}

// The fake runs in this process; a promoting child process is SIGKILLed
// after Mailchimp applied its campaign create but before it got the answer.
// The fake keeps serving, and a resumed promotion (Find, then Put/Send)
// ends with exactly one segment and one campaign, sent once.
func TestKilledPromoterResumes(t *testing.T) {
	promotetest.Parent(t)
	srv := mailchimptest.New(t, mailchimptest.WithHangFor(time.Minute))
	dir := t.TempDir()
	t.Setenv("LASTMILE_TEST_MC_KEY", srv.APIKey())
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", "LASTMILE_TEST_MC_KEY", mailchimp.WithBaseURL(srv.BaseURL())); err != nil {
		t.Fatal(err)
	}
	srv.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.TimeoutAfterApply})

	// Kill it once the create has been applied and the child hangs on it.
	promotetest.StartChild(t, "TestHelperPromoter", "dir", dir, "url", srv.BaseURL()).
		KillWhen(t, "its campaign create was applied", func() bool { return srv.PendingFaults() == 0 })
	if n := len(srv.Campaigns()); n != 1 {
		t.Fatalf("%d campaigns after the kill, want the 1 the child created", n)
	}

	// Resume the way the promoter does: Find each object by its marker,
	// create only what is missing, update what was found, then send.
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: srv.ListID(), BaseURL: srv.BaseURL()}, mailchimp.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seg, em := killedArtifacts()
	resume := func(obj sandbox.Object) sandbox.LiveState {
		st, found, err := tgt.Find(ctx, obj)
		if err != nil {
			t.Fatal(err)
		}
		id := ""
		if found {
			id = st.ID
		}
		st, err = tgt.Put(ctx, obj, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	segState := resume(seg)
	em.Refs["seg_vip"] = segState.ID
	emState := resume(em)
	if _, err := tgt.Send(ctx, em, emState, time.Time{}); err != nil {
		t.Fatal(err)
	}
	segs, camps := srv.Segments(), srv.Campaigns()
	if len(segs) != 1 || len(camps) != 1 {
		t.Fatalf("%d segments, %d campaigns; want exactly one of each", len(segs), len(camps))
	}
	if c := camps[0]; c.SendActions != 1 || c.HTML == "" || len(c.Recipients) != 2 {
		t.Errorf("campaign: %d sends, html %d bytes, %d recipients", c.SendActions, len(c.HTML), len(c.Recipients))
	}
}
