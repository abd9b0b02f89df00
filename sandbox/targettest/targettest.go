// Package targettest is the conformance suite of the sandbox's Target port:
// one table of checks run over every implementation, as each connector's
// conformance_test.go does:
//
//	func TestConformance(t *testing.T) {
//		targettest.Run(t, func(t *testing.T) targettest.Fixture {
//			return targettest.Fixture{Target: newTarget(t), Contacts: …}
//		})
//	}
//
// For every kind the target's Capabilities support, the suite builds
// realistic objects by hand (artifact ids like seg_01…, markers lm-<id>,
// final content, Refs to the live ids of what they reference, the
// campaign's Segments) and checks, in order:
//
//   - assess: Assess before anything exists answers without an error and
//     without Problems for a well-formed object, and writes nothing;
//   - find-before-put: Find answers not found, without an error;
//   - create: Put with no live id returns an ID and a Version; Live finds it
//     with the same ID and Version; Find (by the marker) finds the same ID;
//   - update: Put of a changed revision with that ID keeps the ID and
//     changes the Version, Live agrees, and Find still answers that ID (no
//     second object);
//   - live-missing: Live of a plausible id that does not exist answers
//     found=false and no error;
//   - publish-inactive: Publish of a workflow with Activate off leaves it
//     off;
//   - send-twice (emails with an audience), publish-twice (pages, and
//     workflows with Activate): the first call sends or publishes (once, when
//     the fixture can count), the second does nothing: no further send or
//     publish on the platform, the object unchanged, and the state each
//     returns agrees with Live (the binding records it for drift detection);
//   - update-after-send, update-after-publish: the next revision of a sent
//     email or published page or workflow (the planner makes an update step,
//     and no second send) is either reported by Assess as a Problem, or Put
//     takes it; an Assess without Problems followed by a failing Put breaks
//     "what the target cannot do is a Problem, before anything is written";
//   - schedule-twice, update-after-schedule: the same for a second email
//     (send_at) or page (publish_at) scheduled three days ahead;
//   - send-window, recipient-time-zone (sendtiming.go): an email moved into
//     a send window, and one sent by recipient time zone, either get a
//     Problem from Assess or are put and scheduled once;
//   - ab-test, ab-test-three (emails with an audience): an A/B test of two
//     and of three versions is either a Problem of Assess (what the
//     platform cannot run as approved) or taken by Put and Send, sent at
//     most once however often Send is called (abtest.go);
//   - conditions (segments, when the fixture gives conditions): the shared
//     cases for a segment that selects by property;
//   - retire: every retirement of the kind (sandbox.RetireOps) either
//     refused before anything is written, with an error wrapping
//     sandbox.ErrNotSupported that names the platform, or taken, visible
//     in Live, and safe to take twice (retire.go).
//
// A "describe" case checks what list_targets shows of the target: it
// implements sandbox.Describer; its Description names one of the known
// auth kinds, says in Limits why when it lacks a capability, and contains
// none of Fixture.Secrets; and CheckAuth with the fixture's (valid)
// credentials answers nil within a short timeout.
//
// Assess is asked as the planner asks it: with the live ids of what is live
// in Refs (the object's own included once it is live) and every segment of
// the campaign in Segments.
//
// For every kind it does not support: Assess answers with a Problem that
// names an alternative target (not an error), and Put fails with an error
// wrapping sandbox.ErrNotSupported.
//
// A "concurrent" case then assesses, creates, reads, finds and updates
// several objects of every supported kind from parallel goroutines (run the
// suite with -race).
//
// A failing case of a known bug is listed in Fixture.KnownBugs: the case
// still runs, and is skipped with "BUG: …" when it fails (so the rest of the
// suite runs), or fails when it passes (so the entry is removed once the bug
// is fixed).
package targettest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// Fixture is one implementation under test and what the suite needs to know
// about its platform.
type Fixture struct {
	// Target is the implementation under test, fresh for the fixture (the
	// suite asks for a new fixture per kind and for the concurrent case).
	Target sandbox.Target

	// Contacts are addresses the platform knows (contacts.csv, CRM contacts,
	// audience members), at least two. Static segments select among them and
	// emails are sent to them. Empty: no segment or send checks.
	Contacts []string

	// Conditions, when given, are two property conditions the platform can
	// express; a segment is created with the first and updated to the
	// second ("conditions" case).
	Conditions []sandbox.Condition

	// MissingID returns a live id of kind k that looks like the platform's
	// but names nothing. Nil: no live-missing check.
	MissingID func(k sandbox.Kind) string

	// Sends reports how many times the platform has sent the email with this
	// live id: a send to the whole audience counts once, however many
	// recipients it has. Nil when the platform cannot tell.
	Sends func(t testing.TB, liveID string) int

	// Publishes reports a count that grows with every publish action the
	// platform performs for the page or workflow with this live id (a
	// per-platform counter of publish calls will do: the suite compares
	// counts around its own calls only). Nil when the platform cannot tell.
	Publishes func(t testing.TB, kind sandbox.Kind, liveID string) int

	// Unique is a string unique to this run, used in names and slugs:
	// platforms shared across runs (a WordPress site) keep what earlier
	// runs made. It must be a valid slug (lower-case letters, digits and
	// single dashes). Empty: the suite makes one.
	Unique string

	// Secrets are the credentials the target was connected with (tokens,
	// keys, passwords): the "describe" case checks that its description
	// contains none of them.
	Secrets []string

	// KnownBugs maps a case ("page/publish-twice", "concurrent/update") to a
	// description of a known bug that makes it fail.
	KnownBugs map[string]string
}

