package mailchimp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// env is one fake Mailchimp plus a connected target, with everything the
// target logs and every error the test saw, to check for leaked secrets.
type env struct {
	t      *testing.T
	srv    *mailchimptest.Server
	tgt    *mailchimp.Target
	logs   *promotetest.Buffer
	errs   []error
	errsMu sync.Mutex
}

func noSleep(context.Context, time.Duration) error { return nil }

func newEnv(t *testing.T, fakeOpts []mailchimptest.Option, opts ...mailchimp.Option) *env {
	t.Helper()
	srv := mailchimptest.New(t, fakeOpts...)
	e := &env{t: t, srv: srv, logs: &promotetest.Buffer{}}
	dataDir := t.TempDir()
	t.Setenv("LASTMILE_TEST_MC_KEY", srv.APIKey())
	var prompts bytes.Buffer
	acct, err := mailchimp.ConnectAPIKey(context.Background(), dataDir, "mc", "LASTMILE_TEST_MC_KEY",
		mailchimp.WithBaseURL(srv.BaseURL()), mailchimp.WithPrompt(&prompts))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if acct.DC != "us21" || len(acct.Audiences) != 1 || acct.Audiences[0].ID != srv.ListID() || acct.Audiences[0].Members != 50 {
		t.Fatalf("account: %+v", acct)
	}
	if cfg, err := acct.Config(""); err != nil || cfg.ListID != srv.ListID() {
		t.Fatalf("account config: %+v %v", cfg, err)
	}
	if _, err := acct.Config("nope"); err == nil || !strings.Contains(err.Error(), srv.ListID()) {
		t.Fatalf("unknown audience: %v", err)
	}
	if strings.Contains(prompts.String(), srv.APIKey()) {
		t.Fatalf("connect printed the key")
	}
	st, err := os.Stat(filepath.Join(dataDir, "credentials", "mc.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append([]mailchimp.Option{mailchimp.WithSleep(noSleep), mailchimp.WithLogger(logger)}, opts...)
	tgt, err := mailchimp.New("mc", dataDir, mailchimp.Config{ListID: srv.ListID(), BaseURL: srv.BaseURL()}, all...)
	if err != nil {
		t.Fatal(err)
	}
	e.tgt = tgt
	t.Cleanup(e.checkNoSecrets)
	return e
}

// record keeps an error for the secret check and returns it.
func (e *env) record(err error) error {
	if err != nil {
		e.errsMu.Lock()
		e.errs = append(e.errs, err)
		e.errsMu.Unlock()
	}
	return err
}

func (e *env) checkNoSecrets() {
	key := e.srv.APIKey()
	secretPart := key[:strings.LastIndexByte(key, '-')]
	for _, err := range e.errs {
		if strings.Contains(err.Error(), secretPart) {
			e.t.Errorf("an error carries the API key: %v", err)
		}
	}
	if strings.Contains(e.logs.String(), secretPart) {
		e.t.Errorf("the log carries the API key")
	}
}

func (e *env) put(obj sandbox.Object, liveID string) sandbox.LiveState {
	e.t.Helper()
	st, err := e.tgt.Put(context.Background(), obj, liveID)
	if e.record(err) != nil {
		e.t.Fatalf("put %s: %v", obj.ArtifactID, err)
	}
	return st
}

func segmentObj(id, name string, seg sandbox.Segment) sandbox.Object {
	seg.Name = name
	return sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Segment: &seg,
		Campaign: sandbox.Campaign{ID: "cmp_1", Name: "Spring", Target: "mc"}}
}

func emailObj(id string, mod func(*sandbox.Email)) sandbox.Object {
	e := &sandbox.Email{
		Name:        "Spring launch " + id,
		Subject:     "Hello {{ contact.first_name | default: \"there\" }}",
		PreviewText: "Our spring range is here",
		FromName:    "Acme",
		FromEmail:   "news@acme.example",
		HTML:        `<p>Hi {{ contact.first_name }}</p><a href="https://acme.example/?utm_source=mc">Shop</a><a href="{{ unsubscribe_url }}">Unsubscribe</a>`,
		Text:        "Hi {{ contact.first_name }}\nUnsubscribe: {{ unsubscribe_url }}",
	}
	if mod != nil {
		mod(e)
	}
	return sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Email: e,
		Campaign: sandbox.Campaign{ID: "cmp_1", Name: "Spring", Target: "mc"}, Refs: map[string]string{}, Segments: map[string]*sandbox.Segment{}}
}

