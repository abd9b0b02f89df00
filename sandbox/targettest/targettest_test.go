package targettest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// mem is a reference implementation of the port, in memory, to test the
// suite itself: it must pass as is, and each of its flaws must be caught.
type mem struct {
	caps  sandbox.Capabilities
	flaws map[string]bool

	mu      sync.Mutex
	seq     int
	objects map[string]*memObject // by live id
}

type memObject struct {
	kind      sandbox.Kind
	marker    string
	hash      string
	version   int
	sends     int
	publishes int
}

func newMem(caps sandbox.Capabilities, flaws ...string) *mem {
	m := &mem{caps: caps, flaws: map[string]bool{}, objects: map[string]*memObject{}}
	for _, f := range flaws {
		m.flaws[f] = true
	}
	return m
}

func (m *mem) Name() string                       { return "mem" }
func (m *mem) Platform() string                   { return "mem" }
func (m *mem) Capabilities() sandbox.Capabilities { return m.caps }

// memSecret is the reference target's "credential".
const memSecret = "mem-secret-0123456789"

func (m *mem) Describe() sandbox.Description {
	d := sandbox.Description{Account: "mem account", Auth: sandbox.AuthAPIKey, Limits: []string{"in memory only"}}
	if m.flaws["leaks-secret"] {
		d.Account += " key " + memSecret
	}
	return d
}

func (m *mem) CheckAuth(context.Context) error {
	if m.flaws["auth-fails"] {
		return fmt.Errorf("mem: refused: %w", sandbox.ErrAuth)
	}
	return nil
}

func (m *mem) Assess(_ context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	if !m.caps.Supports(obj.Kind) {
		a.Problems = append(a.Problems, fmt.Sprintf("mem holds no %ss: target this %s at local instead", obj.Kind, obj.Kind))
	}
	return a, nil
}

func (m *mem) state(id string, o *memObject) sandbox.LiveState {
	status := "draft"
	switch {
	case o.sends > 0:
		status = "sent"
	case o.publishes > 0:
		status = "published"
	}
	return sandbox.LiveState{ID: id, Version: strconv.Itoa(o.version), Status: status}
}

func (m *mem) Live(_ context.Context, kind sandbox.Kind, id string) (sandbox.LiveState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[id]
	if !ok || o.kind != kind {
		if m.flaws["live-missing-errors"] {
			return sandbox.LiveState{}, false, fmt.Errorf("mem: %s not found", id)
		}
		return sandbox.LiveState{}, false, nil
	}
	return m.state(id, o), true, nil
}

func (m *mem) Find(_ context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, o := range m.objects {
		if o.kind == obj.Kind && o.marker == obj.Marker {
			return m.state(id, o), true, nil
		}
	}
	return sandbox.LiveState{}, false, nil
}

