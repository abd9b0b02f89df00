package hubspot

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// campaign is a small promotion: two segments, a batch email, an automated
// email, a page and a workflow, promoted in dependency order as the
// promotion engine does, each step resumed with Find when it failed.
type campaign struct {
	static, dynamic, batch, auto, page, flow sandbox.Object
}

func newCampaign() campaign {
	staticSeg := sandbox.Segment{StaticEmails: []string{"a@x.test", "b@x.test"}}
	c := campaign{
		static:  segmentObj("seg_static", "Beta", staticSeg),
		dynamic: segmentObj("seg_dyn", "Germany", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}}),
		batch:   emailObj("eml_batch", "Launch", []string{"seg_dyn"}, map[string]string{}),
		auto:    emailObj("eml_auto", "Welcome", nil, map[string]string{}),
		page:    pageObj("pg_1", "Launch page", "launch"),
	}
	c.flow = flowObj("wf_1", "Onboarding", sandbox.Workflow{
		Trigger:  sandbox.Trigger{Type: "segment_entry", SegmentID: "seg_dyn"},
		Steps:    []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: "eml_auto", Next: "s2"}, {ID: "s2", Type: "add_to_segment", SegmentID: "seg_static"}},
		Activate: true,
	}, map[string]string{}, map[string]*sandbox.Segment{"seg_static": &staticSeg})
	return c
}

// promote runs the campaign through the target like the promotion engine:
// an intent, Put (or Find first when resuming), then sends and publishes.
// A failed step is retried once after reconciling with Find, as a resumed
// promotion would. It returns the live state of each artifact.
func promote(t *testing.T, e *env, c *campaign) map[string]sandbox.LiveState {
	t.Helper()
	live := map[string]sandbox.LiveState{}
	step := func(obj *sandbox.Object) {
		t.Helper()
		st, err := e.target.Put(ctx(), *obj, "")
		if err != nil {
			e.note(err)
			t.Logf("step %s failed, resuming: %v", obj.ArtifactID, err)
			found, ok, ferr := e.target.Find(ctx(), *obj)
			if ferr != nil {
				t.Fatalf("Find %s: %v", obj.ArtifactID, e.note(ferr))
			}
			if ok {
				st = found
			} else if st, err = e.target.Put(ctx(), *obj, ""); err != nil {
				t.Fatalf("Put %s on resume: %v", obj.ArtifactID, e.note(err))
			}
		}
		live[obj.ArtifactID] = st
	}
	ref := func(obj *sandbox.Object, ids ...string) {
		for _, id := range ids {
			obj.Refs[id] = live[id].ID
		}
	}
	step(&c.static)
	step(&c.dynamic)
	ref(&c.batch, "seg_dyn")
	step(&c.batch)
	step(&c.auto)
	step(&c.page)
	ref(&c.flow, "seg_dyn", "seg_static", "eml_auto")
	step(&c.flow)
	retry := func(name string, f func() (sandbox.LiveState, error)) sandbox.LiveState {
		st, err := f()
		if err != nil {
			e.note(err)
			t.Logf("%s failed, resuming: %v", name, err)
			if st, err = f(); err != nil {
				t.Fatalf("%s on resume: %v", name, e.note(err))
			}
		}
		return st
	}
	retry("send", func() (sandbox.LiveState, error) {
		return e.target.Send(ctx(), c.batch, live["eml_batch"], time.Time{})
	})
	retry("publish page", func() (sandbox.LiveState, error) {
		return e.target.Publish(ctx(), c.page, live["pg_1"], time.Time{})
	})
	retry("turn on workflow", func() (sandbox.LiveState, error) {
		return e.target.Publish(ctx(), c.flow, live["wf_1"], time.Time{})
	})
	return live
}