// Run runs the conformance suite: newFixture is called for each kind and for
// the concurrent case, each time for a fresh target.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	root := t.Name()
	for _, k := range sandbox.Kinds {
		t.Run(string(k), func(t *testing.T) {
			s := newSuite(t, root, newFixture(t))
			if !s.caps.Supports(k) {
				s.unsupported(t, k)
				return
			}
			switch k {
			case sandbox.KindSegment:
				s.segmentCases(t)
			case sandbox.KindEmail:
				s.emails(t)
			case sandbox.KindPage:
				s.pages(t)
			case sandbox.KindWorkflow:
				s.workflows(t)
			case sandbox.KindAd:
				s.ads(t)
			}
			t.Run("retire", func(t *testing.T) { s.retireCases(t, k) })
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		s := newSuite(t, root, newFixture(t))
		s.concurrent(t)
	})
	t.Run("describe", func(t *testing.T) {
		s := newSuite(t, root, newFixture(t))
		s.describe(t)
	})
}

// suite is one fixture with the campaign its objects belong to.
type suite struct {
	root     string // the name of the test that called Run
	f        Fixture
	tg       sandbox.Target
	caps     sandbox.Capabilities
	campaign sandbox.Campaign
	u        string // unique per fixture
	seq      int    // names and slugs within the fixture

	mu   sync.Mutex
	segs map[string]*sandbox.Segment // every segment of the campaign
}

func newSuite(t *testing.T, root string, f Fixture) *suite {
	t.Helper()
	if f.Target == nil {
		t.Fatal("targettest: the fixture has no Target")
	}
	if len(f.Conditions) == 1 {
		t.Fatal("targettest: Fixture.Conditions needs two conditions (create, then update)")
	}
	u := f.Unique
	if u == "" {
		u = "ct-" + strings.ToLower(randomBase32(10))
	}
	tg := f.Target
	created := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	return &suite{
		root: root, f: f, tg: tg, caps: tg.Capabilities(), u: u,
		campaign: sandbox.Campaign{
			ID: NewID("cmp_"), Name: "Conformance " + u, Brief: "Spring launch, conformance run",
			Goal: "signups", Markets: []string{"GB", "US"}, Target: tg.Name(),
			UTM: sandbox.UTM{Source: tg.Platform(), Medium: "email", Campaign: "spring-" + u}, CreatedAt: created,
		},
		segs: map[string]*sandbox.Segment{},
	}
}

// ctx is a test's context with a bound, so a hung call fails the test
// instead of the whole run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// ---- ids and objects ----

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

func randomBase32(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = crockford[int(b[i])%len(crockford)]
	}
	return string(b)
}

// NewID returns an id like the sandbox's: prefix plus 26 Crockford base32
// characters, the first 10 from the clock so ids sort by creation.
func NewID(prefix string) string {
	ms := uint64(time.Now().UnixMilli())
	var head [10]byte
	for i := 9; i >= 0; i-- {
		head[i] = crockford[ms&31]
		ms >>= 5
	}
	return prefix + string(head[:]) + randomBase32(16)
}

func (s *suite) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

func hashOf(v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// object wraps content as the promoter hands it to a target: kind, artifact
// id, revision, content hash, marker, campaign, refs and segments.
func (s *suite) object(kind sandbox.Kind, id string, rev int, refs map[string]string) sandbox.Object {
	return sandbox.Object{Kind: kind, ArtifactID: id, Revision: rev, Marker: "lm-" + id, Campaign: s.campaign,
		Refs: mergeRefs(refs, nil), Segments: s.segments()}
}

// segments is a copy of the campaign's segment definitions so far.
func (s *suite) segments() map[string]*sandbox.Segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	segs := make(map[string]*sandbox.Segment, len(s.segs))
	for k, v := range s.segs {
		segs[k] = v
	}
	return segs
}

// addSegment records a segment definition in the campaign (every object
// carries all of them, as the promoter does).
func (s *suite) addSegment(id string, seg *sandbox.Segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs[id] = seg
}

// staticSegment selects addresses: revision 2 renames it and drops one.
func (s *suite) staticSegment(id string, rev int, name string) sandbox.Object {
	addrs := slices.Clone(s.f.Contacts)
	if len(addrs) > 3 {
		addrs = addrs[:3]
	}
	if rev > 1 && len(addrs) > 1 {
		addrs = addrs[:len(addrs)-1]
		name += revised(rev)
	}
	seg := &sandbox.Segment{Name: name, StaticEmails: addrs}
	s.addSegment(id, seg)
	obj := s.object(sandbox.KindSegment, id, rev, nil)
	obj.Segment, obj.Hash = seg, hashOf(seg)
	return obj
}

// conditionSegment selects by a property: Conditions[0], then
// Conditions[1] in revision 2.
func (s *suite) conditionSegment(id string, rev int, name string) sandbox.Object {
	c := s.f.Conditions[0]
	if rev > 1 {
		c = s.f.Conditions[1]
		name += revised(rev)
	}
	seg := &sandbox.Segment{Name: name, Group: sandbox.Group{Match: "all", Conditions: []sandbox.Condition{c}}}
	s.addSegment(id, seg)
	obj := s.object(sandbox.KindSegment, id, rev, nil)
	obj.Segment, obj.Hash = seg, hashOf(seg)
	return obj
}

