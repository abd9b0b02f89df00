package hubspot

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// scheduledEmail makes a list of one and an email scheduled to it two days
// ahead.
func scheduledEmail(t *testing.T, e *env, id string) (sandbox.Object, sandbox.LiveState) {
	t.Helper()
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("a@x.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_"+id, "Readers "+id, sandbox.Segment{StaticEmails: []string{"a@x.test"}}), ""))
	obj := emailObj("eml_"+id, "Reminder "+id, []string{"seg_" + id}, map[string]string{"seg_" + id: list.ID})
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	obj.Email.SendAt = &at
	live := m(e.target.Put(ctx(), obj, ""))
	live = m(e.target.Send(ctx(), obj, live, at))
	if live.Status != "scheduled" {
		t.Fatalf("setup: email is %q, want scheduled", live.Status)
	}
	return obj, live
}

func fakeEmail(t *testing.T, e *env, id string) hubspottest.Email {
	t.Helper()
	for _, em := range e.srv.Emails() {
		if em.ID == id {
			return em
		}
	}
	t.Fatalf("email %s is not on the fake", id)
	return hubspottest.Email{}
}

func TestRetireEffects(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	for _, k := range []sandbox.Kind{sandbox.KindEmail, sandbox.KindSegment, sandbox.KindWorkflow} {
		for _, op := range sandbox.RetireOps(k) {
			effect, err := e.target.CanRetire(k, op)
			if err != nil || !strings.Contains(effect, "HubSpot") {
				t.Errorf("CanRetire(%s, %s) = %q, %v: want HubSpot's effect", k, op, effect, err)
			}
		}
	}
	// CMS Pages v3 has no route back to draft: refused at planning, and
	// Retire asks HubSpot nothing.
	_, err := e.target.CanRetire(sandbox.KindPage, sandbox.OpUnpublish)
	if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "hubspot: HubSpot's CMS Pages API cannot unpublish a landing page") {
		t.Errorf("CanRetire(page, unpublish) = %v", err)
	}
	before := e.srv.Stats().Calls
	_, err = e.target.Retire(ctx(), pageObj("pg_1", "Launch", "launch"), sandbox.OpUnpublish, sandbox.LiveState{ID: "170000000001"})
	if !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("Retire(page, unpublish) = %v", err)
	}
	if after := e.srv.Stats().Calls; len(after) != len(before) {
		t.Errorf("Retire of a page called HubSpot: %v → %v", before, after)
	}
	if _, err := e.target.CanRetire(sandbox.KindSegment, sandbox.OpUnpublish); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("CanRetire(segment, unpublish) = %v", err)
	}
}

func TestRetireUnschedule(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	obj, live := scheduledEmail(t, e, "1")
	st := m(e.target.Retire(ctx(), obj, sandbox.OpUnschedule, live))
	if st.Status != "draft" || st.ID != live.ID {
		t.Errorf("after unschedule: %+v, want the draft", st)
	}
	if em := fakeEmail(t, e, live.ID); em.State != "DRAFT" || em.IsPublished || em.Sends != 0 {
		t.Errorf("on HubSpot: %+v, want a draft that goes to nobody", em)
	}
	// Again: the draft is read and left alone.
	n := e.srv.Stats().Calls["emails.unpublish"]
	again := m(e.target.Retire(ctx(), obj, sandbox.OpUnschedule, st))
	if again.Version != st.Version || e.srv.Stats().Calls["emails.unpublish"] != n {
		t.Errorf("a second unschedule acted: %+v, unpublish calls %d → %d", again, n, e.srv.Stats().Calls["emails.unpublish"])
	}
}

// A sent email cannot be unsent: a clear error, and HubSpot is not asked.
func TestRetireUnscheduleSent(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("a@x.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{StaticEmails: []string{"a@x.test"}}), ""))
	obj := emailObj("eml_1", "Launch", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	live := m(e.target.Put(ctx(), obj, ""))
	live = m(e.target.Send(ctx(), obj, live, time.Time{}))
	_, err := e.target.Retire(ctx(), obj, sandbox.OpUnschedule, live)
	e.note(err)
	if !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), `hubspot: unschedule email "Launch": HubSpot sent it already (state PUBLISHED`) || !strings.Contains(err.Error(), "archive it") {
		t.Errorf("unschedule of a sent email: %v", err)
	}
	if n := e.srv.Stats().Calls["emails.unpublish"]; n != 0 {
		t.Errorf("HubSpot was asked to unpublish a sent email %d time(s)", n)
	}
	// An email HubSpot no longer has: nothing to cancel, said so.
	_, err = e.target.Retire(ctx(), obj, sandbox.OpUnschedule, sandbox.LiveState{ID: "38175999999"})
	if e.note(err); err == nil || !strings.Contains(err.Error(), "HubSpot has no email 38175999999 any more") {
		t.Errorf("unschedule of a missing email: %v", err)
	}
}

