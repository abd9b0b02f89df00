package meta

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/limits"
)

// Limits are what every Target of one ad account in a process shares: the
// account's usage as Meta last reported it, so that several targets (and
// goroutines) on one account slow down together. A program makes one with
// NewLimits and gives it to every Target it builds (WithLimits).
type Limits struct {
	pacers limits.Registry[*pacer]
}

// NewLimits returns an empty set of per-account limits.
func NewLimits() *Limits { return &Limits{} }

func limitsOr(l *Limits) *Limits {
	if l == nil {
		return NewLimits()
	}
	return l
}

func (l *Limits) pacer(account string) *pacer {
	return l.pacers.Get(account, func() *pacer { return &pacer{} })
}

// Pacing: above slowAt percent of any usage figure, each request waits
// (usage − slowAt) × perPoint before it is sent: 2 s at 100%.
const (
	slowAt   = 80
	perPoint = 100 * time.Millisecond
)

// pacer holds the highest usage share (percent) of the last answer and
// implements rest.Limiter for the Target that owns sleep.
type pacer struct {
	mu  sync.Mutex
	pct int
}

// usage is the highest share in the answer's usage headers, -1 when none.
func usage(h http.Header) int {
	top := -1
	num := func(v any) {
		if f, ok := v.(float64); ok && int(f) > top {
			top = int(f)
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var buc map[string][]map[string]any
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, entries := range buc {
				for _, e := range entries {
					num(e["call_count"])
					num(e["total_cputime"])
					num(e["total_time"])
				}
			}
		}
	}
	if v := h.Get("X-Ad-Account-Usage"); v != "" {
		var acc map[string]any
		if json.Unmarshal([]byte(v), &acc) == nil {
			num(acc["acc_id_util_pct"])
		}
	}
	if v := h.Get("X-App-Usage"); v != "" {
		var app map[string]any
		if json.Unmarshal([]byte(v), &app) == nil {
			num(app["call_count"])
			num(app["total_cputime"])
			num(app["total_time"])
		}
	}
	return top
}

// regainIn is how long Meta says the throttle lasts: the largest
// estimated_time_to_regain_access (minutes) of X-Business-Use-Case-Usage,
// else reset_time_duration (seconds) of X-Ad-Account-Usage when the account
// is at 100%; 0 when the answer does not say.
func regainIn(h http.Header) time.Duration {
	var d time.Duration
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var buc map[string][]map[string]any
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, entries := range buc {
				for _, e := range entries {
					if m, ok := e["estimated_time_to_regain_access"].(float64); ok && time.Duration(m)*time.Minute > d {
						d = time.Duration(m) * time.Minute
					}
				}
			}
		}
	}
	if d == 0 {
		var acc map[string]any
		if json.Unmarshal([]byte(h.Get("X-Ad-Account-Usage")), &acc) == nil {
			if p, _ := acc["acc_id_util_pct"].(float64); p >= 100 {
				if s, ok := acc["reset_time_duration"].(float64); ok {
					d = time.Duration(s) * time.Second
				}
			}
		}
	}
	return d
}

// delay is the wait before the next request at the last usage seen.
func (p *pacer) delay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pct <= slowAt {
		return 0
	}
	return time.Duration(min(p.pct, 100)-slowAt) * perPoint
}

func (p *pacer) observe(h http.Header) {
	if u := usage(h); u >= 0 {
		p.mu.Lock()
		p.pct = u
		p.mu.Unlock()
	}
}

// targetLimiter is a Target's rest.Limiter over its account's pacer.
type targetLimiter struct {
	p     *pacer
	sleep func(context.Context, time.Duration) error
	// slept records the pacing waits (tests read it through Paced).
	mu    sync.Mutex
	slept time.Duration
}

func (l *targetLimiter) Wait(ctx context.Context) error {
	d := l.p.delay()
	if d <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	l.slept += d
	l.mu.Unlock()
	return l.sleep(ctx, d)
}

func (l *targetLimiter) Observe(resp *http.Response, _ []byte) time.Duration {
	l.p.observe(resp.Header)
	return 0
}

// throttleCodes are Graph's rate-limit error codes (HTTP 400): 4 app, 17
// user (and the ad set budget rule), 32 page, 613 and 80000–80014 business
// use case limits.
func isThrottle(code int) bool {
	switch code {
	case 4, 17, 32, 613:
		return true
	}
	return code >= 80000 && code <= 80014
}

func redact(s string, secrets ...string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}
