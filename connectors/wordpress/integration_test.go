package wordpress_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/connectors/wordpress/wordpresstest"
	"github.com/lastmile/lastmile/sandbox"
)

// Contract tests against a real WordPress 6.1 on loopback (start.sh). Each
// test uses its own slugs and deletes its pages when it ends.

type env struct {
	srv    *wordpresstest.Server
	prefix string
	logs   *bytes.Buffer
}

func setup(t *testing.T) *env {
	t.Helper()
	srv := wordpresstest.New(t)
	prefix := wordpresstest.UniqueSlug("lmit")
	srv.CleanupSlugPrefix(t, prefix)
	e := &env{srv: srv, prefix: prefix, logs: &bytes.Buffer{}}
	t.Cleanup(func() { e.noSecret(t, e.logs.String()) })
	return e
}

func (e *env) target(t *testing.T, cfg wordpress.Config, opts ...wordpress.Option) *wordpress.Target {
	t.Helper()
	cfg.BaseURL = e.srv.URL
	opts = append([]wordpress.Option{
		wordpress.WithCredentials(e.srv.User, e.srv.Password),
		wordpress.WithLogger(slog.New(slog.NewTextHandler(e.logs, nil))),
	}, opts...)
	tg, err := wordpress.New("it-blog", t.TempDir(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func (e *env) noSecret(t *testing.T, s string) {
	t.Helper()
	if e.srv.Password != "" && (strings.Contains(s, e.srv.Password) || strings.Contains(s, strings.ReplaceAll(e.srv.Password, " ", ""))) {
		t.Fatalf("the application password leaked into: %s", s)
	}
}

var seq atomic.Int64

func (e *env) page(name string) sandbox.Object {
	n := seq.Add(1)
	slug := fmt.Sprintf("%s-%s", e.prefix, name)
	return sandbox.Object{
		Kind: sandbox.KindPage, ArtifactID: fmt.Sprintf("pg_it%d", n), Revision: 1,
		Marker: fmt.Sprintf("lm-pg_%s-%d", strings.ReplaceAll(e.prefix, "-", "_"), n),
		Page: &sandbox.Page{
			Title: "Spring launch " + name, Slug: slug, MetaDescription: "Thirty percent off, one week only",
			Body: "<section>\n<h1>Spring launch</h1>\n<p>Save <strong>30%</strong> this week.</p>\n" +
				`<p><a href="https://example.com/pricing?utm_source=wordpress&amp;utm_campaign=spring">See pricing</a></p>` + "\n</section>\n",
		},
	}
}

func id(t *testing.T, st sandbox.LiveState) int {
	t.Helper()
	n, err := strconv.Atoi(st.ID)
	if err != nil {
		t.Fatalf("live id %q", st.ID)
	}
	return n
}

func TestContractCreate(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("create")

	a, err := tg.Assess(ctx, obj)
	if err != nil || len(a.Problems) > 0 {
		t.Fatalf("assess: %v %v", a.Problems, err)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "draft" || st.URL != e.srv.URL+"/"+obj.Page.Slug+"/" || st.Version == "" {
		t.Errorf("state %+v", st)
	}
	p, ok := e.srv.Page(t, id(t, st))
	if !ok {
		t.Fatal("page not on the site")
	}
	if p.Status != "draft" || p.Slug != obj.Page.Slug || p.Title != obj.Page.Title || p.Excerpt != obj.Page.MetaDescription {
		t.Errorf("page %+v", p)
	}
	for _, w := range []string{"<!-- wp:html -->", "<!-- lastmile:marker " + obj.Marker + " -->", "<p>Save <strong>30%</strong> this week.</p>", "utm_source=wordpress&amp;utm_campaign=spring"} {
		if !strings.Contains(p.Content, w) {
			t.Errorf("content %q lacks %q", p.Content, w)
		}
	}
	live, found, err := tg.Live(ctx, sandbox.KindPage, st.ID)
	if err != nil || !found || live != st {
		t.Errorf("live %+v found %v err %v; put said %+v", live, found, err, st)
	}
	// Planning again sees our own page, not a conflict.
	if a, err := tg.Assess(ctx, obj); err != nil || len(a.Problems) > 0 {
		t.Errorf("assess after create: %v %v", a.Problems, err)
	}
	if got := e.srv.Pages(t, obj.Page.Slug); len(got) != 1 {
		t.Errorf("%d pages with the slug", len(got))
	}
}

func TestContractPublish(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("publish")
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := e.srv.URL + "/" + obj.Page.Slug + "/"
	if pub.Status != "publish" || pub.URL != want || pub.ID != st.ID || pub.Version == st.Version {
		t.Errorf("published %+v (draft was %+v)", pub, st)
	}
	resp, err := http.Get(want)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d", want, resp.StatusCode)
	}
	// Idempotent: again, even with the stale state, changes nothing.
	again, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || again != pub {
		t.Errorf("second publish %+v, %v; first %+v", again, err, pub)
	}
	if got := e.srv.Pages(t, obj.Page.Slug); len(got) != 1 || got[0].Status != "publish" {
		t.Errorf("pages %+v", got)
	}
}

func TestContractSchedule(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("schedule")
	at := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
	obj.Page.PublishAt = &at
	if a, err := tg.Assess(ctx, obj); err != nil || len(a.Problems) > 0 || len(a.Notes) == 0 {
		t.Fatalf("assess: %v %v %v", a.Problems, a.Notes, err)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := tg.Publish(ctx, obj, st, at)
	if err != nil {
		t.Fatal(err)
	}
	if sch.Status != "future" || sch.URL != e.srv.URL+"/"+obj.Page.Slug+"/" {
		t.Errorf("scheduled %+v", sch)
	}
	p, _ := e.srv.Page(t, id(t, sch))
	if p.Status != "future" || p.DateGMT != at.Format("2006-01-02T15:04:05") {
		t.Errorf("page %+v, want future at %s", p, at)
	}
	again, err := tg.Publish(ctx, obj, st, at)
	if err != nil || again != sch {
		t.Errorf("second schedule %+v, %v; first %+v", again, err, sch)
	}
	// Moved: scheduled anew.
	later := at.Add(24 * time.Hour)
	moved, err := tg.Publish(ctx, obj, sch, later)
	if err != nil || moved.Status != "future" {
		t.Fatalf("reschedule %+v %v", moved, err)
	}
	if p, _ := e.srv.Page(t, id(t, sch)); p.DateGMT != later.Format("2006-01-02T15:04:05") {
		t.Errorf("rescheduled page date %s, want %s", p.DateGMT, later)
	}
	// Publishing now a scheduled page publishes it now (WordPress would
	// otherwise keep it scheduled because of its future date).
	now, err := tg.Publish(ctx, obj, moved, time.Time{})
	if err != nil || now.Status != "publish" {
		t.Errorf("publish now %+v %v", now, err)
	}
}

func TestContractSchedulePast(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("past")
	past := time.Now().Add(-2 * time.Hour)
	obj.Page.PublishAt = &past
	a, err := tg.Assess(ctx, obj)
	if err != nil || len(a.Problems) != 1 || !strings.Contains(a.Problems[0], "is not in the future") {
		t.Fatalf("assess: %q %v", a.Problems, err)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(ctx, obj, st, past)
	if err == nil || !strings.Contains(err.Error(), "has passed") {
		t.Fatalf("publish at a past time: %v", err)
	}
	if p, _ := e.srv.Page(t, id(t, st)); p.Status != "draft" {
		t.Errorf("page is %s, want it left a draft", p.Status)
	}
}

func TestContractUpdate(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("update")
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	obj.Revision = 2
	obj.Page.Title = "Spring launch, extended"
	obj.Page.Body = "<p>Extended to two weeks.</p>"
	obj.Page.MetaDescription = "Two weeks"
	up, err := tg.Put(ctx, obj, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != st.ID || up.Status != "publish" || up.Version == pub.Version {
		t.Errorf("updated %+v, published %+v", up, pub)
	}
	p, _ := e.srv.Page(t, id(t, up))
	if p.Title != "Spring launch, extended" || !strings.Contains(p.Content, "Extended to two weeks.") ||
		strings.Contains(p.Content, "30%") || !strings.Contains(p.Content, obj.Marker) || p.Excerpt != "Two weeks" {
		t.Errorf("page %+v", p)
	}
	// A change made in WordPress shows as a new version (drift).
	e.srv.UpdatePage(t, id(t, up), map[string]any{"title": "Edited by hand"})
	live, _, err := tg.Live(ctx, sandbox.KindPage, up.ID)
	if err != nil || live.Version == up.Version {
		t.Errorf("version after a hand edit %q, before %q (%v)", live.Version, up.Version, err)
	}
	if got := e.srv.Pages(t, obj.Page.Slug); len(got) != 1 {
		t.Errorf("%d pages with the slug", len(got))
	}
}

func TestContractDuplicateSlug(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("taken")
	foreign := e.srv.CreatePage(t, map[string]any{"title": "Not lastmile's", "slug": obj.Page.Slug, "status": "publish", "content": "<p>theirs</p>"})

	a, err := tg.Assess(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0], fmt.Sprintf("is taken by WordPress page %d", foreign.ID)) {
		t.Errorf("problems %q", a.Problems)
	}
	// Find never adopts a page lastmile did not create.
	if st, found, err := tg.Find(ctx, obj); err != nil || found {
		t.Errorf("find adopted %+v (%v)", st, err)
	}
	// Should promotion go ahead anyway: WordPress creates the draft as
	// slug-2 (the REST API makes even drafts unique), which is a conflict;
	// the draft is found again by its marker and publishing refuses too.
	_, err = tg.Put(ctx, obj, "")
	if !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), fmt.Sprintf("is held by page %d", foreign.ID)) {
		t.Fatalf("create: %v", err)
	}
	st, found, err := tg.Find(ctx, obj)
	if err != nil || !found {
		t.Fatalf("find the draft: %v %v", found, err)
	}
	_, err = tg.Publish(ctx, obj, st, time.Time{})
	if !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), fmt.Sprintf("taken by WordPress page %d", foreign.ID)) {
		t.Fatalf("publish: %v", err)
	}
	if p, _ := e.srv.Page(t, id(t, st)); p.Status != "draft" {
		t.Errorf("our page %+v", p)
	}
	// Once the slug is free, publishing takes it.
	e.srv.DeletePage(t, foreign.ID)
	pub, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || pub.URL != e.srv.URL+"/"+obj.Page.Slug+"/" {
		t.Fatalf("publish after the slug was freed: %+v %v", pub, err)
	}
	// An update to a slug another page holds is refused before writing.
	other := e.page("other")
	st2, err := tg.Put(ctx, other, "")
	if err != nil {
		t.Fatal(err)
	}
	other.Page.Slug = obj.Page.Slug
	if _, err := tg.Put(ctx, other, st2.ID); !errors.Is(err, sandbox.ErrConflict) {
		t.Errorf("update onto a taken slug: %v", err)
	}
}

// The slug is taken between the check and the publish (another editor, a
// media item): WordPress suffixes it; the connector reports a conflict and
// puts the page back to draft rather than leave it live at slug-2.
func TestContractDuplicateSlugRace(t *testing.T) {
	e := setup(t)
	obj := e.page("race")
	ctx := context.Background()
	// Our draft would reserve the slug, so let it be created while another
	// page holds it (it becomes slug-2), then free the slug.
	holder := e.srv.CreatePage(t, map[string]any{"title": "Holder", "slug": obj.Page.Slug, "status": "draft"})
	var sneak atomic.Bool
	rt := roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost && strings.Contains(req.URL.Path, "/wp/v2/pages/") && sneak.Swap(false) {
			e.srv.CreatePage(t, map[string]any{"title": "Sneaked in", "slug": obj.Page.Slug, "status": "publish"})
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	tg := e.target(t, wordpress.Config{}, wordpress.WithHTTPClient(&http.Client{Transport: rt}))
	st, err := tg.Put(ctx, obj, "")
	if !errors.Is(err, sandbox.ErrConflict) {
		t.Fatalf("create: %v", err)
	}
	e.srv.DeletePage(t, holder.ID)
	sneak.Store(true)
	_, err = tg.Publish(ctx, obj, st, time.Time{})
	if !errors.Is(err, sandbox.ErrConflict) || !strings.Contains(err.Error(), "put it back to draft") {
		t.Fatalf("publish: %v", err)
	}
	if p, _ := e.srv.Page(t, id(t, st)); p.Status != "draft" {
		t.Errorf("our page is %s at %q, want a draft", p.Status, p.Slug)
	}
}

func TestContractBadPassword(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	wrong := "wXyZ 0000 1111 2222 3333 4444"
	tg := e.target(t, wordpress.Config{}, wordpress.WithCredentials(e.srv.User, wrong))
	obj := e.page("badpw")
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, sandbox.ErrAuth) {
			t.Fatalf("%s: want ErrAuth, got %v", what, err)
		}
		want := "WordPress rejected the application password for user " + e.srv.User + ": create a new one under Users → Profile → Application Passwords and run lastmile connect wordpress --name it-blog again"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q lacks %q", what, err, want)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: the password leaked: %q", what, err)
		}
	}
	_, err := tg.Put(ctx, obj, "")
	check("create", err)
	_, err = tg.Assess(ctx, obj)
	check("assess", err)
	t.Setenv("LM_IT_WP_PASSWORD", wrong)
	err = wordpress.Connect(ctx, t.TempDir(), "it-blog", e.srv.URL, e.srv.User, "LM_IT_WP_PASSWORD", wordpress.WithPrompt(io.Discard))
	check("connect", err)
	if got := e.srv.Pages(t, obj.Page.Slug); len(got) != 0 {
		t.Errorf("a page was created: %+v", got)
	}
}