func TestCapabilities(t *testing.T) {
	e := newEnv(t, nil)
	c := e.tgt.Capabilities()
	if !c.Emails || !c.Segments || !c.Metrics || c.Workflows || c.Pages {
		t.Errorf("capabilities %+v", c)
	}
	if e.tgt.Name() != "mc" || e.tgt.Platform() != "mailchimp" {
		t.Errorf("name %q platform %q", e.tgt.Name(), e.tgt.Platform())
	}
}

func TestStaticSegmentContract(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com", "Member02@example.com", "nobody@example.com"}})
	st := e.put(obj, "")
	segs := e.srv.Segments()
	if len(segs) != 1 || segs[0].Type != "static" || segs[0].Name != "VIP [lm-seg_vip]" || strconv.Itoa(segs[0].ID) != st.ID {
		t.Fatalf("segments %+v, state %+v", segs, st)
	}
	if got := e.srv.SegmentMembers(segs[0].ID); strings.Join(got, ",") != "member01@example.com,member02@example.com" {
		t.Errorf("members %v", got)
	}
	live, found, err := e.tgt.Live(ctx, sandbox.KindSegment, st.ID)
	if e.record(err) != nil || !found || live.Version != st.Version || live.Status != "static" {
		t.Fatalf("live %+v %v %v (put %+v)", live, found, err, st)
	}
	fs, found, err := e.tgt.Find(ctx, obj)
	if e.record(err) != nil || !found || fs.ID != st.ID {
		t.Fatalf("find %+v %v %v", fs, found, err)
	}
	obj.Segment.StaticEmails = []string{"member03@example.com"}
	st2 := e.put(obj, st.ID)
	if st2.ID != st.ID || st2.Version == st.Version {
		t.Errorf("update: %+v after %+v", st2, st)
	}
	if got := e.srv.SegmentMembers(segs[0].ID); strings.Join(got, ",") != "member03@example.com" || len(e.srv.Segments()) != 1 {
		t.Errorf("after update: members %v, %d segments", got, len(e.srv.Segments()))
	}
	if _, found, err := e.tgt.Live(ctx, sandbox.KindSegment, "999999"); err != nil || found {
		t.Errorf("unknown segment: %v %v", found, err)
	}
	other := segmentObj("seg_other", "Other", sandbox.Segment{StaticEmails: []string{"a@b.c"}})
	if _, found, err := e.tgt.Find(ctx, other); err != nil || found {
		t.Errorf("find of an object never created: %v %v", found, err)
	}
}

func TestSavedSegmentContract(t *testing.T) {
	e := newEnv(t, nil)
	vip := segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member03@example.com", "member06@example.com"}})
	vipState := e.put(vip, "")
	obj := segmentObj("seg_pro", "Pro, not VIP", sandbox.Segment{
		Group:           sandbox.Group{Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}}},
		ExcludeSegments: []string{"seg_vip"},
	})
	obj.Refs = map[string]string{"seg_vip": vipState.ID}
	obj.Segments = map[string]*sandbox.Segment{"seg_vip": vip.Segment, "seg_pro": obj.Segment}
	st := e.put(obj, "")
	id, _ := strconv.Atoi(st.ID)
	if got := len(e.srv.SegmentMembers(id)); got != 14 {
		t.Errorf("pro minus 2 VIPs: %d members, want 14", got)
	}
	segs := e.srv.Segments()
	if segs[1].Type != "saved" || segs[1].Options["match"] != "all" {
		t.Errorf("saved segment %+v", segs[1])
	}
	// Same without the definitions: the target asks Mailchimp whether the
	// excluded segment is static.
	obj2 := segmentObj("seg_pro2", "Pro, not VIP (2)", *obj.Segment)
	obj2.Refs = obj.Refs
	e.put(obj2, "")
	// Not live yet: a clear error, nothing created.
	obj3 := segmentObj("seg_pro3", "Pro 3", *obj.Segment)
	_, err := e.tgt.Put(context.Background(), obj3, "")
	if e.record(err) == nil || !strings.Contains(err.Error(), "not live on Mailchimp target") {
		t.Errorf("missing ref: %v", err)
	}
	if n := len(e.srv.Segments()); n != 3 {
		t.Errorf("%d segments, want 3", n)
	}
}

