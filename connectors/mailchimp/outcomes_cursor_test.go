package mailchimp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// testClock is a clock a test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// orderRequests sits between the connector and the fake and tells its
// order requests apart by campaign: counts (fields=total_items only) and
// pages of a full read. It answers 403 to the counts of the campaigns in
// failCounts and the pages of those in failPages.
type orderRequests struct {
	mu         sync.Mutex
	counts     map[string]int
	pages      map[string]int
	failCounts map[string]bool
	failPages  map[string]bool
}

func newOrderRequests() *orderRequests {
	return &orderRequests{counts: map[string]int{}, pages: map[string]int{}, failCounts: map[string]bool{}, failPages: map[string]bool{}}
}

func (o *orderRequests) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/ecommerce/orders") {
		return http.DefaultTransport.RoundTrip(r)
	}
	q := r.URL.Query()
	id := q.Get("campaign_id")
	o.mu.Lock()
	var fail bool
	if q.Get("fields") == "total_items" {
		o.counts[id]++
		fail = o.failCounts[id]
	} else {
		o.pages[id]++
		fail = o.failPages[id]
	}
	o.mu.Unlock()
	if fail {
		body := `{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"Forbidden","status":403,"detail":"You don't have permission to access this resource.","instance":"x"}`
		return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/problem+json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// take returns the requests seen since the last take, and forgets them.
func (o *orderRequests) take() (counts, pages map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	counts, pages = o.counts, o.pages
	o.counts, o.pages = map[string]int{}, map[string]int{}
	return counts, pages
}

// setFail makes the counts or the pages of campaign id fail, or neither.
func (o *orderRequests) setFail(id string, counts, pages bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failCounts[id], o.failPages[id] = counts, pages
}

func emailItems(liveIDs ...string) []sandbox.MetricsItem {
	var out []sandbox.MetricsItem
	for _, id := range liveIDs {
		out = append(out, sandbox.MetricsItem{Kind: sandbox.KindEmail, LiveID: id})
	}
	return out
}

func campaignsOf(t *testing.T, cursor string) []string {
	t.Helper()
	var c struct {
		Campaigns map[string]json.RawMessage `json:"campaigns"`
	}
	if err := json.Unmarshal([]byte(cursor), &c); err != nil {
		t.Fatalf("cursor %q: %v", cursor, err)
	}
	var out []string
	for id := range c.Campaigns {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TestOutcomesCursor: after a first full read, a read with the cursor only
// counts each campaign and returns nothing, with the same cursor; a new
// order reads only its campaign in full; the sandbox's next round asks
// nothing; a cancellation is found at the daily recheck, not before; a
// campaign unchanged for 90 days is not counted; campaigns no longer asked
// about leave the cursor.
func TestOutcomesCursor(t *testing.T) {
	clk := &testClock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	reqs := newOrderRequests()
	e := newEnv(t, nil, mailchimp.WithClock(clk.Now), mailchimp.WithHTTPClient(&http.Client{Transport: reqs}))
	ctx := context.Background()
	a, b, c := e.sent("eml_a"), e.sent("eml_b"), e.sent("eml_c")
	t0 := clk.Now()
	order := func(id, campaign string) mailchimptest.Order {
		return mailchimptest.Order{ID: id, StoreID: "shop", CampaignID: campaign, Email: "member01@example.com", Total: 10, Processed: t0}
	}
	e.srv.AddOrders(order("a1", a), order("a2", a), order("b1", b))
	items := emailItems(a, b, c)
	read := func(cursor string) ([]string, string) {
		t.Helper()
		evs, next, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cursor})
		if e.record(err) != nil {
			t.Fatal(err)
		}
		return ids(evs), next
	}
	expect := func(what string, counts, pages map[string]int) {
		t.Helper()
		gotCounts, gotPages := reqs.take()
		if fmt.Sprint(gotCounts) != fmt.Sprint(counts) || fmt.Sprint(gotPages) != fmt.Sprint(pages) {
			t.Errorf("%s: counts %v and pages %v, want %v and %v", what, gotCounts, gotPages, counts, pages)
		}
	}
	none := map[string]int{}
	each := map[string]int{a: 1, b: 1, c: 1}

	got, cur := read("")
	if want := []string{"mailchimp:order:shop:a1", "mailchimp:order:shop:a2", "mailchimp:order:shop:b1"}; !slices.Equal(got, want) {
		t.Fatalf("first read: %v, want %v", got, want)
	}
	expect("first read", none, each)
	if got := campaignsOf(t, cur); !slices.Equal(got, []string{a, b, c}) {
		t.Errorf("cursor holds %v", got)
	}

	// The sandbox reads again at once: nothing is asked.
	if got, next := read(cur); len(got) != 0 || next != cur {
		t.Errorf("the round after a full read: %v, cursor %q (was %q)", got, next, cur)
	}
	expect("the round after a full read", none, none)

	clk.Add(15 * time.Minute)
	if got, next := read(cur); len(got) != 0 || next != cur {
		t.Errorf("nothing new: %v, cursor %q (was %q)", got, next, cur)
	}
	expect("nothing new", each, none)

	// A new order: only its campaign is read in full.
	clk.Add(15 * time.Minute)
	e.srv.AddOrders(order("b2", b))
	got, next := read(cur)
	if want := []string{"mailchimp:order:shop:b1", "mailchimp:order:shop:b2"}; !slices.Equal(got, want) || next == cur {
		t.Errorf("a new order: %v (want %v), cursor changed %v", got, want, next != cur)
	}
	expect("a new order", each, map[string]int{b: 1})
	cur = next
	if got, next := read(cur); len(got) != 0 || next != cur {
		t.Errorf("the round after a new order: %v, cursor changed %v", got, next != cur)
	}
	expect("the round after a new order", none, none)

	// A cancellation changes no count: it is found at the recheck.
	clk.Add(15 * time.Minute)
	cancelled := order("a1", a)
	cancelled.Cancelled = clk.Now()
	e.srv.AddOrders(cancelled)
	if got, next := read(cur); len(got) != 0 || next != cur {
		t.Errorf("a cancellation before the recheck: %v, cursor changed %v", got, next != cur)
	}
	expect("a cancellation before the recheck", each, none)
	clk.Add(24*time.Hour - 45*time.Minute) // a and c are due; b was read 30 minutes later
	got, next = read(cur)
	if !slices.Contains(got, "mailchimp:order:shop:a1:cancelled") || slices.ContainsFunc(got, func(id string) bool { return strings.Contains(id, ":b") }) {
		t.Errorf("the recheck: %v", got)
	}
	expect("the recheck", map[string]int{b: 1}, map[string]int{a: 1, c: 1})
	cur = next

	// 90 days without a new order: no counts, only the daily full read.
	for range 90 {
		clk.Add(24 * time.Hour)
		_, cur = read(cur)
	}
	reqs.take()
	clk.Add(15 * time.Minute)
	if got, next := read(cur); len(got) != 0 || next != cur {
		t.Errorf("a quiet campaign: %v, cursor changed %v", got, next != cur)
	}
	expect("quiet campaigns", none, none)
	e.srv.AddOrders(order("c1", c)) // late: found at the next daily read
	clk.Add(24 * time.Hour)
	got, cur = read(cur)
	if !slices.Contains(got, "mailchimp:order:shop:c1") {
		t.Errorf("a late order of a quiet campaign: %v", got)
	}
	reqs.take()
	clk.Add(15 * time.Minute)
	read(cur)
	expect("a quiet campaign that changed is counted again", map[string]int{c: 1}, none)

	// Campaigns not asked about leave the cursor.
	items = emailItems(a)
	if got, next := read(cur); len(got) != 0 || !slices.Equal(campaignsOf(t, next), []string{a}) {
		t.Errorf("only a asked about: %v, cursor %q", got, next)
	}
}

// TestOutcomesCursorFailures: a cursor this connector did not make is a
// clear error and nothing is read; a campaign whose orders cannot be read
// is named, keeps its entry and is read again next time, while the others
// move on.
func TestOutcomesCursorFailures(t *testing.T) {
	clk := &testClock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	reqs := newOrderRequests()
	e := newEnv(t, nil, mailchimp.WithClock(clk.Now), mailchimp.WithHTTPClient(&http.Client{Transport: reqs}))
	ctx := context.Background()
	a, b := e.sent("eml_a"), e.sent("eml_b")
	items := emailItems(a, b)
	for _, bad := range []string{"nope", `{"campaigns":5}`, `{"campaigns":{"x":{"full":"yesterday"}}}`} {
		evs, next, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: bad})
		e.record(err)
		if err == nil || !strings.Contains(err.Error(), "pass it back as returned, or empty") || len(evs) != 0 || next != bad {
			t.Errorf("cursor %q: %d events, cursor %q, %v", bad, len(evs), next, err)
		}
	}
	if counts, pages := reqs.take(); len(counts)+len(pages) != 0 {
		t.Errorf("a bad cursor read orders: %v %v", counts, pages)
	}

	order := func(id, campaign string) mailchimptest.Order {
		return mailchimptest.Order{ID: id, StoreID: "shop", CampaignID: campaign, Email: "member01@example.com", Total: 10, Processed: clk.Now()}
	}
	e.srv.AddOrders(order("a1", a), order("b1", b))
	evs, cur, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items})
	if e.record(err) != nil || len(evs) != 2 {
		t.Fatalf("first read: %v %v", ids(evs), err)
	}
	entries := func(cursor string) map[string]string {
		t.Helper()
		var c struct {
			Campaigns map[string]json.RawMessage `json:"campaigns"`
		}
		if err := json.Unmarshal([]byte(cursor), &c); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for id, raw := range c.Campaigns {
			out[id] = string(raw)
		}
		return out
	}

	// Both get an order; a's count, then its pages, cannot be read.
	for i, how := range []struct {
		what          string
		counts, pages bool
	}{{"its count", true, false}, {"its orders", false, true}} {
		clk.Add(15 * time.Minute)
		e.srv.AddOrders(order(fmt.Sprint("a", i+2), a), order(fmt.Sprint("b", i+2), b))
		reqs.setFail(a, how.counts, how.pages)
		evs, next, err := e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur})
		e.record(err)
		if err == nil || !strings.Contains(err.Error(), a) || strings.Contains(err.Error(), b) {
			t.Errorf("%s failing: %v", how.what, err)
		}
		if n := len(ids(evs)); n != i+2 || !slices.Contains(ids(evs), fmt.Sprint("mailchimp:order:shop:b", i+2)) {
			t.Errorf("%s failing: events %v, want b's", how.what, ids(evs))
		}
		before, after := entries(cur), entries(next)
		if after[a] != before[a] || after[b] == before[b] {
			t.Errorf("%s failing: entries of a %s → %s (want kept), of b %s → %s (want moved on)", how.what, before[a], after[a], before[b], after[b])
		}
		cur = next
	}

	// Next time a is read; b, unchanged, is only counted.
	clk.Add(15 * time.Minute)
	reqs.setFail(a, false, false)
	reqs.take()
	evs, _, err = e.tgt.Outcomes(ctx, sandbox.OutcomesRequest{Items: items, Cursor: cur})
	if e.record(err) != nil || !slices.Equal(ids(evs), []string{"mailchimp:order:shop:a1", "mailchimp:order:shop:a2", "mailchimp:order:shop:a3"}) {
		t.Errorf("after the failures: %v %v", ids(evs), err)
	}
	if counts, pages := reqs.take(); fmt.Sprint(counts) != fmt.Sprint(map[string]int{a: 1, b: 1}) || fmt.Sprint(pages) != fmt.Sprint(map[string]int{a: 1}) {
		t.Errorf("after the failures: counts %v, pages %v", counts, pages)
	}
}

