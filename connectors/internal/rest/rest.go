// Package rest is the small JSON-over-HTTP client the platform connectors
// share: authentication hook, per-account concurrency bound, rate limiter
// hook, and bounded retries that never repeat a write that may have landed;
// and Error, the one type in which every connector reports a failure.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limiter paces requests to stay inside a platform's rate limit.
type Limiter interface {
	// Wait blocks until a request may be sent.
	Wait(ctx context.Context) error
	// Observe sees every response (rate-limit headers) and returns how long
	// to wait before retrying a 429, or 0 to use the default backoff. A
	// negative duration means the 429 must not be retried (a daily quota is
	// spent): Do returns it at once.
	Observe(resp *http.Response, body []byte) time.Duration
}

// Client sends JSON requests to one platform account.
type Client struct {
	HTTP    *http.Client
	BaseURL string // no trailing slash
	// Authorize adds credentials to a request. Errors are returned as is
	// (they should wrap sandbox.ErrAuth where that is the cause).
	Authorize func(ctx context.Context, req *http.Request) error
	// Sem, when set, bounds concurrent requests (Mailchimp allows 10 per account).
	Sem chan struct{}
	// Limiter, when set, paces requests.
	Limiter Limiter
	// MaxAttempts bounds tries per request (default 5).
	MaxAttempts int
	// BaseDelay is the first backoff (default 250ms), doubled per attempt with jitter, capped at MaxDelay (default 10s).
	BaseDelay, MaxDelay time.Duration
	// UserAgent is sent on every request.
	UserAgent string
	// Sleep waits between attempts; tests replace it. Default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Request describes one call.
type Request struct {
	Method string
	Path   string // appended to BaseURL; may carry a query string
	Body   any    // JSON-encoded when not nil; []byte is sent as is
	// Idempotent marks a request that may be repeated after an ambiguous
	// failure (timeout, dropped connection, 5xx). GET, PUT, DELETE and HEAD
	// are idempotent by nature; a POST or PATCH is not unless marked.
	Idempotent  bool
	ContentType string // default application/json
	Header      http.Header
}

// Response is a completed call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if len(r.Body) == 0 {
		return nil
	}
	return json.Unmarshal(r.Body, v)
}

// HTTPError is a non-2xx answer as the platform sent it. Connectors read
// Body (the platform's error document) into an *Error that says what to do.
type HTTPError struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, truncate(string(e.Body), 300))
}

// HTTPStatus is the platform's status code. The sandbox classifies a failed
// promotion step by it (sandbox.HTTPStatuser), without importing this package.
func (e *HTTPError) HTTPStatus() int { return e.Status }

// RetryAfter is the wait the answer's Retry-After header asked for, or 0
// (sandbox.RetryAfterer).
func (e *HTTPError) RetryAfter() time.Duration { return RetryAfter(e.Header) }

// ErrAmbiguous wraps failures after which a write may or may not have been
// applied (timeout, dropped connection, 5xx on a non-idempotent request). The
// caller must reconcile (look the object up) before trying again.
var ErrAmbiguous = errors.New("the request may or may not have been applied")

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (c *Client) attempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return 5
}

func (c *Client) backoff(attempt int) time.Duration {
	base, max := c.BaseDelay, c.MaxDelay
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if max <= 0 {
		max = 10 * time.Second
	}
	d := base << (attempt - 1)
	if d > max || d <= 0 {
		d = max
	}
	// Full jitter on the upper half keeps retries of many callers apart.
	return d/2 + rand.N(d/2+1)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits d, or returns ctx's error when ctx ends first: the wait a
// connector uses when no other is set.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func idempotent(r Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return r.Idempotent
}

