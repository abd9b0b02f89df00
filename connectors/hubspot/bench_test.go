package hubspot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// The benchmarks run against the fake with HubSpot's 100-requests-per-10-
// seconds limit scaled down tenfold in time: 100 requests per rolling
// 1-second window, on both sides (the fake enforces it; the connector learns
// it from X-HubSpot-RateLimit-Interval-Milliseconds). The floor is
// requests ÷ allowed rate = requests × 10 ms. See docs/bench-hubspot.md.

const (
	benchLimit  = 100
	benchWindow = time.Second
)

func benchTarget(b *testing.B, latency time.Duration) (*hubspottest.Server, *Target) {
	b.Helper()
	srv := hubspottest.New(b, hubspottest.Options{RateLimit: benchLimit, Window: benchWindow, Latency: latency})
	dir := b.TempDir()
	b.Setenv("LASTMILE_BENCH_HUBSPOT_TOKEN", srv.PrivateAppToken())
	limits := NewLimits() // the probe's requests count in the portal's window too
	if _, err := ConnectPrivateApp(context.Background(), dir, "hubspot", "LASTMILE_BENCH_HUBSPOT_TOKEN", WithBaseURL(srv.URL), WithLimits(limits)); err != nil {
		b.Fatal(err)
	}
	tgt, err := New("hubspot", dir, Config{RateLimit: benchLimit}, WithRateWindow(benchWindow), WithLimits(limits),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(benchWindow + 50*time.Millisecond) // the connect probe's requests leave the window
	srv.ResetStats()
	return srv, tgt
}

// benchCampaign is 100 artifacts: 25 segments, 25 emails (15 sent to a
// segment, 10 automated for the workflows), 25 landing pages (published) and
// 25 workflows (turned on, each sending an automated email).
func benchCampaign() (segs, emails, pages, flows []sandbox.Object) {
	for i := range 25 {
		segs = append(segs, segmentObj(fmt.Sprintf("seg_%02d", i), fmt.Sprintf("Segment %d", i), sandbox.Segment{Group: sandbox.Group{
			Match: "any", Conditions: []sandbox.Condition{cond("country", "eq", "DE"), cond("hs_analytics_num_visits", "gte", float64(i))}}}))
		pages = append(pages, pageObj(fmt.Sprintf("pg_%02d", i), fmt.Sprintf("Page %d", i), fmt.Sprintf("page-%d", i)))
	}
	for i := range 15 {
		emails = append(emails, emailObj(fmt.Sprintf("eml_b%02d", i), fmt.Sprintf("Batch %d", i), []string{fmt.Sprintf("seg_%02d", i)}, map[string]string{}))
	}
	for i := range 10 {
		emails = append(emails, emailObj(fmt.Sprintf("eml_a%02d", i), fmt.Sprintf("Auto %d", i), nil, map[string]string{}))
	}
	for i := range 25 {
		flows = append(flows, flowObj(fmt.Sprintf("wf_%02d", i), fmt.Sprintf("Flow %d", i), sandbox.Workflow{
			Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: fmt.Sprintf("seg_%02d", i)},
			Steps: []sandbox.Step{{ID: "s1", Type: "send_email", EmailID: fmt.Sprintf("eml_a%02d", i%10), Next: "s2"},
				{ID: "s2", Type: "wait", Duration: "1d"}},
			Activate: true,
		}, map[string]string{}, nil))
	}
	return
}

// promoteAll runs the Target calls of a promotion in the engine's order:
// Put every object (segments, then emails, pages, workflows), then send the
// emails, publish the pages and turn the workflows on. Within each of these
// phases nothing depends on anything else, so up to workers calls run at
// once (workers = 1 is a strictly sequential promoter).
func promoteAll(ctx context.Context, tgt *Target, workers int) error {
	segs, emails, pages, flows := benchCampaign()
	var mu sync.Mutex
	live := map[string]sandbox.LiveState{}
	get := func(id string) sandbox.LiveState {
		mu.Lock()
		defer mu.Unlock()
		return live[id]
	}
	phase := func(objs []sandbox.Object, f func(o sandbox.Object) (sandbox.LiveState, error)) error {
		ids := make([]string, len(objs))
		byID := map[string]sandbox.Object{}
		for i, o := range objs {
			ids[i] = o.ArtifactID
			byID[o.ArtifactID] = o
		}
		return parallel(ctx, ids, workers, func(ctx context.Context, id string) error {
			st, err := f(byID[id])
			if err != nil {
				return err
			}
			mu.Lock()
			live[id] = st
			mu.Unlock()
			return nil
		})
	}
	put := func(o sandbox.Object) (sandbox.LiveState, error) {
		for id := range o.Refs {
			o.Refs[id] = get(id).ID
		}
		return tgt.Put(ctx, o, "")
	}
	for i := range emails {
		for _, id := range emails[i].Email.Audience.Include {
			emails[i].Refs[id] = ""
		}
	}
	for i := range flows {
		flows[i].Refs[flows[i].Workflow.Trigger.SegmentID] = ""
		flows[i].Refs[flows[i].Workflow.Steps[0].EmailID] = ""
	}
	for _, objs := range [][]sandbox.Object{segs, emails, pages, flows} {
		if err := phase(objs, put); err != nil {
			return err
		}
	}
	if err := phase(emails[:15], func(o sandbox.Object) (sandbox.LiveState, error) {
		return tgt.Send(ctx, o, get(o.ArtifactID), time.Time{})
	}); err != nil {
		return err
	}
	for _, objs := range [][]sandbox.Object{pages, flows} {
		if err := phase(objs, func(o sandbox.Object) (sandbox.LiveState, error) {
			return tgt.Publish(ctx, o, get(o.ArtifactID), time.Time{})
		}); err != nil {
			return err
		}
	}
	return nil
}