func TestEmailContract(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	seg := e.put(segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com"}}), "")
	obj := emailObj("eml_1", func(m *sandbox.Email) {
		m.ReplyTo = "reply@acme.example"
		m.Audience.Include = []string{"seg_vip"}
	})
	obj.Refs["seg_vip"] = seg.ID
	st := e.put(obj, "")
	c, ok := e.srv.Campaign(st.ID)
	if !ok {
		t.Fatalf("no campaign %s", st.ID)
	}
	segID, _ := strconv.Atoi(seg.ID)
	checks := []struct {
		what      string
		got, want any
	}{
		{"type", c.Type, "regular"},
		{"status", c.Status, "save"},
		{"list", c.ListID, e.srv.ListID()},
		{"segment", c.SegmentOpts["saved_segment_id"], float64(segID)},
		{"title", c.Settings.Title, "Spring launch eml_1 [lm-eml_1]"},
		{"subject", c.Settings.SubjectLine, "Hello *|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*"},
		{"preview", c.Settings.PreviewText, "Our spring range is here"},
		{"from name", c.Settings.FromName, "Acme"},
		{"reply-to", c.Settings.ReplyTo, "reply@acme.example"},
		{"auto footer", c.Settings.AutoFooter, false},
		{"html", c.HTML, `<p>Hi *|FNAME|*</p><a href="https://acme.example/?utm_source=mc">Shop</a><a href="*|UNSUB|*">Unsubscribe</a>`},
		{"text", c.PlainText, "Hi *|FNAME|*\nUnsubscribe: *|UNSUB|*"},
		{"state status", st.Status, "save"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	if st.URL == "" || st.Version == "" {
		t.Errorf("state %+v", st)
	}
	live, found, err := e.tgt.Live(ctx, sandbox.KindEmail, st.ID)
	if e.record(err) != nil || !found || live.Version != st.Version {
		t.Fatalf("live %+v %v %v, put %+v", live, found, err, st)
	}
	fs, found, err := e.tgt.Find(ctx, obj)
	if e.record(err) != nil || !found || fs.ID != st.ID || fs.Version != st.Version {
		t.Fatalf("find %+v %v %v", fs, found, err)
	}
	// Update: new subject, the whole audience, from_email as reply-to.
	obj.Email.Subject = "Spring is here"
	obj.Email.ReplyTo = ""
	obj.Email.Audience.Include = nil
	st2 := e.put(obj, st.ID)
	c, _ = e.srv.Campaign(st.ID)
	if st2.ID != st.ID || st2.Version == st.Version || c.Settings.SubjectLine != "Spring is here" ||
		c.Settings.ReplyTo != "news@acme.example" || c.SegmentOpts != nil || len(e.srv.Campaigns()) != 1 {
		t.Errorf("after update: %+v, campaign %+v", st2, c)
	}
	if _, found, err := e.tgt.Live(ctx, sandbox.KindEmail, "nope"); err != nil || found {
		t.Errorf("unknown campaign: %v %v", found, err)
	}
	// No unsubscribe link of its own: Mailchimp's footer is turned on.
	obj2 := emailObj("eml_2", func(m *sandbox.Email) { m.HTML = "<p>hi</p>"; m.Text = "hi" })
	st3 := e.put(obj2, "")
	if c, _ := e.srv.Campaign(st3.ID); !c.Settings.AutoFooter {
		t.Errorf("auto_footer off without an unsubscribe link")
	}
}

func TestSendNowOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := emailObj("eml_1", nil)
	st := e.put(obj, "")
	sent, err := e.tgt.Send(ctx, obj, st, time.Time{})
	if e.record(err) != nil || sent.Status != "sending" || sent.ID != st.ID || sent.Version != st.Version || sent.URL == "" {
		t.Fatalf("send: %+v %v", sent, err)
	}
	again, err := e.tgt.Send(ctx, obj, st, time.Time{})
	if e.record(err) != nil || again.Status != "sent" {
		t.Fatalf("second send: %+v %v", again, err)
	}
	c, _ := e.srv.Campaign(st.ID)
	if c.SendActions != 1 || len(c.Recipients) != 50 {
		t.Errorf("sent %d times to %d", c.SendActions, len(c.Recipients))
	}
	// A sent campaign cannot change: the plan says so, and the update
	// leaves it as it was sent instead of failing the promotion.
	obj.Email.Subject = "changed"
	obj.Refs = map[string]string{obj.ArtifactID: st.ID}
	if a, err := e.tgt.Assess(ctx, obj); e.record(err) != nil || len(a.Problems) != 0 || !containsText(a.Notes, "cannot change") {
		t.Errorf("assess of a sent campaign: %+v %v", a, err)
	}
	kept, err := e.tgt.Put(ctx, obj, st.ID)
	if e.record(err) != nil || kept.ID != st.ID || kept.Version != st.Version {
		t.Errorf("update of a sent campaign: %+v %v, want it unchanged (%+v)", kept, err, st)
	}
	if c, _ := e.srv.Campaign(st.ID); c.Settings.SubjectLine == "changed" {
		t.Errorf("the sent campaign's subject changed")
	}
	// Metrics from the report.
	ms, err := e.tgt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{
		{ArtifactID: "eml_1", Kind: sandbox.KindEmail, LiveID: st.ID},
		{ArtifactID: "seg_x", Kind: sandbox.KindSegment, LiveID: "1"},
	}})
	if e.record(err) != nil || len(ms) != 1 {
		t.Fatalf("metrics: %+v %v", ms, err)
	}
	want := mailchimptest.ReportFor(c)
	m := ms[0]
	got := map[string]int64{
		sandbox.MetricSent:         int64(want.EmailsSent),
		sandbox.MetricDelivered:    int64(want.EmailsSent - want.HardBounces - want.SoftBounces),
		sandbox.MetricOpens:        int64(want.OpensTotal),
		sandbox.MetricUniqueOpens:  int64(want.UniqueOpens),
		sandbox.MetricClicks:       int64(want.ClicksTotal),
		sandbox.MetricUniqueClicks: int64(want.UniqueClicks),
		sandbox.MetricBounces:      int64(want.HardBounces + want.SoftBounces),
		sandbox.MetricUnsubscribes: int64(want.Unsubscribed),
		sandbox.MetricSpamReports:  int64(want.AbuseReports),
		"bounces.hard_bounces":     int64(want.HardBounces),
	}
	for k, v := range got {
		if m.Counters[k] != v {
			t.Errorf("counter %s = %d, want %d", k, m.Counters[k], v)
		}
	}
	if m.ArtifactID != "eml_1" || m.Source != "mailchimp" || m.Ratios["open_rate"] == 0 || m.FetchedAt.IsZero() {
		t.Errorf("metrics %+v", m)
	}
	// Not sent yet: no report, no error.
	st2 := e.put(emailObj("eml_2", nil), "")
	ms, err = e.tgt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_2", Kind: sandbox.KindEmail, LiveID: st2.ID}}})
	if err != nil || len(ms) != 0 {
		t.Errorf("metrics of an unsent campaign: %+v %v", ms, err)
	}
}

