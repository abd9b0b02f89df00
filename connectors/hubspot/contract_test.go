package hubspot

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

func cond(p, op string, v any) sandbox.Condition {
	return sandbox.Condition{Property: p, Operator: op, Value: v}
}

func TestConnectPrivateAppProbe(t *testing.T) {
	tests := []struct {
		name        string
		opts        hubspottest.Options
		wantPublish bool
		wantCaps    sandbox.Capabilities
		wantMissing map[string][]string
	}{
		{"enterprise portal", hubspottest.Options{}, true,
			sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true, Metrics: true}, nil},
		{"starter tier cannot publish", hubspottest.Options{Tier: hubspottest.TierStarter}, false,
			sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true, Metrics: true}, nil},
		{"no automation or publish scope", hubspottest.Options{Scopes: []string{"content", "crm.lists.read", "crm.lists.write", "crm.objects.contacts.read"}}, false,
			sandbox.Capabilities{Emails: true, Segments: true, Workflows: false, Pages: true, Metrics: true},
			map[string][]string{"workflows": {"automation"}, "publish": {"marketing-email"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts, Config{})
			p := e.target.Portal()
			if p.CanPublishEmail != tt.wantPublish {
				t.Errorf("CanPublishEmail = %v, want %v (%s)", p.CanPublishEmail, tt.wantPublish, p.PublishBlocked)
			}
			if p.Capabilities != tt.wantCaps || e.target.Capabilities() != tt.wantCaps {
				t.Errorf("capabilities = %+v, want %+v", p.Capabilities, tt.wantCaps)
			}
			if tt.wantMissing != nil && !reflect.DeepEqual(p.MissingScopes, tt.wantMissing) {
				t.Errorf("missing scopes = %v, want %v", p.MissingScopes, tt.wantMissing)
			}
			fi, err := os.Stat(filepath.Join(e.dir, "credentials", "hubspot.json"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("credentials file: %v, mode %v", err, fi.Mode())
			}
		})
	}
}

func TestConnectPrivateAppErrors(t *testing.T) {
	srv := hubspottest.New(t)
	dir := t.TempDir()
	t.Setenv("EMPTY_TOKEN", "")
	t.Setenv("BAD_TOKEN", "pat-na1-not-a-real-token")
	for _, tt := range []struct{ env, want string }{
		{"", "--token-env"},
		{"EMPTY_TOKEN", "EMPTY_TOKEN is empty"},
		{"BAD_TOKEN", "reconnect with lastmile connect hubspot"},
	} {
		_, err := ConnectPrivateApp(ctx(), dir, "hubspot", tt.env, WithBaseURL(srv.URL))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %q: error %v, want it to mention %q", tt.env, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "pat-na1-not-a-real-token") {
			t.Errorf("the token leaked into the error: %v", err)
		}
	}
	if _, err := New("hubspot", dir, Config{}); !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect hubspot --name hubspot") {
		t.Errorf("New without credentials: %v", err)
	}
}