func report(b *testing.B, srv *hubspottest.Server, elapsed time.Duration, n int) {
	st := srv.Stats()
	reqs := st.TotalCalls() / n
	per := benchWindow / benchLimit
	floor := time.Duration(reqs) * per
	burstFloor := time.Duration(max(0, reqs-benchLimit)) * per
	wall := elapsed / time.Duration(n)
	b.ReportMetric(float64(reqs), "requests/op")
	b.ReportMetric(float64(floor.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(wall)/float64(floor), "x-floor")
	b.ReportMetric(float64(st.Served429)/float64(n), "429s/op")
	if os.Getenv("HUBSPOT_BENCH_VERBOSE") != "" {
		b.Logf("requests %d, wall %v, floor %v (with the first window's burst: %v), ratio %.3f, 429s served %d, calls %v",
			reqs, wall, floor, burstFloor, float64(wall)/float64(floor), st.Served429, st.Calls)
	}
}

// BenchmarkPromote100 promotes 100 artifacts' worth of Target calls:
// sequentially against the bare fake (about 2 ms per request here), and
// with 15 ms added per answer (150 ms at HubSpot's real time scale), where
// a sequential promoter is bound by latency rather than by the rate limit
// and 4 concurrent calls per phase bring it back to the floor.
func BenchmarkPromote100(b *testing.B) {
	for _, bc := range []struct {
		name    string
		latency time.Duration
		workers int
	}{
		{"sequential", 0, 1},
		{"latency-15ms/sequential", 15 * time.Millisecond, 1},
		{"latency-15ms/4-workers", 15 * time.Millisecond, 4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var elapsed time.Duration
			var srv *hubspottest.Server
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var tgt *Target
				srv, tgt = benchTarget(b, bc.latency)
				b.StartTimer()
				start := time.Now()
				if err := promoteAll(context.Background(), tgt, bc.workers); err != nil {
					b.Fatal(err) // a surfaced error (a 429 included) fails the benchmark
				}
				elapsed = time.Since(start)
			}
			report(b, srv, elapsed, 1)
			if c := srv.Counts(); c["lists"] != 25 || c["emails"] != 25 || c["pages"] != 25 || c["flows"] != 25 {
				b.Fatalf("counts %v", c)
			}
		})
	}
}

// BenchmarkMetrics1000 reads statistics of 1,000 emails: all-time figures
// (listing with stats) and figures since a time (one statistics call per email).
func BenchmarkMetrics1000(b *testing.B) {
	for _, mode := range []string{"all-time", "since"} {
		b.Run(mode, func(b *testing.B) {
			var elapsed time.Duration
			var srv *hubspottest.Server
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var tgt *Target
				srv, tgt = benchTarget(b, 0)
				ids := srv.SeedEmails(1000)
				items := make([]sandbox.MetricsItem, len(ids))
				for j, id := range ids {
					items[j] = sandbox.MetricsItem{ArtifactID: "eml_" + id, Kind: sandbox.KindEmail, LiveID: id}
				}
				req := sandbox.MetricsRequest{Items: items}
				if mode == "since" {
					req.Since = time.Now().Add(-24 * time.Hour)
				}
				srv.ResetStats()
				b.StartTimer()
				start := time.Now()
				ms, err := tgt.Metrics(context.Background(), req)
				elapsed = time.Since(start)
				if err != nil || len(ms) != 1000 {
					b.Fatalf("metrics: %d %v", len(ms), err)
				}
			}
			report(b, srv, elapsed, 1)
		})
	}
}