func TestContractConnect(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("LM_IT_WP_PASSWORD", e.srv.Password)
	var out bytes.Buffer
	if err := wordpress.Connect(ctx, dir, "it-blog", e.srv.URL+"/", e.srv.User, "LM_IT_WP_PASSWORD", wordpress.WithPrompt(&out)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `Connected target "it-blog" to `+e.srv.URL) {
		t.Errorf("output %q", out.String())
	}
	e.noSecret(t, out.String())
	// The stored credentials work with an empty config.
	tg, err := wordpress.New("it-blog", dir, wordpress.Config{})
	if err != nil {
		t.Fatal(err)
	}
	obj := e.page("connect")
	if _, err := tg.Put(ctx, obj, ""); err != nil {
		t.Fatal(err)
	}
}

func TestContractBadRequest(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{Template: "no-such-template.php"})
	_, err := tg.Put(context.Background(), e.page("badreq"), "")
	if err == nil || !strings.Contains(err.Error(), "WordPress refused the request: invalid template: ") {
		t.Fatalf("err %v", err)
	}
	var we *rest.Error
	if !errors.As(err, &we) || we.Status != 400 || we.Code != "rest_invalid_param" {
		t.Errorf("error details %+v", we)
	}
}

func TestContractUnknownID(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("unknown")
	if _, found, err := tg.Live(ctx, sandbox.KindPage, "987654321"); err != nil || found {
		t.Errorf("live: found %v err %v", found, err)
	}
	_, err := tg.Put(ctx, obj, "987654321")
	if err == nil || !strings.Contains(err.Error(), "the page does not exist on "+e.srv.URL) {
		t.Errorf("update: %v", err)
	}
	_, err = tg.Publish(ctx, obj, sandbox.LiveState{ID: "987654321"}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("publish: %v", err)
	}
	// A page in the trash is gone too.
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Do(t, http.MethodDelete, "/wp/v2/pages/"+st.ID, nil)
	if _, found, err := tg.Live(ctx, sandbox.KindPage, st.ID); err != nil || found {
		t.Errorf("live of a trashed page: found %v err %v", found, err)
	}
	e.srv.DeletePage(t, id(t, st))
}