func TestSegmentContract(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{PropertyTypes: map[string]string{"plan": "enumeration"}})
	e.srv.AddContacts("ann@acme.test", "bob@acme.test", "cy@acme.test")
	m := must[sandbox.LiveState](t, e)

	// A dynamic list with nested groups becomes an OR of ANDs.
	dyn := segmentObj("seg_dyn", "Engaged", sandbox.Segment{Group: sandbox.Group{
		Match:      "all",
		Conditions: []sandbox.Condition{cond("country", "eq", "DE")},
		Groups: []sandbox.Group{{Match: "any", Conditions: []sandbox.Condition{
			cond("plan", "in", []any{"pro", "enterprise"}), cond("hs_analytics_num_visits", "gte", 10.0)}}},
	}})
	dynLive := m(e.target.Put(ctx(), dyn, ""))
	// A static segment becomes a MANUAL list with its contacts as members.
	static := segmentObj("seg_static", "Beta testers", sandbox.Segment{StaticEmails: []string{"Ann@acme.test", "bob@acme.test", "nobody@acme.test"}})
	staticLive := m(e.target.Put(ctx(), static, ""))
	// Include and exclude other segments.
	combo := segmentObj("seg_combo", "Engaged minus beta", sandbox.Segment{IncludeSegments: []string{"seg_dyn"}, ExcludeSegments: []string{"seg_static"}})
	combo.Refs = map[string]string{"seg_dyn": dynLive.ID, "seg_static": staticLive.ID}
	comboLive := m(e.target.Put(ctx(), combo, ""))

	lists := map[string]hubspottest.List{}
	for _, l := range e.srv.Lists() {
		lists[l.ID] = l
	}
	if l := lists[dynLive.ID]; l.ProcessingType != "DYNAMIC" || l.Name != "Engaged [lm-seg_dyn]" || len(l.FilterBranch["filterBranches"].([]any)) != 2 {
		t.Errorf("dynamic list = %+v", l)
	}
	if l := lists[staticLive.ID]; l.ProcessingType != "MANUAL" || len(l.Members) != 2 {
		t.Errorf("static list = %+v (want 2 members: the address without a contact is left out)", l)
	}
	fb := lists[comboLive.ID].FilterBranch["filterBranches"].([]any)
	if len(fb) != 1 || len(fb[0].(map[string]any)["filters"].([]any)) != 2 {
		t.Errorf("combo filter branch = %v", lists[comboLive.ID].FilterBranch)
	}

	// Find by marker, Live, and a missing object.
	for _, obj := range []sandbox.Object{dyn, static, combo} {
		st, found, err := e.target.Find(ctx(), obj)
		if err != nil || !found {
			t.Errorf("Find %s: %v %v", obj.ArtifactID, found, err)
		}
		if _, found, err := e.target.Live(ctx(), sandbox.KindSegment, st.ID); err != nil || !found {
			t.Errorf("Live %s: %v %v", st.ID, found, err)
		}
	}
	if _, found, err := e.target.Live(ctx(), sandbox.KindSegment, "999999"); err != nil || found {
		t.Errorf("Live of a missing list: %v %v", found, err)
	}
	if _, found, err := e.target.Find(ctx(), segmentObj("seg_none", "Never made", sandbox.Segment{StaticEmails: []string{"a@b.c"}})); err != nil || found {
		t.Errorf("Find of a never-created list: %v %v", found, err)
	}

	// Updates: rename + new filters; membership sync; a type change is refused.
	dyn.Segment.Name = "Engaged buyers"
	dyn.Segment.Conditions = []sandbox.Condition{cond("country", "in", []any{"DE", "AT"})}
	upd := m(e.target.Put(ctx(), dyn, dynLive.ID))
	if upd.Version == dynLive.Version {
		t.Errorf("version did not change on update: %v", upd.Version)
	}
	static.Segment.StaticEmails = []string{"cy@acme.test", "ann@acme.test"}
	m(e.target.Put(ctx(), static, staticLive.ID))
	for _, l := range e.srv.Lists() {
		switch l.ID {
		case dynLive.ID:
			if l.Name != "Engaged buyers [lm-seg_dyn]" {
				t.Errorf("renamed list = %q", l.Name)
			}
		case staticLive.ID:
			if len(l.Members) != 2 || l.Members[0] == l.Members[1] {
				t.Errorf("members after sync = %v", l.Members)
			}
		}
	}
	static.Segment.Conditions = []sandbox.Condition{cond("country", "eq", "DE")}
	_, err := e.target.Put(ctx(), static, staticLive.ID)
	if e.note(err); !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "cannot convert") {
		t.Errorf("manual → dynamic: %v", err)
	}
	if n := e.srv.Counts()["lists"]; n != 3 {
		t.Errorf("fake holds %d lists, want 3", n)
	}
}

func TestSegmentAssess(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("ann@acme.test")
	tests := []struct {
		name         string
		seg          sandbox.Segment
		refs         map[string]string
		wantProblem  string
		wantNote     string
		wantAudience int
	}{
		{"static", sandbox.Segment{StaticEmails: []string{"ann@acme.test", "zed@acme.test"}}, nil, "", "zed@acme.test", 1},
		{"unknown operator", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("x", "matches_regex", "a.*")}}}, nil, "has no HubSpot list equivalent", "", -1},
		{"ordering on text", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("tier", "gt", "gold")}}}, nil, "property_types", "", -1},
		{"empty", sandbox.Segment{}, nil, "selects nobody", "", -1},
		{"unknown include", sandbox.Segment{IncludeSegments: []string{"seg_elsewhere"}}, nil, "not in this campaign", "", -1},
		{"mixed static and conditions", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}, StaticEmails: []string{"ann@acme.test"}}, nil, "", "email property", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := segmentObj("seg_a", tt.name, tt.seg)
			obj.Segments = map[string]*sandbox.Segment{"seg_a": &tt.seg}
			a, err := e.target.Assess(ctx(), obj)
			if err != nil {
				t.Fatal(err)
			}
			if !containsAny(a.Problems, tt.wantProblem) {
				t.Errorf("problems %q, want one containing %q", a.Problems, tt.wantProblem)
			}
			if tt.wantProblem == "" && len(a.Problems) > 0 {
				t.Errorf("unexpected problems %q", a.Problems)
			}
			if !containsAny(a.Notes, tt.wantNote) {
				t.Errorf("notes %q, want one containing %q", a.Notes, tt.wantNote)
			}
			if a.AudienceSize != tt.wantAudience {
				t.Errorf("audience %d, want %d", a.AudienceSize, tt.wantAudience)
			}
		})
	}
}

