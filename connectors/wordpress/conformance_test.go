package wordpress_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/connectors/wordpress/wordpresstest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// publishCounter counts the writes that publish or schedule a page (a POST
// to wp/v2/pages/<id> setting status publish or future), per page id.
// WordPress keeps no such count itself.
type publishCounter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

var pageRoute = regexp.MustCompile(`/wp/v2/pages/([0-9]+)$`)

func (c *publishCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if m := pageRoute.FindStringSubmatch(req.URL.Path); m != nil && req.Method == http.MethodPost && req.Body != nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(data))
		var body struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(data, &body) == nil && (body.Status == "publish" || body.Status == "future") {
			c.mu.Lock()
			c.n[m[1]]++
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(req)
}

func (c *publishCounter) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

// TestConformance runs the Target port's conformance suite over the
// WordPress connector against the real WordPress start.sh runs (skipped when
// it does not run). Every page it makes has a slug under one prefix,
// deleted when the test ends.
func TestConformance(t *testing.T) {
	srv := wordpresstest.New(t)
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		prefix := wordpresstest.UniqueSlug("lmct")
		srv.CleanupSlugPrefix(t, prefix)
		counter := &publishCounter{base: http.DefaultTransport, n: map[string]int{}}
		tg, err := wordpress.New("ct-blog", t.TempDir(), wordpress.Config{BaseURL: srv.URL},
			wordpress.WithCredentials(srv.User, srv.Password),
			wordpress.WithHTTPClient(&http.Client{Timeout: 60 * time.Second, Transport: counter}),
			wordpress.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return targettest.Fixture{
			Target:    tg,
			Secrets:   []string{srv.Password},
			Unique:    prefix,
			MissingID: func(sandbox.Kind) string { return "999999999" },
			Publishes: func(_ testing.TB, _ sandbox.Kind, id string) int { return counter.count(id) },
		}
	})
}
