package webflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
)

// Within the token's limit, the connector paces itself: Webflow never has
// to answer 429, however many requests lastmile makes.
func TestPacedWithinTheLimit(t *testing.T) {
	clk := newClock()
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.RateLimit = 5; o.Now = clk.Now; o.SitePublished = true })
	cfg := config(srv)
	cfg.RateLimit = 5
	tg := newTarget(t, srv, cfg, webflow.WithClock(clk.Now), webflow.WithSleep(clk.Sleep))
	ctx := context.Background()
	for i := range 12 {
		if _, _, err := tg.Live(ctx, sandbox.KindPage, "0123456789abcdef01234567"); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if len(clk.Slept()) == 0 {
		t.Error("12 reads at 5 a minute did not wait")
	}
	if srv.Throttled() != 0 {
		t.Errorf("Webflow answered 429 %d times", srv.Throttled())
	}
}

// The connector believes the token has 60 a minute, the plan gives 3:
// X-RateLimit-Limit and X-RateLimit-Remaining teach it, before any 429.
func TestLearnsTheLimitFromHeaders(t *testing.T) {
	clk := newClock()
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.RateLimit = 3; o.Now = clk.Now; o.SitePublished = true })
	tg := newTarget(t, srv, config(srv), webflow.WithClock(clk.Now), webflow.WithSleep(clk.Sleep))
	for i := range 8 {
		if _, _, err := tg.Live(context.Background(), sandbox.KindPage, "0123456789abcdef01234567"); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if srv.Throttled() != 0 {
		t.Errorf("Webflow answered 429 %d times", srv.Throttled())
	}
}

// Another client spent the token's minute: Webflow answers 429 with
// Retry-After; the connector waits as told and goes on.
func TestWaitsAsToldOn429(t *testing.T) {
	clk := newClock()
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.Now = clk.Now; o.SitePublished = true })
	tg := newTarget(t, srv, config(srv), webflow.WithClock(clk.Now), webflow.WithSleep(clk.Sleep))
	srv.Inject(faketest.Fault{Op: "get-item", Kind: faketest.RateLimit, RetryAfter: 60 * time.Second})
	if _, _, err := tg.Live(context.Background(), sandbox.KindPage, "0123456789abcdef01234567"); err != nil {
		t.Fatal(err)
	}
	var waited time.Duration
	for _, d := range clk.Slept() {
		waited += d
	}
	if waited < 60*time.Second {
		t.Errorf("the connector did not wait out Retry-After 60s: slept %v", clk.Slept())
	}
}

// A Retry-After beyond the bound is not waited out: the error carries it,
// for the sandbox to retry the step later.
func TestLongRetryAfterIsReturned(t *testing.T) {
	srv := webflowtest.New(t, withMarker)
	tg := newTarget(t, srv, config(srv), webflow.WithMaxWait(10*time.Second), webflow.WithSleep(func(context.Context, time.Duration) error { return nil }))
	srv.Inject(faketest.Fault{Op: "get-item", Kind: faketest.RateLimit, RetryAfter: 90 * time.Second})
	_, _, err := tg.Live(context.Background(), sandbox.KindPage, "0123456789abcdef01234567")
	var ra sandbox.RetryAfterer
	if !errors.As(err, &ra) || ra.RetryAfter() != 90*time.Second {
		t.Fatalf("error %v, want one carrying Retry-After 90s", err)
	}
	var hs sandbox.HTTPStatuser
	if !errors.As(err, &hs) || hs.HTTPStatus() != 429 {
		t.Errorf("no status 429 in %v", err)
	}
}

// A site publish Webflow refuses within its one-a-minute limit (someone
// else published the site just before) is waited out as told, and made
// once.
func TestSitePublishGate(t *testing.T) {
	clk := newClock()
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.Now = clk.Now })
	tg := newTarget(t, srv, config(srv), webflow.WithClock(clk.Now), webflow.WithSleep(clk.Sleep))
	ctx := context.Background()
	obj := pageObj("pg_g", "Gate", "gate", "<p>x</p>")
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	// Someone made a site publish 10 s ago: the fake refuses another within the minute.
	srv.Inject(faketest.Fault{Op: "site-publish", Kind: faketest.RateLimit, RetryAfter: 50 * time.Second})
	if _, err := tg.Publish(ctx, obj, st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if srv.SitePublishes() != 1 {
		t.Errorf("%d site publishes, want 1", srv.SitePublishes())
	}
}