func TestScheduleRoundsUpToQuarterHour(t *testing.T) {
	now := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)
	e := newEnv(t, []mailchimptest.Option{mailchimptest.WithClock(func() time.Time { return now })},
		mailchimp.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	at := time.Date(2030, 5, 1, 10, 7, 0, 0, time.UTC)
	obj := emailObj("eml_1", func(m *sandbox.Email) { m.SendAt = &at })
	a, err := e.tgt.Assess(ctx, obj)
	if e.record(err) != nil {
		t.Fatal(err)
	}
	if !contains(a.Notes, "Mailchimp schedules on the quarter hour: 10:07 becomes 10:15 UTC") || len(a.Problems) != 0 || a.AudienceSize != 50 {
		t.Errorf("assessment %+v", a)
	}
	st := e.put(obj, "")
	sched, err := e.tgt.Send(ctx, obj, st, at)
	if e.record(err) != nil || sched.Status != "schedule" {
		t.Fatalf("schedule: %+v %v", sched, err)
	}
	c, _ := e.srv.Campaign(st.ID)
	if !c.SendTime.Equal(time.Date(2030, 5, 1, 10, 15, 0, 0, time.UTC)) || c.SendActions != 1 {
		t.Errorf("scheduled for %v (%d actions)", c.SendTime, c.SendActions)
	}
	// Scheduled already: neither a second schedule nor a send.
	if again, err := e.tgt.Send(ctx, obj, st, time.Time{}); e.record(err) != nil || again.Status != "schedule" {
		t.Errorf("send after schedule: %+v %v", again, err)
	}
	if c, _ := e.srv.Campaign(st.ID); c.SendActions != 1 {
		t.Errorf("%d send actions", c.SendActions)
	}
	// A time that has passed is refused, not sent now — at plan time and at promotion.
	past := now.Add(-time.Hour)
	a, err = e.tgt.Assess(ctx, emailObj("eml_3", func(m *sandbox.Email) { m.SendAt = &past }))
	if err != nil || !contains(a.Problems, "has passed") {
		t.Errorf("assess of a past send time: %+v %v", a, err)
	}
	far := now.AddDate(2, 0, 0)
	a, err = e.tgt.Assess(ctx, emailObj("eml_3", func(m *sandbox.Email) { m.SendAt = &far }))
	if err != nil || !contains(a.Problems, "a year") {
		t.Errorf("assess of a send time two years ahead: %+v %v", a, err)
	}
	st2 := e.put(emailObj("eml_2", nil), "")
	_, err = e.tgt.Send(ctx, emailObj("eml_2", nil), st2, past)
	if e.record(err) == nil || !strings.Contains(err.Error(), "has passed") {
		t.Errorf("past time: %v", err)
	}
}

