package meta_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
)

func put(t *testing.T, tg *meta.Target, obj sandbox.Object, id string) sandbox.LiveState {
	t.Helper()
	st, err := tg.Put(context.Background(), obj, id)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return st
}

func live(srv *metatest.Server, typ string) []metatest.Object {
	var out []metatest.Object
	for _, o := range srv.Objects(typ) {
		if o.Status != "DELETED" {
			out = append(out, o)
		}
	}
	return out
}

func counts(srv *metatest.Server) [4]int {
	return [4]int{len(live(srv, "campaign")), len(live(srv, "adset")), len(live(srv, "adcreative")), len(live(srv, "ad"))}
}

func TestCreatesEverythingPausedWithMarkers(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	obj := adObj("ad_01", 2, 2)
	st := put(t, tg, obj, "")
	if st.Status != "paused" || st.Version == "" || !strings.Contains(st.URL, "act="+srv.AccountID) {
		t.Errorf("state %+v", st)
	}
	if c := counts(srv); c != [4]int{1, 2, 4, 4} {
		t.Fatalf("campaigns, ad sets, creatives, ads = %v, want 1 2 4 4", c)
	}
	for _, typ := range []string{"campaign", "adset", "ad"} {
		for _, o := range srv.Objects(typ) {
			if o.Status != "PAUSED" {
				t.Errorf("%s %q is %s, want PAUSED", typ, o.Name, o.Status)
			}
		}
	}
	for _, typ := range []string{"campaign", "adset", "adcreative", "ad"} {
		for _, o := range srv.Objects(typ) {
			if !strings.Contains(o.Name, "[lm-ad_01") {
				t.Errorf("%s %q carries no marker", typ, o.Name)
			}
		}
	}
	c := srv.Objects("campaign")[0]
	if c.Params["daily_budget"] != "2500" || c.Params["objective"] != "OUTCOME_TRAFFIC" || c.Params["bid_strategy"] != "LOWEST_COST_WITH_BID_CAP" {
		t.Errorf("campaign params %v", c.Params)
	}
	as := srv.Objects("adset")[0]
	if as.Params["bid_amount"] != "120" || as.Params["end_time"] == nil || as.Params["billing_event"] != "IMPRESSIONS" {
		t.Errorf("ad set params %v", as.Params)
	}
}

// An attempt fails after Meta applied the second ad's create; the
// resumed Put (Find, then Put with the id, Resumed) makes what is missing
// and nothing twice, the creatives included.
func TestResumeAfterHalfTheChildren(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	obj := adObj("ad_02", 2, 2)
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/ads", Skip: 1, Kind: faketest.FailAfterApply})
	if _, err := tg.Put(context.Background(), obj, ""); err == nil {
		t.Fatal("the interrupted Put succeeded")
	}
	if c := counts(srv); c != [4]int{1, 1, 2, 2} {
		t.Fatalf("after the failure: %v, want 1 1 2 2", c)
	}
	obj.Resumed = true
	st, found, err := tg.Find(context.Background(), obj)
	if err != nil || !found {
		t.Fatalf("Find: %v %v", found, err)
	}
	put(t, tg, obj, st.ID)
	if c := counts(srv); c != [4]int{1, 2, 4, 4} {
		t.Fatalf("after the resume: %v, want 1 2 4 4", c)
	}

	// A create interrupted after the first creative, with no campaign
	// found: the resumed create reuses the creative.
	srv2 := metatest.New(t)
	tg2 := newTarget(t, srv2)
	obj2 := adObj("ad_03", 1, 1)
	srv2.Inject(faketest.Fault{Op: "POST /act_{id}/ads", Kind: faketest.Fail, Status: 400,
		Body: []byte(`{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_subcode":1487694,"fbtrace_id":"x"}}`)})
	if _, err := tg2.Put(context.Background(), obj2, ""); err == nil {
		t.Fatal("want the ad create to fail")
	}
	obj2.Resumed = true
	st2, found, _ := tg2.Find(context.Background(), obj2)
	if !found {
		t.Fatal("the campaign was created; Find must find it")
	}
	put(t, tg2, obj2, st2.ID)
	if c := counts(srv2); c != [4]int{1, 1, 1, 1} {
		t.Fatalf("%v, want one of each (the creative reused)", c)
	}
}