// The create reached WordPress but its answer was lost.
func TestContractFindAfterInterruptedCreate(t *testing.T) {
	e := setup(t)
	ctx := context.Background()

	// lossy is an API root behind a proxy that passes creates to WordPress
	// and then loses the answer; with failLookups it also drops the lookups,
	// so Put cannot reconcile at once.
	lossy := func(failLookups bool) string {
		p := wordpresstest.NewProxy(t, e.srv.URL)
		p.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.DropAfterApply, Times: -1})
		if failLookups {
			p.Inject(faketest.Fault{Op: "pages.list", Kind: faketest.DropBeforeApply, Times: -1})
		}
		return p.URL + "/wp-json"
	}

	t.Run("Put reconciles by itself", func(t *testing.T) {
		obj := e.page("lost-answer")
		tg := e.target(t, wordpress.Config{APIRoot: lossy(false)})
		st, err := tg.Put(ctx, obj, "")
		if err != nil {
			t.Fatal(err)
		}
		got := e.srv.Pages(t, obj.Page.Slug)
		if len(got) != 1 || strconv.Itoa(got[0].ID) != st.ID {
			t.Fatalf("pages %+v, state %+v", got, st)
		}
	})

	t.Run("Find after a crash", func(t *testing.T) {
		obj := e.page("crash")
		tg := e.target(t, wordpress.Config{APIRoot: lossy(true)}, wordpress.WithSleep(func(context.Context, time.Duration) error { return nil }))
		_, err := tg.Put(ctx, obj, "")
		if !errors.Is(err, rest.ErrAmbiguous) {
			t.Fatalf("want an ambiguous failure, got %v", err)
		}
		// The promoter resumes with a healthy connection: Find first.
		fresh := e.target(t, wordpress.Config{})
		st, found, err := fresh.Find(ctx, obj)
		if err != nil || !found {
			t.Fatalf("find: found %v err %v", found, err)
		}
		if _, err := fresh.Publish(ctx, obj, st, time.Time{}); err != nil {
			t.Fatal(err)
		}
		got := e.srv.Pages(t, obj.Page.Slug)
		if len(got) != 1 || got[0].Status != "publish" {
			t.Fatalf("pages %+v", got)
		}
		// Found after its slug changed too (by the marker in the content).
		e.srv.UpdatePage(t, got[0].ID, map[string]any{"slug": obj.Page.Slug + "-renamed"})
		st2, found, err := fresh.Find(ctx, obj)
		if err != nil || !found || st2.ID != st.ID {
			t.Errorf("find after rename: %+v %v %v", st2, found, err)
		}
	})
}

func TestContractForms(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	obj := e.page("form")
	obj.Page.Body += `<section class="lm-form-section">` + "\n" +
		`<form class="lm-form" action="#" method="post" data-lastmile-form="not-wired"><p class="lm-field"><label for="lm-field-email">Email</label><input type="email" id="lm-field-email" name="email" required></p>` +
		`<p><button type="submit" class="lm-button">Join</button></p></form>` + "\n</section>\n"
	for _, action := range []string{"", "https://forms.example.com/submit/spring"} {
		tg := e.target(t, wordpress.Config{FormAction: action})
		o := obj
		o.Marker += strconv.Itoa(len(action))
		p := *obj.Page
		p.Slug += strconv.Itoa(len(action))
		o.Page = &p
		st, err := tg.Put(ctx, o, "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.srv.Page(t, id(t, st))
		switch action {
		case "":
			if strings.Contains(got.Content, "<form") {
				t.Errorf("form kept without form_action: %s", got.Content)
			}
		default:
			if !strings.Contains(got.Content, `action="`+action+`"`) || strings.Contains(got.Content, "not-wired") {
				t.Errorf("form not wired: %s", got.Content)
			}
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
