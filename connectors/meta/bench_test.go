package meta_test

import (
	"context"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/meta/metatest"
)

// benchLatency is the fake's per-call latency in the benchmark: the floor
// of a promotion is its request count × benchLatency, as the connector
// sends its requests one after another.
const benchLatency = 2 * time.Millisecond

// BenchmarkPromote10x5 puts a campaign of 10 ad sets with 5 ads each (50
// ads, 50 creatives) into the fake and reports the requests per promotion
// and the elapsed time against the floor.
func BenchmarkPromote10x5(b *testing.B) {
	srv := metatest.New(b, metatest.WithLatency(benchLatency), metatest.WithQuota(1_000_000))
	tg := newTarget(b, srv)
	ctx := context.Background()
	if err := tg.CheckAuth(ctx); err != nil { // the account read is cached after this
		b.Fatal(err)
	}
	before := srv.Requests()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		obj := adObj("ad_bench"+string(rune('a'+i%26))+time.Now().Format("150405.000000"), 10, 5)
		if _, err := tg.Put(ctx, obj, ""); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	reqs := float64(srv.Requests()-before) / float64(b.N)
	floor := time.Duration(reqs * float64(benchLatency))
	b.ReportMetric(reqs, "requests/op")
	b.ReportMetric(float64(elapsed)/float64(b.N)/float64(floor), "elapsed/floor")
	b.ReportMetric(float64(floor)/1e6, "floor-ms/op")
}
