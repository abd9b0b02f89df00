package wordpress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// These tests replay the exchanges recorded against a real WordPress 6.1.9
// (testdata/, a copy of ../shared/apispecs/wordpress) to pin the error
// mapping; they need no server. The contract tests against the real
// WordPress are in integration_test.go.

const testPassword = "abcd EFGH 1234 ijkl MNOP 5678" // must never appear in an error or log

type exchange struct {
	Name    string `json:"name"`
	Request struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func loadExchanges(t *testing.T) map[string]exchange {
	t.Helper()
	data, err := os.ReadFile("testdata/wp-6.1.9-recorded-exchanges.json")
	if err != nil {
		t.Fatal(err)
	}
	var list []exchange
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]exchange, len(list))
	for _, e := range list {
		m[e.Name] = e
	}
	return m
}

// replay answers every request matching "METHOD /route" (path without the
// query) with a recorded or synthetic response, and records what it saw.
type replay struct {
	mu     sync.Mutex
	routes map[string]response
	seq    map[string][]response // answered in turn before routes
	seen   []string
}

type response struct {
	status  int
	headers map[string]string
	body    []byte
}

func fromExchange(e exchange) response {
	return response{status: e.Response.Status, headers: e.Response.Headers, body: e.Response.Body}
}

func (rp *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	rp.mu.Lock()
	rp.seen = append(rp.seen, key)
	resp, ok := rp.routes[key]
	if q := rp.seq[key]; len(q) > 0 {
		resp, ok, rp.seq[key] = q[0], true, q[1:]
	}
	rp.mu.Unlock()
	if u, p, _ := r.BasicAuth(); u != "lastmile" || p != testPassword {
		http.Error(w, "test: wrong credentials sent", http.StatusTeapot)
		return
	}
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`))
		return
	}
	for k, v := range resp.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func newReplayTarget(t *testing.T, routes map[string]response, logs *bytes.Buffer) (*Target, *replay) {
	t.Helper()
	rp := &replay{routes: routes}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	opts := []Option{
		WithCredentials("lastmile", testPassword),
		WithSleep(func(context.Context, time.Duration) error { return nil }),
		WithClock(func() time.Time { return time.Date(2026, 11, 26, 2, 28, 42, 0, time.UTC) }),
	}
	if logs != nil {
		opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	tg, err := New("acme-blog", t.TempDir(), Config{BaseURL: srv.URL}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg, rp
}

func springPage() sandbox.Object {
	return sandbox.Object{
		Kind: sandbox.KindPage, ArtifactID: "pg_01test", Revision: 1, Marker: "lm-pg_01test",
		Page: &sandbox.Page{Title: "Spring Launch", Slug: "spring-launch", Body: "<p>Hello</p>", MetaDescription: "Spring offers"},
	}
}

func noSecret(t *testing.T, what string) {
	t.Helper()
	for _, s := range []string{testPassword, strings.ReplaceAll(testPassword, " ", "")} {
		if strings.Contains(what, s) {
			t.Fatalf("the application password leaked: %s", what)
		}
	}
}

func TestErrorMappingFromRecordedExchanges(t *testing.T) {
	ex := loadExchanges(t)
	notLoggedIn := response{status: 401, headers: map[string]string{"Content-Type": "application/json"},
		body: []byte(`{"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}}`)}
	htmlFailure := response{status: 500, headers: map[string]string{"Content-Type": "text/html"},
		body: []byte("<html><body><h1>There has been a critical error on this website.</h1></body></html>")}
	tests := []struct {
		name     string
		route    string // METHOD /path the call makes
		resp     response
		extra    map[string]response // other routes the call needs
		call     func(ctx context.Context, tg *Target) error
		sentinel error
		want     []string
	}{
		{
			name: "wrong application password on create", route: "POST /wp-json/wp/v2/pages",
			resp:     fromExchange(ex["error: wrong app password"]),
			call:     func(ctx context.Context, tg *Target) error { _, err := tg.Put(ctx, springPage(), ""); return err },
			sentinel: sandbox.ErrAuth,
			want:     []string{`wordpress: create page "Spring Launch": WordPress rejected the application password for user lastmile: create a new one under Users → Profile → Application Passwords and run lastmile connect wordpress --name acme-blog again`},
		},
		{
			name: "unknown user on create", route: "POST /wp-json/wp/v2/pages",
			resp:     fromExchange(ex["error: unknown user"]),
			call:     func(ctx context.Context, tg *Target) error { _, err := tg.Put(ctx, springPage(), ""); return err },
			sentinel: sandbox.ErrAuth, want: []string{"rejected the application password"},
		},
		{
			name: "not logged in on users/me", route: "GET /wp-json/wp/v2/pages",
			resp:     notLoggedIn,
			call:     func(ctx context.Context, tg *Target) error { _, err := tg.Assess(ctx, springPage()); return err },
			sentinel: sandbox.ErrAuth, want: []string{`wordpress: plan page "Spring Launch": WordPress rejected the application password`},
		},
		{
			// Observed on the real server: a list with status=any from an
			// unrecognised user is a 400 whose detail is a 401.
			name: "wrong application password on a lookup", route: "GET /wp-json/wp/v2/pages",
			resp: response{status: 400, headers: map[string]string{"Content-Type": "application/json"},
				body: []byte(`{"code":"rest_invalid_param","message":"Invalid parameter(s): status","data":{"status":400,"params":{"status":"Status is forbidden."},"details":{"status":{"code":"rest_forbidden_status","message":"Status is forbidden.","data":{"status":401}}}}}`)},
			call: func(ctx context.Context, tg *Target) error {
				_, _, err := tg.Find(ctx, springPage())
				return err
			},
			sentinel: sandbox.ErrAuth, want: []string{`wordpress: find page "Spring Launch": WordPress rejected the application password for user lastmile`},
		},
		{
			name: "subscriber lacks the capability", route: "POST /wp-json/wp/v2/pages",
			resp:     fromExchange(ex["error: subscriber lacks capability"]),
			call:     func(ctx context.Context, tg *Target) error { _, err := tg.Put(ctx, springPage(), ""); return err },
			sentinel: sandbox.ErrAuth,
			want:     []string{"user lastmile is not allowed to do this", "Sorry, you are not allowed to create posts as this user.", "Editor or Administrator role"},
		},
		{
			name: "invalid status", route: "POST /wp-json/wp/v2/pages",
			resp: fromExchange(ex["error: invalid status enum"]),
			call: func(ctx context.Context, tg *Target) error { _, err := tg.Put(ctx, springPage(), ""); return err },
			want: []string{"WordPress refused the request: invalid status: status is not one of publish, future, draft, pending, and private.; fix the artifact and re-plan"},
		},
		{
			name: "invalid date", route: "POST /wp-json/wp/v2/pages",
			resp: fromExchange(ex["error: invalid date"]),
			call: func(ctx context.Context, tg *Target) error { _, err := tg.Put(ctx, springPage(), ""); return err },
			want: []string{"invalid date: Invalid date."},
		},
		{
			name: "update of an unknown page", route: "POST /wp-json/wp/v2/pages/999999", extra: map[string]response{"GET /wp-json/wp/v2/pages": {status: 200, body: []byte("[]")}},
			resp: fromExchange(ex["error: page not found"]),
			call: func(ctx context.Context, tg *Target) error {
				_, err := tg.Put(ctx, springPage(), "999999")
				return err
			},
			want: []string{`wordpress: update page "Spring Launch": the page does not exist on http://127.0.0.1:`, "re-plan to create it again"},
		},
		{
			name: "unknown route", route: "GET /wp-json/wp/v2/nothing",
			resp: fromExchange(ex["error: unknown route"]),
			call: func(ctx context.Context, tg *Target) error {
				_, _, err := tg.Find(ctx, springPage())
				return err
			},
			want: []string{"the REST route was not found under http://127.0.0.1:", "/wp-json"},
		},
		{
			name: "PHP fatal error page", route: "GET /wp-json/wp/v2/pages",
			resp: htmlFailure,
			call: func(ctx context.Context, tg *Target) error {
				_, _, err := tg.Find(ctx, springPage())
				return err
			},
			want: []string{"the site failed with HTTP 500", "There has been a critical error", "PHP error log"},
		},
		{
			name: "metrics", route: "",
			call: func(ctx context.Context, tg *Target) error {
				_, err := tg.Metrics(ctx, sandbox.MetricsRequest{})
				return err
			},
			sentinel: sandbox.ErrNotSupported, want: []string{"WordPress core keeps no page-view statistics"},
		},
		{
			name: "send", route: "",
			call: func(ctx context.Context, tg *Target) error {
				_, err := tg.Send(ctx, springPage(), sandbox.LiveState{ID: "4"}, time.Time{})
				return err
			},
			sentinel: sandbox.ErrNotSupported, want: []string{"WordPress sends no emails"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			routes := map[string]response{}
			if tc.route != "" {
				routes[tc.route] = tc.resp
			}
			for k, v := range tc.extra {
				routes[k] = v
			}
			tg, _ := newReplayTarget(t, routes, &logs)
			err := tc.call(context.Background(), tg)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\n lacks %q", msg, w)
				}
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not wrap %v: %v", tc.sentinel, err)
			}
			for _, s := range []error{sandbox.ErrAuth, sandbox.ErrConflict, sandbox.ErrNotSupported} {
				if s != tc.sentinel && errors.Is(err, s) {
					t.Errorf("error wraps %v unexpectedly: %v", s, err)
				}
			}
			noSecret(t, msg)
			noSecret(t, logs.String())
		})
	}
}