func containsAny(list []string, want string) bool {
	if want == "" {
		return true
	}
	for _, s := range list {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

func TestEmailContract(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{OfficeLocationID: "5449392956"})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("ann@acme.test", "bob@acme.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{StaticEmails: []string{"ann@acme.test", "bob@acme.test"}}), ""))
	refs := map[string]string{"seg_1": list.ID}

	now := emailObj("eml_now", "Spring launch", []string{"seg_1"}, refs)
	created := m(e.target.Put(ctx(), now, ""))
	got := e.srv.Emails()[0]
	w := got.Doc["content"].(map[string]any)["widgets"].(map[string]any)
	if pt := w["preview_text"].(map[string]any)["body"].(map[string]any)["value"]; pt != "Spring is here" {
		t.Errorf("preview_text widget = %v", pt)
	}
	html := w["lastmile_body"].(map[string]any)["body"].(map[string]any)["html"].(string)
	if !strings.Contains(html, `{{ contact.firstname|default("friend") }}`) || !strings.Contains(html, "{{ unsubscribe_link_all }}") || strings.Contains(html, "<body") {
		t.Errorf("body html not translated to HubL: %s", html)
	}
	if got.Subject != `Hello {{ contact.firstname|default("there") }}` || !reflect.DeepEqual(got.Include, []string{list.ID}) || got.Name != "Spring launch [lm-eml_now]" || got.Subcategory != "batch" {
		t.Errorf("email = %+v", got)
	}
	if from := got.Doc["from"].(map[string]any); from["replyTo"] != "news@acme.test" || from["customReplyTo"] != "help@acme.test" {
		t.Errorf("from = %v", from)
	}

	// Update while a draft, then send; a second send does nothing.
	now.Email.Subject = "Spring is here"
	upd := m(e.target.Put(ctx(), now, created.ID))
	sent := m(e.target.Send(ctx(), now, upd, time.Time{}))
	if sent.Status != "published" {
		t.Errorf("status after send = %q", sent.Status)
	}
	again := m(e.target.Send(ctx(), now, sent, time.Time{}))
	if again.Status != "published" || e.srv.Stats().Calls["emails.publish"] != 2 { // probe + one send
		t.Errorf("second send published again: %+v %v", again, e.srv.Stats().Calls)
	}
	// A sent email cannot change: the plan says so, and the update leaves it be.
	now.Refs = map[string]string{"seg_1": list.ID, "eml_now": created.ID}
	if a, err := e.target.Assess(ctx(), now); err != nil || !containsAny(a.Notes, "cannot change a sent email") {
		t.Errorf("assess of a sent email: %+v %v", a, err)
	}
	now.Email.Subject = "Changed after the send"
	kept := m(e.target.Put(ctx(), now, created.ID))
	if kept.Status != "published" || e.srv.Emails()[0].Subject != "Spring is here" {
		t.Errorf("update after send changed the email: %+v", kept)
	}

	// Scheduled send.
	later := emailObj("eml_later", "Reminder", []string{"seg_1"}, refs)
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	later.Email.SendAt = &at
	ls := m(e.target.Put(ctx(), later, ""))
	ls = m(e.target.Send(ctx(), later, ls, at))
	if ls.Status != "scheduled" {
		t.Errorf("scheduled status = %q", ls.Status)
	}
	for _, em := range e.srv.Emails() {
		if em.ID == ls.ID && !strings.HasPrefix(em.PublishDate, at.Format("2006-01-02T15:04:05")) {
			t.Errorf("publishDate = %s, want %s", em.PublishDate, at)
		}
	}
	// A scheduled email cannot be edited: the plan is refused with the fix,
	// and so is a promotion whose email was scheduled after planning.
	later.Refs = map[string]string{"seg_1": list.ID, "eml_later": ls.ID}
	if a, err := e.target.Assess(ctx(), later); err != nil || !containsAny(a.Problems, "retire_artifact with action unschedule") {
		t.Errorf("assess of a scheduled email: %+v %v", a, err)
	}
	_, err := e.target.Put(ctx(), later, ls.ID)
	if e.note(err); !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "unschedule it in HubSpot") {
		t.Errorf("update of a scheduled email: %v", err)
	}

	// Find and Live.
	if st, found, err := e.target.Find(ctx(), later); err != nil || !found || st.ID != ls.ID {
		t.Errorf("Find = %+v %v %v", st, found, err)
	}
	if _, found, err := e.target.Live(ctx(), sandbox.KindEmail, "1"); err != nil || found {
		t.Errorf("Live of a missing email: %v %v", found, err)
	}
	// An email without audience is automated (for workflows).
	auto := emailObj("eml_auto", "Welcome", nil, nil)
	m(e.target.Put(ctx(), auto, ""))
	if em := e.srv.Emails()[2]; em.Type != "AUTOMATED_EMAIL" {
		t.Errorf("email without audience: type %s", em.Type)
	}
	// Audience not promoted yet at Put time: a clear error.
	orphan := emailObj("eml_orphan", "Orphan", []string{"seg_x"}, nil)
	_, err = e.target.Put(ctx(), orphan, "")
	if e.note(err); err == nil || !strings.Contains(err.Error(), "promote it first") {
		t.Errorf("email with an unpromoted audience: %v", err)
	}
}

func TestEmailAssess(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("a@x.test", "b@x.test", "c@x.test")
	list, err := e.target.Put(ctx(), segmentObj("seg_1", "Three", sandbox.Segment{StaticEmails: []string{"a@x.test", "b@x.test", "c@x.test"}}), "")
	if err != nil {
		t.Fatal(err)
	}
	obj := emailObj("eml_1", "News", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	obj.Email.HTML += "{{ campaign.name }}"
	a, err := e.target.Assess(ctx(), obj)
	if err != nil {
		t.Fatal(err)
	}
	if a.AudienceSize != 3 || len(a.Problems) > 0 || !containsAny(a.Notes, "{{ campaign.name }}") {
		t.Errorf("assessment = %+v", a)
	}
	at := time.Now().Add(time.Hour)
	noAudience := emailObj("eml_2", "Lost", nil, nil)
	noAudience.Email.SendAt = &at
	a, _ = e.target.Assess(ctx(), noAudience)
	if !containsAny(a.Problems, "without an audience") {
		t.Errorf("send time without audience: %+v", a)
	}
}

// The tier gate: told at planning time, reported by Send in the same words,
// and HubSpot is not asked to publish (no opaque 403).
func TestEmailTierGate(t *testing.T) {
	e := newEnv(t, hubspottest.Options{Tier: hubspottest.TierProfessional}, Config{})
	e.srv.AddContacts("a@x.test")
	list, err := e.target.Put(ctx(), segmentObj("seg_1", "One", sandbox.Segment{StaticEmails: []string{"a@x.test"}}), "")
	if err != nil {
		t.Fatal(err)
	}
	obj := emailObj("eml_1", "News", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	a, err := e.target.Assess(ctx(), obj)
	if err != nil {
		t.Fatal(err)
	}
	const want = "HubSpot will create this email as a draft; this portal's tier cannot send through the API"
	if !containsAny(a.Notes, want) {
		t.Errorf("notes %q lack the tier note", a.Notes)
	}
	live, err := e.target.Put(ctx(), obj, "")
	if err != nil {
		t.Fatal(err)
	}
	before := e.srv.Stats().Calls["emails.publish"]
	st, err := e.target.Send(ctx(), obj, live, time.Time{})
	e.note(err)
	if !errors.Is(err, ErrTierCannotSend) || !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "403") {
		t.Errorf("Send on a professional portal: %v", err)
	}
	if st.ID != live.ID || st.Status != "draft" {
		t.Errorf("state = %+v, want the draft", st)
	}
	if n := e.srv.Stats().Calls["emails.publish"]; n != before {
		t.Errorf("HubSpot was asked to publish %d more times", n-before)
	}

	// A portal whose tier changed after connect: the 403 still reads the same.
	e.srv.SetTier(hubspottest.TierStarter)
	e2 := newEnv(t, hubspottest.Options{}, Config{})
	e2.srv.AddContacts("a@x.test")
	l2, _ := e2.target.Put(ctx(), segmentObj("seg_1", "One", sandbox.Segment{StaticEmails: []string{"a@x.test"}}), "")
	obj2 := emailObj("eml_1", "News", []string{"seg_1"}, map[string]string{"seg_1": l2.ID})
	live2, _ := e2.target.Put(ctx(), obj2, "")
	e2.srv.SetTier(hubspottest.TierStarter)
	_, err = e2.target.Send(ctx(), obj2, live2, time.Time{})
	e2.note(err)
	if !errors.Is(err, ErrTierCannotSend) || !strings.Contains(err.Error(), want) {
		t.Errorf("Send after a downgrade: %v", err)
	}
	if a, _ := e2.target.Assess(ctx(), obj2); !containsAny(a.Notes, want) {
		t.Errorf("assessment after the refusal lacks the tier note: %q", a.Notes)
	}
}

func TestMissingScopesNamed(t *testing.T) {
	e := newEnv(t, hubspottest.Options{Scopes: []string{"content", "crm.lists.read", "crm.objects.contacts.read"}}, Config{})
	_, err := e.target.Put(ctx(), segmentObj("seg_1", "x", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}}), "")
	e.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "crm.lists.write") || !strings.Contains(err.Error(), "lastmile connect hubspot") {
		t.Errorf("error = %v", err)
	}
}