func (m *mem) Put(_ context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if !m.caps.Supports(obj.Kind) {
		return sandbox.LiveState{}, fmt.Errorf("mem: %s: %w", obj.Kind, sandbox.ErrNotSupported)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if liveID == "" || m.flaws["update-creates"] {
		m.seq++
		liveID = fmt.Sprintf("%d", 1000+m.seq)
		m.objects[liveID] = &memObject{kind: obj.Kind, marker: obj.Marker}
	}
	o, ok := m.objects[liveID]
	if !ok {
		return sandbox.LiveState{}, fmt.Errorf("mem: %s does not exist", liveID)
	}
	if o.hash != obj.Hash && !m.flaws["stale-version"] {
		o.version++
	}
	o.hash = obj.Hash
	return m.state(liveID, o), nil
}

func (m *mem) Send(_ context.Context, obj sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[live.ID]
	if !ok {
		return live, fmt.Errorf("mem: %s does not exist", live.ID)
	}
	if o.sends == 0 || m.flaws["send-again"] {
		o.sends++
		o.version++
	}
	return m.state(live.ID, o), nil
}

func (m *mem) Publish(_ context.Context, obj sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[live.ID]
	if !ok {
		return live, fmt.Errorf("mem: %s does not exist", live.ID)
	}
	inactive := obj.Workflow != nil && !obj.Workflow.Activate
	if o.publishes == 0 && (!inactive || m.flaws["activate-always"]) {
		o.publishes++
		o.version++
	}
	st := m.state(live.ID, o)
	if m.flaws["publish-stale-state"] {
		st.Version = live.Version
	}
	return st, nil
}

func (m *mem) Metrics(context.Context, sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	return nil, nil
}

func (m *mem) count(id string, sends bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[id]
	if !ok {
		return 0
	}
	if sends {
		return o.sends
	}
	return o.publishes
}

func memFixture(m *mem, bugs map[string]string) targettest.Fixture {
	return targettest.Fixture{
		Target:     m,
		Contacts:   []string{"ada@example.com", "grace@example.com", "alan@example.com"},
		Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "GB"}, {Property: "country", Operator: "eq", Value: "US"}},
		MissingID:  func(sandbox.Kind) string { return "999999" },
		Sends:      func(_ testing.TB, id string) int { return m.count(id, true) },
		Publishes:  func(_ testing.TB, _ sandbox.Kind, id string) int { return m.count(id, false) },
		Secrets:    []string{memSecret},
		KnownBugs:  bugs,
	}
}

var all = sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true}

// TestReference: a correct implementation passes every case.
func TestReference(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Fixture { return memFixture(newMem(all), nil) })
}

// TestUnsupportedKinds: kinds a target does not hold get the unsupported cases.
func TestUnsupportedKinds(t *testing.T) {
	caps := sandbox.Capabilities{Pages: true}
	targettest.Run(t, func(t *testing.T) targettest.Fixture { return memFixture(newMem(caps), nil) })
}

// TestFlawsAreCaught: each flaw makes the cases it breaks fail. They are
// declared as known bugs, which the suite turns into skips when the case
// fails, and into a failure when it passes: a flaw the suite missed.
func TestFlawsAreCaught(t *testing.T) {
	for flaw, cases := range map[string][]string{
		"send-again":          {"email/send-twice", "email/schedule-twice", "email/send-window-schedule-twice", "email/recipient-time-zone-schedule-twice", "email/ab-test", "email/ab-test-three"},
		"stale-version":       {"segment/update", "segment/conditions/update", "email/update", "page/update", "workflow/update", "concurrent/update"},
		"live-missing-errors": {"segment/live-missing", "segment/conditions/live-missing", "email/live-missing", "page/live-missing", "workflow/live-missing"},
		"update-creates": {"segment/update", "segment/conditions/update", "email/update", "page/update", "workflow/update", "concurrent/update",
			"email/update-after-send", "page/update-after-publish", "workflow/update-after-publish",
			"email/update-after-schedule", "page/update-after-schedule"},
		"publish-stale-state": {"page/publish-twice", "workflow/publish-twice", "page/schedule-twice"},
		"activate-always":     {"workflow/publish-inactive"},
		"leaks-secret":        {"describe/description"},
		"auth-fails":          {"describe/check-auth"},
	} {
		t.Run(flaw, func(t *testing.T) {
			bugs := map[string]string{}
			for _, c := range cases {
				bugs[c] = "the reference target's flaw " + flaw
			}
			targettest.Run(t, func(t *testing.T) targettest.Fixture { return memFixture(newMem(all, flaw), bugs) })
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := targettest.NewID(sandbox.PrefixSegment)
		if len(id) != len(sandbox.PrefixSegment)+26 || !strings.HasPrefix(id, sandbox.PrefixSegment) || sandbox.KindOf(id) != sandbox.KindSegment {
			t.Fatalf("NewID = %q", id)
		}
		if strings.Trim(id[4:], "0123456789abcdefghjkmnpqrstvwxyz") != "" {
			t.Fatalf("NewID = %q: not Crockford base32", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}
