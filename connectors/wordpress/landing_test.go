package wordpress_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/connectors/wordpress/wordpresstest"
	"github.com/lastmile/lastmile/sandbox"
)

// Exactly-once against a real WordPress when a page create is still in
// flight as the promoter goes away.

// WordPress offers no uniqueness that would stop a second create: the slug
// is not unique, WordPress suffixes it. The connector copes: a create that
// comes back as slug-2 while a page carrying its own marker holds the slug
// is an earlier attempt that landed, and the second draft is deleted.
func TestContractSlugIsNotUnique(t *testing.T) {
	e := setup(t)
	slug := e.prefix + "-twice"
	a := e.srv.CreatePage(t, map[string]any{"title": "A", "slug": slug, "status": "draft"})
	b := e.srv.CreatePage(t, map[string]any{"title": "B", "slug": slug, "status": "draft"})
	if a.Slug != slug || b.Slug != slug+"-2" || a.ID == b.ID {
		t.Fatalf("two creates with one slug: %q (%d) and %q (%d); WordPress was expected to suffix the second, not refuse it", a.Slug, a.ID, b.Slug, b.ID)
	}
	e.srv.DeletePage(t, a.ID)
	e.srv.DeletePage(t, b.ID)

	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("again")
	first, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	// A resume that did not see the first page creates again.
	second, err := tg.Put(ctx, obj, "")
	if err != nil || second.ID != first.ID {
		t.Fatalf("second create: %+v %v; want the first page (%s) adopted", second, err, first.ID)
	}
	if got := e.srv.PagesContaining(t, obj.Marker); len(got) != 1 || got[0].Slug != obj.Page.Slug {
		t.Fatalf("pages carrying the marker: %+v", got)
	}
	if !strings.Contains(e.logs.String(), "deleted the second draft") {
		t.Errorf("the adoption was not logged: %s", e.logs.String())
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

const (
	envWPKillAPI    = "LASTMILE_WP_KILL_API"
	envWPKillSlug   = "LASTMILE_WP_KILL_SLUG"
	envWPKillMarker = "LASTMILE_WP_KILL_MARKER"
)

func killPage(slug, marker string) sandbox.Object {
	return sandbox.Object{Kind: sandbox.KindPage, ArtifactID: strings.TrimPrefix(marker, sandbox.MarkerPrefix), Revision: 1, Marker: marker,
		Page: &sandbox.Page{Title: "Spring launch", Slug: slug, Body: "<section><h1>Spring launch</h1><p>Save 30% this week.</p></section>"}}
}

// TestHelperWPCreate is the promoting child of TestContractCreateInFlight:
// it creates one page through the proxy that holds it and is killed while
// WordPress has not seen the create yet.
func TestHelperWPCreate(t *testing.T) {
	api := os.Getenv(envWPKillAPI)
	if api == "" {
		t.Skip("runs only as TestContractCreateInFlight's child")
	}
	srv, _ := wordpresstest.FromEnv()
	tg, err := wordpress.New("it-blog", t.TempDir(), wordpress.Config{BaseURL: srv.URL, APIRoot: api},
		wordpress.WithCredentials(srv.User, srv.Password), wordpress.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), killPage(os.Getenv(envWPKillSlug), os.Getenv(envWPKillMarker)), "")
	t.Fatalf("the child should have been killed during the create; Put returned %v", err)
}

// The promoter is killed (SIGKILL of a child process) or cancelled while a
// page create is held on its way to WordPress; WordPress makes the page
// after the promoter has gone. Then it resumes:
//   - "wait": as the sandbox does with Landing: wait LandWithin, Find, and
//     update what was found;
//   - "at-once": Find at once (nothing yet), create again, then the late
//     page lands as slug-2; Marked lists both and Discard removes the one
//     no artifact is bound to (a draft), and refuses the published one;
//   - "late-first": Find at once, the late page lands, then the second
//     create comes back as slug-2 and Put deletes it and adopts the first.
//
// Each ends with exactly one page for the artifact, at its slug.
func TestContractCreateInFlight(t *testing.T) {
	if os.Getenv(envWPKillAPI) != "" {
		t.Skip("child")
	}
	for _, how := range []string{"cancel", "kill"} {
		for _, resume := range []string{"wait", "at-once", "late-first"} {
			t.Run(how+"-"+resume, func(t *testing.T) {
				e := setup(t)
				site := e.srv.URL
				// The first page create is held on its way to WordPress,
				// which makes the page whether or not the client still waits.
				proxy := wordpresstest.NewProxy(t, site)
				proxy.Inject(faketest.Fault{Op: "pages.create", Kind: faketest.SlowApply, Delay: 700 * time.Millisecond})
				api := proxy.URL + "/wp-json"
				const timeout = 1500 * time.Millisecond
				tg := e.target(t, wordpress.Config{APIRoot: api}, wordpress.WithHTTPClient(&http.Client{Timeout: timeout}))
				if got := tg.LandWithin(sandbox.KindPage); got != timeout {
					t.Fatalf("LandWithin = %v, want the request timeout %v", got, timeout)
				}
				n := seq.Add(1)
				slug := fmt.Sprintf("%s-inflight", e.prefix)
				marker := fmt.Sprintf("lm-pg_%s_%d", strings.ReplaceAll(e.prefix, "-", "_"), n)
				obj := killPage(slug, marker)
				ctx := context.Background()

				switch how {
				case "cancel":
					cctx, cancel := context.WithCancel(ctx)
					go func() {
						for proxy.Applying() == 0 && cctx.Err() == nil {
							time.Sleep(time.Millisecond)
						}
						cancel()
					}()
					if _, err := tg.Put(cctx, obj, ""); err == nil {
						t.Fatal("the cancelled create succeeded")
					}
					cancel()
				case "kill":
					cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWPCreate$", "-test.count=1")
					cmd.Env = append(os.Environ(), envWPKillAPI+"="+api, envWPKillSlug+"="+slug, envWPKillMarker+"="+marker)
					var out bytes.Buffer
					cmd.Stdout, cmd.Stderr = &out, &out
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					waitUntil(t, "the child's create to be in flight", func() bool { return proxy.Applying() > 0 })
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					_ = cmd.Wait()
				}
				if proxy.Applied() != 0 {
					t.Fatal("the create landed before the promoter was gone; the test proves nothing")
				}

				var live sandbox.LiveState
				switch resume {
				case "wait":
					time.Sleep(tg.LandWithin(sandbox.KindPage))
					st, found, err := tg.Find(ctx, obj)
					if err != nil || !found {
						t.Fatalf("find after waiting out LandWithin: %v %v", found, err)
					}
					if live, err = tg.Put(ctx, obj, st.ID); err != nil {
						t.Fatal(err)
					}
				case "at-once", "late-first":
					if _, found, err := tg.Find(ctx, obj); err != nil || found {
						t.Fatalf("find at once: found %v, %v; the late create should not be visible yet", found, err)
					}
					if resume == "late-first" {
						waitUntil(t, "the late create", func() bool { return proxy.Applied() == 1 })
					}
					var err error
					if live, err = tg.Put(ctx, obj, ""); err != nil {
						t.Fatal(err)
					}
				}
				waitUntil(t, "the late create", func() bool { return proxy.Applied() == 1 })
				if _, err := tg.Publish(ctx, obj, live, time.Time{}); err != nil {
					t.Fatal(err)
				}

				if resume == "at-once" {
					if got := e.srv.PagesContaining(t, marker); len(got) != 2 {
						t.Fatalf("%d pages carry the marker; the late create should have made a second (slug-2)", len(got))
					}
					marked, err := tg.Marked(ctx, sandbox.KindPage)
					if err != nil {
						t.Fatal(err)
					}
					mine := 0
					for _, m := range marked {
						if m.ArtifactID != obj.ArtifactID {
							continue
						}
						mine++
						err := tg.Discard(ctx, m)
						switch {
						case m.LiveID == live.ID:
							if !m.Reached || !errors.Is(err, sandbox.ErrReachedPeople) {
								t.Errorf("discard of the published page: reached %v, %v", m.Reached, err)
							}
						case m.Reached || err != nil:
							t.Errorf("discard of the stray draft %+v: %v", m, err)
						}
					}
					if mine != 2 {
						t.Errorf("Marked listed %d pages of the artifact, want 2", mine)
					}
				}
				got := e.srv.PagesContaining(t, marker)
				if len(got) != 1 || strconv.Itoa(got[0].ID) != live.ID || got[0].Slug != slug || got[0].Status != "publish" {
					t.Fatalf("pages carrying the marker: %+v; want exactly page %s, published at %q", got, live.ID, slug)
				}
			})
		}
	}
}
