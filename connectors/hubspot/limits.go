package hubspot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/limits"
	"github.com/lastmile/lastmile/connectors/internal/rest"
)

// limiter paces one portal's requests inside HubSpot's rolling window: at
// most max requests in any window. A request takes a slot when it leaves and
// the slot is stamped again when the answer arrives: HubSpot counted the
// request somewhere between the two, so spacing slots by their answer times
// keeps inside the window whatever the network's jitter (a small margin
// covers clock granularity). Concurrent callers share the budget. It learns
// from every answer:
//
//   - X-HubSpot-RateLimit-Max lower than configured lowers the budget;
//     X-HubSpot-RateLimit-Interval-Milliseconds sets the window;
//     X-HubSpot-RateLimit-Secondly adds a per-second budget;
//   - X-HubSpot-RateLimit-Remaining lower than what this process alone
//     explains means another client shares the portal: its share is kept
//     free for a window;
//   - a 429 waits out its window (TEN_SECONDLY_ROLLING: the window;
//     SECONDLY: a second) or, for DAILY, stops every further request.
//
// The pacing runs in the HTTP transport (pacedTransport), where the answer
// time is known; the rest client sees the limiter only for Observe and for
// the DAILY stop.
type limiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	margin   time.Duration
	fixedMgn bool
	secMax   int
	sent     []*slot
	blocked  time.Time
	foreign  int
	foreignT time.Time
	daily    bool
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	inflight sync.Map // *http.Response -> *slot, until Observe sees it

	throttled int           // requests that had to wait
	waited    time.Duration // total time spent waiting
	seen429   int
}

// slot is one request's place in the window: its send time until the answer
// arrives, then the answer's time.
type slot struct{ sent, t time.Time }

// Limits are what every Target of one HubSpot portal in a process shares:
// the portal's rate limiter (HubSpot counts requests per portal, not per
// client). A program makes one with NewLimits and gives it to every Target
// it builds (WithLimits). A portal is known by the API's base URL and its
// id, or, before the id is known, by a fingerprint of its token.
type Limits struct {
	limiters limits.Registry[*limiter]
}

// NewLimits returns an empty set of per-portal limits.
func NewLimits() *Limits { return &Limits{} }

func (ls *Limits) limiterFor(baseURL string, hubID int64, token string, mk func() *limiter) *limiter {
	return ls.limiters.Get(limiterKey(baseURL, hubID, token), mk)
}

// limiterKey names a portal: its id when known, else a fingerprint of the
// token (one token belongs to one portal). The token itself is not kept.
func limiterKey(baseURL string, hubID int64, token string) string {
	if hubID != 0 {
		return baseURL + "|hub:" + strconv.FormatInt(hubID, 10)
	}
	sum := sha256.Sum256([]byte(token))
	return baseURL + "|tok:" + hex.EncodeToString(sum[:8])
}

// adoptHubID files the target's limiter under the portal id learned by the
// probe too, so later targets of the portal share it.
func (t *Target) adoptHubID(hubID int64) {
	if hubID == 0 {
		return
	}
	t.limits.limiters.Alias(limiterKey(t.baseURL, hubID, ""), t.lim)
}

func newLimiter(max int, window, margin time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = rest.Sleep
	}
	l := &limiter{max: max, window: window, now: now, sleep: sleep}
	if margin > 0 {
		l.margin, l.fixedMgn = margin, true
	} else {
		l.margin = defaultMargin(window)
	}
	return l
}

func defaultMargin(window time.Duration) time.Duration {
	return max(window/100, 5*time.Millisecond)
}

// Wait is the rest client's hook: it only refuses requests once the daily
// quota is spent (pacing happens in the transport).
func (l *limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.daily {
		return ErrDailyLimit
	}
	return nil
}