func TestPageContract(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{PageTemplatePath: "@hubspot/growth/templates/paged.html"})
	m := must[sandbox.LiveState](t, e)
	pg := pageObj("pg_1", "Spring launch", "/spring-launch")
	pg.Page.Body = `<h1>Hi {{ contact.firstname | default: "there" }}</h1>`
	st := m(e.target.Put(ctx(), pg, ""))
	if st.Status != "draft" || st.URL != "https://fake-portal.hs-sites.com/spring-launch" {
		t.Errorf("created page = %+v", st)
	}
	if found, ok, err := e.target.Find(ctx(), pg); err != nil || !ok || found.ID != st.ID {
		t.Errorf("Find = %+v %v %v", found, ok, err)
	}
	st = m(e.target.Publish(ctx(), pg, st, time.Time{}))
	if st.Status != "published" {
		t.Errorf("published page = %+v", st)
	}
	html := func() (live, draft string) {
		p := e.srv.Pages()[0]
		get := func(d map[string]any) string {
			return d["widgets"].(map[string]any)["lastmile_body"].(map[string]any)["body"].(map[string]any)["html"].(string)
		}
		return get(p.Live), get(p.Draft)
	}
	if live, _ := html(); !strings.Contains(live, `{{ contact.firstname|default("there") }}`) {
		t.Errorf("published body %q", live)
	}
	// An update of a published page goes through its draft and is live at
	// once (the promotion plans no publish step for it).
	pg.Page.Body = "<h1>Updated</h1>"
	upd := m(e.target.Put(ctx(), pg, st.ID))
	if live, draft := html(); live != "<h1>Updated</h1>" || draft != live || upd.Status != "published" || upd.Version == st.Version {
		t.Errorf("after update: live %q draft %q state %+v", live, draft, upd)
	}
	if n := e.srv.Stats().Calls["pages.draft.update"]; n != 1 {
		t.Errorf("draft updates = %d, want 1", n)
	}
	m(e.target.Publish(ctx(), pg, upd, time.Time{})) // publishing again is harmless
	// Scheduled publish of a second page; again is a no-op.
	later := pageObj("pg_2", "Later", "later")
	at := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	ls := m(e.target.Put(ctx(), later, ""))
	ls = m(e.target.Publish(ctx(), later, ls, at))
	calls := e.srv.Stats().Calls["pages.schedule"]
	ls = m(e.target.Publish(ctx(), later, ls, at))
	if ls.Status != "scheduled" || e.srv.Stats().Calls["pages.schedule"] != calls {
		t.Errorf("scheduled page = %+v, schedule calls %d → %d", ls, calls, e.srv.Stats().Calls["pages.schedule"])
	}
	// A slug held by a page lastmile did not create.
	foreign := pageObj("pg_3", "Theirs", "spring-launch")
	foreign.Marker = "lm-pg_other"
	a, err := e.target.Assess(ctx(), foreign)
	if err != nil || !containsAny(a.Problems, "already used") {
		t.Errorf("assess of a taken slug: %+v %v", a, err)
	}
	_, err = e.target.Put(ctx(), foreign, "")
	if e.note(err); !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "spring-launch") {
		t.Errorf("create with a taken slug: %v", err)
	}
	if n := e.srv.Counts()["pages"]; n != 2 {
		t.Errorf("fake holds %d pages, want 2", n)
	}
}