// TestOutcomesSync: the sandbox's sync of a Mailchimp target ends after a
// round that asks nothing, keeps each order once, and a later sync only
// counts.
func TestOutcomesSync(t *testing.T) {
	clk := &testClock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	reqs := newOrderRequests()
	srv := mailchimptest.New(t)
	dir := t.TempDir()
	t.Setenv("LASTMILE_TEST_MC_KEY", srv.APIKey())
	if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", "LASTMILE_TEST_MC_KEY", mailchimp.WithBaseURL(srv.BaseURL()),
		mailchimp.WithPrompt(io.Discard)); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tgt, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: srv.ListID(), BaseURL: srv.BaseURL()}, mailchimp.WithClock(clk.Now),
		mailchimp.WithHTTPClient(&http.Client{Transport: reqs}), mailchimp.WithSleep(noSleep), mailchimp.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sandbox.DefaultConfig()
	cfg.Targets["mc"] = sandbox.TargetConfig{Type: "mailchimp"}
	sb, err := sandbox.New(sandbox.Options{Store: store.NewMemory(), Config: cfg, Targets: map[string]sandbox.Target{"mc": tgt}, DataDir: dir,
		Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cmp, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Orders", Target: "mc"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: cmp.ID, Name: fmt.Sprintf("Email %d", i), Subject: "Spring at Acme",
			FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><p>Hello. <a href=\"*|UNSUB|*\">Unsubscribe</a></p></body></html>"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sb.Confirm(ctx, "agent", promotetest.Approve(t, sb, cmp.ID), nil); err != nil {
		t.Fatal(err)
	}
	campaigns := srv.Campaigns()
	if len(campaigns) != 2 {
		t.Fatalf("%d campaigns on Mailchimp", len(campaigns))
	}
	for i, c := range campaigns {
		srv.AddOrders(mailchimptest.Order{ID: fmt.Sprint(i), StoreID: "shop", CampaignID: c.ID, Email: "member01@example.com", Total: 10, Processed: clk.Now()})
	}
	sync := func(what string, wantNew, wantCounts, wantPages int) {
		t.Helper()
		reps, err := sb.SyncOutcomes(ctx)
		if err != nil || len(reps) != 1 || reps[0].Error != "" || reps[0].New != wantNew {
			t.Fatalf("%s: %+v %v", what, reps, err)
		}
		counts, pages := reqs.take()
		var nc, np int
		for _, n := range counts {
			nc += n
		}
		for _, n := range pages {
			np += n
		}
		if nc != wantCounts || np != wantPages {
			t.Errorf("%s: %d counts and %d pages, want %d and %d", what, nc, np, wantCounts, wantPages)
		}
	}
	reqs.take()
	sync("first sync", 2, 0, 2)
	clk.Add(15 * time.Minute)
	sync("nothing new", 0, 2, 0)
	clk.Add(15 * time.Minute)
	srv.AddOrders(mailchimptest.Order{ID: "new", StoreID: "shop", CampaignID: campaigns[0].ID, Email: "member02@example.com", Total: 5, Processed: clk.Now()})
	sync("a new order", 1, 2, 1)
}
