package webflow_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
)

// The token never appears in an error, a log line or the description,
// whatever fails.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	srv := webflowtest.New(t, withMarker)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tg := newTarget(t, srv, config(srv), webflow.WithLogger(log), webflow.WithSleep(func(context.Context, time.Duration) error { return nil }))
	ctx := context.Background()
	var errs []error
	obj := pageObj("pg_s", "Secret", "secret", "<p>x</p>")
	srv.Inject(faketest.Fault{Op: "create-item", Kind: faketest.Fail, Status: 500, Times: -1})
	_, err := tg.Put(ctx, obj, "")
	errs = append(errs, err)
	srv.Inject(faketest.Fault{Op: "get-item", Kind: faketest.RateLimit, RetryAfter: 5 * time.Minute})
	_, _, err = tg.Live(ctx, sandbox.KindPage, "0123456789abcdef01234567")
	errs = append(errs, err)
	_, err = tg.Put(ctx, pageObj("pg_t", "Bad", "Bad Slug", "<p>x</p>"), "")
	errs = append(errs, err)

	wrong := newTarget(t, srv, config(srv), webflow.WithToken("wf-wrong-token-that-must-not-leak"), webflow.WithLogger(log))
	err = wrong.CheckAuth(ctx)
	if !errors.Is(err, sandbox.ErrAuth) {
		t.Errorf("a wrong token: %v, want ErrAuth", err)
	}
	errs = append(errs, err)
	_, _, err = wrong.Find(ctx, obj)
	errs = append(errs, err)

	t.Setenv("WF_TEST_TOKEN", "wf-wrong-token-that-must-not-leak")
	_, err = webflow.Connect(ctx, t.TempDir(), "wf", webflow.ConnectRequest{TokenEnv: "WF_TEST_TOKEN", SiteID: webflowtest.DefaultSiteID,
		CollectionID: webflowtest.DefaultCollectionID, BaseURL: srv.BaseURL()}, webflow.WithLogger(log), webflow.WithPrompt(&logs))
	if !errors.Is(err, sandbox.ErrAuth) {
		t.Errorf("connect with a wrong token: %v, want ErrAuth", err)
	}
	errs = append(errs, err)

	for _, e := range errs {
		if e == nil {
			t.Error("a failure returned no error")
			continue
		}
		for _, sec := range []string{webflowtest.DefaultToken, "wf-wrong-token-that-must-not-leak"} {
			if strings.Contains(e.Error(), sec) {
				t.Errorf("error carries the token: %v", e)
			}
		}
	}
	desc, _ := tg.Describe(), 0
	for _, s := range append(append([]string{logs.String(), desc.Account, desc.Tier}, desc.Limits...), desc.Scopes...) {
		for _, sec := range []string{webflowtest.DefaultToken, "wf-wrong-token-that-must-not-leak"} {
			if strings.Contains(s, sec) {
				t.Errorf("a log line or the description carries the token: %s", s)
			}
		}
	}
}
