package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// Writes in flight: a platform that goes on processing a create after the
// request failed, timed out or was abandoned. slowTarget is such a
// platform, on the test clock: a create can fail and still make its object
// appear some time later, within LandWithin ("slow apply") or after it
// ("late apply").

type createMode int

const (
	createOK   createMode = iota
	createSlow            // fails with a timeout; the object appears after delay
	createHang            // blocks until the caller cancels; the object appears after delay
	createFail            // fails with err; nothing is created
)

type plannedCreate struct {
	mode  createMode
	delay time.Duration
	err   error
	// reached marks the object as having reached people once it appears.
	reached bool
}

type fakeObj struct {
	id, artifact string
	kind         sandbox.Kind
	version      int
	reached      bool
	at           time.Time // when it becomes visible
}

type slowTarget struct {
	clock      *clock
	landWithin time.Duration

	mu        sync.Mutex
	n         int
	objs      []*fakeObj
	plans     map[string][]plannedCreate // artifact id → the next creates' behaviour
	calls     []string                   // "find seg_…", "create seg_…", "update seg_…"
	discarded []string
	onPut     func(artifactID string) // called at every Put
}

func newSlowTarget(c *clock) *slowTarget {
	return &slowTarget{clock: c, landWithin: 30 * time.Second, plans: map[string][]plannedCreate{}}
}

func (t *slowTarget) plan(artifactID string, pc ...plannedCreate) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.plans[artifactID] = append(t.plans[artifactID], pc...)
}

// visible are the objects that have appeared by now.
func (t *slowTarget) visible(kind sandbox.Kind) []*fakeObj {
	now := t.clock.Now()
	var out []*fakeObj
	for _, o := range t.objs {
		if o.kind == kind && !o.at.After(now) {
			out = append(out, o)
		}
	}
	return out
}

// of lists the ids of the objects for an artifact, including those not yet
// visible.
func (t *slowTarget) of(artifactID string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for _, o := range t.objs {
		if o.artifact == artifactID {
			ids = append(ids, o.id)
		}
	}
	return ids
}

func (t *slowTarget) callsFor(artifactID string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, c := range t.calls {
		if strings.HasSuffix(c, " "+artifactID) {
			out = append(out, c)
		}
	}
	return out
}

func (t *slowTarget) Name() string     { return "local" }
func (t *slowTarget) Platform() string { return "fake" }
func (t *slowTarget) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Segments: true}
}

func (t *slowTarget) Assess(context.Context, sandbox.Object) (sandbox.Assessment, error) {
	return sandbox.Assessment{AudienceSize: -1}, nil
}

func (t *slowTarget) state(o *fakeObj) sandbox.LiveState {
	return sandbox.LiveState{ID: o.id, Version: fmt.Sprint(o.version), Status: "active"}
}

func (t *slowTarget) Live(_ context.Context, kind sandbox.Kind, id string) (sandbox.LiveState, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range t.visible(kind) {
		if o.id == id {
			return t.state(o), true, nil
		}
	}
	return sandbox.LiveState{}, false, nil
}

func (t *slowTarget) Find(_ context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, "find "+obj.ArtifactID)
	for _, o := range t.visible(obj.Kind) {
		if sandbox.MarkerPrefix+o.artifact == obj.Marker {
			return t.state(o), true, nil
		}
	}
	return sandbox.LiveState{}, false, nil
}