func TestChecklistFailuresItemByItem(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := emailObj("eml_1", func(m *sandbox.Email) {
		m.Subject, m.FromName, m.FromEmail, m.ReplyTo = "", "", "", ""
	})
	a, err := e.tgt.Assess(ctx, obj)
	if e.record(err) != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no subject line", "no from name", "reply-to"} {
		if !contains(a.Problems, want) {
			t.Errorf("assessment lacks %q: %q", want, a.Problems)
		}
	}
	// Promoted anyway (say the plan was made elsewhere): Mailchimp's
	// checklist stops the send, item by item, and nothing goes out.
	st := e.put(obj, "")
	_, err = e.tgt.Send(ctx, obj, st, time.Time{})
	e.record(err)
	var ce *mailchimp.ChecklistError
	if !errors.As(err, &ce) {
		t.Fatalf("send: %v", err)
	}
	var headings []string
	for _, it := range ce.Items {
		headings = append(headings, it.Heading)
	}
	if strings.Join(headings, ",") != "Subject line,From name,From email address" {
		t.Errorf("items %v", headings)
	}
	for _, want := range []string{`send email "Spring launch eml_1"`, "3 items", "1. Subject line: Add a subject line; 2.", "2. From name", "3. From email address", "nothing was sent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if c, _ := e.srv.Campaign(st.ID); c.Status != "save" || c.SendActions != 0 {
		t.Errorf("campaign %+v", c)
	}
}

