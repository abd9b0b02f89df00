package googleads_test

import (
	"context"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
)

// BenchmarkPromote10Groups50Ads promotes (Put, then Publish) a campaign of
// 10 ad groups and 50 ads through the fake at its documented rate
// (googleadstest.DefaultRate requests a second, burst 2), with the
// connector at its default pace (googleads.DefaultRate). It reports the
// requests per promotion and elapsed ÷ floor, where the floor is requests
// ÷ rate: the least time the rate allows. The budget is 1.15.
func BenchmarkPromote10Groups50Ads(b *testing.B) {
	srv := googleadstest.New(b)
	cfg := googleads.Config{CustomerID: googleadstest.DefaultCustomerID, BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), Currency: "USD", TimeZone: "America/New_York"}
	tg := newTargetCfg(b, srv, cfg)
	ctx := context.Background()
	var requests int
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		obj := adObj("Bench", 10, 5)
		before := srv.Counts()
		start := time.Now()
		st, err := tg.Put(ctx, obj, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tg.Publish(ctx, obj, st, time.Time{}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		c := srv.Counts()
		if c.Throttled != before.Throttled {
			b.Fatalf("the fake throttled %d requests: the connector's pace is above the documented rate", c.Throttled-before.Throttled)
		}
		requests += c.Requests() - before.Requests()
	}
	perOp := float64(requests) / float64(b.N)
	floor := time.Duration(float64(requests) / googleadstest.DefaultRate * float64(time.Second))
	b.ReportMetric(perOp, "requests/op")
	b.ReportMetric(elapsed.Seconds()/floor.Seconds(), "elapsed/floor")
	b.ReportMetric(float64(srv.Counts().Mutates)/float64(b.N), "mutates/op")
}

// BenchmarkDryRun is Assess of the same campaign: local checks and one
// validate-only googleAds:mutate.
func BenchmarkDryRun(b *testing.B) {
	srv := googleadstest.New(b, googleadstest.WithRate(1e6, 1000))
	tg := newTarget(b, srv)
	ctx := context.Background()
	obj := adObj("Bench", 10, 5)
	b.ResetTimer()
	for range b.N {
		as, err := tg.Assess(ctx, obj)
		if err != nil || len(as.Problems) > 0 {
			b.Fatalf("Assess = %+v %v", as, err)
		}
	}
	c := srv.Counts()
	b.ReportMetric(float64(c.Mutates)/float64(b.N), "mutates/op")
	b.ReportMetric(float64(c.Requests())/float64(b.N), "requests/op")
	b.ReportMetric(float64(c.Operations)/float64(b.N), "operations/op")
}
