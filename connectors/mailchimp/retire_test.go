package mailchimp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// clockEnv is an env whose fake and target read one clock the test moves.
type clockEnv struct {
	*env
	mu  sync.Mutex
	now time.Time
}

func newClockEnv(t *testing.T, fakeOpts ...mailchimptest.Option) *clockEnv {
	c := &clockEnv{now: time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)}
	clock := func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
	c.env = newEnv(t, append(fakeOpts, mailchimptest.WithClock(clock)), mailchimp.WithClock(clock))
	return c
}

func (c *clockEnv) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// scheduled puts an email and schedules it for two hours ahead.
func (c *clockEnv) scheduled(id string) (sandbox.Object, sandbox.LiveState) {
	c.t.Helper()
	at := c.now.Add(2 * time.Hour)
	obj := emailObj(id, func(m *sandbox.Email) { m.SendAt = &at })
	st := c.put(obj, "")
	st, err := c.tgt.Send(context.Background(), obj, st, at)
	if c.record(err) != nil || st.Status != "schedule" {
		c.t.Fatalf("schedule %s: %+v %v", id, st, err)
	}
	return obj, st
}

func TestCanRetire(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.ResetStats()
	for _, tc := range []struct {
		k    sandbox.Kind
		op   string
		want string
	}{
		{sandbox.KindEmail, sandbox.OpUnschedule, "draft (status save)"},
		{sandbox.KindEmail, sandbox.OpArchive, "with its report"},
		{sandbox.KindSegment, sandbox.OpArchive, "contacts stay in the audience"},
	} {
		if effect, err := e.tgt.CanRetire(tc.k, tc.op); err != nil || !strings.Contains(effect, tc.want) {
			t.Errorf("CanRetire(%s, %s) = %q, %v; want it to say %q", tc.k, tc.op, effect, err, tc.want)
		}
	}
	for _, tc := range []struct {
		k  sandbox.Kind
		op string
	}{
		{sandbox.KindPage, sandbox.OpUnpublish},
		{sandbox.KindWorkflow, sandbox.OpDeactivate},
		{sandbox.KindSegment, sandbox.OpUnschedule},
	} {
		if effect, err := e.tgt.CanRetire(tc.k, tc.op); !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "mailchimp") || effect != "" {
			t.Errorf("CanRetire(%s, %s) = %q, %v; want ErrNotSupported naming mailchimp", tc.k, tc.op, effect, err)
		}
	}
	obj := sandbox.Object{Kind: sandbox.KindPage, ArtifactID: "pg_1"}
	if _, err := e.tgt.Retire(context.Background(), obj, sandbox.OpUnpublish, sandbox.LiveState{ID: "1"}); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("Retire of a page: %v", err)
	}
	if n := e.srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests for what Mailchimp cannot take", n)
	}
}

func TestUnschedule(t *testing.T) {
	e := newClockEnv(t)
	ctx := context.Background()
	obj, st := e.scheduled("eml_1")
	got, err := e.tgt.Retire(ctx, obj, sandbox.OpUnschedule, st)
	if e.record(err) != nil || got.Status != "save" || got.ID != st.ID || got.Version != st.Version {
		t.Fatalf("unschedule: %+v %v, want save at version %s", got, err, st.Version)
	}
	// Again: the campaign is a draft, so nothing is asked of Mailchimp.
	again, err := e.tgt.Retire(ctx, obj, sandbox.OpUnschedule, got)
	if e.record(err) != nil || again != got {
		t.Errorf("second unschedule: %+v %v, want %+v", again, err, got)
	}
	if n := e.srv.Stats().ByRoute["POST /campaigns/{campaign_id}/actions/unschedule"]; n != 1 {
		t.Errorf("%d unschedule actions, want 1", n)
	}
	e.advance(3 * time.Hour)
	if c, _ := e.srv.Campaign(st.ID); c.Status != "save" || len(c.Recipients) != 0 || c.SendActions-c.Unschedules != 0 {
		t.Errorf("after its old send time: %+v", c)
	}
}

// An unschedule whose answer is lost is tried again; Mailchimp refuses
// the second (the campaign is a draft already) and the status settles it.
func TestUnscheduleAnswerLost(t *testing.T) {
	e := newClockEnv(t)
	obj, st := e.scheduled("eml_1")
	e.srv.Inject(faketest.Fault{Op: "POST /campaigns/{campaign_id}/actions/unschedule", Kind: faketest.FailAfterApply, Status: http.StatusBadGateway})
	got, err := e.tgt.Retire(context.Background(), obj, sandbox.OpUnschedule, st)
	if e.record(err) != nil || got.Status != "save" {
		t.Fatalf("unschedule after a lost answer: %+v %v", got, err)
	}
	if c, _ := e.srv.Campaign(st.ID); c.Status != "save" || c.Unschedules != 1 {
		t.Errorf("campaign %+v", c)
	}
}

