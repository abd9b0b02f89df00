package mailchimp_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// sent puts an email and sends it: Mailchimp reports only sent campaigns.
func (e *env) sent(id string) string {
	e.t.Helper()
	st := e.put(emailObj(id, nil), "")
	if _, err := e.tgt.Send(context.Background(), emailObj(id, nil), st, time.Time{}); e.record(err) != nil {
		e.t.Fatalf("send %s: %v", id, err)
	}
	return st.ID
}

func ids(evs []outcomes.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	slices.Sort(out)
	return out
}

// TestOutcomesOrders: a campaign's orders become purchase events with
// exact money, the same IDs on every full read, and agree with the report's
// ecommerce totals; orders of campaigns lastmile did not ask about are not
// reported; more than a page of orders is paged through.
func TestOutcomesOrders(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, c, other := e.sent("eml_a"), e.sent("eml_c"), e.sent("eml_other")
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	e.srv.AddStore(mailchimptest.Store{ID: "shop", Currency: "USD"})
	e.srv.AddStore(mailchimptest.Store{ID: "tokyo", Currency: "JPY"})
	e.srv.AddOrders(
		mailchimptest.Order{ID: "1001", StoreID: "shop", CampaignID: a, Email: "Member01@Example.com", Total: 49.90, Tax: 4.90, Shipping: 5, Processed: t0},
		mailchimptest.Order{ID: "1002", StoreID: "shop", CampaignID: a, Email: "member02@example.com", Total: 0.10, Processed: t0.Add(time.Minute)},
		mailchimptest.Order{ID: "1003", StoreID: "shop", CampaignID: a, Email: "member03@example.com", Total: 1200, Processed: t0.Add(2 * time.Minute)},
		mailchimptest.Order{ID: "1004", StoreID: "shop", CampaignID: a, Email: "member04@example.com", Total: 10, Processed: t0.Add(3 * time.Minute), Cancelled: t0.Add(time.Hour)},
		mailchimptest.Order{ID: "9", StoreID: "tokyo", CampaignID: c, Email: "member05@example.com", Total: 1500, Processed: t0},
		mailchimptest.Order{ID: "x", StoreID: "shop", CampaignID: other, Email: "member06@example.com", Total: 777, Processed: t0},
		mailchimptest.Order{ID: "y", StoreID: "shop", Email: "member07@example.com", Total: 5, Processed: t0},
	)
	var bulk []mailchimptest.Order
	for i := range 1205 {
		bulk = append(bulk, mailchimptest.Order{ID: fmt.Sprint("b", i), StoreID: "shop", CampaignID: c, Email: "member08@example.com", Total: 1.99, Processed: t0.Add(time.Duration(i) * time.Second)})
	}
	e.srv.AddOrders(bulk...)

	items := []sandbox.MetricsItem{{ArtifactID: "eml_a", Kind: sandbox.KindEmail, LiveID: a}, {ArtifactID: "eml_c", Kind: sandbox.KindEmail, LiveID: c},
		{ArtifactID: "seg_1", Kind: sandbox.KindSegment, LiveID: "123"}}
	e.srv.ResetStats()
	evs, next, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items})
	if e.record(err) != nil {
		t.Fatal(err)
	}
	if next == "" {
		t.Error("no cursor after reading two campaigns")
	}
	if n := e.srv.Stats().ByRoute["GET /ecommerce/orders"]; n != 3 {
		t.Errorf("%d order requests, want 1 for campaign a and 2 pages for c", n)
	}
	got := map[string]outcomes.Event{}
	for _, ev := range evs {
		got[ev.ID] = ev
	}
	if len(evs) != 4+1+1+1205 || len(got) != len(evs) {
		t.Fatalf("got %d events (%d distinct)", len(evs), len(got))
	}
	want := []outcomes.Event{
		{ID: "mailchimp:order:shop:1001", Type: outcomes.Purchase, Contact: "member01@example.com", LiveID: a, At: t0, Value: &outcomes.Money{Minor: 4990, Currency: "USD"}},
		{ID: "mailchimp:order:shop:1002", Type: outcomes.Purchase, Contact: "member02@example.com", LiveID: a, At: t0.Add(time.Minute), Value: &outcomes.Money{Minor: 10, Currency: "USD"}},
		{ID: "mailchimp:order:shop:1003", Type: outcomes.Purchase, Contact: "member03@example.com", LiveID: a, At: t0.Add(2 * time.Minute), Value: &outcomes.Money{Minor: 120000, Currency: "USD"}},
		{ID: "mailchimp:order:shop:1004", Type: outcomes.Purchase, Contact: "member04@example.com", LiveID: a, At: t0.Add(3 * time.Minute), Value: &outcomes.Money{Minor: 1000, Currency: "USD"}},
		{ID: "mailchimp:order:shop:1004:cancelled", Type: mailchimp.OrderCancelled, Contact: "member04@example.com", LiveID: a, At: t0.Add(time.Hour), Value: &outcomes.Money{Minor: 1000, Currency: "USD"}},
		{ID: "mailchimp:order:tokyo:9", Type: outcomes.Purchase, Contact: "member05@example.com", LiveID: c, At: t0, Value: &outcomes.Money{Minor: 1500, Currency: "JPY"}},
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("missing %s", w.ID)
			continue
		}
		if g.Type != w.Type || g.Contact != w.Contact || g.LiveID != w.LiveID || !g.At.Equal(w.At) || g.Value == nil || *g.Value != *w.Value ||
			g.Target != "mc" || g.Source != "mailchimp:ecommerce" {
			t.Errorf("%s = %+v (value %v), want %+v (value %v)", w.ID, g, g.Value, w, w.Value)
		}
	}
	if outcomes.IsKnown(mailchimp.OrderCancelled) {
		t.Error("order_cancelled became a known type: map it instead of reporting it as unknown")
	}
	var bulkMinor int64
	for _, ev := range evs {
		if strings.HasPrefix(ev.ID, "mailchimp:order:shop:b") {
			bulkMinor += ev.Value.Minor
		}
	}
	if bulkMinor != 1205*199 {
		t.Errorf("1205 orders of 1.99 sum to %d cents", bulkMinor)
	}

	// An empty cursor, the one this connector returned before it kept
	// counts, reads everything again.
	again, _, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items})
	if e.record(err) != nil || !slices.Equal(ids(again), ids(evs)) {
		t.Errorf("a second read from an empty cursor differs (%v)", err)
	}

	// The report's ecommerce totals agree with the purchases.
	ms, err := e.tgt.Metrics(ctx, sandbox.MetricsRequest{Items: items[:1]})
	if e.record(err) != nil || len(ms) != 1 {
		t.Fatalf("metrics: %v %v", ms, err)
	}
	var orders, spent int64
	for _, ev := range evs {
		if ev.LiveID == a && ev.Type == outcomes.Purchase {
			orders++
			spent += ev.Value.Minor
		}
	}
	if ms[0].Counters["ecommerce.total_orders"] != orders || int64(math.Round(ms[0].Ratios["ecommerce.total_spent"]*100)) != spent ||
		int64(math.Round(ms[0].Ratios["ecommerce.total_revenue"]*100)) != spent-490-500 {
		t.Errorf("report ecommerce %v/%v disagrees with %d orders worth %d cents", ms[0].Counters, ms[0].Ratios, orders, spent)
	}
}