func (t *slowTarget) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	t.mu.Lock()
	onPut := t.onPut
	t.mu.Unlock()
	if onPut != nil {
		onPut(obj.ArtifactID)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if liveID != "" {
		t.calls = append(t.calls, "update "+obj.ArtifactID)
		for _, o := range t.visible(obj.Kind) {
			if o.id == liveID {
				o.version++
				return t.state(o), nil
			}
		}
		return sandbox.LiveState{}, fmt.Errorf("fake: no %s %s", obj.Kind, liveID)
	}
	t.calls = append(t.calls, "create "+obj.ArtifactID)
	pc := plannedCreate{}
	if q := t.plans[obj.ArtifactID]; len(q) > 0 {
		pc, t.plans[obj.ArtifactID] = q[0], q[1:]
	}
	if pc.mode == createFail {
		return sandbox.LiveState{}, pc.err
	}
	t.n++
	o := &fakeObj{id: fmt.Sprintf("obj-%d", t.n), artifact: obj.ArtifactID, kind: obj.Kind, version: 1, reached: pc.reached, at: t.clock.Now().Add(pc.delay)}
	t.objs = append(t.objs, o)
	switch pc.mode {
	case createSlow:
		return sandbox.LiveState{}, fmt.Errorf("fake: create %s: %w", obj.ArtifactID, context.DeadlineExceeded)
	case createHang:
		t.mu.Unlock()
		<-ctx.Done()
		t.mu.Lock()
		return sandbox.LiveState{}, fmt.Errorf("fake: create %s: %w", obj.ArtifactID, ctx.Err())
	}
	return t.state(o), nil
}

func (t *slowTarget) Send(_ context.Context, _ sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	return live, nil
}

func (t *slowTarget) Publish(_ context.Context, _ sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	return live, nil
}

func (t *slowTarget) Metrics(context.Context, sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	return nil, nil
}

func (t *slowTarget) LandWithin(sandbox.Kind) time.Duration { return t.landWithin }

func (t *slowTarget) Marked(_ context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []sandbox.Marked
	for _, o := range t.visible(kind) {
		out = append(out, sandbox.Marked{Kind: kind, ArtifactID: o.artifact, LiveID: o.id, Reached: o.reached})
	}
	return out, nil
}

func (t *slowTarget) Discard(_ context.Context, m sandbox.Marked) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, o := range t.objs {
		if o.id == m.LiveID {
			if o.reached {
				return fmt.Errorf("fake: %s was sent: %w", o.id, sandbox.ErrReachedPeople)
			}
			t.objs = slices.Delete(t.objs, i, i+1)
			t.discarded = append(t.discarded, o.id)
			return nil
		}
	}
	return fmt.Errorf("fake: no %s", m.LiveID)
}

// httpErr is a platform answer, as the REST client's error presents it.
type httpErr struct {
	status int
	retry  time.Duration
}

func (e *httpErr) Error() string             { return fmt.Sprintf("fake: HTTP %d", e.status) }
func (e *httpErr) HTTPStatus() int           { return e.status }
func (e *httpErr) RetryAfter() time.Duration { return e.retry }

// slowEnv is a sandbox whose only target is a slowTarget, with a sleep
// that moves the test clock instead of waiting.
type slowEnv struct {
	*env
	t      *slowTarget
	slept  []time.Duration
	mu     sync.Mutex
	onWait func(ctx context.Context) error
}