func TestEnableOnceThenPauseResumeRemove(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("ad_04", 2, 1)
	st := put(t, tg, obj, "")
	en, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || en.Status != "enabled" {
		t.Fatalf("Publish: %+v %v", en, err)
	}
	writes := srv.Count("POST /{id}")
	again, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || again.Version != en.Version || srv.Count("POST /{id}") != writes {
		t.Fatalf("second Publish: %+v %v, writes %d → %d", again, err, writes, srv.Count("POST /{id}"))
	}
	for _, typ := range []string{"campaign", "adset", "ad"} {
		for _, o := range srv.Objects(typ) {
			if o.Status != "ACTIVE" || o.Activations != 1 {
				t.Errorf("%s %s: %s, activated %d times", typ, o.ID, o.Status, o.Activations)
			}
		}
	}
	steps := []struct{ op, want, fake string }{{sandbox.OpPause, "paused", "PAUSED"}, {sandbox.OpPause, "paused", "PAUSED"},
		{sandbox.OpResume, "enabled", "ACTIVE"}, {sandbox.OpRemove, "removed", "DELETED"}, {sandbox.OpRemove, "removed", "DELETED"}}
	for _, s := range steps {
		got, err := tg.Retire(ctx, obj, s.op, st)
		if err != nil || got.Status != s.want {
			t.Fatalf("%s: %+v %v", s.op, got, err)
		}
		if c, _ := srv.Object(st.ID); c.Status != s.fake {
			t.Errorf("after %s the campaign is %s, want %s", s.op, c.Status, s.fake)
		}
	}
	if l, found, err := tg.Live(ctx, sandbox.KindAd, st.ID); err != nil || !found || l.Status != "removed" {
		t.Errorf("Live after remove: %+v %v %v", l, found, err)
	}
}

func TestUpdateKeepsIDs(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	obj := adObj("ad_05", 2, 2)
	st := put(t, tg, obj, "")
	sets, ads := srv.Objects("adset"), srv.Objects("ad")
	oldCreative := fmt.Sprint(ads[2].Params["creative"])
	rev := adObj("ad_05", 2, 2)
	rev.Revision = 2
	rev.Ad.Budget = sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "40.00", Currency: "USD", Micros: 40_000_000}
	rev.Ad.Groups[1].Ads[0].Headline = "Last days: 30% off"
	st2 := put(t, tg, rev, st.ID)
	if st2.ID != st.ID || st2.Version == st.Version || st2.Status != "paused" {
		t.Fatalf("update: %+v from %+v", st2, st)
	}
	if c, _ := srv.Object(st.ID); c.Params["daily_budget"] != "4000" {
		t.Errorf("budget %v, want 4000", c.Params["daily_budget"])
	}
	for i, s := range live(srv, "adset") {
		if s.ID != sets[i].ID {
			t.Errorf("ad set %d: id %s → %s", i, sets[i].ID, s.ID)
		}
	}
	now := live(srv, "ad")
	for i, a := range now {
		if a.ID != ads[i].ID {
			t.Errorf("ad %d: id %s → %s", i, ads[i].ID, a.ID)
		}
	}
	if len(live(srv, "adcreative")) != 5 || fmt.Sprint(now[2].Params["creative"]) == oldCreative {
		t.Errorf("the changed ad needs a new creative: %d creatives, ad 2 creative %v", len(live(srv, "adcreative")), now[2].Params["creative"])
	}
	// Groups dropped and added.
	rev3 := adObj("ad_05", 1, 3)
	rev3.Revision = 3
	put(t, tg, rev3, st.ID)
	if c := counts(srv); c[1] != 1 || c[3] != 3 {
		t.Errorf("after dropping a group and adding an ad: %v, want 1 ad set and 3 ads", c)
	}
}