// TestOutcomesFailures: a key Mailchimp rejects is a clear auth error; a
// campaign whose orders cannot be read is named, and the others' events
// are returned.
func TestOutcomesFailures(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, b := e.sent("eml_a"), e.sent("eml_b")
	e.srv.AddOrders(mailchimptest.Order{ID: "1", StoreID: "shop", CampaignID: a, Email: "member01@example.com", Total: 5, Processed: time.Now()},
		mailchimptest.Order{ID: "2", StoreID: "shop", CampaignID: b, Email: "member02@example.com", Total: 6, Processed: time.Now()})
	e.srv.Inject(faketest.Fault{Op: "GET /ecommerce/orders", Kind: faketest.Fail, Status: 403, Code: "Forbidden"})
	evs, _, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: []sandbox.MetricsItem{{Kind: sandbox.KindEmail, LiveID: a}, {Kind: sandbox.KindEmail, LiveID: b}}})
	e.record(err)
	if err == nil || len(evs) != 1 || (!strings.Contains(err.Error(), a) && !strings.Contains(err.Error(), b)) {
		t.Errorf("one campaign failing: %d events, %v", len(evs), err)
	}

	// A target whose stored key the account does not accept.
	dir := t.TempDir()
	t.Setenv("LASTMILE_TEST_MC_KEY", e.srv.APIKey())
	if _, err := mailchimp.ConnectAPIKey(ctx, dir, "mc", "LASTMILE_TEST_MC_KEY", mailchimp.WithBaseURL(e.srv.BaseURL())); err != nil {
		t.Fatal(err)
	}
	elsewhere := mailchimptest.New(t, mailchimptest.WithAPIKey("fedcba9876543210fedcba9876543210-us21"))
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: e.srv.ListID()}, mailchimp.WithBaseURL(elsewhere.BaseURL()), mailchimp.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: []sandbox.MetricsItem{{Kind: sandbox.KindEmail, LiveID: a}}})
	e.record(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect mailchimp --name mc") {
		t.Errorf("rejected key: %v", err)
	}
}
