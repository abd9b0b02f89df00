// Package wordpresstest gives tests the real WordPress that start.sh runs on
// 127.0.0.1 (there is no fake: the integration tests use the real server).
//
//	eval "$(connectors/wordpress/wordpresstest/start.sh)"   # once
//	go test ./connectors/wordpress/...
//	connectors/wordpress/wordpresstest/stop.sh              # when done
//
// New reads the server's coordinates from LASTMILE_WP_URL, LASTMILE_WP_USER
// and LASTMILE_WP_PASSWORD and skips the test when they are unset (fails
// instead when LASTMILE_REQUIRE_WP is set, as in CI). The
// helpers read and clean up pages directly over the REST API, so a test can
// assert what the site really holds ("exactly one page with this slug").
package wordpresstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SkipMessage is why a test skips when no WordPress is running.
const SkipMessage = `WordPress not running: eval "$(connectors/wordpress/wordpresstest/start.sh)" first`

// Environment variables start.sh exports.
const (
	EnvURL      = "LASTMILE_WP_URL"
	EnvUser     = "LASTMILE_WP_USER"
	EnvPassword = "LASTMILE_WP_PASSWORD"
	// EnvRequire, when set (CI sets it after start.sh), turns the skip
	// into a failure: a CI run must not pass by skipping.
	EnvRequire = "LASTMILE_REQUIRE_WP"
)

// Server is a running WordPress and an administrator's application password.
type Server struct {
	URL      string // site address, e.g. http://127.0.0.1:8088
	User     string
	Password string // application password: never log it
	HTTP     *http.Client
}

// FromEnv returns the server start.sh announced, if any.
func FromEnv() (*Server, bool) {
	u := strings.TrimRight(os.Getenv(EnvURL), "/")
	if u == "" {
		return nil, false
	}
	return &Server{URL: u, User: os.Getenv(EnvUser), Password: os.Getenv(EnvPassword),
		HTTP: &http.Client{Timeout: 60 * time.Second}}, true
}

// New returns the running server, or skips the test when LASTMILE_WP_URL is
// unset. When it is set but the server does not answer, the test fails: a
// CI run that started WordPress must not silently skip.
func New(t testing.TB) *Server {
	t.Helper()
	s, ok := FromEnv()
	if !ok {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%s is set but %s is not: %s", EnvRequire, EnvURL, SkipMessage)
		}
		t.Skip(SkipMessage)
	}
	if s.User == "" || s.Password == "" {
		t.Fatalf("%s is set but %s or %s is not: eval the output of start.sh again", EnvURL, EnvUser, EnvPassword)
	}
	status, body := s.do(t, http.MethodGet, "/wp/v2/users/me?context=edit&_fields=id", nil)
	if status != http.StatusOK {
		t.Fatalf("WordPress at %s answered users/me with HTTP %d (%s): is it still running? start.sh again", s.URL, status, clip(body))
	}
	return s
}

// UniqueSlug returns prefix plus a suffix unique to this call, so runs and
// tests never collide on the shared server.
func UniqueSlug(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", prefix, strconv.FormatInt(time.Now().UnixNano()%1e9, 36), hex.EncodeToString(b[:]))
}

// Page is a page as WordPress holds it.
type Page struct {
	ID      int    `json:"id"`
	Slug    string `json:"slug"`
	Status  string `json:"status"`
	Link    string `json:"link"`
	Parent  int    `json:"parent"`
	DateGMT string `json:"date_gmt"`
	Title   string `json:"-"`
	Content string `json:"-"` // raw content
	Excerpt string `json:"-"` // raw excerpt
}

type wirePage struct {
	Page
	T struct {
		Raw string `json:"raw"`
	} `json:"title"`
	C struct {
		Raw string `json:"raw"`
	} `json:"content"`
	E struct {
		Raw string `json:"raw"`
	} `json:"excerpt"`
}

func (w wirePage) page() Page {
	p := w.Page
	p.Title, p.Content, p.Excerpt = w.T.Raw, w.C.Raw, w.E.Raw
	return p
}

// Pages lists the pages (any status but trash) whose slug is slug.
func (s *Server) Pages(t testing.TB, slug string) []Page {
	t.Helper()
	return s.list(t, url.Values{"slug": {slug}})
}

// PagesContaining lists the pages (any status but trash) whose title or
// content contains text (WordPress's search), e.g. a lastmile marker.
func (s *Server) PagesContaining(t testing.TB, text string) []Page {
	t.Helper()
	var out []Page
	for _, p := range s.list(t, url.Values{"search": {text}}) {
		if strings.Contains(p.Content, text) || strings.Contains(p.Title, text) {
			out = append(out, p)
		}
	}
	return out
}