func TestDryRunProblemsNameThePositionAndCreateNothing(t *testing.T) {
	srv := metatest.New(t)
	tg, err := meta.New("fb", t.TempDir(), meta.Config{AdAccount: srv.AccountID, PageID: "999", BaseURL: srv.URL},
		meta.WithCredentials(srv.Token, ""), meta.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	obj := adObj("ad_06", 1, 2)
	a, err := tg.Assess(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(a.Problems, "\n")
	if !strings.Contains(text, "ad_groups[0].ads[0] (object_story_spec.page_id)") || !strings.Contains(text, "subcode 1487472") {
		t.Errorf("problems %q", a.Problems)
	}
	if n := len(srv.Objects("campaign")) + len(srv.Objects("adcreative")); n != 0 {
		t.Errorf("the dry run created %d objects", n)
	}
	// One campaign and two creatives, each validate_only.
	if c, cr := srv.Count("POST /act_{id}/campaigns"), srv.Count("POST /act_{id}/adcreatives"); c != 1 || cr != 2 {
		t.Errorf("dry-run requests: %d campaign, %d creative", c, cr)
	}
	// Local problems name the position too.
	bad := adObj("ad_07", 1, 1)
	bad.Ad.Groups[0].Ads[0].CallToAction = "CLICK_HERE"
	bad.Ad.Groups[0].Keywords = []sandbox.Keyword{{Text: "tents", Match: sandbox.MatchBroad}}
	a, _ = newTarget(t, srv).Assess(context.Background(), bad)
	if text := strings.Join(a.Problems, "\n"); !strings.Contains(text, "ad_groups[0].ads[0].call_to_action") || !strings.Contains(text, "ad_groups[0].keywords") {
		t.Errorf("local problems %q", a.Problems)
	}
}

func TestThrottleIsWaitedOutOrReported(t *testing.T) {
	srv := metatest.New(t)
	var mu sync.Mutex
	var slept []time.Duration
	rec := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	tg, err := meta.New("fb", t.TempDir(), meta.Config{AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL, MaxThrottleWait: 2 * time.Hour},
		meta.WithCredentials(srv.Token, ""), meta.WithSleep(rec), meta.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/campaigns", Kind: faketest.RateLimit})
	_, err = tg.Put(context.Background(), adObj("ad_08", 1, 1), "")
	if err == nil {
		// The wait was taken (the fake's quota is per hour, so the second
		// attempt succeeds only because the fault is used up).
		mu.Lock()
		waited := false
		for _, d := range slept {
			if d >= time.Minute {
				waited = true
			}
		}
		mu.Unlock()
		if !waited {
			t.Errorf("no wait of a minute or more before the retry: %v", slept)
		}
	} else {
		t.Fatalf("Put with a wait allowed: %v", err)
	}
	if c := counts(srv); c[0] != 1 {
		t.Errorf("%d campaigns, want 1", c[0])
	}

	// With the default bound (60 s) an hour's throttle is returned, as a 429
	// with Retry-After, which the sandbox classifies as rate_limited.
	srv2 := metatest.New(t)
	tg3 := newTarget(t, srv2)
	srv2.Inject(faketest.Fault{Op: "POST /act_{id}/campaigns", Kind: faketest.RateLimit, RetryAfter: time.Hour})
	_, err = tg3.Put(context.Background(), adObj("ad_09", 1, 1), "")
	var hs interface{ HTTPStatus() int }
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &hs) || hs.HTTPStatus() != 429 || !errors.As(err, &ra) || ra.RetryAfter() < time.Minute {
		t.Fatalf("want a 429 with a Retry-After of minutes, got %v", err)
	}
	if !strings.Contains(err.Error(), "80004") {
		t.Errorf("the error does not name Meta's code: %v", err)
	}
}

func TestPacesAsUsageNearsTheQuota(t *testing.T) {
	srv := metatest.New(t, metatest.WithQuota(20))
	var mu sync.Mutex
	var slept time.Duration
	rec := func(ctx context.Context, d time.Duration) error { mu.Lock(); slept += d; mu.Unlock(); return nil }
	tg := newTarget(t, srv, meta.WithSleep(rec))
	for range 18 {
		if err := tg.CheckAuth(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if slept == 0 {
		t.Error("no pacing although the usage headers passed 80%")
	}
}

func TestBadTokenIsErrAuthWithAReconnectHint(t *testing.T) {
	srv := metatest.New(t)
	tg, err := meta.New("fb", t.TempDir(), meta.Config{AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL},
		meta.WithCredentials("EAAwrongtoken999", ""), meta.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), adObj("ad_10", 1, 1), "")
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect meta --name fb") || !strings.Contains(err.Error(), "code 190") {
		t.Fatalf("want ErrAuth with code 190 and a reconnect hint: %v", err)
	}
	if strings.Contains(err.Error(), "EAAwrongtoken999") {
		t.Error("the error carries the token")
	}
	if _, err := tg.Assess(context.Background(), adObj("ad_10", 1, 1)); !errors.Is(err, sandbox.ErrAuth) {
		t.Errorf("Assess with a bad token: %v, want an ErrAuth error, not a Problem", err)
	}
}

// Neither errors nor logs carry the token, the app secret or the
// appsecret_proof, even when Meta's answer echoes them.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const secret = "app-secret-9c1d"
	srv := metatest.New(t, metatest.WithAppSecret(secret))
	var logs bytes.Buffer
	tg := newTarget(t, srv, meta.WithCredentials(srv.Token, secret), meta.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	proof := proofOf(secret, srv.Token)
	echo := `{"error":{"message":"bad call with access_token=` + srv.Token + `&appsecret_proof=` + proof + `","type":"OAuthException","code":100,"error_subcode":1487694,"fbtrace_id":"x"}}`
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/campaigns", Kind: faketest.Fail, Status: 400, Body: []byte(echo)})
	_, err := tg.Put(context.Background(), adObj("ad_11", 1, 1), "")
	if err == nil {
		t.Fatal("want the failure")
	}
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/campaigns", Kind: faketest.RateLimit})
	_, err2 := tg.Put(context.Background(), adObj("ad_12", 1, 1), "")
	put(t, tg, adObj("ad_13", 1, 1), "")
	for _, s := range []string{err.Error(), errText(err2), logs.String()} {
		for _, sec := range []string{srv.Token, secret, proof} {
			if strings.Contains(s, sec) {
				t.Errorf("a secret leaked: %q", s)
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestMetricsFromInsights(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	st := put(t, tg, adObj("ad_14", 1, 1), "")
	srv.SetInsights(st.ID, metatest.Insight{Impressions: "361324", Clicks: "4200", Spend: "5339.5",
		Actions: map[string]string{"offsite_conversion.fb_pixel_purchase": "12", "offsite_conversion.fb_pixel_lead": "3.5", "link_click": "4100", "lead": "3.5"}})
	ms, err := tg.Metrics(context.Background(), sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "ad_14", Kind: sandbox.KindAd, LiveID: st.ID}},
		Since: time.Now().AddDate(0, 0, -7)})
	if err != nil || len(ms) != 1 {
		t.Fatalf("Metrics: %v %v", ms, err)
	}
	c := ms[0].Counters
	want := map[string]int64{sandbox.MetricImpressions: 361324, sandbox.MetricClicks: 4200, sandbox.MetricCostMicros: 5_339_500_000, sandbox.MetricConversionsMilli: 15_500}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %d, want %d", k, c[k], v)
		}
	}
	if ms[0].Source != "meta" {
		t.Errorf("source %q", ms[0].Source)
	}
	if tr := srv.TimeRanges(); len(tr) != 1 || !strings.Contains(tr[0], `"since"`) {
		t.Errorf("time ranges asked: %v", tr)
	}
}

func TestSweepDiscardsOnlyWhatNeverSpent(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	ctx := context.Background()
	a := put(t, tg, adObj("ad_15", 1, 1), "")
	b := put(t, tg, adObj("ad_16", 1, 1), "")
	srv.SetInsights(b.ID, metatest.Insight{Impressions: "10", Clicks: "1", Spend: "0.42"})
	marked, err := tg.Marked(ctx, sandbox.KindAd)
	if err != nil || len(marked) != 2 {
		t.Fatalf("Marked: %v %v", marked, err)
	}
	for _, m := range marked {
		err := tg.Discard(ctx, m)
		switch m.LiveID {
		case a.ID:
			if err != nil {
				t.Errorf("discard the unspent campaign: %v", err)
			}
		case b.ID:
			if !errors.Is(err, sandbox.ErrReachedPeople) {
				t.Errorf("discard a campaign that spent: %v, want ErrReachedPeople", err)
			}
		}
	}
	if c, _ := srv.Object(a.ID); c.Status != "DELETED" {
		t.Errorf("unspent campaign is %s", c.Status)
	}
}

func withAudience(obj sandbox.Object, emails ...string) sandbox.Object {
	obj.Segments = map[string]*sandbox.Segment{"seg_vip": {Name: "VIP buyers", StaticEmails: emails}}
	obj.Ad.AudienceSegments = []string{"seg_vip"}
	return obj
}

func TestCustomerListsAreUploadedHashedAndTargeted(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := withAudience(adObj("ad_20", 2, 1), " Ada@Example.com", "bob@example.com", "ada@example.com")
	a, err := tg.Assess(ctx, obj)
	if err != nil || len(a.Problems) > 0 || !strings.Contains(strings.Join(a.Notes, "\n"), "SHA-256") {
		t.Fatalf("Assess: %+v %v", a, err)
	}
	st := put(t, tg, obj, "")
	auds := live(srv, "customaudience")
	if len(auds) != 1 || !strings.Contains(auds[0].Name, "[lm-ad_20 s0 m") || auds[0].Params["subtype"] != "CUSTOM" {
		t.Fatalf("audiences %+v", auds)
	}
	want := []string{sha("ada@example.com"), sha("bob@example.com")}
	if got := srv.Members(auds[0].ID); strings.Join(got, ",") != strings.Join(sortStrings(want), ",") {
		t.Errorf("members %v, want the hashes of ada and bob", got)
	}
	for _, s := range live(srv, "adset") {
		if !strings.Contains(fmt.Sprint(s.Params["targeting"]), auds[0].ID) {
			t.Errorf("ad set %s does not target the list: %v", s.Name, s.Params["targeting"])
		}
	}
	// Nothing readable leaves lastmile: no address in any parameter.
	for _, typ := range []string{"customaudience", "adset"} {
		for _, o := range srv.Objects(typ) {
			if strings.Contains(strings.ToLower(fmt.Sprint(o.Params)+o.Name), "example.com") {
				t.Errorf("%s %s carries an address: %v", typ, o.ID, o.Params)
			}
		}
	}
	// A new member makes a new list; the ad sets move to it and the old one goes.
	rev := withAudience(adObj("ad_20", 2, 1), "ada@example.com", "bob@example.com", "cy@example.com")
	rev.Revision = 2
	st2 := put(t, tg, rev, st.ID)
	auds2 := live(srv, "customaudience")
	if len(auds2) != 1 || auds2[0].ID == auds[0].ID || len(srv.Members(auds2[0].ID)) != 3 || st2.Version == st.Version {
		t.Fatalf("after the member change: %+v, version %s → %s", auds2, st.Version, st2.Version)
	}
	// Removing the campaign deletes its lists.
	if _, err := tg.Retire(ctx, rev, sandbox.OpRemove, st2); err != nil {
		t.Fatal(err)
	}
	if n := len(live(srv, "customaudience")); n != 0 {
		t.Errorf("%d customer lists left after remove", n)
	}
	// A segment that selects by conditions cannot go to Meta.
	cond := adObj("ad_21", 1, 1)
	cond.Segments = map[string]*sandbox.Segment{"seg_c": {Name: "Recent", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "US"}}}}}
	cond.Ad.AudienceSegments = []string{"seg_c"}
	a, _ = tg.Assess(ctx, cond)
	if !strings.Contains(strings.Join(a.Problems, "\n"), "audience_segments[0]") {
		t.Errorf("problems %q", a.Problems)
	}
}