// Do sends the request, retrying 429s always (the platform did not apply
// them), and 5xx, timeouts and dropped connections only when the request is
// idempotent. A non-idempotent request that fails ambiguously returns an
// error wrapping ErrAmbiguous.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	var body []byte
	if r.Body != nil {
		switch b := r.Body.(type) {
		case []byte:
			body = b
		default:
			var err error
			if body, err = json.Marshal(b); err != nil {
				return nil, fmt.Errorf("%s %s: encode body: %w", r.Method, r.Path, err)
			}
		}
	}
	var lastErr error
	for attempt := 1; attempt <= c.attempts(); attempt++ {
		if attempt > 1 {
			if err := c.sleep(ctx, c.backoffFor(lastErr, attempt-1)); err != nil {
				return nil, err
			}
		}
		resp, err := c.once(ctx, r, body)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return nil, err
		}
		var he *HTTPError
		var nr *noRetry
		switch {
		case errors.As(err, &nr):
			return nil, nr.err
		case errors.As(err, &he) && he.Status == http.StatusTooManyRequests:
			continue
		case errors.As(err, &he) && he.Status >= 500:
			if !idempotent(r) {
				return nil, fmt.Errorf("%w: %w", ErrAmbiguous, err)
			}
			continue
		case errors.As(err, &he):
			return nil, err // 4xx: the caller's mistake; retrying will not help
		default: // transport error after the request may have been sent
			if !idempotent(r) {
				return nil, fmt.Errorf("%w: %w", ErrAmbiguous, err)
			}
			continue
		}
	}
	return nil, fmt.Errorf("gave up after %d attempts: %w", c.attempts(), lastErr)
}

// retryAfter carries the delay a 429 asked for.
type retryAfter struct {
	err  *HTTPError
	wait time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }

func (c *Client) backoffFor(err error, attempt int) time.Duration {
	var ra *retryAfter
	if errors.As(err, &ra) && ra.wait > 0 {
		return ra.wait
	}
	return c.backoff(attempt)
}

func (c *Client) once(ctx context.Context, r Request, body []byte) (*Response, error) {
	if c.Sem != nil {
		select {
		case c.Sem <- struct{}{}:
			defer func() { <-c.Sem }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.Limiter != nil {
		if err := c.Limiter.Wait(ctx); err != nil {
			return nil, &noRetry{err: err}
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.BaseURL+r.Path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	if body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Authorize != nil {
		if err := c.Authorize(ctx, req); err != nil {
			return nil, &noRetry{err: err}
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL in a *url.Error may carry a query-string credential on some
		// platforms; report method and path only.
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading response: %w", r.Method, r.Path, err)
	}
	var wait time.Duration
	if c.Limiter != nil {
		wait = c.Limiter.Observe(resp, data)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
	he := &HTTPError{Method: r.Method, Path: pathOnly(r.Path), Status: resp.StatusCode, Header: resp.Header, Body: data}
	if resp.StatusCode == http.StatusTooManyRequests {
		if wait < 0 {
			return nil, &noRetry{err: he}
		}
		if wait == 0 {
			wait = RetryAfter(resp.Header)
		}
		return nil, &retryAfter{err: he, wait: wait}
	}
	return nil, he
}

// noRetry carries an error Do returns as is, without retrying or marking it
// ambiguous: the request was never sent (the limiter or the Authorize hook
// failed) or the Limiter said the 429 must not be retried.
type noRetry struct{ err error }

func (n *noRetry) Error() string { return n.err.Error() }
func (n *noRetry) Unwrap() error { return n.err }

// Unwrap lets errors.As find the *HTTPError inside a retryAfter.
func (r *retryAfter) Unwrap() error { return r.err }

// RetryAfter is the wait the 429 asked for, from the limiter's reading of
// the rate-limit headers or Retry-After (sandbox.RetryAfterer).
func (r *retryAfter) RetryAfter() time.Duration {
	if r.wait > 0 {
		return r.wait
	}
	return r.err.RetryAfter()
}

// RetryAfter parses a Retry-After header (seconds or HTTP date); 0 if absent.
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
