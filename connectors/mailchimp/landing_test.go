package mailchimp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// landingEnv is a target whose requests time out after timeout and whose
// writes may land lag after that, waiting for real.
func landingEnv(t *testing.T, timeout, lag time.Duration) *env {
	return newEnv(t, []mailchimptest.Option{mailchimptest.WithHangFor(10 * time.Second)},
		mailchimp.WithHTTPClient(&http.Client{Timeout: timeout}), mailchimp.WithLandingLag(lag),
		mailchimp.WithSleep(realSleep), mailchimp.WithRetry(3, 10*time.Millisecond, 0))
}

func TestLandWithin(t *testing.T) {
	e := landingEnv(t, 300*time.Millisecond, 2*time.Second)
	for _, k := range []sandbox.Kind{sandbox.KindEmail, sandbox.KindSegment} {
		if got := e.tgt.LandWithin(k); got != 2300*time.Millisecond {
			t.Errorf("LandWithin(%s) = %v, want the timeout plus the lag", k, got)
		}
	}
	e2 := newEnv(t, nil)
	if got := e2.tgt.LandWithin(sandbox.KindEmail); got != 60*time.Second+mailchimp.LandingLag {
		t.Errorf("default LandWithin = %v, want 60 s + %v", got, mailchimp.LandingLag)
	}
}

// A create Mailchimp applies after lastmile's deadline but within the
// landing window is waited for and adopted: one campaign, one segment.
func TestLateApplyWithinTheWindowIsAdopted(t *testing.T) {
	e := landingEnv(t, 300*time.Millisecond, 3*time.Second)
	e.srv.Inject(faketest.Fault{Op: "POST /lists/{list_id}/segments", Kind: faketest.LateApply, Delay: 400 * time.Millisecond})
	e.srv.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.LateApply, Delay: 400 * time.Millisecond})
	seg := e.put(segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com"}}), "")
	em := emailObj("eml_1", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_vip"} })
	em.Refs["seg_vip"] = seg.ID
	e.put(em, "")
	if n, m := len(e.srv.Segments()), len(e.srv.Campaigns()); n != 1 || m != 1 {
		t.Fatalf("%d segments, %d campaigns; want one of each", n, m)
	}
	if e.srv.Applied() != 2 {
		t.Fatalf("%d late writes applied, want 2", e.srv.Applied())
	}
	if st := e.srv.Stats(); st.ByRoute["POST /campaigns"] != 1 || st.ByRoute["POST /lists/{list_id}/segments"] != 1 {
		t.Errorf("creates sent again: %v", st.ByRoute)
	}
}

// A create Mailchimp applies after the landing window (later than anything
// Mailchimp is known to do) makes a second campaign. Marked lists both;
// Discard removes the one no artifact is bound to, a saved campaign, and
// refuses the sent one.
func TestLateApplyBeyondTheWindowIsSwept(t *testing.T) {
	e := landingEnv(t, 200*time.Millisecond, 100*time.Millisecond)
	ctx := context.Background()
	e.srv.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.LateApply, Delay: 1500 * time.Millisecond})
	e.srv.Inject(faketest.Fault{Op: "POST /lists/{list_id}/segments", Kind: faketest.LateApply, Delay: 1500 * time.Millisecond})
	seg := e.put(segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com", "member02@example.com"}}), "")
	em := emailObj("eml_1", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_vip"} })
	em.Refs["seg_vip"] = seg.ID
	live := e.put(em, "")
	if _, err := e.tgt.Send(ctx, em, live, time.Time{}); e.record(err) != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); e.srv.Applied() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the late creates never landed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, m := len(e.srv.Segments()), len(e.srv.Campaigns()); n != 2 || m != 2 {
		t.Fatalf("%d segments, %d campaigns; the test wants the late creates to make a second of each", n, m)
	}

	camps, err := e.tgt.Marked(ctx, sandbox.KindEmail)
	if e.record(err) != nil || len(camps) != 2 {
		t.Fatalf("marked campaigns: %+v %v", camps, err)
	}
	for _, m := range camps {
		if m.ArtifactID != "eml_1" || m.Kind != sandbox.KindEmail {
			t.Errorf("marked: %+v", m)
		}
		err := e.tgt.Discard(ctx, m)
		switch {
		case m.LiveID == live.ID:
			if !m.Reached || !errors.Is(err, sandbox.ErrReachedPeople) {
				t.Errorf("discard of the sent campaign: reached %v, %v", m.Reached, err)
			}
		case m.Reached || e.record(err) != nil:
			t.Errorf("discard of the stray saved campaign %+v: %v", m, err)
		}
	}
	if c := e.srv.Campaigns(); len(c) != 1 || c[0].ID != live.ID {
		t.Fatalf("campaigns after the sweep: %+v", c)
	}

	segs, err := e.tgt.Marked(ctx, sandbox.KindSegment)
	if e.record(err) != nil || len(segs) != 2 {
		t.Fatalf("marked segments: %+v %v", segs, err)
	}
	for _, m := range segs {
		err := e.tgt.Discard(ctx, m)
		switch {
		case m.LiveID == seg.ID:
			if !m.Reached || !errors.Is(err, sandbox.ErrReachedPeople) {
				t.Errorf("discard of the segment the campaign went to: reached %v, %v", m.Reached, err)
			}
		case m.Reached || e.record(err) != nil:
			t.Errorf("discard of the stray segment %+v: %v", m, err)
		}
	}
	if s := e.srv.Segments(); len(s) != 1 || !strings.HasSuffix(s[0].Name, "[lm-seg_vip]") {
		t.Fatalf("segments after the sweep: %+v", s)
	}
	// Gone already: not an error.
	if err := e.tgt.Discard(ctx, camps[0]); camps[0].LiveID != live.ID && e.record(err) != nil {
		t.Errorf("discarding a campaign already gone: %v", err)
	}
}

// Discard never deletes what does not carry the marker it was given.
func TestDiscardChecksTheMarker(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := e.put(emailObj("eml_1", nil), "")
	err := e.tgt.Discard(ctx, sandbox.Marked{Kind: sandbox.KindEmail, ArtifactID: "eml_2", LiveID: st.ID})
	if err == nil || !strings.Contains(err.Error(), "does not carry the marker") {
		t.Fatalf("discard with another marker: %v", err)
	}
	if len(e.srv.Campaigns()) != 1 {
		t.Fatal("the campaign was deleted")
	}
	marked, err := e.tgt.Marked(ctx, sandbox.KindEmail)
	if err != nil || len(marked) != 1 || marked[0].Reached || marked[0].Status != "save" {
		t.Fatalf("marked: %+v %v", marked, err)
	}
	if err := e.tgt.Discard(ctx, marked[0]); e.record(err) != nil || len(e.srv.Campaigns()) != 0 {
		t.Fatalf("discard of a saved campaign: %v", err)
	}
	if _, err := e.tgt.Marked(ctx, sandbox.KindPage); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("marked pages: %v", err)
	}
}