func TestRecordedSuccesses(t *testing.T) {
	ex := loadExchanges(t)
	ctx := context.Background()

	t.Run("create draft", func(t *testing.T) {
		tg, rp := newReplayTarget(t, map[string]response{"POST /wp-json/wp/v2/pages": fromExchange(ex["create draft page"])}, nil)
		st, err := tg.Put(ctx, springPage(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.ID != "4" || st.Status != "draft" || !strings.HasPrefix(st.Version, "2026-11-26T02:28:42~") {
			t.Errorf("state %+v", st)
		}
		// A draft's link is ?page_id=4: the URL is where it will be.
		if st.URL != "http://127.0.0.1:8089/spring-launch/" {
			t.Errorf("URL %q", st.URL)
		}
		if len(rp.seen) != 1 {
			t.Errorf("requests %v", rp.seen)
		}
	})

	t.Run("live of a missing page", func(t *testing.T) {
		tg, _ := newReplayTarget(t, map[string]response{"GET /wp-json/wp/v2/pages/999999": fromExchange(ex["error: page not found"])}, nil)
		_, found, err := tg.Live(ctx, sandbox.KindPage, "999999")
		if err != nil || found {
			t.Fatalf("found %v, err %v", found, err)
		}
	})

	t.Run("live of a trashed page", func(t *testing.T) {
		tg, _ := newReplayTarget(t, map[string]response{"GET /wp-json/wp/v2/pages/4": fromExchange(ex["delete without force -> trash"])}, nil)
		_, found, err := tg.Live(ctx, sandbox.KindPage, "4")
		if err != nil || found {
			t.Fatalf("found %v, err %v", found, err)
		}
	})

	t.Run("live", func(t *testing.T) {
		tg, _ := newReplayTarget(t, map[string]response{"GET /wp-json/wp/v2/pages/4": fromExchange(ex["get page context=edit"])}, nil)
		st, found, err := tg.Live(ctx, sandbox.KindPage, "4")
		if err != nil || !found {
			t.Fatalf("found %v, err %v", found, err)
		}
		if st.Status != "publish" || st.URL != "http://127.0.0.1:8089/spring-launch/" || !strings.HasPrefix(st.Version, "2026-11-26T02:28:42~") {
			t.Errorf("state %+v", st)
		}
	})

	t.Run("publish of a published page writes nothing", func(t *testing.T) {
		tg, rp := newReplayTarget(t, map[string]response{"GET /wp-json/wp/v2/pages": fromExchange(ex["list pages with pagination headers"])}, nil)
		st, err := tg.Publish(ctx, springPage(), sandbox.LiveState{ID: "4", Status: "draft"}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "publish" {
			t.Errorf("state %+v", st)
		}
		for _, s := range rp.seen {
			if strings.HasPrefix(s, "POST") {
				t.Errorf("wrote: %v", rp.seen)
			}
		}
	})

	t.Run("publish that WordPress suffixes is a conflict and goes back to draft", func(t *testing.T) {
		draft := []byte(`[{"id":5,"slug":"spring-launch","status":"draft","link":"http://127.0.0.1:8089/?page_id=5","parent":0,"date_gmt":"2026-11-26T02:28:42","modified_gmt":"2026-11-26T02:28:42","permalink_template":"http://127.0.0.1:8089/%pagename%/","content":{"raw":"x"}}]`)
		reverted := []byte(`{"id":5,"slug":"spring-launch-2","status":"draft","link":"http://127.0.0.1:8089/?page_id=5","modified_gmt":"2026-11-26T02:28:43"}`)
		tg, rp := newReplayTarget(t, map[string]response{"GET /wp-json/wp/v2/pages": {status: 200, body: draft}}, nil)
		rp.seq = map[string][]response{"POST /wp-json/wp/v2/pages/5": {
			fromExchange(ex["create page duplicate slug -> WP auto-suffixes slug"]), {status: 200, body: reverted}}}
		st, err := tg.Publish(ctx, springPage(), sandbox.LiveState{ID: "5"}, time.Time{})
		if st.Status != "draft" {
			t.Errorf("state %+v", st)
		}
		if !errors.Is(err, sandbox.ErrConflict) {
			t.Fatalf("want a conflict, got %v", err)
		}
		for _, w := range []string{`WordPress gave the page the slug "spring-launch-2" because "spring-launch" is taken`, "put it back to draft"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		posts := 0
		for _, s := range rp.seen {
			if s == "POST /wp-json/wp/v2/pages/5" {
				posts++
			}
		}
		if posts != 2 {
			t.Errorf("want publish then revert, saw %v", rp.seen)
		}
	})
}

// A create whose answer is lost (the server applied it) is reconciled by
// marker, never repeated.
func TestCreateWithLostAnswerIsReconciled(t *testing.T) {
	for _, pageExists := range []bool{true, false} {
		name := map[bool]string{true: "page found by marker", false: "nothing found"}[pageExists]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var stored []byte
			posts := 0
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Method == http.MethodPost && r.URL.Path == "/wp-json/wp/v2/pages":
					posts++
					var body struct {
						Content string `json:"content"`
					}
					_ = json.NewDecoder(r.Body).Decode(&body)
					if pageExists {
						stored, _ = json.Marshal([]map[string]any{{"id": 42, "slug": "spring-launch", "status": "draft",
							"modified_gmt": "2026-11-26T02:28:42", "content": map[string]string{"raw": body.Content}}})
					}
					// Drop the connection without an answer.
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
				case r.Method == http.MethodGet && r.URL.Path == "/wp-json/wp/v2/pages":
					if r.URL.Query().Get("status") != "any" || r.URL.Query().Get("context") != "edit" {
						t.Errorf("lookup without status=any&context=edit: %s", r.URL.RawQuery)
					}
					w.Header().Set("Content-Type", "application/json")
					if stored == nil {
						_, _ = w.Write([]byte("[]"))
						return
					}
					_, _ = w.Write(stored)
				default:
					t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
				}
			})
			srv := httptest.NewServer(h)
			defer srv.Close()
			tg, err := New("acme-blog", t.TempDir(), Config{BaseURL: srv.URL}, WithCredentials("lastmile", testPassword),
				WithSleep(func(context.Context, time.Duration) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
			st, err := tg.Put(context.Background(), springPage(), "")
			if posts != 1 {
				t.Errorf("the create was sent %d times", posts)
			}
			if pageExists {
				if err != nil || st.ID != "42" {
					t.Fatalf("state %+v, err %v", st, err)
				}
				return
			}
			if !errors.Is(err, rest.ErrAmbiguous) {
				t.Fatalf("want ErrAmbiguous, got %v", err)
			}
			if !strings.Contains(err.Error(), "looks for the page by its marker before trying again") {
				t.Errorf("error %q", err)
			}
			noSecret(t, err.Error())
		})
	}
}

func TestAssess(t *testing.T) {
	ex := loadExchanges(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 2, 28, 42, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(48*time.Hour)
	foreign := []byte(`[{"id":9,"slug":"spring-launch","status":"publish","link":"http://127.0.0.1:8089/spring-launch/","parent":0,"title":{"raw":"Someone's page"},"content":{"raw":"<p>theirs</p>"}}]`)
	ours := []byte(`[{"id":4,"slug":"spring-launch","status":"draft","parent":0,"content":{"raw":"<!-- wp:html -->\n<!-- lastmile:marker lm-pg_01test -->\n<p>Hello</p>\n<!-- /wp:html -->"}}]`)
	withForm := springPage()
	withForm.Page.Body = `<p>Hi {{ contact.firstname | default: "there" }}</p><section class="lm-form-section">` + "\n" +
		`<form class="lm-form" action="#" method="post" data-lastmile-form="not-wired"><p><input name="email"></p></form>` + "\n</section>\n"

	tests := []struct {
		name         string
		obj          func() sandbox.Object
		list         []byte
		formAction   string
		wantProblems []string
		wantNotes    []string
	}{
		{name: "fine", obj: springPage, list: []byte("[]")},
		{name: "our own page holds the slug", obj: springPage, list: ours},
		{name: "a foreign page holds the slug", obj: springPage, list: foreign,
			wantProblems: []string{`the slug "spring-launch" is taken by WordPress page 9 ("Someone's page", publish) at http://127.0.0.1:8089/spring-launch/, which lastmile did not create: WordPress would publish this page as spring-launch-2`}},
		{name: "email", obj: func() sandbox.Object {
			return sandbox.Object{Kind: sandbox.KindEmail, Email: &sandbox.Email{Name: "x"}}
		},
			wantProblems: []string{`email: target "acme-blog" is a WordPress site, which publishes landing pages only; put this email on a mailchimp, hubspot or local target`}},
		{name: "workflow", obj: func() sandbox.Object {
			return sandbox.Object{Kind: sandbox.KindWorkflow, Workflow: &sandbox.Workflow{Name: "x"}}
		}, wantProblems: []string{"put this workflow on a hubspot or local target"}},
		{name: "past publish_at", obj: func() sandbox.Object { o := springPage(); o.Page.PublishAt = &past; return o }, list: []byte("[]"),
			wantProblems: []string{"publish_at 2026-11-26T01:28:42Z is not in the future: WordPress would publish the page at once"}},
		{name: "future publish_at", obj: func() sandbox.Object { o := springPage(); o.Page.PublishAt = &future; return o }, list: []byte("[]"),
			wantNotes: []string{"scheduled in WordPress for 2026-11-28T02:28:42Z", "WP-Cron"}},
		{name: "bad slug", obj: func() sandbox.Object { o := springPage(); o.Page.Slug = "Spring Launch!"; return o },
			wantProblems: []string{`WordPress would rewrite the slug "Spring Launch!"`, `use "spring-launch"`}},
		{name: "numeric slug", obj: func() sandbox.Object { o := springPage(); o.Page.Slug = "2026"; return o },
			wantProblems: []string{`WordPress never gives a page the slug "2026"`}},
		{name: "no slug", obj: func() sandbox.Object { o := springPage(); o.Page.Slug = ""; return o },
			wantProblems: []string{"a WordPress page needs a slug"}},
		{name: "form without form_action", obj: func() sandbox.Object { return withForm }, list: []byte("[]"),
			wantNotes: []string{"the form is left out: WordPress has no forms; set form_action in the target config", "1 personalization token(s) show their fallback text"}},
		{name: "form with form_action", obj: func() sandbox.Object { return withForm }, list: []byte("[]"), formAction: "https://forms.example.com/f/1",
			wantNotes: []string{"the form posts to https://forms.example.com/f/1"}},
	}
	me := fromExchange(ex["users/me (auth check)"])
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			routes := map[string]response{"GET /wp-json/wp/v2/users/me": me}
			if tc.list != nil {
				routes["GET /wp-json/wp/v2/pages"] = response{status: 200, body: tc.list}
			}
			tg, _ := newReplayTarget(t, routes, nil)
			tg.cfg.FormAction = tc.formAction
			a, err := tg.Assess(ctx, tc.obj())
			if err != nil {
				t.Fatal(err)
			}
			check := func(kind string, got, want []string) {
				t.Helper()
				if len(want) == 0 && len(got) > 0 {
					t.Errorf("unexpected %s: %q", kind, got)
				}
				all := strings.Join(got, "\n")
				for _, w := range want {
					if !strings.Contains(all, w) {
						t.Errorf("%s %q\n lack %q", kind, got, w)
					}
				}
			}
			check("problems", a.Problems, tc.wantProblems)
			check("notes", a.Notes, tc.wantNotes)
			if a.AudienceSize != -1 {
				t.Errorf("audience size %d", a.AudienceSize)
			}
		})
	}
}

