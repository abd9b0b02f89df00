package hubspot

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

var sweptKinds = []sandbox.Kind{sandbox.KindSegment, sandbox.KindEmail, sandbox.KindPage, sandbox.KindWorkflow}

// marked lists every kind's marked objects as "artifact reached".
func marked(t *testing.T, e *env) map[sandbox.Kind][]string {
	t.Helper()
	out := map[sandbox.Kind][]string{}
	for _, k := range sweptKinds {
		ms, err := e.target.Marked(ctx(), k)
		if err != nil {
			t.Fatalf("Marked(%s): %v", k, e.note(err))
		}
		for _, m := range ms {
			if m.Kind != k || m.LiveID == "" || !strings.Contains(m.Name, "["+sandbox.MarkerPrefix+m.ArtifactID+"]") {
				t.Errorf("Marked(%s) gave %+v", k, m)
			}
			out[k] = append(out[k], m.ArtifactID+" "+map[bool]string{true: "reached", false: "unreached"}[m.Reached])
		}
		sort.Strings(out[k])
	}
	return out
}

// sweep discards, as the sandbox does after a promotion, every marked
// object no artifact is bound to, and returns what it refused.
func sweep(t *testing.T, e *env, bound map[string]sandbox.LiveState) []error {
	t.Helper()
	var refused []error
	for _, k := range sweptKinds {
		ms, err := e.target.Marked(ctx(), k)
		if err != nil {
			t.Fatalf("Marked(%s): %v", k, e.note(err))
		}
		for _, m := range ms {
			if bound[m.ArtifactID].ID == m.LiveID {
				continue
			}
			if err := e.target.Discard(ctx(), m); err != nil {
				refused = append(refused, e.note(err))
			}
		}
	}
	return refused
}

// Strays of every kind next to a promoted campaign: Marked finds each one
// by its marker, past the first page of a listing, and tells what reached
// people; Discard removes the strays and refuses what reached people.
func TestMarkedAndDiscard(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("a@x.test", "b@x.test")
	e.srv.SeedEmails(120) // a portal's own emails, unmarked: the strays are on the second page
	c := newCampaign()
	live := promote(t, e, &c)

	strayList := segmentObj("seg_stray", "Stray", sandbox.Segment{StaticEmails: []string{"a@x.test"}})
	strayEmail := emailObj("eml_stray", "Stray", nil, map[string]string{})
	strayPage := pageObj("pg_stray", "Stray page", "stray")
	strayFlow := c.flow
	strayFlow.ArtifactID, strayFlow.Marker = "wf_stray", "lm-wf_stray"
	foreign := emailObj("eml_foreign", "Theirs", nil, map[string]string{})
	foreign.Marker = "" // made by someone else: no marker
	for _, obj := range []sandbox.Object{strayList, strayEmail, strayPage, strayFlow, foreign} {
		must[sandbox.LiveState](t, e)(e.target.Put(ctx(), obj, ""))
	}
	want := map[sandbox.Kind][]string{
		// Marked leaves whether a list is in use to Discard (it takes a
		// request per workflow): seg_dyn is the batch email's audience and
		// the workflow's trigger, seg_static a list the workflow (on) adds
		// contacts to, and Discard refuses both below.
		sandbox.KindSegment:  {"seg_dyn unreached", "seg_static unreached", "seg_stray unreached"},
		sandbox.KindEmail:    {"eml_auto reached", "eml_batch reached", "eml_stray unreached"},
		sandbox.KindPage:     {"pg_1 reached", "pg_stray unreached"},
		sandbox.KindWorkflow: {"wf_1 reached", "wf_stray unreached"},
	}
	got := marked(t, e)
	for _, k := range sweptKinds {
		if strings.Join(got[k], ", ") != strings.Join(want[k], ", ") {
			t.Errorf("Marked(%s) = %v, want %v", k, got[k], want[k])
		}
	}
	if _, err := e.target.Marked(ctx(), sandbox.Kind("campaign")); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("Marked of an unknown kind: %v", err)
	}

	if refused := sweep(t, e, live); len(refused) > 0 {
		t.Fatalf("the sweep refused strays: %v", refused)
	}
	onlyCampaign := func() {
		t.Helper()
		got := marked(t, e)
		for _, k := range sweptKinds {
			var kept []string
			for _, w := range want[k] {
				if !strings.Contains(w, "_stray ") {
					kept = append(kept, w)
				}
			}
			if strings.Join(got[k], ", ") != strings.Join(kept, ", ") {
				t.Errorf("after the sweep Marked(%s) = %v, want %v", k, got[k], kept)
			}
		}
		if c := e.srv.Counts(); c["emails"] != 120+2+1 || c["lists"] != 2 || c["pages"] != 1 || c["flows"] != 1 {
			t.Errorf("the fake holds %v: want the portal's 120 emails, the foreign one and the campaign's objects", c)
		}
	}
	onlyCampaign()

	// What reached people stays.
	for _, k := range sweptKinds {
		ms, _ := e.target.Marked(ctx(), k)
		for _, m := range ms {
			if err := e.target.Discard(ctx(), m); !errors.Is(err, sandbox.ErrReachedPeople) {
				t.Errorf("Discard(%s %s) = %v, want ErrReachedPeople", k, m.ArtifactID, e.note(err))
			} else if !strings.Contains(err.Error(), "reached people") {
				t.Errorf("refusal does not say why: %v", err)
			}
		}
	}
	onlyCampaign()

	// A gone object is no error; one whose marker is not the artifact's is left.
	if err := e.target.Discard(ctx(), sandbox.Marked{Kind: sandbox.KindEmail, ArtifactID: "eml_stray", LiveID: "38175999999"}); err != nil {
		t.Errorf("discarding what is gone: %v", err)
	}
	other := must[sandbox.LiveState](t, e)(e.target.Put(ctx(), emailObj("eml_other", "Other", nil, map[string]string{}), ""))
	if err := e.target.Discard(ctx(), sandbox.Marked{Kind: sandbox.KindEmail, ArtifactID: "eml_else", LiveID: other.ID}); !errors.Is(err, sandbox.ErrConflict) {
		t.Errorf("discarding under another artifact's name: %v", err)
	}
}