func TestUnscheduleAfterSent(t *testing.T) {
	e := newClockEnv(t)
	ctx := context.Background()
	// Sent now: there is nothing to unschedule, and lastmile says so.
	obj := emailObj("eml_1", nil)
	st := e.put(obj, "")
	st, err := e.tgt.Send(ctx, obj, st, time.Time{})
	if e.record(err) != nil {
		t.Fatal(err)
	}
	_, err = e.tgt.Retire(ctx, obj, sandbox.OpUnschedule, st)
	if e.record(err) == nil || !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "cannot be unsent") || !strings.Contains(err.Error(), st.ID) {
		t.Errorf("unschedule of a sent campaign: %v", err)
	}
	// Scheduled, and its time came before the unschedule did.
	obj2, st2 := e.scheduled("eml_2")
	e.advance(3 * time.Hour)
	_, err = e.tgt.Retire(ctx, obj2, sandbox.OpUnschedule, st2)
	if e.record(err) == nil || !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), `"sent"`) {
		t.Errorf("unschedule after the send time: %v", err)
	}
	if n := e.srv.Stats().ByRoute["POST /campaigns/{campaign_id}/actions/unschedule"]; n != 0 {
		t.Errorf("%d unschedule actions sent for sent campaigns", n)
	}
	// Gone from Mailchimp: an error, not a silent success.
	_, err = e.tgt.Retire(ctx, obj, sandbox.OpUnschedule, sandbox.LiveState{ID: "0fedcba987"})
	if e.record(err) == nil || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("unschedule of a missing campaign: %v", err)
	}
}

func TestArchiveEmail(t *testing.T) {
	e := newClockEnv(t)
	ctx := context.Background()
	// A sent campaign is deleted, and its report with it.
	obj := emailObj("eml_1", nil)
	st := e.put(obj, "")
	st, err := e.tgt.Send(ctx, obj, st, time.Time{})
	if e.record(err) != nil {
		t.Fatal(err)
	}
	got, err := e.tgt.Retire(ctx, obj, sandbox.OpArchive, st)
	if e.record(err) != nil || got.ID != st.ID {
		t.Fatalf("archive of a sent campaign: %+v %v", got, err)
	}
	if _, found, err := e.tgt.Live(ctx, sandbox.KindEmail, st.ID); err != nil || found {
		t.Errorf("after archive: found=%v %v", found, err)
	}
	if ms, err := e.tgt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_1", Kind: sandbox.KindEmail, LiveID: st.ID}}}); err != nil || len(ms) != 0 {
		t.Errorf("metrics of a deleted campaign: %+v %v", ms, err)
	}
	// A scheduled one is unscheduled first: it never goes out.
	obj2, st2 := e.scheduled("eml_2")
	if _, err := e.tgt.Retire(ctx, obj2, sandbox.OpArchive, st2); e.record(err) != nil {
		t.Fatalf("archive of a scheduled campaign: %v", err)
	}
	if _, ok := e.srv.Campaign(st2.ID); ok {
		t.Errorf("the scheduled campaign is still there")
	}
	// Deleted meanwhile (the DELETE answers 404): gone, as asked.
	st3 := e.put(emailObj("eml_3", nil), "")
	e.srv.Inject(faketest.Fault{Op: "DELETE /campaigns/{campaign_id}", Kind: faketest.Fail, Status: http.StatusNotFound, Code: "Resource Not Found"})
	if _, err := e.tgt.Retire(ctx, emailObj("eml_3", nil), sandbox.OpArchive, st3); e.record(err) != nil {
		t.Errorf("archive answered 404: %v", err)
	}
	// And already gone before it was looked at.
	if _, err := e.tgt.Retire(ctx, obj, sandbox.OpArchive, st); e.record(err) != nil {
		t.Errorf("archive of a deleted campaign: %v", err)
	}
}

