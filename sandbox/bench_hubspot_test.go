package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// BenchmarkPromote100HubSpot promotes 100 artifacts (25 lists, 25 emails
// sent to them, 25 landing pages, 25 workflows turned on) into the HubSpot
// fake through this package's promoter. HubSpot's 100-per-10-seconds limit
// is scaled to 100 per second in the fake and the connector alike, with
// 15 ms on every answer (150 ms at HubSpot's scale). Floor = requests ÷
// allowed rate. Target ≤ 1.15×, no 429 surfaced.
func BenchmarkPromote100HubSpot(b *testing.B) {
	const limit, window = 100, time.Second
	var total, floor time.Duration
	var requests, served429 int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := hubspottest.New(b, hubspottest.Options{RateLimit: limit, Window: window, Latency: 15 * time.Millisecond})
		e := newEnv(b, envOptions{})
		os.Setenv("LASTMILE_BENCH_HS_TOKEN", srv.PrivateAppToken())
		limits := hubspot.NewLimits() // the probe's requests count in the portal's window too
		if _, err := hubspot.ConnectPrivateApp(context.Background(), e.dir, "hs", "LASTMILE_BENCH_HS_TOKEN", hubspot.WithBaseURL(srv.URL), hubspot.WithLimits(limits)); err != nil {
			b.Fatal(err)
		}
		ht, err := hubspot.New("hs", e.dir, hubspot.Config{RateLimit: limit}, hubspot.WithRateWindow(window), hubspot.WithLimits(limits))
		if err != nil {
			b.Fatal(err)
		}
		cfg := sandbox.DefaultConfig()
		cfg.Targets["hs"] = sandbox.TargetConfig{Type: "hubspot"}
		sb, err := sandbox.New(sandbox.Options{Store: e.st, Config: cfg, Targets: map[string]sandbox.Target{"local": e.local, "hs": ht}, Now: e.clock.Now, DataDir: e.dir})
		if err != nil {
			b.Fatal(err)
		}
		e.sb = sb
		ctx := context.Background()
		c, err := sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "HubSpot 100", Target: "hs"})
		if err != nil {
			b.Fatal(err)
		}
		html := "<html><body><p>Hello {{ contact.firstname | default: \"there\" }}. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"
		for j := range 25 {
			seg, err := sb.StageSegment(ctx, "bench", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprintf("Customers %02d", j),
				Conditions: []sandbox.Condition{{Property: "lifecyclestage", Operator: "eq", Value: "customer"}}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Email %02d", j), Subject: "Spring at Acme",
				FromName: "Acme", FromEmail: "news@acme.com", HTML: html, Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}); err != nil {
				b.Fatal(err)
			}
			if _, err := sb.StagePage(ctx, "bench", sandbox.PageInput{CampaignID: c.ID, Title: fmt.Sprintf("Page %02d", j), Slug: fmt.Sprintf("spring-%02d", j), HTML: "<p>Spring</p>"}); err != nil {
				b.Fatal(err)
			}
			auto, err := sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Follow-up %02d", j), Subject: "One more thing",
				FromName: "Acme", FromEmail: "news@acme.com", HTML: html})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sb.StageWorkflow(ctx, "bench", sandbox.WorkflowInput{CampaignID: c.ID, Name: fmt.Sprintf("Flow %02d", j), Activate: true,
				Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg.Artifact.ID},
				Steps:   []sandbox.Step{{ID: "w", Type: "wait", Duration: "1d", Next: "s"}, {ID: "s", Type: "send_email", EmailID: auto.Artifact.ID}}}); err != nil {
				b.Fatal(err)
			}
		}
		p, err := sb.PlanPromotion(ctx, "bench", c.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, who := range []string{"dana", "sam"} { // HubSpot cannot count the lists yet: two approvers
			if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: who, Channel: sandbox.ChannelCLI, Code: planCode(b, sb, p.ID)}); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(window + 50*time.Millisecond) // planning's requests leave the window
		before := calls(srv.Stats().Calls)
		b.StartTimer()
		start := time.Now()
		if _, err := sb.Confirm(ctx, "bench", p.ID, nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		requests = calls(srv.Stats().Calls) - before
		served429 = srv.Stats().Served429
		floor += time.Duration(requests) * window / limit
	}
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(served429), "429s")
	b.ReportMetric(total.Seconds()/float64(b.N), "promote-s")
	b.ReportMetric(floor.Seconds()/float64(b.N), "floor-s")
	b.ReportMetric(float64(total)/float64(floor), "x-floor")
}

func calls(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}
