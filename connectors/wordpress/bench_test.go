package wordpress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/connectors/wordpress/wordpresstest"
	"github.com/lastmile/lastmile/sandbox"
)

// BenchmarkPublish50 publishes 50 pages (create + publish) to the real
// WordPress, through the connector and, in the same run, through 50
// sequential curl processes doing the same, and reports pages per second.
//
//	eval "$(connectors/wordpress/wordpresstest/start.sh)"
//	go test -run '^$' -bench Publish50 -benchtime 3x ./connectors/wordpress/
//
// Pages are deleted after each iteration, outside the timer.
func BenchmarkPublish50(b *testing.B) {
	const pages = 50
	srv := wordpresstest.New(b)
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl not installed")
	}
	// The credentials reach curl through a 0600 config file, never argv.
	cfg := filepath.Join(b.TempDir(), "curl.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("user = \"%s:%s\"\n", srv.User, srv.Password)), 0o600); err != nil {
		b.Fatal(err)
	}
	body := "<section>\n<h1>Spring launch</h1>\n<p>Save <strong>30%</strong> this week.</p>\n" +
		`<p><a href="https://example.com/pricing?utm_source=wordpress&amp;utm_campaign=spring">See pricing</a></p>` + "\n</section>\n"
	obj := func(prefix string, i int) sandbox.Object {
		return sandbox.Object{Kind: sandbox.KindPage, ArtifactID: fmt.Sprintf("pg_b%d", i), Revision: 1,
			Marker: fmt.Sprintf("lm-pg_%s_%d", prefix, i),
			Page:   &sandbox.Page{Title: fmt.Sprintf("Bench page %d", i), Slug: fmt.Sprintf("%s-%d", prefix, i), Body: body, MetaDescription: "Bench"}}
	}
	var ids []int
	var idsMu sync.Mutex
	keep := func(id int) {
		idsMu.Lock()
		ids = append(ids, id)
		idsMu.Unlock()
	}
	cleanup := func(b *testing.B) {
		b.StopTimer()
		for _, id := range ids {
			srv.DeletePage(b, id)
		}
		ids = ids[:0]
		b.StartTimer()
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
	}

	connector := func(workers int) func(b *testing.B) {
		return func(b *testing.B) {
			tg, err := wordpress.New("bench", b.TempDir(), wordpress.Config{BaseURL: srv.URL, MaxConcurrency: workers},
				wordpress.WithCredentials(srv.User, srv.Password))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				prefix := wordpresstest.UniqueSlug("lmbench")
				var wg sync.WaitGroup
				work := make(chan int)
				errs := make(chan error, pages)
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range work {
							o := obj(prefix, i)
							st, err := tg.Put(ctx, o, "")
							if err != nil {
								errs <- err
								continue
							}
							id, _ := strconv.Atoi(st.ID)
							keep(id)
							if _, err := tg.Publish(ctx, o, st, time.Time{}); err != nil {
								errs <- err
							}
						}
					}()
				}
				for i := 0; i < pages; i++ {
					work <- i
				}
				close(work)
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				cleanup(b)
			}
			report(b)
		}
	}

	// curlPOST runs one curl process: POST JSON to a REST route, return the page id.
	curlPOST := func(b *testing.B, route string, payload map[string]any, want int) int {
		data, _ := json.Marshal(payload)
		cmd := exec.Command(curl, "-sS", "-K", cfg, "-X", "POST", "-H", "Content-Type: application/json",
			"--data-binary", "@-", "-w", "\n%{http_code}", srv.URL+"/wp-json"+route)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("curl: %v", err)
		}
		i := bytes.LastIndexByte(out, '\n')
		if code, _ := strconv.Atoi(string(out[i+1:])); code != want {
			b.Fatalf("curl: HTTP %s: %.200s", out[i+1:], out[:i])
		}
		var p struct {
			ID int `json:"id"`
		}
		if err := json.Unmarshal(out[:i], &p); err != nil || p.ID == 0 {
			b.Fatalf("curl: %v: %.200s", err, out[:i])
		}
		return p.ID
	}
	curlOneCall := func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			prefix := wordpresstest.UniqueSlug("lmbench")
			for i := 0; i < pages; i++ {
				o := obj(prefix, i)
				keep(curlPOST(b, "/wp/v2/pages", map[string]any{"title": o.Page.Title, "slug": o.Page.Slug, "content": body,
					"excerpt": o.Page.MetaDescription, "status": "publish"}, 201))
			}
			cleanup(b)
		}
		report(b)
	}
	curlTwoCalls := func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			prefix := wordpresstest.UniqueSlug("lmbench")
			for i := 0; i < pages; i++ {
				o := obj(prefix, i)
				id := curlPOST(b, "/wp/v2/pages", map[string]any{"title": o.Page.Title, "slug": o.Page.Slug, "content": body,
					"excerpt": o.Page.MetaDescription, "status": "draft"}, 201)
				keep(id)
				curlPOST(b, "/wp/v2/pages/"+strconv.Itoa(id), map[string]any{"status": "publish"}, 200)
			}
			cleanup(b)
		}
		report(b)
	}

	b.Run("curl-sequential-1-request-per-page", curlOneCall)
	b.Run("curl-sequential-2-requests-per-page", curlTwoCalls)
	b.Run("connector-sequential", connector(1))
	b.Run("connector-4-concurrent", connector(4))
}