func assertExactlyOnce(t *testing.T, e *env) {
	t.Helper()
	want := map[string]int{"lists": 2, "emails": 2, "pages": 1, "flows": 1}
	if got := e.srv.Counts(); !equalCounts(got, want) {
		t.Errorf("fake holds %v, want exactly %v", got, want)
	}
	for _, em := range e.srv.Emails() {
		if !em.IsPublished {
			t.Errorf("email %s (%s) is %s", em.ID, em.Name, em.State)
		}
	}
	if p := e.srv.Pages(); len(p) == 1 && !p[0].Published {
		t.Errorf("page not published: %+v", p[0].State)
	}
	if f := e.srv.Flows(); len(f) == 1 && !f[0].IsEnabled {
		t.Errorf("workflow not enabled")
	}
	for _, l := range e.srv.Lists() {
		if l.ProcessingType == "MANUAL" && len(l.Members) != 2 {
			t.Errorf("static list members = %v", l.Members)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func TestPromotionWithoutFaults(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("a@x.test", "b@x.test")
	c := newCampaign()
	promote(t, e, &c)
	assertExactlyOnce(t, e)
}

// Faults on every kind of call, each of the sorts HubSpot produces: the
// promotion completes with exactly one of every object.
func TestPromotionUnderFaults(t *testing.T) {
	F := func(op string, k faketest.Kind, times int) faketest.Fault {
		return faketest.Fault{Op: op, Kind: k, Times: times}
	}
	tests := []struct {
		name   string
		faults []faketest.Fault
	}{
		{"429 storm", []faketest.Fault{F("*", faketest.RateLimit, 8)}},
		{"500s before applying", []faketest.Fault{F("lists.create", faketest.Fail, 2), F("emails.create", faketest.Fail, 2),
			F("pages.create", faketest.Fail, 1), F("flows.create", faketest.Fail, 1), F("emails.publish", faketest.Fail, 1),
			F("lists.members.change", faketest.Fail, 2), F("emails.get", faketest.Fail, 2)}},
		{"500s after applying", []faketest.Fault{F("lists.create", faketest.FailAfterApply, 1), F("emails.create", faketest.FailAfterApply, 2),
			F("pages.create", faketest.FailAfterApply, 1), F("flows.create", faketest.FailAfterApply, 1), F("emails.publish", faketest.FailAfterApply, 2),
			F("flows.update", faketest.FailAfterApply, 1), F("pages.schedule", faketest.FailAfterApply, 1)}},
		{"timeouts after the server applied the write", []faketest.Fault{F("lists.create", faketest.TimeoutAfterApply, 1), F("emails.create", faketest.TimeoutAfterApply, 1),
			F("pages.create", faketest.TimeoutAfterApply, 1), F("flows.create", faketest.TimeoutAfterApply, 1), F("emails.publish", faketest.TimeoutAfterApply, 1)}},
		{"connections dropped", []faketest.Fault{F("lists.create", faketest.DropAfterApply, 1), F("lists.create", faketest.DropBeforeApply, 1),
			F("emails.create", faketest.DropAfterApply, 1), F("pages.create", faketest.DropAfterApply, 1), F("flows.create", faketest.DropAfterApply, 1),
			F("emails.publish", faketest.DropAfterApply, 1), F("flows.update", faketest.DropAfterApply, 1), F("emails.list", faketest.DropBeforeApply, 1)}},
		{"everything at once", []faketest.Fault{F("*", faketest.RateLimit, 3), F("lists.create", faketest.TimeoutAfterApply, 1),
			F("emails.create", faketest.FailAfterApply, 1), F("emails.publish", faketest.DropAfterApply, 1), F("pages.create", faketest.Fail, 1),
			F("flows.create", faketest.TimeoutAfterApply, 1), F("flows.update", faketest.FailAfterApply, 1), F("contacts.read", faketest.RateLimit, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, hubspottest.Options{Window: 40 * time.Millisecond}, Config{CommitLag: 20 * time.Millisecond}, // the fake commits in the request
				WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
			e.srv.AddContacts("a@x.test", "b@x.test")
			for _, f := range tt.faults {
				e.srv.Inject(f)
			}
			c := newCampaign()
			promote(t, e, &c)
			assertExactlyOnce(t, e)
			if n := e.srv.PendingFaults(); n > 0 && tt.name != "429 storm" {
				t.Logf("%d injected faults were not reached", n)
			}
			if e.srv.Stats().Injected == 0 {
				t.Error("no fault was injected")
			}
		})
	}
}

// An interrupted attempt: the process gave up (here: its context ended)
// after HubSpot applied the create. On resume Find returns the object, so
// nothing is created twice.
func TestFindAfterInterruptedCreate(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("a@x.test", "b@x.test")
	c := newCampaign()
	lists := map[string]string{}
	objs := []*sandbox.Object{&c.static, &c.dynamic, &c.auto, &c.page}
	ops := []string{"lists.create", "lists.create", "emails.create", "pages.create"}
	for i, obj := range objs {
		e.srv.Inject(faketest.Fault{Op: ops[i], Kind: faketest.TimeoutAfterApply})
		cctx, cancel := context.WithTimeout(ctx(), 150*time.Millisecond)
		_, err := e.target.Put(cctx, *obj, "")
		cancel()
		if err == nil {
			t.Fatalf("%s: the interrupted create succeeded", obj.ArtifactID)
		}
		e.note(err)
		st, found, err := e.target.Find(ctx(), *obj)
		if err != nil || !found {
			t.Fatalf("%s: Find after the interruption: %v %v", obj.ArtifactID, found, err)
		}
		lists[obj.ArtifactID] = st.ID
	}
	c.flow.Refs = map[string]string{"seg_dyn": lists["seg_dyn"], "seg_static": lists["seg_static"], "eml_auto": lists["eml_auto"]}
	e.srv.Inject(faketest.Fault{Op: "flows.create", Kind: faketest.TimeoutAfterApply})
	cctx, cancel := context.WithTimeout(ctx(), 150*time.Millisecond)
	_, err := e.target.Put(cctx, c.flow, "")
	cancel()
	if err == nil || !strings.Contains(err.Error(), "create workflow") {
		t.Fatalf("interrupted workflow create: %v", err)
	}
	if _, found, err := e.target.Find(ctx(), c.flow); err != nil || !found {
		t.Fatalf("Find workflow: %v %v", found, err)
	}
	if got := e.srv.Counts(); got["lists"] != 2 || got["emails"] != 1 || got["pages"] != 1 || got["flows"] != 1 {
		t.Errorf("counts = %v", got)
	}
}
