package webflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// A submission of the template's form that carries the item's slug is a
// form_submission event of that page, read once; the cursor moves past it.
func TestSubmissionsAsOutcomes(t *testing.T) {
	clk := newClock()
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.SitePublished = true; o.Now = clk.Now })
	tg := newTarget(t, srv, config(srv), webflow.WithClock(clk.Now))
	ctx := context.Background()
	obj := pageObj("pg_o", "Outcomes", "outcomes-page", "<p>x</p>")
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	items := []sandbox.MetricsItem{{ArtifactID: "pg_o", Kind: sandbox.KindPage, LiveID: st.ID}}
	evs, cur, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items})
	if err != nil || len(evs) != 0 {
		t.Fatalf("before any submission: %v %v", evs, err)
	}
	sub := srv.AddSubmission(map[string]string{"Email": "Ada@Example.com", webflowtest.DefaultItemField: "outcomes-page"})
	srv.AddSubmission(map[string]string{"Email": "bob@example.com", webflowtest.DefaultItemField: "some-other-page"})
	srv.AddSubmission(map[string]string{"Email": "cy@example.com"})
	evs, cur2, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("events %+v, want the one submission of this page", evs)
	}
	e := evs[0]
	if e.Type != outcomes.FormSubmission || e.ID != "webflow:submission:"+sub || e.LiveID != st.ID || e.Contact != "ada@example.com" ||
		e.URL != "https://www.acme.example/lp/outcomes-page" || e.Target != "wf" {
		t.Errorf("event %+v", e)
	}
	if cur2 == cur {
		t.Error("the cursor did not move")
	}
	again, cur3, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur2})
	if err != nil || len(again) != 0 || cur3 != cur2 {
		t.Errorf("a second read: %+v cursor %q→%q %v, want nothing new and the same cursor", again, cur2, cur3, err)
	}
	clk.Sleep(ctx, time.Second)
	srv.AddSubmission(map[string]string{"email": "dee@example.com", webflowtest.DefaultItemField: "outcomes-page"})
	later, _, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur3})
	if err != nil || len(later) != 1 || later[0].Contact != "dee@example.com" {
		t.Errorf("the next submission: %+v %v", later, err)
	}
	m, err := tg.Metrics(ctx, sandbox.MetricsRequest{Items: items})
	if err != nil || len(m) != 1 || m[0].Counters[sandbox.MetricFormSubmissions] != 2 {
		t.Errorf("metrics %+v %v, want 2 form submissions", m, err)
	}
}

// Submissions are read page by page (100 at a time), each once.
func TestSubmissionsPaged(t *testing.T) {
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.SitePublished = true; o.RateLimit = 1000 })
	tg := newTarget(t, srv, config(srv))
	ctx := context.Background()
	st, err := tg.Put(ctx, pageObj("pg_p", "Paged", "paged", "<p>x</p>"), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 230 {
		srv.AddSubmission(map[string]string{"Email": "a@example.com", webflowtest.DefaultItemField: "paged"})
	}
	items := []sandbox.MetricsItem{{ArtifactID: "pg_p", Kind: sandbox.KindPage, LiveID: st.ID}}
	evs, cur, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items})
	if err != nil || len(evs) != 230 {
		t.Fatalf("%d events, %v; want 230", len(evs), err)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("event %s twice", e.ID)
		}
		seen[e.ID] = true
	}
	if again, _, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur}); err != nil || len(again) != 0 {
		t.Errorf("after the cursor: %d events %v", len(again), err)
	}
}