func TestAssessUnsupportedKinds(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	wf := sandbox.Object{Kind: sandbox.KindWorkflow, ArtifactID: "wf_1", Marker: "lm-wf_1", Workflow: &sandbox.Workflow{Name: "Welcome"}}
	pg := sandbox.Object{Kind: sandbox.KindPage, ArtifactID: "pg_1", Marker: "lm-pg_1", Page: &sandbox.Page{Title: "Spring", Slug: "spring"}}
	for _, tc := range []struct {
		obj  sandbox.Object
		want []string
	}{
		{wf, []string{"Customer Journeys", "local or hubspot"}},
		{pg, []string{"wordpress, local or hubspot"}},
	} {
		a, err := e.tgt.Assess(ctx, tc.obj)
		if err != nil || len(a.Problems) != 1 {
			t.Fatalf("%s: %+v %v", tc.obj.Kind, a, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(a.Problems[0], w) {
				t.Errorf("%s: problem %q lacks %q", tc.obj.Kind, a.Problems[0], w)
			}
		}
		if _, err := e.tgt.Put(ctx, tc.obj, ""); !errors.Is(err, sandbox.ErrNotSupported) {
			t.Errorf("%s put: %v", tc.obj.Kind, err)
		}
		if _, err := e.tgt.Publish(ctx, tc.obj, sandbox.LiveState{ID: "1"}, time.Time{}); !errors.Is(err, sandbox.ErrNotSupported) {
			t.Errorf("%s publish: %v", tc.obj.Kind, err)
		}
	}
	if st := e.srv.Stats(); st.ByRoute["POST /campaigns"]+st.ByRoute["POST /lists/{list_id}/segments"] != 0 {
		t.Errorf("something was written: %v", st.ByRoute)
	}
}

func TestAssessSegmentsAndAudiences(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	nested := segmentObj("seg_n", "Nested", sandbox.Segment{Group: sandbox.Group{Match: "all",
		Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}},
		Groups:     []sandbox.Group{{Match: "any", Conditions: []sandbox.Condition{{Property: "first_name", Operator: "eq", Value: "A"}}}}}})
	a, err := e.tgt.Assess(ctx, nested)
	if err != nil || !contains(a.Problems, "mixed all/any") {
		t.Errorf("nested mixed: %+v %v", a, err)
	}
	ok := segmentObj("seg_ok", "Tier", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "tier", Operator: "eq", Value: "gold"}}}})
	a, err = e.tgt.Assess(ctx, ok)
	if err != nil || len(a.Problems) != 0 || !contains(a.Notes, "*|TIER|*") {
		t.Errorf("plain segment: %+v %v", a, err)
	}
	// An email to two conditions segments cannot be expressed.
	defs := map[string]*sandbox.Segment{"seg_a": ok.Segment, "seg_b": ok.Segment}
	em := emailObj("eml_1", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_a", "seg_b"} })
	em.Segments = defs
	a, err = e.tgt.Assess(ctx, em)
	if err != nil || !contains(a.Problems, "has conditions") {
		t.Errorf("two saved segments: %+v %v", a, err)
	}
	// A segment staged for another target.
	hs := *ok.Segment
	hs.Target = "hubspot"
	em2 := emailObj("eml_2", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_h"} })
	em2.Segments = map[string]*sandbox.Segment{"seg_h": &hs}
	a, err = e.tgt.Assess(ctx, em2)
	if err != nil || !contains(a.Problems, `staged for target "hubspot"`) {
		t.Errorf("cross-target segment: %+v %v", a, err)
	}
	// The audience size of a live segment.
	live := e.put(segmentObj("seg_live", "Live", sandbox.Segment{StaticEmails: []string{"member01@example.com", "member02@example.com"}}), "")
	em3 := emailObj("eml_3", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_live"} })
	em3.Refs["seg_live"] = live.ID
	a, err = e.tgt.Assess(ctx, em3)
	if err != nil || a.AudienceSize != 2 || len(a.Problems) != 0 {
		t.Errorf("live segment: %+v %v", a, err)
	}
}

func TestWrongKeyIsAnAuthError(t *testing.T) {
	srv := mailchimptest.New(t)
	dataDir := t.TempDir()
	const wrong = "ffffffffffffffffffffffffffffffff-us21"
	t.Setenv("MC_WRONG_KEY", wrong)
	_, err := mailchimp.ConnectAPIKey(context.Background(), dataDir, "mc", "MC_WRONG_KEY", mailchimp.WithBaseURL(srv.BaseURL()))
	if !errors.Is(err, sandbox.ErrAuth) || strings.Contains(err.Error(), "ffffffff") || !strings.Contains(err.Error(), "API Key Invalid") {
		t.Errorf("connect with a wrong key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "credentials", "mc.json")); err == nil {
		t.Errorf("a rejected key was stored")
	}
	// A key revoked after connecting: every call says how to reconnect.
	e := newEnv(t, nil)
	dir := t.TempDir()
	t.Setenv("MC_KEY2", wrong)
	// Store the wrong key by connecting against a fake that accepts it.
	other := mailchimptest.New(t, mailchimptest.WithAPIKey(wrong))
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc2", "MC_KEY2", mailchimp.WithBaseURL(other.BaseURL())); err != nil {
		t.Fatal(err)
	}
	tgt, err := mailchimp.New("mc2", dir, mailchimp.Config{ListID: e.srv.ListID(), BaseURL: e.srv.BaseURL()}, mailchimp.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tgt.Put(context.Background(), segmentObj("seg_1", "S", sandbox.Segment{StaticEmails: []string{"a@b.c"}}), "")
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect mailchimp --name mc2") || strings.Contains(err.Error(), "ffffffff") {
		t.Errorf("put with a revoked key: %v", err)
	}
}

func TestConnectAPIKeyErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MC_EMPTY", "")
	t.Setenv("MC_NODC", "0123456789abcdef0123456789abcdef")
	tests := []struct{ env, want string }{
		{"MC_EMPTY", "is empty or unset"},
		{"MC_NODC", "no data-centre suffix"},
		{"0123456789abcdef0123456789abcdef-us21", "not the key itself"},
		{"", "name the environment variable"},
	}
	for _, tc := range tests {
		_, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%q: %v", tc.env, err)
		}
	}
	if _, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: "x"}); !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect mailchimp --name mc") {
		t.Errorf("new without credentials: %v", err)
	}
	if _, err := mailchimp.New("mc", dir, mailchimp.Config{}); err == nil || !strings.Contains(err.Error(), "list_id") {
		t.Errorf("new without list_id: %v", err)
	}
}