func TestWorkflowContract(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("a@x.test")
	trig := m(e.target.Put(ctx(), segmentObj("seg_trig", "Signed up", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("lifecyclestage", "eq", "lead")}}}), ""))
	vipSeg := sandbox.Segment{Name: "VIP", StaticEmails: []string{"a@x.test"}}
	vip := m(e.target.Put(ctx(), segmentObj("seg_vip", "VIP", vipSeg), ""))
	welcome := m(e.target.Put(ctx(), emailObj("eml_w", "Welcome", nil, nil), ""))
	nudge := m(e.target.Put(ctx(), emailObj("eml_n", "Nudge", nil, nil), ""))
	refs := map[string]string{"seg_trig": trig.ID, "seg_vip": vip.ID, "eml_w": welcome.ID, "eml_n": nudge.ID}
	wf := sandbox.Workflow{
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: "seg_trig"},
		Steps: []sandbox.Step{
			{ID: "s1", Type: "send_email", EmailID: "eml_w", Next: "s2"},
			{ID: "s2", Type: "wait", Duration: "2d", Next: "s3"},
			{ID: "s3", Type: "branch", Condition: &sandbox.BranchCondition{SegmentID: "seg_vip"}, Then: "s4", Else: "s5"},
			{ID: "s4", Type: "remove_from_segment", SegmentID: "seg_vip", Next: "s6"},
			{ID: "s5", Type: "send_email", EmailID: "eml_n", Next: "s6"},
			{ID: "s6", Type: "add_to_segment", SegmentID: "seg_vip", Next: "end"},
			{ID: "end", Type: "exit"},
		},
		Activate: true,
	}
	obj := flowObj("wf_1", "Onboarding", wf, refs, map[string]*sandbox.Segment{"seg_vip": &vipSeg})
	a, err := e.target.Assess(ctx(), obj)
	if err != nil || len(a.Problems) > 0 {
		t.Fatalf("assess: %+v %v", a, err)
	}
	st := m(e.target.Put(ctx(), obj, ""))
	if st.Status != "disabled" {
		t.Errorf("created workflow is %s, want disabled until Publish", st.Status)
	}
	f := e.srv.Flows()[0]
	actions := f.Doc["actions"].([]any)
	if len(actions) != 6 || f.Name != "Onboarding [lm-wf_1]" || f.Doc["startActionId"] != "1" {
		t.Fatalf("flow = %+v", f.Doc)
	}
	types := []string{}
	for _, a := range actions {
		am := a.(map[string]any)
		types = append(types, firstNonEmpty(str(am["actionTypeId"]), str(am["type"])))
	}
	if want := []string{"0-4", "0-1", "LIST_BRANCH", "0-63863438", "0-4", "0-63809083"}; !reflect.DeepEqual(types, want) {
		t.Errorf("action types %v, want %v", types, want)
	}
	// s6 is reached twice: once STANDARD (from s4), once GOTO (from s5).
	if c := actions[4].(map[string]any)["connection"].(map[string]any); c["edgeType"] != "GOTO" || c["nextActionId"] != "6" {
		t.Errorf("second edge into s6 = %v", c)
	}
	if d := actions[1].(map[string]any)["fields"].(map[string]any); d["delta"] != "2" || d["time_unit"] != "DAYS" {
		t.Errorf("delay fields = %v", d)
	}
	// Update carries the revision id.
	obj.Workflow.Steps[1].Duration = "36h"
	st2 := m(e.target.Put(ctx(), obj, st.ID))
	if st2.Version == st.Version {
		t.Errorf("revision did not change: %s", st2.Version)
	}
	// Publish turns it on after publishing its automated emails.
	on := m(e.target.Publish(ctx(), obj, st2, time.Time{}))
	if on.Status != "enabled" {
		t.Errorf("after Publish: %+v", on)
	}
	for _, em := range e.srv.Emails() {
		if em.Type == "AUTOMATED_EMAIL" && em.State != "AUTOMATED" {
			t.Errorf("email %s not published: %s", em.ID, em.State)
		}
	}
	again := m(e.target.Publish(ctx(), obj, on, time.Time{}))
	if again.Version != on.Version {
		t.Errorf("second Publish changed the workflow: %s → %s", on.Version, again.Version)
	}
	if st, found, err := e.target.Find(ctx(), obj); err != nil || !found || st.ID != on.ID {
		t.Errorf("Find = %+v %v %v", st, found, err)
	}

	// Re-enrolment: the enrolment criteria, met again, enrol again.
	obj.Workflow.Reenrol = true
	m(e.target.Put(ctx(), obj, st.ID))
	crit := e.srv.Flows()[0].Doc["enrollmentCriteria"].(map[string]any)
	if crit["shouldReEnroll"] != true || len(crit["reEnrollmentTriggersFilterBranches"].([]any)) != 1 || !reflect.DeepEqual(crit["reEnrollmentTriggersFilterBranches"].([]any)[0], crit["listFilterBranch"]) {
		t.Errorf("re-enrolling criteria = %v", crit)
	}

	// Activate false: Publish leaves it off.
	off := flowObj("wf_2", "Quiet", sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"},
		Steps: []sandbox.Step{{ID: "a", Type: "set_property", Property: "lifecyclestage", Value: "customer"}}}, nil, nil)
	os := m(e.target.Put(ctx(), off, ""))
	if os = m(e.target.Publish(ctx(), off, os, time.Time{})); os.Status != "disabled" {
		t.Errorf("Activate false: %+v", os)
	}
}

