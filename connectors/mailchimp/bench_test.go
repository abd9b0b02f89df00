package mailchimp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

const benchLatency = 50 * time.Millisecond

// BenchmarkPromote100 promotes 100 artifacts — 25 static segments, then 75
// emails (each: create the campaign, set its content, read its status, run
// the send checklist, schedule it) — into a fake that answers every request
// after 50 ms and refuses an 11th simultaneous one. The steps run the way a
// concurrent promotion engine runs them: segments first (emails depend on
// them), then the emails, by a pool of workers. The floor is requests ×
// 50 ms ÷ 10 connections; x_floor is the measured time over the floor.
func BenchmarkPromote100(b *testing.B) {
	for _, workers := range []int{10, 100} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var elapsed time.Duration
			var requests, tooMany int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv, tgt := benchTarget(b)
				segs, emails := benchArtifacts()
				b.StartTimer()
				start := time.Now()
				promote(b, tgt, segs, emails, workers)
				d := time.Since(start)
				b.StopTimer()
				st := srv.Stats()
				elapsed += d
				requests += st.Requests
				tooMany += st.TooManyRequests
				if n := len(srv.Campaigns()); n != len(emails) {
					b.Fatalf("%d campaigns", n)
				}
				srv.Close()
				b.StartTimer()
			}
			floor := time.Duration(requests) * benchLatency / mailchimp.MaxConnections
			b.ReportMetric(float64(elapsed)/float64(floor), "x_floor")
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			b.ReportMetric(float64(floor.Milliseconds())/float64(b.N), "floor_ms/op")
			b.ReportMetric(float64(tooMany)/float64(b.N), "429s/op")
		})
	}
}

// BenchmarkRawBaseline sends 400 plain GET /ping requests through 10
// workers with a bare http.Client against the same fake: the best this
// machine does at the moment, to tell the connector's overhead from the
// machine's (other processes competing for the CPU delay every wake-up).
func BenchmarkRawBaseline(b *testing.B) {
	const requests = 400
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := mailchimptest.Start(mailchimptest.WithLatency(benchLatency))
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = mailchimp.MaxConnections
		hc := &http.Client{Transport: tr}
		work := make(chan struct{})
		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for range mailchimp.MaxConnections {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					req, _ := http.NewRequest(http.MethodGet, srv.BaseURL()+"/ping", nil)
					req.SetBasicAuth("x", srv.APIKey())
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		for range requests {
			work <- struct{}{}
		}
		close(work)
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
	floor := time.Duration(requests*b.N) * benchLatency / mailchimp.MaxConnections
	b.ReportMetric(float64(elapsed)/float64(floor), "x_floor")
}

func benchTarget(b *testing.B) (*mailchimptest.Server, *mailchimp.Target) {
	srv := mailchimptest.Start(mailchimptest.WithLatency(benchLatency))
	dir := b.TempDir()
	os.Setenv("LASTMILE_BENCH_MC_KEY", srv.APIKey())
	defer os.Unsetenv("LASTMILE_BENCH_MC_KEY")
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", "LASTMILE_BENCH_MC_KEY", mailchimp.WithBaseURL(srv.BaseURL())); err != nil {
		b.Fatal(err)
	}
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: srv.ListID(), BaseURL: srv.BaseURL()})
	if err != nil {
		b.Fatal(err)
	}
	srv.ResetStats()
	return srv, tgt
}

func benchArtifacts() (segs, emails []sandbox.Object) {
	defs := map[string]*sandbox.Segment{}
	for i := range 25 {
		id := fmt.Sprintf("seg_%02d", i)
		o := segmentObj(id, "Segment "+id, sandbox.Segment{StaticEmails: []string{
			fmt.Sprintf("member%02d@example.com", 2*i+1), fmt.Sprintf("member%02d@example.com", 2*i+2)}})
		defs[id] = o.Segment
		segs = append(segs, o)
	}
	at := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour).Add(7 * time.Minute)
	for i := range 75 {
		seg := fmt.Sprintf("seg_%02d", i%25)
		o := emailObj(fmt.Sprintf("eml_%02d", i), func(m *sandbox.Email) {
			m.Audience.Include = []string{seg}
			m.SendAt = &at
		})
		o.Segments = defs
		emails = append(emails, o)
	}
	return segs, emails
}

// promote runs the steps with a pool of workers, segments before emails.
func promote(b *testing.B, tgt *mailchimp.Target, segs, emails []sandbox.Object, workers int) {
	ctx := context.Background()
	refs := map[string]string{}
	var mu sync.Mutex
	run := func(objs []sandbox.Object, step func(sandbox.Object) error) {
		work := make(chan sandbox.Object)
		var wg sync.WaitGroup
		for range min(workers, len(objs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for o := range work {
					if err := step(o); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, o := range objs {
			work <- o
		}
		close(work)
		wg.Wait()
	}
	run(segs, func(o sandbox.Object) error {
		st, err := tgt.Put(ctx, o, "")
		if err == nil {
			mu.Lock()
			refs[o.ArtifactID] = st.ID
			mu.Unlock()
		}
		return err
	})
	run(emails, func(o sandbox.Object) error {
		mu.Lock()
		o.Refs = map[string]string{o.Email.Audience.Include[0]: refs[o.Email.Audience.Include[0]]}
		mu.Unlock()
		st, err := tgt.Put(ctx, o, "")
		if err != nil {
			return err
		}
		_, err = tgt.Send(ctx, o, st, *o.Email.SendAt)
		return err
	})
}
