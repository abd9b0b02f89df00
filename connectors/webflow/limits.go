package webflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/limits"
	"github.com/lastmile/lastmile/connectors/internal/rest"
)

// Limits are what every Target of one Webflow token or site in a process
// shares: the token's rate limiter (Webflow counts requests per API key: 60
// or 120 a minute by plan) and the site's publish gate (one successful site
// publish per minute). A program makes one with NewLimits and gives it to
// every Target it builds (WithLimits).
type Limits struct {
	limiters limits.Registry[*limiter]
	gates    limits.Registry[*publishGate]
}

// NewLimits returns an empty set of limits.
func NewLimits() *Limits { return &Limits{} }

func limitsOr(l *Limits) *Limits {
	if l == nil {
		return NewLimits()
	}
	return l
}

// limiter returns the token's limiter; the key is a fingerprint, not the token.
func (l *Limits) limiter(base, token string, mk func() *limiter) *limiter {
	sum := sha256.Sum256([]byte(base + "\x00" + token))
	return l.limiters.Get(hex.EncodeToString(sum[:12]), mk)
}

func (l *Limits) gate(base, site string) *publishGate {
	return l.gates.Get(base+"|"+site, func() *publishGate { return &publishGate{sem: make(chan struct{}, 1)} })
}

// limiter keeps one token's requests inside max per window: a request
// leaves only when fewer than max left in the last window. It learns from
// the answers: X-RateLimit-Limit lower than configured lowers max;
// X-RateLimit-Remaining 0 holds every request for a window; a 429 holds
// them for its Retry-After (default a window) and is retried after it,
// (a 429 that leaves X-RateLimit-Remaining above 0 is another limit's, the
// site publish's, and holds nobody else), unless that is longer than maxWait: then it is returned at once, carrying
// the Retry-After, for the sandbox to try again later.
type limiter struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	maxWait time.Duration
	sent    []time.Time
	blocked time.Time
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	waits    int // requests that waited
	seen429s int
}

func newLimiter(max int, window, maxWait time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{max: max, window: window, maxWait: maxWait, now: now, sleep: sleep}
}

// Wait blocks until a request may leave, and takes its place.
func (l *limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		cut := now.Add(-l.window)
		i := 0
		for i < len(l.sent) && !l.sent[i].After(cut) {
			i++
		}
		l.sent = l.sent[i:]
		var d time.Duration
		switch {
		case l.blocked.After(now):
			d = l.blocked.Sub(now)
		case len(l.sent) >= l.max:
			d = l.sent[len(l.sent)-l.max].Add(l.window).Sub(now) + time.Millisecond
		default:
			l.sent = append(l.sent, now)
			l.mu.Unlock()
			return nil
		}
		l.waits++
		l.mu.Unlock()
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Observe reads the rate-limit headers of an answer; for a 429 it returns
// how long to wait before the retry (negative: do not retry).
func (l *limiter) Observe(resp *http.Response, _ []byte) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Limit")); err == nil && n > 0 && n < l.max {
		l.max = n
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			// Another client of the token spent the minute: hold until it
			// has surely passed.
			if until := now.Add(l.window); until.After(l.blocked) {
				l.blocked = until
			}
		}
		return 0
	}
	l.seen429s++
	wait := rest.RetryAfter(resp.Header)
	if wait <= 0 {
		wait = l.window
	}
	if n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); err == nil && n > 0 {
		// Requests remain this minute: the 429 is another limit's (one
		// site publish per minute), so other requests need not wait.
		if wait > l.maxWait {
			return -1
		}
		return wait
	}
	if until := now.Add(wait); until.After(l.blocked) {
		l.blocked = until
	}
	if wait > l.maxWait {
		return -1
	}
	return wait
}

// publishGate spaces one site's publishes a minute apart.
type publishGate struct {
	sem  chan struct{} // one holder at a time
	last time.Time     // guarded by sem
}

// sitePublishEvery is Webflow's limit: one successful site publish per minute.
const sitePublishEvery = time.Minute

// hold takes the gate (one site publish of the site at a time in this
// process) and returns when the next may go: a minute after the last one
// this process made. release gives the gate back, recording a publish when
// ok.
func (g *publishGate) hold(ctx context.Context) (next time.Time, release func(ok bool, now time.Time), err error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, nil, ctx.Err()
	}
	next = g.last
	if !next.IsZero() {
		next = next.Add(sitePublishEvery + time.Second)
	}
	return next, func(ok bool, now time.Time) {
		if ok {
			g.last = now
		}
		<-g.sem
	}, nil
}
