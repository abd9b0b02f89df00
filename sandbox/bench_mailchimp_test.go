package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// BenchmarkPromote100Mailchimp promotes 100 artifacts (50 static segments,
// 50 emails each sent to one of them) into the Mailchimp fake through this
// package's promoter, with 50 ms of latency on every answer and Mailchimp's
// 10-connection limit. Floor = requests × latency ÷ 10 connections, counting
// every request the confirmation made. Target ≤ 1.2×.
func BenchmarkPromote100Mailchimp(b *testing.B) {
	const latency = 50 * time.Millisecond
	var total, floor time.Duration
	var requests int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		mc := mailchimptest.New(b, mailchimptest.WithLatency(latency))
		e := newEnv(b, envOptions{})
		os.Setenv("LASTMILE_BENCH_MC_KEY", mc.APIKey())
		if _, err := mailchimp.ConnectAPIKey(context.Background(), e.dir, "mc", "LASTMILE_BENCH_MC_KEY", mailchimp.WithBaseURL(mc.BaseURL())); err != nil {
			b.Fatal(err)
		}
		mt, err := mailchimp.New("mc", e.dir, mailchimp.Config{ListID: mc.ListID(), BaseURL: mc.BaseURL()})
		if err != nil {
			b.Fatal(err)
		}
		cfg := sandbox.DefaultConfig()
		cfg.Targets["mc"] = sandbox.TargetConfig{Type: "mailchimp"}
		sb, err := sandbox.New(sandbox.Options{Store: e.st, Config: cfg, Targets: map[string]sandbox.Target{"local": e.local, "mc": mt}, Now: e.clock.Now, DataDir: e.dir})
		if err != nil {
			b.Fatal(err)
		}
		e.sb = sb
		ctx := context.Background()
		c, err := sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Mailchimp 100", Target: "mc"})
		if err != nil {
			b.Fatal(err)
		}
		for j := range 50 {
			seg, err := sb.StageSegment(ctx, "bench", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprintf("List %02d", j),
				StaticEmails: []string{fmt.Sprintf("member%02d@example.com", j%50+1)}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Email %02d", j), Subject: "Spring at Acme",
				PreviewText: "Lighter fabrics and brighter colours.", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><p>Hello. <a href=\"*|UNSUB|*\">Unsubscribe</a></p></body></html>",
				Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}); err != nil {
				b.Fatal(err)
			}
		}
		p := planAndApprove(b, e, c.ID)
		before := mc.Stats().Requests
		b.StartTimer()
		start := time.Now()
		if _, err := sb.Confirm(ctx, "bench", p.ID, nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		n := mc.Stats().Requests - before
		requests = n
		floor += time.Duration(n) * latency / 10
		if got := mc.Stats().TooManyRequests; got != 0 {
			b.Fatalf("%d requests were refused with 429", got)
		}
	}
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(total.Seconds()/float64(b.N), "promote-s")
	b.ReportMetric(floor.Seconds()/float64(b.N), "floor-s")
	b.ReportMetric(float64(total)/float64(floor), "x-floor")
}
