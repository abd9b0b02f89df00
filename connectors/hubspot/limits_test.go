package hubspot

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// fakeClock is a clock whose sleep advances it: limiter tests run instantly
// and deterministically.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return nil
}

func TestLimiterKeepsInsideTheWindow(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLimiter(5, time.Second, 10*time.Millisecond, clk.now, clk.sleep)
	// Requests with varying latency: the server counts each one somewhere
	// between sending and answering (here: at a jittered point in between).
	var arrivals []time.Time
	for i := range 23 {
		s, err := l.reserve(ctx())
		if err != nil {
			t.Fatal(err)
		}
		sent := clk.now()
		latency := time.Duration((i*37)%11+1) * 7 * time.Millisecond
		arrivals = append(arrivals, sent.Add(latency*time.Duration(i%3)/2))
		_ = clk.sleep(ctx(), latency)
		l.finish(s)
	}
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	for i := 5; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-5]); gap < time.Second {
			t.Fatalf("arrivals %d and %d are %v apart: 6 requests in one window", i-5, i, gap)
		}
	}
	// 23 requests at 5 per second: the first 5 at once, then 18 more need
	// 4 windows at best, each stretched by the margin and one latency (≤ 77ms).
	if total := arrivals[len(arrivals)-1].Sub(arrivals[0]); total > 4*(time.Second+10*time.Millisecond+77*time.Millisecond)+77*time.Millisecond {
		t.Errorf("took %v, far more than the floor", total)
	}
}

func resp(status int, h map[string]string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

func TestLimiterObserve(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLimiter(190, 10*time.Second, 0, clk.now, clk.sleep)
	// The portal's real limit and window come from the headers.
	l.Observe(resp(200, map[string]string{"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Remaining": "99"}), nil)
	if l.max != 100 {
		t.Errorf("max = %d, want 100 from the header", l.max)
	}
	tests := []struct {
		policy string
		want   time.Duration
	}{
		{"TEN_SECONDLY_ROLLING", 10 * time.Second},
		{"SECONDLY", time.Second},
		{"", 10 * time.Second},
		{"DAILY", -1},
	}
	for _, tt := range tests {
		got := l.Observe(resp(429, nil), []byte(`{"status":"error","policyName":"`+tt.policy+`"}`))
		if got != tt.want {
			t.Errorf("429 %s: wait %v, want %v", tt.policy, got, tt.want)
		}
	}
	if err := l.Wait(ctx()); !errors.Is(err, ErrDailyLimit) {
		t.Errorf("Wait after DAILY: %v", err)
	}
	// Someone else using the portal: our budget shrinks by their share.
	l2 := newLimiter(100, 10*time.Second, 0, clk.now, clk.sleep)
	var last *slot
	for range 10 {
		last, _ = l2.reserve(ctx())
		l2.finish(last)
	}
	r := resp(200, map[string]string{"X-HubSpot-RateLimit-Remaining": "40"})
	l2.inflight.Store(r, last)
	l2.Observe(r, nil)
	if l2.foreign != 50 {
		t.Errorf("foreign share = %d, want 50 (100-40 counted, 10 ours)", l2.foreign)
	}
}

// Against the fake: the limiter learns the portal's limit from the first
// answer and the fake never has to answer 429, with many callers at once.
func TestNo429sUnderLoad(t *testing.T) {
	e := newEnv(t, hubspottest.Options{RateLimit: 10, Window: 200 * time.Millisecond}, Config{RateLimit: 190})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				if _, _, err := e.target.Live(ctx(), sandbox.KindEmail, strconv.Itoa(g*100+i)); err != nil {
					t.Error(e.note(err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := e.srv.Stats(); st.Served429 != 0 {
		t.Errorf("the fake answered %d 429s", st.Served429)
	}
	if rs := e.target.RateStats(); rs.Max != 10 || rs.Throttled == 0 {
		t.Errorf("limiter stats = %+v", rs)
	}
}

func TestRateLimitFaults(t *testing.T) {
	seg := func(id string) sandbox.Object {
		return segmentObj(id, "List "+id, sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}})
	}
	t.Run("429 storm is waited out", func(t *testing.T) {
		var mu sync.Mutex
		var sleeps []time.Duration
		rec := func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			sleeps = append(sleeps, d)
			mu.Unlock()
			return rest.Sleep(ctx, d)
		}
		e := newEnv(t, hubspottest.Options{Window: 50 * time.Millisecond}, Config{}, WithSleep(rec))
		e.srv.Inject(faketest.Fault{Op: "lists.create", Kind: faketest.RateLimit, Times: 3})
		e.srv.Inject(faketest.Fault{Op: "lists.create", Kind: faketest.RateLimit, Code: "SECONDLY", Times: 1})
		if _, err := e.target.Put(ctx(), seg("seg_1"), ""); err != nil {
			t.Fatal(e.note(err))
		}
		if n := e.srv.Counts()["lists"]; n != 1 {
			t.Errorf("%d lists, want 1", n)
		}
		// Three waits of the ten-secondly window (scaled to 50ms), one of a second (5ms).
		long, short := 0, 0
		for _, d := range sleeps {
			switch {
			case d >= 50*time.Millisecond:
				long++
			case d >= 5*time.Millisecond:
				short++
			}
		}
		if long != 3 || short != 1 || e.target.RateStats().Seen429 != 4 {
			t.Errorf("sleeps %v, limiter %+v: each 429 must wait out its window", sleeps, e.target.RateStats())
		}
	})
	t.Run("DAILY stops at once", func(t *testing.T) {
		e := newEnv(t, hubspottest.Options{}, Config{})
		e.srv.Inject(faketest.Fault{Op: "lists.create", Kind: faketest.RateLimit, Code: "DAILY"})
		before := e.srv.Stats().TotalCalls()
		_, err := e.target.Put(ctx(), seg("seg_1"), "")
		e.note(err)
		if !errors.Is(err, ErrDailyLimit) || !strings.Contains(err.Error(), "daily API limit") || !strings.Contains(err.Error(), "midnight") {
			t.Fatalf("error = %v", err)
		}
		_, err = e.target.Put(ctx(), seg("seg_2"), "")
		if e.note(err); !errors.Is(err, ErrDailyLimit) {
			t.Errorf("second call: %v", err)
		}
		if n := e.srv.Stats().TotalCalls() - before; n != 1 {
			t.Errorf("%d requests reached HubSpot after the daily limit, want 1", n)
		}
	})
	t.Run("real daily quota", func(t *testing.T) {
		e := newEnv(t, hubspottest.Options{DailyLimit: 12}, Config{})
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			_, _, err = e.target.Live(ctx(), sandbox.KindSegment, strconv.Itoa(i))
		}
		if e.note(err); !errors.Is(err, ErrDailyLimit) {
			t.Errorf("error = %v", err)
		}
	})
}