// A draft list no sent email uses is discarded; once a scheduled email
// goes to it, it has reached people.
func TestDiscardListInUse(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	e.srv.AddContacts("a@x.test")
	seg := must[sandbox.LiveState](t, e)(e.target.Put(ctx(), segmentObj("seg_1", "Beta", sandbox.Segment{StaticEmails: []string{"a@x.test"}}), ""))
	em := emailObj("eml_1", "Launch", []string{"seg_1"}, map[string]string{"seg_1": seg.ID})
	at := time.Now().Add(48 * time.Hour)
	em.Email.SendAt = &at
	st := must[sandbox.LiveState](t, e)(e.target.Put(ctx(), em, ""))
	m := sandbox.Marked{Kind: sandbox.KindSegment, ArtifactID: "seg_1", LiveID: seg.ID}
	must[sandbox.LiveState](t, e)(e.target.Send(ctx(), em, st, at))
	if err := e.target.Discard(ctx(), m); !errors.Is(err, sandbox.ErrReachedPeople) {
		t.Fatalf("discarding the audience of a scheduled email: %v", e.note(err))
	}
	if n := len(e.srv.Lists()); n != 1 {
		t.Errorf("%d lists, want 1", n)
	}
}

// Late apply: HubSpot applies a create after lastmile's request timeout.
// The connector saw a timeout, found nothing and created again; then the
// first create landed. Lists and pages cannot double (a list name, a page
// slug is taken: the late commit fails); an email and a workflow do, as
// drafts. The sweep after the promotion discards those, and the fake then
// holds exactly the planned objects.
func TestLateApplyStraysAreSwept(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{CommitLag: 20 * time.Millisecond}, WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond})) // a lag shorter than the late commits, so they land after the window
	e.srv.AddContacts("a@x.test", "b@x.test")
	for _, op := range []string{"lists.create", "emails.create", "pages.create", "flows.create"} {
		e.srv.Inject(faketest.Fault{Op: op, Kind: faketest.LateApply, Delay: 100 * time.Millisecond})
	}
	c := newCampaign()
	live := promote(t, e, &c)
	e.srv.Settle()
	if e.srv.PendingFaults() != 0 {
		t.Fatalf("%d late applies were not used", e.srv.PendingFaults())
	}
	got := e.srv.Counts()
	if got["lists"] != 2 || got["pages"] != 1 || got["emails"] != 3 || got["flows"] != 2 {
		t.Fatalf("after the late commits the fake holds %v; want the planned objects plus one stray email and workflow", got)
	}
	if refused := sweep(t, e, live); len(refused) > 0 {
		t.Fatalf("the sweep refused: %v", refused)
	}
	assertExactlyOnce(t, e)
	for _, k := range sweptKinds {
		ms, _ := e.target.Marked(ctx(), k)
		for _, m := range ms {
			if bound := live[m.ArtifactID]; bound.ID != m.LiveID {
				t.Errorf("%s %s: %s is left beside the bound %s", k, m.ArtifactID, m.LiveID, bound.ID)
			}
		}
	}
}

// A create HubSpot applies late but within its landing window is found by
// the connector's own lookup, which waits the window out: no second object.
func TestLateApplyWithinTheWindowIsFound(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{CommitLag: 400 * time.Millisecond}, WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	e.srv.AddContacts("a@x.test", "b@x.test")
	for _, op := range []string{"emails.create", "flows.create"} {
		e.srv.Inject(faketest.Fault{Op: op, Kind: faketest.LateApply, Delay: 100 * time.Millisecond})
	}
	c := newCampaign()
	promote(t, e, &c)
	e.srv.Settle()
	if got := e.srv.Counts(); got["emails"] != 2 || got["flows"] != 1 {
		t.Fatalf("the fake holds %v; want the planned objects and nothing more", got)
	}
	assertExactlyOnce(t, e)
}