func TestArchiveWhileSending(t *testing.T) {
	e := newClockEnv(t, mailchimptest.WithSendingFor(time.Hour))
	ctx := context.Background()
	obj := emailObj("eml_1", nil)
	st := e.put(obj, "")
	st, err := e.tgt.Send(ctx, obj, st, time.Time{})
	if e.record(err) != nil {
		t.Fatal(err)
	}
	_, err = e.tgt.Retire(ctx, obj, sandbox.OpArchive, st)
	if e.record(err) == nil || !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "while it sends") {
		t.Errorf("archive while sending: %v", err)
	}
	if _, ok := e.srv.Campaign(st.ID); !ok {
		t.Errorf("a sending campaign was deleted")
	}
	e.advance(2 * time.Hour)
	if _, err := e.tgt.Retire(ctx, obj, sandbox.OpArchive, st); e.record(err) != nil {
		t.Errorf("archive once sent: %v", err)
	}
}

func TestArchiveSegment(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := segmentObj("seg_1", "VIPs", sandbox.Segment{StaticEmails: []string{"member01@example.com"}})
	st := e.put(obj, "")
	// Mailchimp's connection limit: the delete is tried again.
	e.srv.Inject(faketest.Fault{Op: "DELETE /lists/{list_id}/segments/{segment_id}", Kind: faketest.RateLimit})
	if _, err := e.tgt.Retire(ctx, obj, sandbox.OpArchive, st); e.record(err) != nil {
		t.Fatalf("archive segment: %v", err)
	}
	if _, found, err := e.tgt.Live(ctx, sandbox.KindSegment, st.ID); err != nil || found {
		t.Errorf("after archive: found=%v %v", found, err)
	}
	if n := e.srv.Stats().ByRoute["DELETE /lists/{list_id}/segments/{segment_id}"]; n != 2 {
		t.Errorf("%d deletes, want 2 (one refused with a 429)", n)
	}
	// Gone already: a 404 is success.
	if _, err := e.tgt.Retire(ctx, obj, sandbox.OpArchive, sandbox.LiveState{ID: "999999"}); e.record(err) != nil {
		t.Errorf("archive of a missing segment: %v", err)
	}
	// Any other refusal is an error that names the segment.
	st2 := e.put(segmentObj("seg_2", "Leads", sandbox.Segment{StaticEmails: []string{"member02@example.com"}}), "")
	e.srv.Inject(faketest.Fault{Op: "DELETE /lists/{list_id}/segments/{segment_id}", Kind: faketest.Fail, Status: http.StatusForbidden, Code: "Forbidden"})
	_, err := e.tgt.Retire(ctx, segmentObj("seg_2", "Leads", sandbox.Segment{}), sandbox.OpArchive, st2)
	if e.record(err) == nil || !strings.Contains(err.Error(), `"Leads"`) || !strings.Contains(err.Error(), "permission") {
		t.Errorf("a refused segment delete: %v", err)
	}
}

// A key revoked after connecting: every retirement says how to reconnect,
// and never shows the key.
func TestRetireAuthFailure(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sched := e.put(emailObj("eml_1", nil), "")
	seg := e.put(segmentObj("seg_1", "VIPs", sandbox.Segment{StaticEmails: []string{"member01@example.com"}}), "")
	const wrong = "ffffffffffffffffffffffffffffffff-us21"
	dir := t.TempDir()
	t.Setenv("MC_KEY2", wrong)
	other := mailchimptest.New(t, mailchimptest.WithAPIKey(wrong))
	if _, err := mailchimp.ConnectAPIKey(ctx, dir, "mc2", "MC_KEY2", mailchimp.WithBaseURL(other.BaseURL())); err != nil {
		t.Fatal(err)
	}
	tgt, err := mailchimp.New("mc2", dir, mailchimp.Config{ListID: e.srv.ListID(), BaseURL: e.srv.BaseURL()}, mailchimp.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		obj  sandbox.Object
		op   string
		live sandbox.LiveState
	}{
		{"unschedule", emailObj("eml_1", nil), sandbox.OpUnschedule, sched},
		{"archive email", emailObj("eml_1", nil), sandbox.OpArchive, sched},
		{"archive segment", segmentObj("seg_1", "VIPs", sandbox.Segment{}), sandbox.OpArchive, seg},
	} {
		_, err := tgt.Retire(ctx, tc.obj, tc.op, tc.live)
		if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect mailchimp --name mc2") || strings.Contains(err.Error(), "ffffffff") {
			t.Errorf("%s with a revoked key: %v", tc.name, err)
		}
	}
	if _, ok := e.srv.Campaign(sched.ID); !ok {
		t.Errorf("the campaign went with a revoked key")
	}
	if got := e.srv.Stats().Unauthorized; got != 3 {
		t.Errorf("%d unauthorized requests, want 3 (one each, none retried)", got)
	}
}