func TestConnectOAuth(t *testing.T) {
	srv := mailchimptest.New(t)
	dir := t.TempDir()
	t.Setenv("MC_CLIENT_SECRET", mailchimptest.DefaultClientSecret)
	var prompts bytes.Buffer
	var browserErr error
	var wg sync.WaitGroup
	browser := func(u string) error {
		wg.Add(1)
		go func() { // the user's browser follows the redirect back to the loopback listener
			defer wg.Done()
			resp, err := http.Get(u)
			if err != nil {
				browserErr = err
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
	acct, err := mailchimp.ConnectOAuth(context.Background(), dir, "mc", mailchimptest.DefaultClientID, "MC_CLIENT_SECRET",
		mailchimp.WithOAuthEndpoints(srv.URL()+"/oauth2/authorize", srv.URL()+"/oauth2/token"), mailchimp.WithMetadataURL(srv.URL()+"/oauth2/metadata"),
		mailchimp.WithListenAddr("127.0.0.1:0"), mailchimp.WithBrowser(browser), mailchimp.WithPrompt(&prompts))
	wg.Wait()
	if err != nil || browserErr != nil {
		t.Fatalf("connect: %v %v", err, browserErr)
	}
	if acct.Method != "oauth" || acct.DC != "us21" || acct.APIEndpoint != srv.URL() || len(acct.Audiences) != 1 {
		t.Errorf("account %+v", acct)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "credentials", "mc.json"))
	if !strings.Contains(string(raw), `"kind": "oauth"`) || strings.Contains(prompts.String(), mailchimptest.DefaultClientSecret) {
		t.Errorf("stored %s / prompts %s", raw, prompts.String())
	}
	// The stored token works (Bearer), with the API endpoint from the metadata.
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: srv.ListID()}, mailchimp.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	st, err := tgt.Put(context.Background(), segmentObj("seg_1", "S", sandbox.Segment{StaticEmails: []string{"member01@example.com"}}), "")
	if err != nil || st.ID == "" {
		t.Fatalf("put with the OAuth token: %v", err)
	}
	// A wrong client secret: a clear auth error without the secret.
	t.Setenv("MC_BAD_SECRET", "not-the-secret-value")
	_, err = mailchimp.ConnectOAuth(context.Background(), t.TempDir(), "mc", mailchimptest.DefaultClientID, "MC_BAD_SECRET",
		mailchimp.WithOAuthEndpoints(srv.URL()+"/oauth2/authorize", srv.URL()+"/oauth2/token"), mailchimp.WithMetadataURL(srv.URL()+"/oauth2/metadata"),
		mailchimp.WithListenAddr("127.0.0.1:0"), mailchimp.WithBrowser(browser))
	wg.Wait()
	if !errors.Is(err, sandbox.ErrAuth) || strings.Contains(err.Error(), "not-the-secret-value") {
		t.Errorf("bad client secret: %v", err)
	}
}

// With 50 calls at once and the fake refusing an 11th simultaneous request,
// the shared semaphore keeps Mailchimp from ever answering 429 — across two
// Target instances of the same account built with the same Limits.
func TestConnectionLimitUnderFiftyConcurrentCalls(t *testing.T) {
	limits := mailchimp.NewLimits()
	e := newEnv(t, []mailchimptest.Option{mailchimptest.WithLatency(5 * time.Millisecond)}, mailchimp.WithLimits(limits))
	dataDir := t.TempDir()
	t.Setenv("LASTMILE_TEST_MC_KEY2", e.srv.APIKey())
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dataDir, "mc-b", "LASTMILE_TEST_MC_KEY2", mailchimp.WithBaseURL(e.srv.BaseURL())); err != nil {
		t.Fatal(err)
	}
	second, err := mailchimp.New("mc-b", dataDir, mailchimp.Config{ListID: e.srv.ListID(), BaseURL: e.srv.BaseURL()},
		mailchimp.WithLimits(limits), mailchimp.WithRetry(1, time.Millisecond, 0)) // a 429 would surface at once
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetStats()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tgt := sandbox.Target(e.tgt)
			if i%2 == 1 {
				tgt = second
			}
			obj := emailObj(fmt.Sprintf("eml_%02d", i), nil)
			st, err := tgt.Put(ctx, obj, "")
			if err == nil {
				_, err = tgt.Send(ctx, obj, st, time.Time{})
			}
			errs[i] = e.record(err)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	st := e.srv.Stats()
	if st.TooManyRequests != 0 || st.MaxInFlight > mailchimp.MaxConnections {
		t.Errorf("429s: %d, max in flight: %d", st.TooManyRequests, st.MaxInFlight)
	}
	if n := len(e.srv.Campaigns()); n != 50 {
		t.Errorf("%d campaigns", n)
	}
	t.Logf("%d requests, at most %d in flight", st.Requests, st.MaxInFlight)
}