func TestBuildContent(t *testing.T) {
	form := `<section class="lm-form-section">` + "\n" + `<form class="lm-form" action="#" method="post" data-lastmile-form="not-wired">` + "\n" +
		`<p class="lm-field"><label for="lm-field-email">Email</label><input type="email" id="lm-field-email" name="email"></p>` + "\n" +
		"</form>\n</section>\n"
	tests := []struct {
		name, body, action string
		want, not          []string
		forms, wired       int
	}{
		{name: "plain", body: "<h1>Spring</h1>\n<p>Save <b>30%</b> &amp; more</p>",
			want: []string{"<!-- wp:html -->\n<!-- lastmile:marker lm-pg_1 -->\n<h1>Spring</h1>\n<p>Save <b>30%</b> &amp; more</p>\n<!-- /wp:html -->"}},
		{name: "form left out", body: "<p>Sign up</p>\n" + form, forms: 1,
			want: []string{"<p>Sign up</p>"}, not: []string{"<form", "</form>", "lm-form-section", "<input"}},
		{name: "form wired", body: "<p>Sign up</p>\n" + form, action: "https://hooks.example.com/f?a=1&b=2", forms: 1, wired: 1,
			want: []string{`<form class="lm-form" method="post" action="https://hooks.example.com/f?a=1&amp;b=2">`, `name="email"`},
			not:  []string{"not-wired", `action="#"`}},
		{name: "form that already posts somewhere is kept", body: `<form action="https://x.example/f" method="post"><input name="a"></form>`,
			want: []string{`<form action="https://x.example/f" method="post"><input name="a"></form>`}},
		{name: "tokens", body: `<p>Hi {{ contact.firstname | default: "there & you" }}, {{contact.company}}!</p>`,
			want: []string{"<p>Hi there &amp; you, !</p>"}, not: []string{"{{"}},
		{name: "block delimiters in the body", body: "<!-- wp:paragraph --><p>x</p><!-- /wp:paragraph -->",
			want: []string{"<!-- lm-wp:paragraph --><p>x</p><!-- /lm-wp:paragraph -->\n<!-- /wp:html -->"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := buildContent(&sandbox.Page{Body: tc.body}, "lm-pg_1", tc.action)
			for _, w := range tc.want {
				if !strings.Contains(pc.Raw, w) {
					t.Errorf("content\n%s\nlacks\n%s", pc.Raw, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(pc.Raw, n) {
					t.Errorf("content\n%s\nhas %q", pc.Raw, n)
				}
			}
			if pc.Forms != tc.forms || pc.FormsWired != tc.wired {
				t.Errorf("forms %d wired %d", pc.Forms, pc.FormsWired)
			}
			if !hasMarker(pc.Raw, "lm-pg_1") || hasMarker(pc.Raw, "lm-pg_2") {
				t.Error("marker")
			}
		})
	}
	// The body of a full document when Body is empty.
	pc := buildContent(&sandbox.Page{HTML: "<!DOCTYPE html><html><head><style>x</style></head><body class=a>\n<main>hi</main>\n</body></html>"}, "m", "")
	if !strings.Contains(pc.Raw, "<main>hi</main>") || strings.Contains(pc.Raw, "<style>") {
		t.Errorf("content %q", pc.Raw)
	}
	// Text whose lower-case form has another length must not shift the cut.
	for _, c := range []string{"İ", "Ⱥ"} {
		body := "<h1>İstanbul</h1>\n<p>First.</p>\n<p>Ⱥ second.</p>"
		doc := "<html><head><title>" + strings.Repeat(c, 30) + "</title></head><BODY>\n" + body + "\n</BODY></html>"
		pc := buildContent(&sandbox.Page{HTML: doc}, "m", "")
		if want := markerComment("m") + "\n" + body + "\n" + blockClose; !strings.HasSuffix(pc.Raw, want) {
			t.Errorf("content after %s\n got %q\nwant suffix %q", c, pc.Raw, want)
		}
	}
}

func TestNewAndConnectWithoutServer(t *testing.T) {
	dir := t.TempDir()
	_, err := New("acme-blog", dir, Config{BaseURL: "https://blog.example.com"})
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "run lastmile connect wordpress --name acme-blog") {
		t.Errorf("New without credentials: %v", err)
	}
	if err := secret.Save(dir, "acme-blog", credentials{SiteURL: "https://other.example.com", User: "u", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	_, err = New("acme-blog", dir, Config{BaseURL: "https://blog.example.com"})
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "were made for https://other.example.com") {
		t.Errorf("New with another site's credentials: %v", err)
	}
	tg, err := New("acme-blog", dir, Config{})
	if err != nil || tg.SiteURL() != "https://other.example.com" || tg.apiRoot != "https://other.example.com/wp-json" {
		t.Errorf("New with the stored site: %v", err)
	}
	t.Setenv("LM_WP_EMPTY", "")
	err = Connect(context.Background(), dir, "acme-blog", "https://blog.example.com", "u", "LM_WP_EMPTY")
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "LM_WP_EMPTY is empty or unset") {
		t.Errorf("Connect with an empty variable: %v", err)
	}
	err = Connect(context.Background(), dir, "Acme Blog", "https://blog.example.com", "u", "LM_WP_EMPTY")
	if err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("Connect with a bad name: %v", err)
	}
	err = Connect(context.Background(), dir, "acme-blog", "blog.example.com", "u", "LM_WP_EMPTY")
	if err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("Connect with a bad URL: %v", err)
	}
}

func TestRestRouteStyle(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got == "" {
			got = r.URL.RawQuery // the lookup by slug
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	tg, err := New("acme-blog", t.TempDir(), Config{BaseURL: srv.URL, APIRoot: srv.URL + "/?rest_route="}, WithCredentials("u", testPassword))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.Find(context.Background(), springPage()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "rest_route=/wp/v2/pages&") || !strings.Contains(got, "slug=spring-launch") {
		t.Errorf("query %q", got)
	}
}