// email is a newsletter to the audience segment (audience "" : none, an
// automated email for workflows). refs holds the segment's live id once it
// is live.
func (s *suite) email(id string, rev int, name, audience string, refs map[string]string) sandbox.Object {
	utm := "utm_source=" + s.campaign.UTM.Source + "&amp;utm_medium=email&amp;utm_campaign=" + s.campaign.UTM.Campaign
	subject, headline := "Spring is here", "Our spring range has landed"
	if rev > 1 {
		subject, headline = "Spring is here: last days", "Last days of our spring range"
		name += revised(rev)
		headline += revised(rev)
	}
	e := &sandbox.Email{
		Name: name, Subject: subject, PreviewText: "Thirty percent off, this week only",
		FromName: "Acme Outdoor", FromEmail: "news@acme.example", ReplyTo: "news@acme.example",
		HTML: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>` + subject + `</title></head><body>` +
			`<h1>` + headline + `</h1><p>Hi {{ contact.firstname | default: "there" }},</p>` +
			`<p>Tents, packs and boots: <a href="https://acme.example/spring?` + utm + `">see the range</a>.</p>` +
			`<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`,
		Text: headline + "\n\nHi {{ contact.firstname | default: \"there\" }},\nSee the range: https://acme.example/spring?" +
			strings.ReplaceAll(utm, "&amp;", "&") + "\n\nUnsubscribe: {{ unsubscribe_url }}\n",
		TextDerived: true,
	}
	if audience != "" {
		e.Audience = sandbox.Audience{Include: []string{audience}}
	}
	obj := s.object(sandbox.KindEmail, id, rev, refs)
	obj.Email, obj.Hash = e, hashOf(e)
	return obj
}

// page is a landing page at slug.
func (s *suite) page(id string, rev int, title, slug string) sandbox.Object {
	utm := "utm_source=" + s.campaign.UTM.Source + "&amp;utm_medium=landing&amp;utm_campaign=" + s.campaign.UTM.Campaign
	lead := "Thirty percent off tents, packs and boots this week."
	if rev > 1 {
		lead = "Last days: thirty percent off tents, packs and boots."
		title += revised(rev)
	}
	body := "<section>\n<h1>" + title + "</h1>\n<p>" + lead + "</p>\n" +
		`<p><a href="https://acme.example/spring?` + utm + `">Shop the range</a></p>` + "\n</section>\n"
	p := &sandbox.Page{
		Title: title, Slug: slug, MetaDescription: lead, Body: body,
		HTML: "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body>\n" + body + "</body></html>\n",
	}
	obj := s.object(sandbox.KindPage, id, rev, nil)
	obj.Page, obj.Hash = p, hashOf(p)
	return obj
}

// workflow greets the trigger segment's new members: send the automated
// email (when there is one), wait, exit. Activate is on.
func (s *suite) workflow(id string, rev int, name, segment, email string, refs map[string]string) sandbox.Object {
	wait := "1d"
	if rev > 1 {
		wait = fmt.Sprintf("%dd", rev)
		name += revised(rev)
	}
	var steps []sandbox.Step
	if email != "" {
		steps = append(steps, sandbox.Step{ID: "welcome", Type: "send_email", EmailID: email, Next: "pause"})
	}
	steps = append(steps, sandbox.Step{ID: "pause", Type: "wait", Duration: wait, Next: "done"}, sandbox.Step{ID: "done", Type: "exit"})
	wf := &sandbox.Workflow{Name: name, Trigger: sandbox.Trigger{Type: "manual"}, Steps: steps, Activate: true}
	if segment != "" {
		wf.Trigger = sandbox.Trigger{Type: "segment_entry", SegmentID: segment}
	}
	obj := s.object(sandbox.KindWorkflow, id, rev, refs)
	obj.Workflow, obj.Hash = wf, hashOf(wf)
	return obj
}

// revised marks the name of revisions after the first.
func revised(rev int) string { return fmt.Sprintf(" (revision %d)", rev) }

func (s *suite) slug(what string) string { return fmt.Sprintf("%s-%s%d", s.u, what, s.next()) }

func (s *suite) name(what string) string { return fmt.Sprintf("%s %s %d", what, s.u, s.next()) }

// ---- cases ----

// stop ends a case early (Fatalf).
type stop struct{}

// check is one case: its failures are reported, or, for a known bug,
// collected and turned into a skip.
type check struct {
	t     *testing.T
	bug   string
	fails []string
}

// Errorf reports a failure and goes on.
func (c *check) Errorf(format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	c.fails = append(c.fails, msg)
	if c.bug == "" {
		c.t.Error(msg)
	} else {
		c.t.Log("(known bug) " + msg)
	}
}

// Fatalf reports a failure and ends the case.
func (c *check) Fatalf(format string, args ...any) {
	c.t.Helper()
	c.Errorf(format, args...)
	panic(stop{})
}

// Logf logs.
func (c *check) Logf(format string, args ...any) {
	c.t.Helper()
	c.t.Logf(format, args...)
}

// run runs one case as a subtest. It reports whether the case passed.
func (s *suite) run(t *testing.T, name string, body func(t *testing.T, c *check)) bool {
	key := strings.TrimPrefix(t.Name(), s.root+"/") + "/" + name // "page/publish-twice"
	return t.Run(name, func(t *testing.T) {
		c := &check{t: t, bug: s.f.KnownBugs[key]}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if _, ok := p.(stop); !ok {
						c.Errorf("panic: %v\n%s", p, debug.Stack())
					}
				}
			}()
			body(t, c)
		}()
		switch {
		case c.bug != "" && len(c.fails) > 0:
			t.Skipf("BUG: %s\n(observed: %s)", c.bug, strings.Join(c.fails, "; "))
		case c.bug != "" && !t.Skipped():
			t.Errorf("KnownBugs[%q] says %q, but the case passed: remove the entry", key, c.bug)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// lifecycle runs the cases every kind shares: assess, find-before-put,
// create, update, live-missing. It returns the object's live state (ID ""
// when it could not be created) and its revision-2 object.
func (s *suite) lifecycle(t *testing.T, rev1, rev2 sandbox.Object) (sandbox.LiveState, sandbox.Object) {
	kind := rev1.Kind
	s.run(t, "assess", func(t *testing.T, c *check) {
		a, err := s.tg.Assess(ctx(t), rev1)
		if err != nil {
			c.Fatalf("Assess(%s %s) before anything exists: %v", kind, rev1.ArtifactID, err)
		}
		if len(a.Problems) > 0 {
			c.Errorf("Assess(%s %s) of a well-formed object: Problems %q, want none", kind, rev1.ArtifactID, a.Problems)
		}
		if a.AudienceSize < -1 {
			c.Errorf("Assess(%s): AudienceSize %d, want -1 (unknown) or a count", kind, a.AudienceSize)
		}
	})
	s.run(t, "find-before-put", func(t *testing.T, c *check) {
		st, found, err := s.tg.Find(ctx(t), rev1)
		if err != nil || found {
			c.Errorf("Find(%s %s) before any Put (and after Assess): %+v found=%v err=%v, want not found and no error", kind, rev1.Marker, st, found, err)
		}
	})
	var live sandbox.LiveState
	s.run(t, "create", func(t *testing.T, c *check) {
		cx := ctx(t)
		st, err := s.tg.Put(cx, rev1, "")
		if err != nil {
			c.Fatalf("Put(%s %s, \"\"): %v", kind, rev1.ArtifactID, err)
		}
		if st.ID == "" {
			c.Fatalf("Put(%s, \"\") returned no ID: %+v", kind, st)
		}
		live = st
		if st.Version == "" {
			c.Errorf("Put(%s, \"\") returned no Version: %+v", kind, st)
		}
		got, found, err := s.tg.Live(cx, kind, st.ID)
		switch {
		case err != nil || !found:
			c.Errorf("Live(%s, %q) right after the create: found=%v err=%v, want found", kind, st.ID, found, err)
		case got.ID != st.ID || got.Version != st.Version:
			c.Errorf("Live(%s, %q) = {ID:%q Version:%q}, Put said {ID:%q Version:%q}: the Version must be the same while nothing changed", kind, st.ID, got.ID, got.Version, st.ID, st.Version)
		}
		fd, found, err := s.tg.Find(cx, rev1)
		switch {
		case err != nil || !found:
			c.Errorf("Find(%s) by marker %s after the create: found=%v err=%v, want found", kind, rev1.Marker, found, err)
		case fd.ID != st.ID:
			c.Errorf("Find(%s) by marker %s = %q, want the created %q", kind, rev1.Marker, fd.ID, st.ID)
		}
	})
	if live.ID == "" {
		return live, rev2
	}
	s.run(t, "update", func(t *testing.T, c *check) {
		cx := ctx(t)
		// At promotion Refs hold the live id of every live artifact of the
		// campaign, this one's included.
		rev2.Refs = mergeRefs(rev2.Refs, rev1.Refs)
		rev2.Refs[rev2.ArtifactID] = live.ID
		st, err := s.tg.Put(cx, rev2, live.ID)
		if err != nil {
			c.Fatalf("Put(%s %s revision 2, %q): %v", kind, rev2.ArtifactID, live.ID, err)
		}
		if st.ID != live.ID {
			c.Errorf("Put(%s, %q) (update) returned ID %q, want the same object", kind, live.ID, st.ID)
		}
		if st.Version == live.Version {
			c.Errorf("Put(%s, %q) changed the content but the Version stayed %q", kind, live.ID, st.Version)
		}
		prev := live
		if st.ID != "" {
			live = st
		}
		got, found, err := s.tg.Live(cx, kind, live.ID)
		switch {
		case err != nil || !found:
			c.Errorf("Live(%s, %q) after the update: found=%v err=%v", kind, live.ID, found, err)
		case got.Version != st.Version:
			c.Errorf("Live(%s, %q).Version = %q after the update, Put said %q", kind, live.ID, got.Version, st.Version)
		case got.Version == prev.Version:
			c.Errorf("Live(%s, %q).Version = %q is the version from before the update", kind, live.ID, got.Version)
		}
		for _, o := range []sandbox.Object{rev2, rev1} {
			fd, found, err := s.tg.Find(cx, o)
			switch {
			case err != nil || !found:
				c.Errorf("Find(%s revision %d) after the update: found=%v err=%v", kind, o.Revision, found, err)
			case fd.ID != prev.ID:
				c.Errorf("Find(%s revision %d) after the update = %q, want %q (a second object?)", kind, o.Revision, fd.ID, prev.ID)
			}
		}
	})
	s.run(t, "live-missing", func(t *testing.T, c *check) {
		if s.f.MissingID == nil {
			t.Skip("the fixture gives no MissingID")
		}
		id := s.f.MissingID(kind)
		st, found, err := s.tg.Live(ctx(t), kind, id)
		if err != nil || found {
			c.Errorf("Live(%s, %q) of an id that does not exist: %+v found=%v err=%v, want found=false and no error", kind, id, st, found, err)
		}
	})
	return live, rev2
}

func mergeRefs(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range b {
		out[k] = v
	}
	for k, v := range a {
		out[k] = v
	}
	return out
}

// twice calls Send (send) or Publish twice, now (at zero) or scheduled for
// at, and checks the second does nothing.
func (s *suite) twice(t *testing.T, name string, obj sandbox.Object, live sandbox.LiveState, send bool, at time.Time) {
	s.run(t, name, func(t *testing.T, c *check) {
		cx := ctx(t)
		kind := obj.Kind
		call, what := s.tg.Publish, "Publish"
		count := func() int { return s.f.Publishes(t, kind, live.ID) }
		if send {
			call, what = s.tg.Send, "Send"
			count = func() int { return s.f.Sends(t, live.ID) }
		}
		if (send && s.f.Sends == nil) || (!send && s.f.Publishes == nil) {
			count = nil
		}
		// The promoter passes the state the put step returned.
		cur, found, err := s.tg.Live(cx, kind, live.ID)
		if err != nil || !found {
			c.Fatalf("Live(%s, %q) before the %s: found=%v err=%v", kind, live.ID, what, found, err)
		}
		before := 0
		if count != nil {
			before = count()
		}
		first, err := call(cx, obj, cur, at)
		if err != nil {
			c.Fatalf("first %s(%s %q): %v", what, kind, live.ID, err)
		}
		if first.ID != live.ID {
			c.Errorf("first %s returned ID %q, want %q", what, first.ID, live.ID)
		}
		after1, found, err := s.tg.Live(cx, kind, live.ID)
		if err != nil || !found {
			c.Fatalf("Live(%s, %q) after the first %s: found=%v err=%v", kind, live.ID, what, found, err)
		}
		if first.Version != after1.Version {
			c.Errorf("first %s returned Version %q but Live says %q: the binding would record a version the platform does not have, and the next plan would report drift", what, first.Version, after1.Version)
		}
		n1 := 0
		if count != nil {
			n1 = count()
			switch {
			case send && n1-before != 1:
				c.Errorf("the first Send sent or scheduled %d time(s) on the platform (count %d → %d), want exactly once", n1-before, before, n1)
			case !send && n1 <= before:
				c.Errorf("the first Publish did nothing on the platform (count %d → %d)", before, n1)
			}
		}
		// The retry after a crash: same object, the state the put returned.
		second, err := call(cx, obj, cur, at)
		if err != nil {
			c.Fatalf("second %s(%s %q): %v, want no error (idempotent)", what, kind, live.ID, err)
		}
		if count != nil {
			if n2 := count(); n2 != n1 {
				c.Errorf("the second %s acted on the platform again (count %d → %d), want no %s", what, n1, n2, map[bool]string{true: "second send", false: "second publish"}[send])
			}
		}
		after2, found, err := s.tg.Live(cx, kind, live.ID)
		if err != nil || !found {
			c.Fatalf("Live(%s, %q) after the second %s: found=%v err=%v", kind, live.ID, what, found, err)
		}
		if after2.Version != after1.Version {
			c.Errorf("the second %s changed the object: Version %q → %q", what, after1.Version, after2.Version)
		}
		if second.ID != live.ID || second.Version != after2.Version || second.Status != after2.Status {
			c.Errorf("the second %s returned {ID:%q Version:%q Status:%q}, Live says {ID:%q Version:%q Status:%q}", what,
				second.ID, second.Version, second.Status, after2.ID, after2.Version, after2.Status)
		}
	})
}

// updateAfter plans and puts the next revision of an object that was sent,
// published or scheduled: the planner makes an update step (a sent email's
// copy is updated, not sent again; an update of a published page is live at
// once). Either Assess reports that the target cannot take it, or the Put
// works.
func (s *suite) updateAfter(t *testing.T, name string, next sandbox.Object, live sandbox.LiveState) {
	s.run(t, name, func(t *testing.T, c *check) {
		cx := ctx(t)
		next.Refs[next.ArtifactID] = live.ID
		a, err := s.tg.Assess(cx, next)
		if err != nil {
			c.Fatalf("Assess(%s %s revision %d) after the send or publish: %v", next.Kind, next.ArtifactID, next.Revision, err)
		}
		if len(a.Problems) > 0 {
			c.Logf("Assess reports that revision %d cannot go to the live object (the plan fails before anything is written): %q", next.Revision, a.Problems)
			return
		}
		st, err := s.tg.Put(cx, next, live.ID)
		if err != nil {
			c.Fatalf("Assess(%s %s revision %d) reported no Problem (notes %q), but the promotion's Put(%q) failed: %v; "+
				"what the target cannot do must be a Problem at planning, before anything is written", next.Kind, next.ArtifactID, next.Revision, a.Notes, live.ID, err)
		}
		if st.ID != live.ID {
			c.Errorf("Put(%s, %q) after the send or publish returned ID %q, want the same object", next.Kind, live.ID, st.ID)
		}
		got, found, err := s.tg.Live(cx, next.Kind, live.ID)
		switch {
		case err != nil || !found:
			c.Errorf("Live(%s, %q) after the update: found=%v err=%v", next.Kind, live.ID, found, err)
		case got.Version != st.Version:
			c.Errorf("Live(%s, %q).Version = %q, the update returned %q", next.Kind, live.ID, got.Version, st.Version)
		}
		fd, found, err := s.tg.Find(cx, next)
		if err != nil || !found || fd.ID != live.ID {
			c.Errorf("Find(%s revision %d) = %+v found=%v err=%v, want ID %q", next.Kind, next.Revision, fd, found, err, live.ID)
		}
	})
}

// later is a time to schedule at: three days ahead, on the hour (Mailchimp
// schedules on quarter hours, WordPress to the second).
func later() time.Time { return time.Now().UTC().Add(72 * time.Hour).Truncate(time.Hour) }

// unsupported checks a kind the target does not hold.
func (s *suite) unsupported(t *testing.T, k sandbox.Kind) {
	obj := s.sample(k)
	s.run(t, "assess-unsupported", func(t *testing.T, c *check) {
		a, err := s.tg.Assess(ctx(t), obj)
		if err != nil {
			c.Fatalf("Assess(%s) on %s, which cannot hold %ss: error %v, want a Problem (not an error)", k, s.tg.Platform(), k, err)
		}
		if len(a.Problems) == 0 {
			c.Fatalf("Assess(%s) on %s, which cannot hold %ss: no Problems", k, s.tg.Platform(), k)
		}
		text := strings.ToLower(strings.Join(a.Problems, "\n"))
		named := false
		for _, p := range []string{"local", "hubspot", "mailchimp", "wordpress", "webflow", "google_ads", "meta"} {
			if p != s.tg.Platform() && strings.Contains(text, p) {
				named = true
			}
		}
		if !named {
			c.Errorf("Assess(%s) on %s: the Problems %q name no alternative target", k, s.tg.Platform(), a.Problems)
		}
	})
	s.run(t, "put-unsupported", func(t *testing.T, c *check) {
		st, err := s.tg.Put(ctx(t), obj, "")
		if !errors.Is(err, sandbox.ErrNotSupported) {
			c.Errorf("Put(%s) on %s: %+v, error %q, want an error wrapping sandbox.ErrNotSupported", k, s.tg.Platform(), st, errText(err))
		}
	})
}

// sample is a well-formed object of kind k without live references.
func (s *suite) sample(k sandbox.Kind) sandbox.Object {
	switch k {
	case sandbox.KindSegment:
		if len(s.f.Contacts) == 0 {
			seg := &sandbox.Segment{Name: s.name("Buyers"), StaticEmails: []string{"ada@example.com"}}
			obj := s.object(k, NewID(sandbox.PrefixSegment), 1, nil)
			obj.Segment, obj.Hash = seg, hashOf(seg)
			return obj
		}
		return s.staticSegment(NewID(sandbox.PrefixSegment), 1, s.name("Buyers"))
	case sandbox.KindEmail:
		return s.email(NewID(sandbox.PrefixEmail), 1, s.name("Newsletter"), "", nil)
	case sandbox.KindPage:
		return s.page(NewID(sandbox.PrefixPage), 1, s.name("Spring launch"), s.slug("spring"))
	case sandbox.KindAd:
		return s.ad(NewID(sandbox.PrefixAd), 1, s.name("Spring search"))
	default:
		return s.workflow(NewID(sandbox.PrefixWorkflow), 1, s.name("Welcome"), "", "", nil)
	}
}

// prereq puts an object the case needs (an audience segment, a workflow's
// email) and returns its live id; the test fails when it cannot.
func (s *suite) prereq(t *testing.T, obj sandbox.Object) string {
	t.Helper()
	st, err := s.tg.Put(ctx(t), obj, "")
	if err != nil || st.ID == "" {
		t.Fatalf("setup: Put(%s %s): %+v %v", obj.Kind, obj.ArtifactID, st, err)
	}
	return st.ID
}

func (s *suite) segmentCases(t *testing.T) {
	if len(s.f.Contacts) < 2 {
		t.Skip("the fixture gives fewer than two Contacts to select")
	}
	id := NewID(sandbox.PrefixSegment)
	name := s.name("Spring buyers")
	s.lifecycle(t, s.staticSegment(id, 1, name), s.staticSegment(id, 2, name))
	if len(s.f.Conditions) >= 2 {
		t.Run("conditions", func(t *testing.T) {
			id := NewID(sandbox.PrefixSegment)
			name := s.name("Selected by property")
			s.lifecycle(t, s.conditionSegment(id, 1, name), s.conditionSegment(id, 2, name))
		})
	}
}

func (s *suite) emails(t *testing.T) {
	audience, refs := "", map[string]string{}
	if len(s.f.Contacts) >= 2 && s.caps.Segments {
		audience = NewID(sandbox.PrefixSegment)
		refs[audience] = s.prereq(t, s.staticSegment(audience, 1, s.name("Newsletter audience")))
	}
	id := NewID(sandbox.PrefixEmail)
	name := s.name("Spring newsletter")
	rev1 := s.email(id, 1, name, audience, nil) // at planning the segment is not live yet
	rev2 := s.email(id, 2, name, audience, refs)
	// The promoter fills Refs once the segment is live.
	put1 := rev1
	put1.Refs = mergeRefs(refs, nil)
	live, rev2 := s.lifecycleAssessing(t, rev1, put1, rev2)
	if live.ID == "" {
		return
	}
	if audience == "" {
		t.Log("send-twice: no audience (the fixture gives no Contacts or the target has no segments)")
		return
	}
	s.twice(t, "send-twice", rev2, live, true, time.Time{})
	s.updateAfter(t, "update-after-send", s.email(id, 3, name, audience, refs), live)
	s.abCases(t, audience, refs)

	// A second email, scheduled.
	id = NewID(sandbox.PrefixEmail)
	name = s.name("Spring reminder")
	at := later()
	sched := s.email(id, 1, name, audience, refs)
	sched.Email.SendAt = &at
	sched.Hash = hashOf(sched.Email)
	if live = s.put(t, sched); live.ID == "" {
		return
	}
	s.twice(t, "schedule-twice", sched, live, true, at)
	next := s.email(id, 2, name, audience, refs)
	next.Email.SendAt = &at
	next.Hash = hashOf(next.Email)
	s.updateAfter(t, "update-after-schedule", next, live)
	s.sendTiming(t, audience, refs)
}

// put creates obj for a case ("put-<kind>"); the state has no ID when it
// failed.
func (s *suite) put(t *testing.T, obj sandbox.Object) sandbox.LiveState {
	var live sandbox.LiveState
	s.run(t, "put-"+string(obj.Kind), func(t *testing.T, c *check) {
		st, err := s.tg.Put(ctx(t), obj, "")
		if err != nil || st.ID == "" {
			c.Fatalf("Put(%s %s, \"\"): %+v %v", obj.Kind, obj.ArtifactID, st, err)
		}
		live = st
	})
	return live
}

// lifecycleAssessing is lifecycle where Assess sees the object as at
// planning (assessed) and Put as at promotion (put).
func (s *suite) lifecycleAssessing(t *testing.T, assessed, put, rev2 sandbox.Object) (sandbox.LiveState, sandbox.Object) {
	s.run(t, "assess-at-planning", func(t *testing.T, c *check) {
		a, err := s.tg.Assess(ctx(t), assessed)
		if err != nil {
			c.Fatalf("Assess(%s %s) with references not live yet: %v", assessed.Kind, assessed.ArtifactID, err)
		}
		if len(a.Problems) > 0 {
			c.Errorf("Assess(%s %s) with references not live yet (Refs empty, Segments set): Problems %q, want none", assessed.Kind, assessed.ArtifactID, a.Problems)
		}
	})
	return s.lifecycle(t, put, rev2)
}

func (s *suite) pages(t *testing.T) {
	id := NewID(sandbox.PrefixPage)
	title, slug := s.name("Spring launch"), s.slug("spring-launch")
	live, rev2 := s.lifecycle(t, s.page(id, 1, title, slug), s.page(id, 2, title, slug))
	if live.ID == "" {
		return
	}
	if st, found, err := s.tg.Live(ctx(t), sandbox.KindPage, live.ID); err == nil && found {
		live = st
	}
	s.twice(t, "publish-twice", rev2, live, false, time.Time{})
	s.updateAfter(t, "update-after-publish", s.page(id, 3, title, slug), live)

	// A second page, scheduled.
	id = NewID(sandbox.PrefixPage)
	title, slug = s.name("Summer preview"), s.slug("summer-preview")
	at := later()
	sched := s.page(id, 1, title, slug)
	sched.Page.PublishAt = &at
	sched.Hash = hashOf(sched.Page)
	if live = s.put(t, sched); live.ID == "" {
		return
	}
	s.twice(t, "schedule-twice", sched, live, false, at)
	next := s.page(id, 2, title, slug)
	next.Page.PublishAt = &at
	next.Hash = hashOf(next.Page)
	s.updateAfter(t, "update-after-schedule", next, live)
}

func (s *suite) workflows(t *testing.T) {
	refs := map[string]string{}
	segment, email := "", ""
	if len(s.f.Contacts) >= 2 && s.caps.Segments {
		segment = NewID(sandbox.PrefixSegment)
		refs[segment] = s.prereq(t, s.staticSegment(segment, 1, s.name("New sign-ups")))
	}
	if s.caps.Emails {
		email = NewID(sandbox.PrefixEmail)
		refs[email] = s.prereq(t, s.email(email, 1, s.name("Welcome email"), "", nil))
	}
	id := NewID(sandbox.PrefixWorkflow)
	name := s.name("Welcome journey")
	rev1 := s.workflow(id, 1, name, segment, email, nil)
	put1 := s.workflow(id, 1, name, segment, email, refs)
	rev2 := s.workflow(id, 2, name, segment, email, refs)
	live, rev2 := s.lifecycleAssessing(t, rev1, put1, rev2)
	if live.ID == "" {
		return
	}
	if st, found, err := s.tg.Live(ctx(t), sandbox.KindWorkflow, live.ID); err == nil && found {
		live = st
	}
	s.twice(t, "publish-twice", rev2, live, false, time.Time{})
	s.updateAfter(t, "update-after-publish", s.workflow(id, 3, name, segment, email, refs), live)

	// A workflow the plan does not activate stays off, even if Publish is
	// called for it.
	offID := NewID(sandbox.PrefixWorkflow)
	off := s.workflow(offID, 1, s.name("Dormant journey"), segment, email, refs)
	off.Workflow.Activate = false
	off.Hash = hashOf(off.Workflow)
	if offLive := s.put(t, off); offLive.ID != "" {
		s.run(t, "publish-inactive", func(t *testing.T, c *check) {
			cx := ctx(t)
			cur, found, err := s.tg.Live(cx, sandbox.KindWorkflow, offLive.ID)
			if err != nil || !found {
				c.Fatalf("Live(workflow %q): found=%v err=%v", offLive.ID, found, err)
			}
			before := 0
			if s.f.Publishes != nil {
				before = s.f.Publishes(t, sandbox.KindWorkflow, offLive.ID)
			}
			if _, err := s.tg.Publish(cx, off, cur, time.Time{}); err != nil {
				c.Fatalf("Publish of a workflow with Activate off: %v", err)
			}
			after, found, err := s.tg.Live(cx, sandbox.KindWorkflow, offLive.ID)
			if err != nil || !found {
				c.Fatalf("Live(workflow %q) after Publish: found=%v err=%v", offLive.ID, found, err)
			}
			if after.Version != cur.Version || after.Status != cur.Status {
				c.Errorf("Publish turned on a workflow with Activate off: {Version:%q Status:%q} → {Version:%q Status:%q}", cur.Version, cur.Status, after.Version, after.Status)
			}
			if s.f.Publishes != nil {
				if n := s.f.Publishes(t, sandbox.KindWorkflow, offLive.ID); n != before {
					c.Errorf("Publish of a workflow with Activate off acted on the platform (count %d → %d)", before, n)
				}
			}
		})
	}
}

// ---- concurrency ----

// perKind is how many objects of each kind the concurrent case makes.
const perKind = 3

type item struct {
	rev1, rev2 sandbox.Object
	live       sandbox.LiveState
}

// parallel runs fn for every item at once and reports what failed.
func parallel(c *check, items []*item, what string, fn func(it *item) error) {
	c.t.Helper()
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
				}
			}()
			errs[i] = fn(it)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.Errorf("concurrent %s of %s %s: %v", what, items[i].rev1.Kind, items[i].rev1.ArtifactID, err)
		}
	}
}

func (s *suite) concurrent(t *testing.T) {
	refs := map[string]string{}
	audience, email := "", ""
	if s.caps.Segments && len(s.f.Contacts) >= 2 {
		audience = NewID(sandbox.PrefixSegment)
		refs[audience] = s.prereq(t, s.staticSegment(audience, 1, s.name("Shared audience")))
	}
	if s.caps.Emails && s.caps.Workflows {
		email = NewID(sandbox.PrefixEmail)
		refs[email] = s.prereq(t, s.email(email, 1, s.name("Shared welcome"), "", nil))
	}
	var items []*item
	for range perKind {
		if s.caps.Segments && len(s.f.Contacts) >= 2 {
			id, name := NewID(sandbox.PrefixSegment), s.name("Parallel segment")
			items = append(items, &item{rev1: s.staticSegment(id, 1, name), rev2: s.staticSegment(id, 2, name)})
		}
		if s.caps.Emails {
			id, name := NewID(sandbox.PrefixEmail), s.name("Parallel email")
			items = append(items, &item{rev1: s.email(id, 1, name, audience, refs), rev2: s.email(id, 2, name, audience, refs)})
		}
		if s.caps.Pages {
			id, title, slug := NewID(sandbox.PrefixPage), s.name("Parallel page"), s.slug("parallel")
			items = append(items, &item{rev1: s.page(id, 1, title, slug), rev2: s.page(id, 2, title, slug)})
		}
		if s.caps.Workflows {
			id, name := NewID(sandbox.PrefixWorkflow), s.name("Parallel journey")
			items = append(items, &item{rev1: s.workflow(id, 1, name, audience, email, refs), rev2: s.workflow(id, 2, name, audience, email, refs)})
		}
		if s.caps.Ads {
			id, name := NewID(sandbox.PrefixAd), s.name("Parallel search")
			items = append(items, &item{rev1: s.ad(id, 1, name), rev2: s.ad(id, 2, name)})
		}
	}
	if len(items) == 0 {
		t.Skip("the target supports no kind the suite can build")
	}
	// Segment objects made later carry the campaign's later segments: give
	// every object the final set, as one promotion would.
	all := s.segments()
	for _, it := range items {
		it.rev1.Segments, it.rev2.Segments = all, all
	}
	created := s.run(t, "create", func(t *testing.T, c *check) {
		cx := ctx(t)
		// The planner assesses every artifact at once, all with the same
		// Refs and Segments maps.
		parallel(c, items, "Assess", func(it *item) error {
			obj := it.rev1
			obj.Refs = refs
			_, err := s.tg.Assess(cx, obj)
			return err
		})
		parallel(c, items, "Put (create)", func(it *item) error {
			st, err := s.tg.Put(cx, it.rev1, "")
			if err == nil && st.ID == "" {
				err = fmt.Errorf("no ID in %+v", st)
			}
			it.live = st
			return err
		})
		ids := map[string]string{}
		for _, it := range items {
			if it.live.ID == "" {
				continue
			}
			key := string(it.rev1.Kind) + "/" + it.live.ID
			if other, dup := ids[key]; dup {
				c.Errorf("concurrent creates of %s and %s returned the same ID %q", other, it.rev1.ArtifactID, it.live.ID)
			}
			ids[key] = it.rev1.ArtifactID
		}
	})
	if !created {
		return
	}
	s.run(t, "read", func(t *testing.T, c *check) {
		cx := ctx(t)
		parallel(c, items, "Live and Find", func(it *item) error {
			got, found, err := s.tg.Live(cx, it.rev1.Kind, it.live.ID)
			if err != nil || !found || got.ID != it.live.ID || got.Version != it.live.Version {
				return fmt.Errorf("Live(%q) = %+v found=%v err=%v, Put said %+v", it.live.ID, got, found, err, it.live)
			}
			fd, found, err := s.tg.Find(cx, it.rev1)
			if err != nil || !found || fd.ID != it.live.ID {
				return fmt.Errorf("Find(%s) = %+v found=%v err=%v, want ID %q", it.rev1.Marker, fd, found, err, it.live.ID)
			}
			return nil
		})
	})
	s.run(t, "update", func(t *testing.T, c *check) {
		cx := ctx(t)
		parallel(c, items, "Put (update)", func(it *item) error {
			st, err := s.tg.Put(cx, it.rev2, it.live.ID)
			if err != nil {
				return err
			}
			if st.ID != it.live.ID || st.Version == it.live.Version {
				return fmt.Errorf("update returned %+v after %+v: want the same ID and a new Version", st, it.live)
			}
			got, found, err := s.tg.Live(cx, it.rev2.Kind, st.ID)
			if err != nil || !found || got.Version != st.Version {
				return fmt.Errorf("Live(%q) after the update = %+v found=%v err=%v, Put said %+v", st.ID, got, found, err, st)
			}
			return nil
		})
	})
}

// describe is the "describe" case.
func (s *suite) describe(t *testing.T) {
	s.run(t, "description", func(t *testing.T, c *check) {
		d, ok := s.tg.(sandbox.Describer)
		if !ok {
			c.Fatalf("%T does not implement sandbox.Describer: list_targets cannot say what it was connected with or check its credentials", s.tg)
		}
		desc := d.Describe()
		known := []string{sandbox.AuthNone, sandbox.AuthOAuth, sandbox.AuthPrivateApp, sandbox.AuthAPIKey, sandbox.AuthApplicationPassword}
		if !slices.Contains(known, desc.Auth) {
			c.Errorf("Describe().Auth = %q, want one of %v", desc.Auth, known)
		}
		if desc.Account == "" {
			c.Errorf("Describe().Account is empty: name the account (without secrets)")
		}
		caps := s.caps
		if (!caps.Emails || !caps.Segments || !caps.Workflows || !caps.Pages || !caps.Metrics) && len(desc.Limits) == 0 {
			c.Errorf("the target lacks capabilities (%+v) but Describe().Limits says nothing of why", caps)
		}
		data, err := json.Marshal(desc)
		if err != nil {
			c.Fatalf("Describe() does not marshal: %v", err)
		}
		for _, sec := range s.f.Secrets {
			if sec != "" && strings.Contains(string(data), sec) {
				c.Errorf("Describe() contains a credential: %s", data)
			}
		}
	})
	s.run(t, "check-auth", func(t *testing.T, c *check) {
		d, ok := s.tg.(sandbox.Describer)
		if !ok {
			c.Fatalf("%T does not implement sandbox.Describer", s.tg)
		}
		cctx, cancel := context.WithTimeout(ctx(t), 30*time.Second)
		defer cancel()
		err := d.CheckAuth(cctx)
		if err != nil {
			c.Errorf("CheckAuth with valid credentials: %v", err)
		}
		for _, sec := range s.f.Secrets {
			if sec != "" && err != nil && strings.Contains(err.Error(), sec) {
				c.Errorf("CheckAuth's error contains a credential")
			}
		}
	})
}