// A resumed Put reuses a customer list an earlier attempt made (and uploads
// its members again, harmlessly), and makes no second one.
func TestResumedPutReusesTheCustomerList(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	obj := withAudience(adObj("ad_22", 1, 1), "ada@example.com")
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/adsets", Kind: faketest.Fail, Status: 500})
	if _, err := tg.Put(context.Background(), obj, ""); err == nil {
		t.Fatal("want the ad set create to fail")
	}
	obj.Resumed = true
	st, found, err := tg.Find(context.Background(), obj)
	if err != nil || !found {
		t.Fatalf("Find: %v %v", found, err)
	}
	put(t, tg, obj, st.ID)
	if n := len(live(srv, "customaudience")); n != 1 {
		t.Errorf("%d customer lists, want 1", n)
	}
	if n := srv.Count("POST /{id}/users"); n != 2 {
		t.Errorf("%d uploads, want 2 (the first attempt's, and the resumed one's again)", n)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Find pages through the account's campaigns (100 a page) and matches the
// marker exactly: a campaign of another artifact, or one someone named
// like it without the brackets, is not it.
func TestFindPagesAndMatchesTheMarkerExactly(t *testing.T) {
	srv := metatest.New(t, metatest.WithQuota(100_000))
	tg := newTarget(t, srv)
	for i := range 230 {
		srv.AddCampaign(fmt.Sprintf("Someone else's %d", i), "ACTIVE")
	}
	srv.AddCampaign("Spring sale [lm-ad_300x]", "PAUSED")
	srv.AddCampaign("Spring sale lm-ad_300", "PAUSED")
	obj := adObj("ad_300", 1, 1)
	if _, found, err := tg.Find(context.Background(), obj); err != nil || found {
		t.Fatalf("Find before Put: found=%v err=%v", found, err)
	}
	lists := srv.Count("GET /act_{id}/campaigns")
	st := put(t, tg, obj, "")
	got, found, err := tg.Find(context.Background(), obj)
	if err != nil || !found || got.ID != st.ID {
		t.Fatalf("Find: %+v %v %v, want %s", got, found, err, st.ID)
	}
	if lists != 3 {
		t.Errorf("%d list pages for 232 campaigns, want 3", lists)
	}
}

// An update that switches the budget period is a Problem at planning.
func TestAssessRefusesABudgetPeriodSwitch(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	obj := adObj("ad_301", 1, 1)
	st := put(t, tg, obj, "")
	rev := adObj("ad_301", 1, 1)
	rev.Revision = 2
	rev.Ad.Budget.Period = sandbox.BudgetLifetime
	rev.Refs[rev.ArtifactID] = st.ID
	a, err := tg.Assess(context.Background(), rev)
	if err != nil || !strings.Contains(strings.Join(a.Problems, "\n"), "budget.period") {
		t.Fatalf("Assess: %+v %v", a, err)
	}
}

// Several campaigns put, updated, enabled and read at once on one target
// (run with -race).
func TestConcurrentCampaigns(t *testing.T) {
	srv := metatest.New(t, metatest.WithQuota(100_000))
	tg := newTarget(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			ctx := context.Background()
			obj := adObj(fmt.Sprintf("ad_c%02d", i), 2, 2)
			st, err := tg.Put(ctx, obj, "")
			if err != nil {
				errs <- err
				return
			}
			rev := adObj(obj.ArtifactID, 2, 3)
			rev.Revision = 2
			if st, err = tg.Put(ctx, rev, st.ID); err != nil {
				errs <- err
				return
			}
			if _, err := tg.Publish(ctx, rev, st, time.Time{}); err != nil {
				errs <- err
				return
			}
			if _, found, err := tg.Find(ctx, rev); err != nil || !found {
				errs <- fmt.Errorf("find %s: %v %v", obj.ArtifactID, found, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c := counts(srv); c[0] != 8 || c[1] != 16 || c[3] != 48 {
		t.Errorf("campaigns, ad sets, creatives, ads = %v, want 8 16 _ 48", c)
	}
}

// urlRecorder keeps every URL the connector requests.
type urlRecorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *urlRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// The token travels in the Authorization header, never in a URL.
func TestTokenInNoURL(t *testing.T) {
	srv := metatest.New(t, metatest.WithAppSecret("s-1"))
	rec := &urlRecorder{}
	tg := newTarget(t, srv, meta.WithCredentials(srv.Token, "s-1"), meta.WithHTTPClient(&http.Client{Transport: rec, Timeout: 10 * time.Second}))
	st := put(t, tg, adObj("ad_40", 1, 1), "")
	if _, err := tg.Publish(context.Background(), adObj("ad_40", 1, 1), st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.urls) < 5 {
		t.Fatalf("only %d requests recorded", len(rec.urls))
	}
	for _, u := range rec.urls {
		if strings.Contains(u, srv.Token) || strings.Contains(u, "access_token") || !strings.Contains(u, "appsecret_proof=") {
			t.Errorf("URL %s", u)
		}
	}
}

// An update of an enabled campaign keeps it enabled: what the revision
// adds is created ACTIVE, what it keeps stays ACTIVE.
func TestUpdateWhileEnabledAddsActiveChildren(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	ctx := context.Background()
	st := put(t, tg, adObj("ad_50", 1, 1), "")
	if _, err := tg.Publish(ctx, adObj("ad_50", 1, 1), st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	rev := adObj("ad_50", 2, 2)
	rev.Revision = 2
	got := put(t, tg, rev, st.ID)
	if got.Status != "enabled" {
		t.Errorf("status %q after the update", got.Status)
	}
	for _, typ := range []string{"adset", "ad"} {
		for _, o := range live(srv, typ) {
			if o.Status != "ACTIVE" {
				t.Errorf("%s %q is %s", typ, o.Name, o.Status)
			}
		}
	}
	if c := counts(srv); c[1] != 2 || c[3] != 4 {
		t.Errorf("%v, want 2 ad sets and 4 ads", c)
	}
}

// A campaign deleted in Ads Manager is not silently recreated by an update.
func TestUpdateOfADeletedCampaignSaysSo(t *testing.T) {
	srv := metatest.New(t)
	tg := newTarget(t, srv)
	st := put(t, tg, adObj("ad_51", 1, 1), "")
	srv.SetStatus(st.ID, "DELETED")
	rev := adObj("ad_51", 1, 1)
	rev.Revision = 2
	_, err := tg.Put(context.Background(), rev, st.ID)
	if err == nil || !strings.Contains(err.Error(), "re-plan") {
		t.Fatalf("Put: %v", err)
	}
	if n := len(srv.Objects("campaign")); n != 1 {
		t.Errorf("%d campaigns", n)
	}
	if l, found, err := tg.Live(context.Background(), sandbox.KindAd, st.ID); err != nil || !found || l.Status != "removed" {
		t.Errorf("Live: %+v %v %v", l, found, err)
	}
}