// PagesWithSlugPrefix lists the pages (any status but trash) whose slug
// starts with prefix, including WordPress's suffixed duplicates (prefix-2).
func (s *Server) PagesWithSlugPrefix(t testing.TB, prefix string) []Page {
	t.Helper()
	var out []Page
	for page := 1; ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {"100"}, "status": {"any"}, "context": {"edit"},
			"orderby": {"id"}, "order": {"asc"}, "_fields": {"id,slug,status,link,parent,date_gmt"}}
		status, body := s.do(t, http.MethodGet, "/wp/v2/pages?"+q.Encode(), nil)
		if status == http.StatusBadRequest && page > 1 {
			return out // past the last page
		}
		if status != http.StatusOK {
			t.Fatalf("wordpresstest: list pages: HTTP %d: %s", status, clip(body))
		}
		var ps []Page
		if err := json.Unmarshal(body, &ps); err != nil {
			t.Fatalf("wordpresstest: list pages: %v", err)
		}
		for _, p := range ps {
			if strings.HasPrefix(p.Slug, prefix) {
				out = append(out, p)
			}
		}
		if len(ps) < 100 {
			return out
		}
	}
}

func (s *Server) list(t testing.TB, q url.Values) []Page {
	t.Helper()
	q.Set("status", "any")
	q.Set("context", "edit")
	if q.Get("per_page") == "" {
		q.Set("per_page", "100")
	}
	q.Set("_fields", "id,slug,status,link,parent,date_gmt,title,content,excerpt")
	status, body := s.do(t, http.MethodGet, "/wp/v2/pages?"+q.Encode(), nil)
	if status != http.StatusOK {
		t.Fatalf("wordpresstest: list pages: HTTP %d: %s", status, clip(body))
	}
	var wire []wirePage
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatalf("wordpresstest: list pages: %v", err)
	}
	out := make([]Page, len(wire))
	for i, w := range wire {
		out[i] = w.page()
	}
	return out
}

// Page reads one page (also in the trash); ok is false when it does not exist.
func (s *Server) Page(t testing.TB, id int) (Page, bool) {
	t.Helper()
	status, body := s.do(t, http.MethodGet, fmt.Sprintf("/wp/v2/pages/%d?context=edit", id), nil)
	if status == http.StatusNotFound {
		return Page{}, false
	}
	if status != http.StatusOK {
		t.Fatalf("wordpresstest: get page %d: HTTP %d: %s", id, status, clip(body))
	}
	var w wirePage
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("wordpresstest: get page %d: %v", id, err)
	}
	return w.page(), true
}

// CreatePage creates a page directly (a page lastmile did not make), with
// the given fields (title, content, slug, status, …).
func (s *Server) CreatePage(t testing.TB, fields map[string]any) Page {
	t.Helper()
	status, body := s.do(t, http.MethodPost, "/wp/v2/pages?context=edit", fields)
	if status != http.StatusCreated {
		t.Fatalf("wordpresstest: create page: HTTP %d: %s", status, clip(body))
	}
	var w wirePage
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("wordpresstest: create page: %v", err)
	}
	return w.page()
}

// UpdatePage changes fields of a page directly.
func (s *Server) UpdatePage(t testing.TB, id int, fields map[string]any) Page {
	t.Helper()
	status, body := s.do(t, http.MethodPost, fmt.Sprintf("/wp/v2/pages/%d?context=edit", id), fields)
	if status != http.StatusOK {
		t.Fatalf("wordpresstest: update page %d: HTTP %d: %s", id, status, clip(body))
	}
	var w wirePage
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("wordpresstest: update page %d: %v", id, err)
	}
	return w.page()
}

// DeletePage deletes a page for good (not to the trash). A page that is
// already gone is fine.
func (s *Server) DeletePage(t testing.TB, id int) {
	t.Helper()
	status, body := s.do(t, http.MethodDelete, fmt.Sprintf("/wp/v2/pages/%d?force=true", id), nil)
	if status != http.StatusOK && status != http.StatusNotFound && status != http.StatusGone {
		t.Errorf("wordpresstest: delete page %d: HTTP %d: %s", id, status, clip(body))
	}
}

// CleanupSlugPrefix deletes, when the test ends, every page whose slug starts
// with prefix (including suffixed duplicates), so the shared server does not
// fill up across runs.
func (s *Server) CleanupSlugPrefix(t testing.TB, prefix string) {
	t.Helper()
	t.Cleanup(func() {
		for _, p := range s.PagesWithSlugPrefix(t, prefix) {
			s.DeletePage(t, p.ID)
		}
	})
}

// Do sends an authenticated request to a REST route (e.g. "/wp/v2/pages")
// and returns the status and body.
func (s *Server) Do(t testing.TB, method, route string, body any) (int, []byte) {
	t.Helper()
	return s.do(t, method, route, body)
}

func (s *Server) do(t testing.TB, method, route string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("wordpresstest: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/wp-json"+route, rd)
	if err != nil {
		t.Fatalf("wordpresstest: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(s.User, s.Password)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		t.Fatalf("wordpresstest: %s %s: %v", method, route, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