// reserve blocks until a request may leave and takes its slot.
func (l *limiter) reserve(ctx context.Context) (*slot, error) {
	waited := false
	for {
		l.mu.Lock()
		if l.daily {
			l.mu.Unlock()
			return nil, ErrDailyLimit
		}
		now := l.now()
		next := l.nextSlot(now)
		if !next.After(now) {
			s := &slot{sent: now, t: now}
			l.sent = append(l.sent, s)
			if waited {
				l.throttled++
			}
			l.mu.Unlock()
			return s, nil
		}
		d := next.Sub(now)
		l.waited += d
		l.mu.Unlock()
		waited = true
		if err := l.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// finish stamps the slot with the answer's arrival.
func (l *limiter) finish(s *slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.After(s.t) {
		s.t = now
	}
}

// nextSlot is the earliest time a request may leave. Caller holds l.mu.
func (l *limiter) nextSlot(now time.Time) time.Time {
	span := l.window + l.margin
	l.sent = prune(l.sent, now.Add(-span))
	next := now
	if l.blocked.After(next) {
		next = l.blocked
	}
	budget := l.max
	if l.foreign > 0 && now.Before(l.foreignT) {
		budget = max(1, l.max-l.foreign)
	}
	if t, ok := nthLatest(l.sent, budget, now.Add(-span)); ok {
		if t = t.Add(span); t.After(next) {
			next = t
		}
	}
	if l.secMax > 0 {
		sec := l.window/10 + l.margin
		if t, ok := nthLatest(l.sent, l.secMax, now.Add(-sec)); ok {
			if t = t.Add(sec); t.After(next) {
				next = t
			}
		}
	}
	return next
}

// nthLatest returns the n-th latest slot time after cut, if there are n.
func nthLatest(slots []*slot, n int, cut time.Time) (time.Time, bool) {
	var ts []time.Time
	for _, s := range slots {
		if s.t.After(cut) {
			ts = append(ts, s.t)
		}
	}
	if len(ts) < n {
		return time.Time{}, false
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].After(ts[j]) })
	return ts[n-1], true
}

// prune drops the slots that left the window.
func prune(slots []*slot, cut time.Time) []*slot {
	kept := slots[:0]
	for _, s := range slots {
		if s.t.After(cut) {
			kept = append(kept, s)
		}
	}
	for i := len(kept); i < len(slots); i++ {
		slots[i] = nil
	}
	return kept
}

// pacedTransport holds each request until the portal's window has room and
// stamps its slot when the answer arrives.
type pacedTransport struct {
	base http.RoundTripper
	lim  *limiter
}

func (p *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s, err := p.lim.reserve(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := p.base.RoundTrip(req)
	p.lim.finish(s)
	if resp != nil {
		p.lim.inflight.Store(resp, s) // for Observe: when this request left
	}
	return resp, err
}

// Observe learns from an answer; for a 429 it returns how long to wait
// before the retry, or -1 when the daily quota is spent (no retry).
func (l *limiter) Observe(resp *http.Response, body []byte) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := resp.Header
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		if w := time.Duration(ms) * time.Millisecond; w != l.window {
			l.window = w
			if !l.fixedMgn {
				l.margin = defaultMargin(w)
			}
		}
	}
	if m, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max")); err == nil && m > 0 && m < l.max {
		l.max = m
	}
	if m, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Secondly")); err == nil && m > 0 {
		l.secMax = m
	}
	v, _ := l.inflight.LoadAndDelete(resp)
	if cur, ok := v.(*slot); ok && resp.StatusCode != http.StatusTooManyRequests {
		if rem, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining")); err == nil {
			// HubSpot counted this request's window when it arrived, somewhere
			// between cur.sent and cur.t. Ours in that window are at most the
			// requests answered after cur.sent-window and sent before cur.t;
			// what HubSpot counted beyond them comes from another client.
			ours := 0
			for _, s := range l.sent {
				if s.t.After(cur.sent.Add(-l.window-l.margin)) && !s.sent.After(cur.t) {
					ours++
				}
			}
			if f := (l.max - rem) - ours; f > 0 {
				l.foreign, l.foreignT = f, now.Add(l.window)
			}
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return 0
	}
	l.seen429++
	var b struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(body, &b)
	var wait time.Duration
	switch b.PolicyName {
	case "DAILY":
		l.daily = true
		return -1
	case "SECONDLY":
		wait = l.window / 10
	default: // TEN_SECONDLY_ROLLING, or unknown: wait out the window
		wait = l.window
	}
	if ra := retryAfter(h); ra > wait {
		wait = ra
	}
	if t := now.Add(wait); t.After(l.blocked) {
		l.blocked = t
	}
	return wait
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// LimiterStats describe how the limiter paced requests.
type LimiterStats struct {
	Max       int
	Window    time.Duration
	Throttled int
	Waited    time.Duration
	Seen429   int
}

// RateStats reports the portal limiter's counters (benchmarks, diagnostics).
func (t *Target) RateStats() LimiterStats {
	l := t.lim
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimiterStats{Max: l.max, Window: l.window, Throttled: l.throttled, Waited: l.waited, Seen429: l.seen429}
}