func TestWorkflowAssessProblems(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	dyn := &sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}}
	batch, err := e.target.Put(ctx(), emailObj("eml_b", "Batch", []string{"seg_x"}, map[string]string{"seg_x": "0"}), "")
	if err == nil {
		t.Logf("batch email %s", batch.ID)
	}
	tests := []struct {
		name  string
		steps []sandbox.Step
		trig  sandbox.Trigger
		want  string
	}{
		{"loop", []sandbox.Step{{ID: "a", Type: "wait", Duration: "1d", Next: "b"}, {ID: "b", Type: "wait", Duration: "1d", Next: "a"}}, sandbox.Trigger{Type: "manual"}, "cannot loop"},
		{"bad duration", []sandbox.Step{{ID: "a", Type: "wait", Duration: "soon"}}, sandbox.Trigger{Type: "manual"}, "waits \"soon\""},
		{"dynamic list action", []sandbox.Step{{ID: "a", Type: "add_to_segment", SegmentID: "seg_dyn"}}, sandbox.Trigger{Type: "manual"}, "static (MANUAL) lists"},
		{"unknown step", []sandbox.Step{{ID: "a", Type: "sms"}}, sandbox.Trigger{Type: "manual"}, "type \"sms\""},
		{"unknown trigger", []sandbox.Step{{ID: "a", Type: "wait", Duration: "1h"}}, sandbox.Trigger{Type: "webhook"}, "trigger \"webhook\""},
		{"dangling next", []sandbox.Step{{ID: "a", Type: "wait", Duration: "1h", Next: "zz"}}, sandbox.Trigger{Type: "manual"}, "not a step"},
		{"branch on an open", []sandbox.Step{{ID: "a", Type: "branch", Condition: &sandbox.BranchCondition{Engagement: "opened", EmailID: "eml_b"}, Then: "b"}, {ID: "b", Type: "exit"}}, sandbox.Trigger{Type: "manual"}, "email-event branch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := flowObj("wf_x", tt.name, sandbox.Workflow{Trigger: tt.trig, Steps: tt.steps}, nil, map[string]*sandbox.Segment{"seg_dyn": dyn})
			a, err := e.target.Assess(ctx(), obj)
			if err != nil {
				t.Fatal(err)
			}
			if !containsAny(a.Problems, tt.want) {
				t.Errorf("problems %q, want %q", a.Problems, tt.want)
			}
			_, err = e.target.Put(ctx(), obj, "")
			if e.note(err); !errors.Is(err, sandbox.ErrNotSupported) {
				t.Errorf("Put: %v", err)
			}
		})
	}
}

