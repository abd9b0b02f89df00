package wordpresstest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// upstream stands in for WordPress: it records the calls that reach it.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.calls = append(u.calls, name(r))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":7}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) reached() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.calls...)
}

func post(ctx context.Context, url string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"title":"x"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ method, target, want string }{
		{"POST", "/wp-json/wp/v2/pages?context=edit", "pages.create"},
		{"GET", "/wp-json/wp/v2/pages?slug=x", "pages.list"},
		{"POST", "/wp-json/wp/v2/pages/42", "pages.update"},
		{"GET", "/wp-json/wp/v2/pages/42", "pages.get"},
		{"DELETE", "/wp-json/wp/v2/pages/42?force=true", "pages.delete"},
		{"GET", "/wp-json/wp/v2/users/me", "users.me"},
		{"GET", "/wp-json/", "index"},
		{"GET", "/?rest_route=/wp/v2/pages/42", "pages.get"},
		{"GET", "/wp-json/wp/v2/types", "GET /wp/v2/types"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := name(r); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestProxyFaults(t *testing.T) {
	u := newUpstream(t)
	p := NewProxy(t, u.URL)
	create := p.URL + "/wp-json/wp/v2/pages"
	ctx := context.Background()

	p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.Fail, Status: 502})
	if st, err := post(ctx, create); err != nil || st != 502 || len(u.reached()) != 0 {
		t.Errorf("fail: %d %v, reached %v", st, err, u.reached())
	}
	p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.DropAfterApply})
	if _, err := post(ctx, create); err == nil || len(u.reached()) != 1 {
		t.Errorf("drop after apply: %v, reached %v", err, u.reached())
	}
	p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.RateLimit, RetryAfter: time.Second})
	if st, err := post(ctx, create); err != nil || st != 429 || len(u.reached()) != 1 {
		t.Errorf("rate limit: %d %v, reached %v", st, err, u.reached())
	}

	// A slow create reaches WordPress after its client gave up.
	p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.SlowApply, Delay: 200 * time.Millisecond})
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := post(cctx, create); err == nil {
		t.Error("the client did not time out")
	}
	if p.Applying() != 1 || len(u.reached()) != 1 {
		t.Errorf("held: applying %d, reached %v", p.Applying(), u.reached())
	}
	waitFor(t, func() bool { return p.Applied() == 1 })
	if p.Applying() != 0 || len(u.reached()) != 2 {
		t.Errorf("landed: applying %d, reached %v", p.Applying(), u.reached())
	}

	// A late create is passed on only after its client gave up.
	p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.LateApply, Delay: 10 * time.Millisecond})
	cctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := post(cctx, create); err == nil {
		t.Error("a late apply answered")
	}
	waitFor(t, func() bool { return p.Applied() == 2 })
	if len(u.reached()) != 3 || p.PendingFaults() != 0 {
		t.Errorf("reached %v, pending %d", u.reached(), p.PendingFaults())
	}
	// Reads pass slow and late faults by.
	p.Inject(faketest.Fault{Op: "*", Kind: faketest.SlowApply, Delay: time.Hour})
	resp, err := http.Get(p.URL + "/wp-json/wp/v2/pages")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a read behind a slow apply: %v", err)
	}
	resp.Body.Close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