func newSlowEnv(t *testing.T) *slowEnv {
	c := &clock{t: epoch}
	ft := newSlowTarget(c)
	se := &slowEnv{t: ft}
	se.env = newEnv(t, envOptions{clock: c, wrap: func(sandbox.Target) sandbox.Target { return ft },
		sleep: func(ctx context.Context, d time.Duration) error {
			se.mu.Lock()
			se.slept = append(se.slept, d)
			onWait := se.onWait
			se.mu.Unlock()
			if onWait != nil {
				if err := onWait(ctx); err != nil {
					return err
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			c.Add(d)
			return nil
		}})
	return se
}

// twoSegments stages a campaign of two independent segments.
func (e *slowEnv) twoSegments(t *testing.T) (campaignID, a, b string) {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Slow", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	seg := func(name string) string {
		r, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: name, Match: "all",
			Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	return c.ID, seg("A"), seg("B")
}

func promotionError(t *testing.T, err error) *sandbox.PromotionError {
	t.Helper()
	var pe *sandbox.PromotionError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PromotionError, got %v", err)
	}
	return pe
}

func stateOf(pe *sandbox.PromotionError, artifactID string) sandbox.StepState {
	for _, s := range pe.Steps {
		if s.ArtifactID == artifactID {
			return s
		}
	}
	return sandbox.StepState{}
}

func boundID(t *testing.T, e *env, artifactID string) string {
	t.Helper()
	v, err := e.sb.GetArtifact(context.Background(), artifactID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Artifact.Live == nil {
		return ""
	}
	return v.Artifact.Live.LiveID
}

// TestResumeWaitsOutCreateInFlight: a create times out and its object
// appears 5 s later, inside LandWithin. The resumed confirmation waits
// until the deadline, finds it and binds it: one object, not two.
func TestResumeWaitsOutCreateInFlight(t *testing.T) {
	ctx := context.Background()
	for _, crashed := range []bool{false, true} {
		t.Run(fmt.Sprintf("crashed=%v", crashed), func(t *testing.T) {
			e := newSlowEnv(t)
			cid, a, b := e.twoSegments(t)
			e.t.plan(a, plannedCreate{mode: createSlow, delay: 5 * time.Second})
			p := planAndApprove(t, e.env, cid)
			_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
			pe := promotionError(t, err)
			if pe.Class != sandbox.ClassTimeout {
				t.Fatalf("class %q, want timeout: %v", pe.Class, err)
			}
			if s := stateOf(pe, a); s.State != sandbox.StateFailed || s.MayLandUntil == nil {
				t.Fatalf("step of %s: %+v, want failed with may_land_until", a, s)
			}
			if s := stateOf(pe, b); s.State != sandbox.StateDone {
				t.Fatalf("step of %s: %+v, want done (it ran beside the failed one)", b, s)
			}
			if f := pe.Failure(); f.RetryAfterSeconds != 30 {
				t.Fatalf("retry_after_seconds %d, want 30 (LandWithin)", f.RetryAfterSeconds)
			}
			if crashed {
				// The process died after sending: the journal has the intent
				// and nothing after it.
				dropFailedRecords(t, e.dir, p.ID)
			}
			res, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != sandbox.PlanPromoted {
				t.Fatalf("status %s", res.Status)
			}
			if len(e.slept) != 1 || e.slept[0] != 30*time.Second {
				t.Fatalf("waited %v, want once, 30s", e.slept)
			}
			if ids := e.t.of(a); len(ids) != 1 || boundID(t, e.env, a) != ids[0] {
				t.Fatalf("objects of %s: %v, bound %q: want exactly one, bound", a, ids, boundID(t, e.env, a))
			}
			if got := e.t.callsFor(a); !slices.Equal(got, []string{"create " + a, "find " + a, "update " + a}) {
				t.Fatalf("calls for %s: %v", a, got)
			}
			if len(res.Strays) != 0 {
				t.Fatalf("strays %+v", res.Strays)
			}
		})
	}
}

// dropFailedRecords removes the journal's failure records, as if the
// process had died with the requests in flight.
func dropFailedRecords(t *testing.T, dir, planID string) {
	t.Helper()
	if pgSandbox() {
		pgExec(t, dir, `DELETE FROM lastmile_journal WHERE name = $1 AND convert_from(record, 'UTF8') LIKE '%"type":"failed"%'`, planID)
		return
	}
	path := filepath.Join(dir, "journal", planID+".jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if !strings.Contains(l, `"type":"failed"`) {
			keep = append(keep, l)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(keep, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNormalPromotionDoesNotWait: nothing interrupted, nothing waited.
func TestNormalPromotionDoesNotWait(t *testing.T) {
	e := newSlowEnv(t)
	cid, _, _ := e.twoSegments(t)
	p := planAndApprove(t, e.env, cid)
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if len(e.slept) != 0 {
		t.Fatalf("waited %v on an uninterrupted promotion", e.slept)
	}
}

// TestCancelledWaitWritesNothing: the client cancels confirm_promotion
// while it waits; the wait ends, nothing is written to the journal or
// asked of the platform, and the error says to confirm again.
func TestCancelledWaitWritesNothing(t *testing.T) {
	e := newSlowEnv(t)
	cid, a, _ := e.twoSegments(t)
	e.t.plan(a, plannedCreate{mode: createSlow, delay: 5 * time.Second})
	p := planAndApprove(t, e.env, cid)
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); err == nil {
		t.Fatal("the first confirmation should fail")
	}
	before := journalLines(t, e.dir, p.ID)
	calls := len(e.t.callsFor(a))
	ctx, cancel := context.WithCancel(context.Background())
	e.onWait = func(context.Context) error { cancel(); return context.Canceled }
	_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	pe := promotionError(t, err)
	if pe.Class != sandbox.ClassCancelled {
		t.Fatalf("class %q: %v", pe.Class, err)
	}
	if !strings.Contains(err.Error(), "call confirm_promotion again") {
		t.Fatalf("error does not say to confirm again: %v", err)
	}
	if after := journalLines(t, e.dir, p.ID); after != before {
		t.Fatalf("journal went from %d to %d records during a cancelled wait", before, after)
	}
	if got := e.t.callsFor(a); len(got) != calls {
		t.Fatalf("the platform was called during a cancelled wait: %v", got[calls:])
	}
	// And a later confirmation still finishes with one object.
	e.onWait = nil
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if ids := e.t.of(a); len(ids) != 1 {
		t.Fatalf("objects of %s: %v", a, ids)
	}
}

func journalLines(t *testing.T, dir, planID string) int {
	t.Helper()
	if pgSandbox() {
		var n int
		pgQueryRow(t, dir, `SELECT count(*) FROM lastmile_journal WHERE name = $1`, planID).Scan(&n)
		return n
	}
	data, err := os.ReadFile(filepath.Join(dir, "journal", planID+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// TestOtherStepsProceedWhileOneWaits: the wait is per step. While A waits
// out its earlier create, B (which failed with a 429, so nothing of it can
// land) is retried without waiting.
func TestOtherStepsProceedWhileOneWaits(t *testing.T) {
	e := newSlowEnv(t)
	cid, a, b := e.twoSegments(t)
	e.t.plan(a, plannedCreate{mode: createSlow, delay: 5 * time.Second})
	e.t.plan(b, plannedCreate{mode: createFail, err: &httpErr{status: 429, retry: 7 * time.Second}})
	p := planAndApprove(t, e.env, cid)
	_, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil)
	pe := promotionError(t, err)
	if stateOf(pe, b).Class != sandbox.ClassRateLimited {
		t.Fatalf("step of %s: %+v", b, stateOf(pe, b))
	}
	bPut := make(chan struct{})
	var once sync.Once
	e.t.onPut = func(id string) {
		if id == b {
			once.Do(func() { close(bPut) })
		}
	}
	e.onWait = func(ctx context.Context) error {
		select {
		case <-bPut:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("B did not proceed while A waited")
		}
	}
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if len(e.slept) != 1 {
		t.Fatalf("waits %v, want one (A's; B's 429 applied nothing)", e.slept)
	}
	for _, id := range []string{a, b} {
		if ids := e.t.of(id); len(ids) != 1 {
			t.Fatalf("objects of %s: %v", id, ids)
		}
	}
}

// TestLateWriteIsSwept: the create's object appears only after LandWithin,
// so the resumed confirmation finds nothing and creates again; the next
// plan's sweep finds the late copy and, since it never reached anyone,
// discards it and records that in the audit log.
func TestLateWriteIsSwept(t *testing.T) {
	for _, reached := range []bool{false, true} {
		t.Run(fmt.Sprintf("reached=%v", reached), func(t *testing.T) {
			ctx := context.Background()
			e := newSlowEnv(t)
			cid, a, _ := e.twoSegments(t)
			e.t.plan(a, plannedCreate{mode: createSlow, delay: 40 * time.Second, reached: reached})
			p := planAndApprove(t, e.env, cid)
			if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err == nil {
				t.Fatal("the first confirmation should fail")
			}
			if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
				t.Fatal(err)
			}
			bound := boundID(t, e.env, a)
			e.clock.Add(time.Minute) // the late write lands
			ids := e.t.of(a)
			if len(ids) != 2 {
				t.Fatalf("objects of %s before the sweep: %v, want the bound one and the late one", a, ids)
			}
			late := ids[0]
			if late == bound {
				late = ids[1]
			}
			p2, err := e.sb.PlanPromotion(ctx, "agent", cid)
			if err != nil {
				t.Fatal(err)
			}
			if len(p2.Strays) != 1 || p2.Strays[0].LiveID != late || p2.Strays[0].BoundID != bound {
				t.Fatalf("strays %+v, want %s (bound %s)", p2.Strays, late, bound)
			}
			want, action := sandbox.StrayDiscarded, "stray_discarded"
			if reached {
				want, action = sandbox.StrayNeedsHuman, "stray_found"
			}
			if p2.Strays[0].Outcome != want {
				t.Fatalf("outcome %q, want %q", p2.Strays[0].Outcome, want)
			}
			left := e.t.of(a)
			if reached != (len(left) == 2) {
				t.Fatalf("objects of %s after the sweep: %v", a, left)
			}
			entry := auditEntry(t, e.env, action)
			if entry == nil || entry.Detail["live_id"] != late || entry.Detail["target"] != "local" || entry.Detail["artifact"] != a || entry.Detail["kind"] != string(sandbox.KindSegment) {
				t.Fatalf("audit %s: %+v", action, entry)
			}
		})
	}
}

// TestSweepAfterPromotion: an object with an artifact's marker that is not
// its bound object, there before the promotion, is found by the sweep that
// follows it and reported in the result.
func TestSweepAfterPromotion(t *testing.T) {
	ctx := context.Background()
	e := newSlowEnv(t)
	cid, a, _ := e.twoSegments(t)
	e.t.mu.Lock()
	e.t.objs = append(e.t.objs, &fakeObj{id: "stray-1", artifact: a, kind: sandbox.KindSegment, version: 1, at: epoch})
	e.t.mu.Unlock()
	p := planAndApprove(t, e.env, cid) // its own sweep took the stray
	if len(p.Strays) != 1 || p.Strays[0].Outcome != sandbox.StrayDiscarded {
		t.Fatalf("plan strays %+v", p.Strays)
	}
	e.t.mu.Lock()
	e.t.objs = append(e.t.objs, &fakeObj{id: "stray-2", artifact: a, kind: sandbox.KindSegment, version: 1, at: epoch})
	e.t.mu.Unlock()
	res, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Strays) != 1 || res.Strays[0].LiveID != "stray-2" || res.Strays[0].Outcome != sandbox.StrayDiscarded {
		t.Fatalf("result strays %+v", res.Strays)
	}
	if ids := e.t.of(a); len(ids) != 1 || ids[0] != boundID(t, e.env, a) {
		t.Fatalf("objects of %s: %v", a, ids)
	}
}

// TestSweepLeavesAResumableCreateAlone: after a create timed out, its late
// object belongs to the plan's resume (which finds and binds it), not to
// the sweep.
func TestSweepLeavesAResumableCreateAlone(t *testing.T) {
	ctx := context.Background()
	e := newSlowEnv(t)
	cid, a, _ := e.twoSegments(t)
	e.t.plan(a, plannedCreate{mode: createSlow, delay: 5 * time.Second})
	p := planAndApprove(t, e.env, cid)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err == nil {
		t.Fatal("the first confirmation should fail")
	}
	e.clock.Add(10 * time.Second)
	if _, err := e.sb.PlanPromotion(ctx, "agent", cid); err != nil {
		t.Fatal(err)
	}
	if ids := e.t.of(a); len(ids) != 1 || len(e.t.discarded) != 0 {
		t.Fatalf("the sweep took the object a resume will bind: %v, discarded %v", ids, e.t.discarded)
	}
}

func auditEntry(t *testing.T, e *env, action string) *sandbox.AuditEntry {
	t.Helper()
	entries, err := e.sb.Audit(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if entries[i].Action == action {
			return &entries[i]
		}
	}
	return nil
}