func TestWorkflowNeedsAutomationScope(t *testing.T) {
	e := newEnv(t, hubspottest.Options{Scopes: []string{"content", "crm.lists.read", "crm.lists.write", "crm.objects.contacts.read", "marketing-email"}}, Config{})
	obj := flowObj("wf_1", "x", sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Steps: []sandbox.Step{{ID: "a", Type: "wait", Duration: "1h"}}}, nil, nil)
	a, err := e.target.Assess(ctx(), obj)
	if err != nil || !containsAny(a.Problems, "automation") {
		t.Errorf("assess = %+v %v", a, err)
	}
}

func TestMetricsContract(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	ids := e.srv.SeedEmails(250)
	items := func(from, n int) []sandbox.MetricsItem {
		var out []sandbox.MetricsItem
		for i := from; i < from+n; i++ {
			out = append(out, sandbox.MetricsItem{ArtifactID: "eml_" + ids[i], Kind: sandbox.KindEmail, LiveID: ids[i]})
		}
		return append(out, sandbox.MetricsItem{ArtifactID: "pg_1", Kind: sandbox.KindPage, LiveID: "123"})
	}
	tests := []struct {
		name      string
		from, n   int
		since     time.Time
		wantCalls map[string]int
	}{
		{"all time, many emails: listing", 0, 200, time.Time{}, map[string]int{"emails.list": 2, "emails.get": 0}},
		{"all time, one email past the first page: one by one", 249, 1, time.Time{}, map[string]int{"emails.list": 1, "emails.get": 1}},
		{"since a time: statistics per email", 0, 20, time.Now().Add(-time.Hour), map[string]int{"emails.stats": 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.ResetStats()
			ms, err := e.target.Metrics(ctx(), sandbox.MetricsRequest{Items: items(tt.from, tt.n), Since: tt.since})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tt.n {
				t.Fatalf("%d metrics, want %d", len(ms), tt.n)
			}
			for k, v := range tt.wantCalls {
				if got := e.srv.Stats().Calls[k]; got != v {
					t.Errorf("%s calls = %d, want %d (%v)", k, got, v, e.srv.Stats().Calls)
				}
			}
			m := ms[0]
			if m.Counters[sandbox.MetricSent] != int64(1000+tt.from) || m.Counters[sandbox.MetricOpens] != 400 || m.Counters[sandbox.MetricSpamReports] != 1 ||
				m.Counters["hardbounced"] != 4 || m.Ratios["openratio"] != 40.4 || m.Source != "hubspot" {
				t.Errorf("metrics = %+v", m)
			}
		})
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// On a portal that cannot publish email, a workflow that sends one cannot be
// turned on: told at planning, reported at Publish, the workflow left off.
// Probe re-reads what the portal can do after an upgrade.
func TestWorkflowOnLowerTier(t *testing.T) {
	e := newEnv(t, hubspottest.Options{Tier: hubspottest.TierProfessional}, Config{})
	m := must[sandbox.LiveState](t, e)
	em := m(e.target.Put(ctx(), emailObj("eml_w", "Welcome", nil, nil), ""))
	obj := flowObj("wf_1", "Welcome", sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Activate: true,
		Steps: []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: "eml_w"}}}, map[string]string{"eml_w": em.ID}, nil)
	a, err := e.target.Assess(ctx(), obj)
	if err != nil || !containsAny(a.Notes, "will stay off") {
		t.Errorf("assess: %+v %v", a, err)
	}
	st := m(e.target.Put(ctx(), obj, ""))
	_, err = e.target.Publish(ctx(), obj, st, time.Time{})
	if e.note(err); !errors.Is(err, ErrTierCannotSend) || !strings.Contains(err.Error(), "turn the workflow on in HubSpot") {
		t.Errorf("Publish: %v", err)
	}
	if f := e.srv.Flows()[0]; f.IsEnabled {
		t.Error("the workflow was turned on")
	}
	e.srv.SetTier(hubspottest.TierEnterprise)
	p, err := e.target.Probe(ctx())
	if err != nil || !p.CanPublishEmail {
		t.Fatalf("probe after the upgrade: %+v %v", p, err)
	}
	if on := m(e.target.Publish(ctx(), obj, st, time.Time{})); on.Status != "enabled" {
		t.Errorf("after the upgrade: %+v", on)
	}
}
