package googleads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/lastmile/lastmile/connectors/internal/limits"
)

// Limits are what every Target of one developer token in a process
// shares: the pace of requests (Google counts rates per developer token
// and per account). A program makes one with NewLimits and gives it to
// every Target it builds (WithLimits).
type Limits struct {
	pace limits.Registry[*rate.Limiter]
}

// NewLimits returns an empty set of limits.
func NewLimits() *Limits { return &Limits{} }

func limitsOr(l *Limits) *Limits {
	if l == nil {
		return NewLimits()
	}
	return l
}

// limiter is the developer token's pace (the first Target decides the
// rate), behind a rest.Limiter that also reads Google's throttle answers.
func (l *Limits) limiter(devToken string, rps float64, maxWait time.Duration) *limiter {
	h := sha256.Sum256([]byte(devToken))
	key := hex.EncodeToString(h[:12])
	rl := l.pace.Get(key, func() *rate.Limiter { return rate.NewLimiter(rate.Limit(rps), 1) })
	return &limiter{rl: rl, maxWait: maxWait}
}

type limiter struct {
	rl      *rate.Limiter
	maxWait time.Duration
}

func (l *limiter) Wait(ctx context.Context) error { return l.rl.Wait(ctx) }

// Observe reads a 429's quotaErrorDetails.retryDelay: the wait before a
// retry, or -1 (do not retry) when Google asks for longer than maxWait or
// the quota is the daily one (RESOURCE_EXHAUSTED without a delay).
func (l *limiter) Observe(resp *http.Response, body []byte) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests {
		return 0
	}
	d, daily := retryDelay(body)
	switch {
	case daily:
		return -1
	case d > l.maxWait:
		return -1
	case d > 0:
		return d
	}
	return 0
}

// retryDelay finds the retry delay Google asked for, and whether the
// error is the daily operations quota.
func retryDelay(body []byte) (d time.Duration, daily bool) {
	env, ok := parseFailure(body)
	if !ok {
		return 0, false
	}
	for _, e := range env.errors() {
		if e.ErrorCode["quotaError"] == "RESOURCE_EXHAUSTED" {
			daily = true
		}
		if e.Details.QuotaErrorDetails.RetryDelay != "" {
			if v, err := parseDuration(e.Details.QuotaErrorDetails.RetryDelay); err == nil && v > d {
				d = v
			}
		}
	}
	return d, daily && d == 0
}

// parseDuration reads a proto3 JSON Duration ("2.5s").
func parseDuration(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	if err != nil || !strings.HasSuffix(s, "s") {
		return 0, &json.UnsupportedValueError{Str: s}
	}
	return time.Duration(f * float64(time.Second)), nil
}