// The unpublish call lands but its answer is lost: the email is read, found
// a draft, and the cancel is not repeated.
func TestRetireUnscheduleAmbiguous(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	obj, live := scheduledEmail(t, e, "1")
	e.srv.Inject(faketest.Fault{Op: "emails.unpublish", Kind: faketest.DropAfterApply})
	st, err := e.target.Retire(ctx(), obj, sandbox.OpUnschedule, live)
	if e.note(err); err != nil || st.Status != "draft" {
		t.Fatalf("unschedule with a dropped answer: %+v %v", st, err)
	}
	if n := e.srv.Stats().Calls["emails.unpublish"]; n != 1 {
		t.Errorf("unpublish called %d times, want 1", n)
	}
}

// On a portal that cannot publish, unschedule is refused at planning; a
// portal that lost the entitlement after connecting gets HubSpot's 403 in
// words that say the email still goes out.
func TestRetireUnscheduleTier(t *testing.T) {
	low := newEnv(t, hubspottest.Options{Tier: hubspottest.TierProfessional}, Config{})
	if _, err := low.target.CanRetire(sandbox.KindEmail, sandbox.OpUnschedule); !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "Marketing Hub Enterprise") {
		t.Errorf("CanRetire(email, unschedule) on a professional portal: %v", err)
	}
	if _, err := low.target.CanRetire(sandbox.KindEmail, sandbox.OpArchive); err != nil {
		t.Errorf("CanRetire(email, archive) on a professional portal: %v", err)
	}

	var scopes []string
	for _, s := range hubspottest.AllScopes {
		if s != "marketing-email" && s != "transactional-email" {
			scopes = append(scopes, s)
		}
	}
	noScope := newEnv(t, hubspottest.Options{Scopes: scopes}, Config{})
	if _, err := noScope.target.CanRetire(sandbox.KindEmail, sandbox.OpUnschedule); !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "lacks the scope marketing-email") {
		t.Errorf("CanRetire(email, unschedule) without marketing-email: %v", err)
	}

	e := newEnv(t, hubspottest.Options{}, Config{})
	obj, live := scheduledEmail(t, e, "1")
	e.srv.SetTier(hubspottest.TierStarter)
	_, err := e.target.Retire(ctx(), obj, sandbox.OpUnschedule, live)
	e.note(err)
	if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "HubSpot refused to cancel the send") || !strings.Contains(err.Error(), "HubSpot still sends the email at") {
		t.Errorf("unschedule after a downgrade: %v", err)
	}
	if em := fakeEmail(t, e, live.ID); em.State != "SCHEDULED" {
		t.Errorf("email is %s, want still scheduled", em.State)
	}
	if _, err := e.target.CanRetire(sandbox.KindEmail, sandbox.OpUnschedule); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("after HubSpot's refusal, CanRetire(email, unschedule) = %v", err)
	}
}

func TestRetireArchive(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	obj, live := scheduledEmail(t, e, "1")
	// A scheduled email: its send is cancelled, then it is archived.
	st := m(e.target.Retire(ctx(), obj, sandbox.OpArchive, live))
	if st.Status != "archived" || st.ID != live.ID {
		t.Errorf("after archive: %+v", st)
	}
	emails, _ := e.srv.Archived()
	if !slices.Contains(emails, live.ID) {
		t.Errorf("archived emails %v lack %s", emails, live.ID)
	}
	if e.srv.Stats().Calls["emails.unpublish"] != 1 {
		t.Errorf("the scheduled send was not cancelled before the archive: %v", e.srv.Stats().Calls)
	}
	if _, found, err := e.target.Live(ctx(), sandbox.KindEmail, live.ID); err != nil || found {
		t.Errorf("Live after archive: found=%v err=%v", found, err)
	}
	// Again, and of an email HubSpot never had (404): success.
	m(e.target.Retire(ctx(), obj, sandbox.OpArchive, live))
	m(e.target.Retire(ctx(), obj, sandbox.OpArchive, sandbox.LiveState{ID: "38175999999"}))

	// A list: deleted (restorable in HubSpot), and a 404 is success.
	listID := obj.Refs["seg_1"]
	seg := segmentObj("seg_1", "Readers 1", sandbox.Segment{StaticEmails: []string{"a@x.test"}})
	st = m(e.target.Retire(ctx(), seg, sandbox.OpArchive, sandbox.LiveState{ID: listID}))
	if _, lists := e.srv.Archived(); st.Status != "archived" || !slices.Contains(lists, listID) {
		t.Errorf("after archive: %+v, archived lists %v", st, lists)
	}
	n := e.srv.Stats().Calls["lists.delete"]
	m(e.target.Retire(ctx(), seg, sandbox.OpArchive, sandbox.LiveState{ID: listID}))
	if e.srv.Stats().Calls["lists.delete"] != n+1 {
		t.Errorf("a second archive of the list did not ask HubSpot once (%d → %d)", n, e.srv.Stats().Calls["lists.delete"])
	}
}