// Targets share a portal's limiter exactly when they are built with the
// same Limits: nothing at package level joins them.
func TestLimitsAreSharedThroughWithLimits(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	shared := NewLimits()
	a := must[*Target](t, e)(New("hubspot", e.dir, Config{}, WithLimits(shared)))
	b := must[*Target](t, e)(New("hubspot", e.dir, Config{}, WithLimits(shared)))
	alone := must[*Target](t, e)(New("hubspot", e.dir, Config{}))
	if a.lim != b.lim {
		t.Error("two targets of one portal with the same Limits have two limiters")
	}
	if alone.lim == a.lim || alone.lim == e.target.lim {
		t.Error("targets built without the same Limits share a limiter")
	}

	// A target that knew the portal only by its token files its limiter
	// under the portal id the probe found, for the targets built after it.
	var c credentials
	if err := secret.Load(e.dir, "hubspot", &c); err != nil || c.Portal.HubID == 0 {
		t.Fatalf("stored credentials: %v, hub id %d", err, c.Portal.HubID)
	}
	byToken := c
	byToken.Portal = Portal{}
	later := NewLimits()
	first := must[*Target](t, e)(build("hubspot", e.dir, Config{}, &byToken, WithLimits(later)))
	first.adoptHubID(c.Portal.HubID)
	second := must[*Target](t, e)(New("hubspot", e.dir, Config{}, WithLimits(later)))
	if first.lim != second.lim {
		t.Error("the limiter was not found under the portal id")
	}
}
