package webflow_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
)

// config is the target config lastmile connect writes for the fake's
// default collection (with the marker field present).
func config(srv *webflowtest.Server) webflow.Config {
	return webflow.Config{
		SiteID: webflowtest.DefaultSiteID, CollectionID: webflowtest.DefaultCollectionID, CollectionSlug: "lp",
		BodyField: "body", MetaField: "meta-description", MarkerField: webflow.DefaultMarkerField,
		URLPrefix: "https://" + webflowtest.DefaultDomain + "/lp", RateLimit: 60, FormItemField: webflowtest.DefaultItemField,
		BaseURL: srv.BaseURL(),
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTarget(t testing.TB, srv *webflowtest.Server, cfg webflow.Config, opts ...webflow.Option) *webflow.Target {
	t.Helper()
	opts = append([]webflow.Option{webflow.WithToken(webflowtest.DefaultToken), webflow.WithLogger(quiet())}, opts...)
	tg, err := webflow.New("wf", t.TempDir(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func withMarker(o *webflowtest.Options) { o.MarkerField = webflow.DefaultMarkerField }

// clock is a fake clock that sleeping advances: the fake and the connector
// share it, so waits take no real time.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	sleeps int
}

func newClock() *clock { return &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	c.sleeps++
	return nil
}

func (c *clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