// A connection without the scope is told at planning, with the fix; one
// that lost it since gets HubSpot's 403 named as the missing scope.
func TestRetireArchiveMissingScope(t *testing.T) {
	e := newEnv(t, hubspottest.Options{Scopes: []string{"content", "crm.lists.read", "crm.objects.contacts.read"}}, Config{})
	_, err := e.target.CanRetire(sandbox.KindSegment, sandbox.OpArchive)
	if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "hubspot: this HubSpot connection cannot archive contact lists: it lacks the scope(s) crm.lists.write") {
		t.Errorf("CanRetire(segment, archive) without crm.lists.write: %v", err)
	}
	e.target.portal.ProbedAt = time.Time{} // as if never probed: HubSpot answers
	_, err = e.target.Retire(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{}), sandbox.OpArchive, sandbox.LiveState{ID: "101"})
	e.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), `hubspot: archive list "Readers": the HubSpot connection lacks the scope(s) crm.lists.write`) {
		t.Errorf("archive without crm.lists.write: %v", err)
	}
}

// flowHook runs a function, once armed, before the next PUT of a workflow
// reaches HubSpot.
type flowHook struct {
	mu     sync.Mutex
	before func()
}

func (h *flowHook) arm(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.before = f
}

func (h *flowHook) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	f := h.before
	if f != nil && r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/automation/v4/flows/") {
		h.before = nil
	} else {
		f = nil
	}
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func enabledFlow(t *testing.T, e *env) (sandbox.Object, sandbox.LiveState) {
	t.Helper()
	m := must[sandbox.LiveState](t, e)
	obj := flowObj("wf_1", "Quiet", sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Activate: true,
		Steps: []sandbox.Step{{ID: "a", Type: "set_property", Property: "lifecyclestage", Value: "customer"}}}, nil, nil)
	st := m(e.target.Put(ctx(), obj, ""))
	st = m(e.target.Publish(ctx(), obj, st, time.Time{}))
	if st.Status != "enabled" {
		t.Fatalf("setup: workflow is %q", st.Status)
	}
	return obj, st
}

// Someone saves the workflow in HubSpot between lastmile's read and its
// PUT: HubSpot answers 409 to the stale revisionId, the flow is read again
// and the PUT carries the new revision, keeping the edit.
func TestRetireDeactivateStaleRevision(t *testing.T) {
	hook := &flowHook{}
	e := newEnv(t, hubspottest.Options{}, Config{}, WithHTTPClient(&http.Client{Timeout: 2 * time.Second, Transport: hook}))
	obj, live := enabledFlow(t, e)
	hook.arm(func() {
		e.srv.EditFlow(live.ID, func(doc map[string]any) { doc["description"] = "edited in HubSpot" })
	})
	updates := e.srv.Stats().Calls["flows.update"]
	st, err := e.target.Retire(ctx(), obj, sandbox.OpDeactivate, live)
	if e.note(err); err != nil || st.Status != "disabled" {
		t.Fatalf("deactivate over a stale revision: %+v %v", st, err)
	}
	f := e.srv.Flows()[0]
	if f.IsEnabled || f.Doc["description"] != "edited in HubSpot" || st.Version != f.RevisionID {
		t.Errorf("flow = %+v (state %+v): want off, the edit kept, the version its revision", f, st)
	}
	if n := e.srv.Stats().Calls["flows.update"] - updates; n != 2 {
		t.Errorf("%d PUTs, want 2 (the stale one and the retry)", n)
	}
	// Again: the flow is off, nothing is saved.
	again, err := e.target.Retire(ctx(), obj, sandbox.OpDeactivate, st)
	if e.note(err); err != nil || again.Version != st.Version {
		t.Errorf("second deactivate: %+v %v", again, err)
	}
}

// Someone turns the workflow off in HubSpot between the read and the PUT:
// the re-read finds it off and lastmile saves nothing more.
func TestRetireDeactivateRacedOff(t *testing.T) {
	hook := &flowHook{}
	e := newEnv(t, hubspottest.Options{}, Config{}, WithHTTPClient(&http.Client{Timeout: 2 * time.Second, Transport: hook}))
	obj, live := enabledFlow(t, e)
	hook.arm(func() { e.srv.EditFlow(live.ID, func(doc map[string]any) { doc["isEnabled"] = false }) })
	st, err := e.target.Retire(ctx(), obj, sandbox.OpDeactivate, live)
	if e.note(err); err != nil || st.Status != "disabled" || st.Version != e.srv.Flows()[0].RevisionID {
		t.Errorf("deactivate raced by HubSpot: %+v %v", st, err)
	}
	// A workflow HubSpot no longer has: a clear error.
	_, err = e.target.Retire(ctx(), obj, sandbox.OpDeactivate, sandbox.LiveState{ID: "585999999"})
	if e.note(err); err == nil || !strings.Contains(err.Error(), `hubspot: turn off workflow "Quiet": HubSpot has no such object`) {
		t.Errorf("deactivate of a missing workflow: %v", err)
	}
}