// A run of Target calls through every kind of fault ends with exactly one
// segment and one campaign, sent once.
func TestFaultsThroughAPromotion(t *testing.T) {
	e := newEnv(t, []mailchimptest.Option{mailchimptest.WithHangFor(5 * time.Second)},
		mailchimp.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	srv := e.srv
	for _, f := range []faketest.Fault{
		{Op: "POST /lists/{list_id}/segments", Kind: faketest.TimeoutAfterApply},
		{Op: "GET /lists/{list_id}/segments", Kind: faketest.Fail},
		{Op: "POST /campaigns", Kind: faketest.RateLimit, Times: 3},
		{Op: "POST /campaigns", Kind: faketest.DropBeforeApply},
		{Op: "POST /campaigns", Kind: faketest.DropAfterApply},
		{Op: "GET /campaigns", Kind: faketest.TimeoutAfterApply},
		{Op: "PUT /campaigns/{campaign_id}/content", Kind: faketest.FailAfterApply},
		{Op: "GET /campaigns/{campaign_id}/send-checklist", Kind: faketest.RateLimit},
		{Op: "POST /campaigns/{campaign_id}/actions/send", Kind: faketest.FailAfterApply},
	} {
		srv.Inject(f)
	}
	ctx := context.Background()
	segObj := segmentObj("seg_vip", "VIP", sandbox.Segment{StaticEmails: []string{"member01@example.com", "member02@example.com"}})
	seg := e.put(segObj, "")
	em := emailObj("eml_1", func(m *sandbox.Email) { m.Audience.Include = []string{"seg_vip"} })
	em.Refs["seg_vip"] = seg.ID
	st := e.put(em, "")
	sent, err := e.tgt.Send(ctx, em, st, time.Time{})
	if e.record(err) != nil || (sent.Status != "sent" && sent.Status != "sending") {
		t.Fatalf("send: %+v %v", sent, err)
	}
	// The promoter crashed and comes back: Find, then a repeated Send.
	found, ok, err := e.tgt.Find(ctx, em)
	if e.record(err) != nil || !ok || found.ID != st.ID {
		t.Fatalf("find after the faults: %+v %v %v", found, ok, err)
	}
	if _, err := e.tgt.Send(ctx, em, found, time.Time{}); e.record(err) != nil {
		t.Fatal(err)
	}
	if n := srv.PendingFaults(); n != 0 {
		t.Errorf("%d faults never triggered", n)
	}
	segs, camps := srv.Segments(), srv.Campaigns()
	if len(segs) != 1 || len(camps) != 1 {
		t.Fatalf("%d segments, %d campaigns; want exactly one of each", len(segs), len(camps))
	}
	if c := camps[0]; c.SendActions != 1 || c.Status != "sent" || len(c.Recipients) != 2 {
		t.Errorf("campaign sent %d times, status %s, to %d", c.SendActions, c.Status, len(c.Recipients))
	}
	if !strings.Contains(e.logs.String(), "applied despite the failure") {
		t.Errorf("the reconciliation was not logged:\n%s", e.logs.String())
	}
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// containsText reports whether any of notes contains sub.
func containsText(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}
