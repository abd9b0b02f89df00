package googleads_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/sandbox"
)

func TestCreatePausedInOneAtomicMutate(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("Spring sale", 2, 2)
	before := srv.Counts()
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Counts()
	if got := c.Mutates - before.Mutates; got != 1 {
		t.Errorf("%d mutate requests for the create, want 1 atomic googleAds:mutate", got)
	}
	// budget + campaign + 2 locations + 1 language (campaign criteria) +
	// 2 groups × (1 + 2 ads + 2 keywords)
	if got, want := c.Operations-before.Operations, 2+2+1+2*(1+2+2); got != want {
		t.Errorf("%d operations, want %d", got, want)
	}
	if st.Status != "paused" || st.ID == "" || st.Version == "" {
		t.Fatalf("Put = %+v, want a paused campaign with an id and a version", st)
	}
	camp, ok := srv.Campaign(st.ID)
	if !ok {
		t.Fatalf("campaign %s not on the fake", st.ID)
	}
	if camp.Status != "PAUSED" || camp.ChannelType != "SEARCH" || camp.Bidding != "MANUAL_CPC" || camp.EUPolitical != "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING" {
		t.Errorf("campaign %+v", camp)
	}
	if want := "Spring sale [" + obj.Marker + "]"; camp.Name != want {
		t.Errorf("campaign name %q, want %q", camp.Name, want)
	}
	if want := obj.Ad.StartDate + " 00:00:00"; camp.StartDate != want || camp.EndDate != obj.Ad.EndDate+" 23:59:59" {
		t.Errorf("dates %q–%q", camp.StartDate, camp.EndDate)
	}
	b, _ := srv.Budget(st.ID)
	if b.Period != "DAILY" || b.AmountMicros != 25_000_000 || !strings.Contains(b.Name, obj.Marker) || b.ExplicitlyShared {
		t.Errorf("budget %+v", b)
	}
	tree := srv.Tree(st.ID)
	if len(tree.Groups) != 2 || len(tree.Ads) != 4 {
		t.Fatalf("%d groups, %d ads", len(tree.Groups), len(tree.Ads))
	}
	for _, g := range tree.Groups {
		if g.Status != "PAUSED" || g.Type != "SEARCH_STANDARD" || g.CPCBidMicros != 1_200_000 || !strings.HasSuffix(g.Name, "["+obj.Marker+"]") {
			t.Errorf("group %+v", g)
		}
	}
	for _, a := range tree.Ads {
		if a.Status != "PAUSED" || len(a.FinalURLs) != 1 {
			t.Errorf("ad %+v", a)
		}
	}
	kinds := map[string]int{}
	for _, cr := range tree.Criteria {
		kinds[cr.Type]++
		if cr.Type == "KEYWORD" && cr.Status != "PAUSED" {
			t.Errorf("keyword %+v not paused", cr)
		}
	}
	if kinds["KEYWORD"] != 4 || len(kinds) != 1 {
		t.Errorf("ad group criteria %v, want 4 keywords and nothing else", kinds)
	}
	if got, want := campaignTargets(srv, st.ID), "LANGUAGE languageConstants/1000,LOCATION geoTargetConstants/2826,LOCATION geoTargetConstants/2840"; got != want {
		t.Errorf("campaign criteria %s, want %s", got, want)
	}
	live, found, err := tg.Live(ctx, sandbox.KindAd, st.ID)
	if err != nil || !found || live.Version != st.Version {
		t.Errorf("Live = %+v %v %v, Put said %+v", live, found, err, st)
	}
}

// campaignTargets are the campaign's criteria not removed, as sorted
// "TYPE constant" (negative ones prefixed with "-").
func campaignTargets(srv *googleadstest.Server, id string) string {
	var out []string
	for _, cc := range srv.CampaignCriteria(id) {
		if cc.Status == "REMOVED" {
			continue
		}
		s := cc.Type + " " + cc.GeoTarget + cc.Language
		if cc.Negative {
			s = "-" + s
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestTargetingIsCampaignCriteria: a created campaign holds exactly its
// countries and languages as campaign criteria and no ad group holds any;
// an update adding a country and dropping a language changes exactly
// those, in one mutate; Live reads them into the Version.
func TestTargetingIsCampaignCriteria(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("Targeting", 3, 1)
	obj.Ad.Locations, obj.Ad.Languages = []string{"US", "DE", "US"}, []string{"en", "de"} // a country given twice is one criterion
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "LANGUAGE languageConstants/1000,LANGUAGE languageConstants/1001,LOCATION geoTargetConstants/2276,LOCATION geoTargetConstants/2840"
	if got := campaignTargets(srv, st.ID); got != want {
		t.Fatalf("campaign criteria %s, want %s", got, want)
	}
	for _, cc := range srv.CampaignCriteria(st.ID) {
		if cc.Status != "ENABLED" || cc.Negative {
			t.Errorf("campaign criterion %+v, want enabled and positive", cc)
		}
	}
	tree := srv.Tree(st.ID)
	if len(tree.Groups) != 3 || len(tree.CampaignCriteria) != 4 {
		t.Fatalf("%d groups, %d campaign criteria", len(tree.Groups), len(tree.CampaignCriteria))
	}
	for _, cr := range tree.Criteria {
		if cr.Type != "KEYWORD" {
			t.Errorf("ad group criterion %+v: locations and languages belong to the campaign", cr)
		}
	}
	if st, err = tg.Publish(ctx, obj, st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	before := srv.CampaignCriteria(st.ID)
	rev := obj
	a := *obj.Ad
	a.Locations, a.Languages = []string{"US", "DE", "GB"}, []string{"en"}
	rev.Ad, rev.Revision, rev.Refs = &a, 2, map[string]string{obj.ArtifactID: st.ID}
	m := srv.Counts().Mutates
	up, err := tg.Put(ctx, rev, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Counts().Mutates-m != 1 || up.ID != st.ID || up.Version == st.Version || up.Status != "enabled" {
		t.Fatalf("update = %+v (%d mutates) after %+v", up, srv.Counts().Mutates-m, st)
	}
	want = "LANGUAGE languageConstants/1000,LOCATION geoTargetConstants/2276,LOCATION geoTargetConstants/2826,LOCATION geoTargetConstants/2840"
	if got := campaignTargets(srv, st.ID); got != want {
		t.Errorf("after the update: campaign criteria %s, want %s", got, want)
	}
	// Exactly those changed: the kept criteria are the same resources, the
	// German language is removed, Britain is new.
	after := map[int64]googleadstest.CampaignCriterion{}
	for _, cc := range srv.CampaignCriteria(st.ID) {
		after[cc.ID] = cc
	}
	for _, cc := range before {
		now := after[cc.ID]
		if gone := cc.Language == "languageConstants/1001"; gone != (now.Status == "REMOVED") {
			t.Errorf("criterion %+v is now %+v", cc, now)
		}
		delete(after, cc.ID)
	}
	if len(after) != 1 {
		t.Errorf("new campaign criteria %+v, want Britain only", after)
	}
	for _, cc := range after {
		if cc.GeoTarget != "geoTargetConstants/2826" || cc.Status != "ENABLED" {
			t.Errorf("new campaign criterion %+v, want Britain", cc)
		}
	}
	for _, cr := range srv.Tree(st.ID).Criteria {
		if cr.Type != "KEYWORD" || cr.Status != "ENABLED" {
			t.Errorf("ad group criterion %+v after the update", cr)
		}
	}
	live, found, err := tg.Live(ctx, sandbox.KindAd, st.ID)
	if err != nil || !found || live.Version != up.Version {
		t.Errorf("Live = %+v %v %v, Put said %+v", live, found, err, up)
	}
	// The same revision again: nothing to write.
	m = srv.Counts().Mutates
	if same, err := tg.Put(ctx, rev, st.ID); err != nil || same.Version != up.Version || srv.Counts().Mutates != m {
		t.Errorf("Put of the same revision: %+v %v, %d mutates", same, err, srv.Counts().Mutates-m)
	}
}

func TestFindByMarker(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj, other := adObj("Spring sale", 1, 1), adObj("Spring sale", 1, 1)
	if _, found, err := tg.Find(ctx, obj); err != nil || found {
		t.Fatalf("Find before create: found=%v err=%v", found, err)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	fd, found, err := tg.Find(ctx, obj)
	if err != nil || !found || fd.ID != st.ID || fd.Version != st.Version {
		t.Fatalf("Find after create = %+v %v %v, want %+v", fd, found, err, st)
	}
	// The same campaign name with another marker is another campaign.
	if _, found, err := tg.Find(ctx, other); err != nil || found {
		t.Fatalf("Find(other marker) found=%v err=%v", found, err)
	}
	if _, err := tg.Retire(ctx, obj, sandbox.OpRemove, st); err != nil {
		t.Fatal(err)
	}
	if _, found, err := tg.Find(ctx, obj); err != nil || found {
		t.Errorf("Find after remove: found=%v err=%v, want not found (removed)", found, err)
	}
	live, found, err := tg.Live(ctx, sandbox.KindAd, st.ID)
	if err != nil || !found || live.Status != "removed" {
		t.Errorf("Live after remove = %+v %v %v, want found with status removed", live, found, err)
	}
}

func TestEnableOncePauseResumeRemove(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("Spring sale", 2, 1)
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	on, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || on.Status != "enabled" {
		t.Fatalf("Publish = %+v %v", on, err)
	}
	tree := srv.Tree(st.ID)
	for _, g := range tree.Groups {
		if g.Status != "ENABLED" {
			t.Errorf("group %s %s after enable", g.Name, g.Status)
		}
	}
	for _, a := range tree.Ads {
		if a.Status != "ENABLED" {
			t.Errorf("ad %d %s after enable", a.AdID, a.Status)
		}
	}
	mutates := srv.Counts().Mutates
	again, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || again.Version != on.Version {
		t.Fatalf("second Publish = %+v %v, want %+v", again, err, on)
	}
	if n := srv.Counts().Mutates - mutates; n != 0 {
		t.Errorf("the second Publish sent %d mutates, want none", n)
	}
	if _, err := tg.Publish(ctx, obj, st, time.Now().Add(time.Hour)); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("Publish at a time: %v, want ErrNotSupported", err)
	}
	for _, step := range []struct{ op, status string }{{sandbox.OpPause, "paused"}, {sandbox.OpPause, "paused"}, {sandbox.OpResume, "enabled"}, {sandbox.OpRemove, "removed"}, {sandbox.OpRemove, "removed"}} {
		got, err := tg.Retire(ctx, obj, step.op, on)
		if err != nil || got.Status != step.status {
			t.Fatalf("Retire(%s) = %+v %v, want %s", step.op, got, err, step.status)
		}
		c, _ := srv.Campaign(st.ID)
		if strings.ToLower(c.Status) != step.status {
			t.Errorf("after %s the fake holds %s", step.op, c.Status)
		}
	}
	if _, err := tg.Publish(ctx, obj, st, time.Time{}); !errors.Is(err, sandbox.ErrConflict) {
		t.Errorf("Publish of a removed campaign: %v, want ErrConflict", err)
	}
}

func TestUpdateKeepsIDAndStatus(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("Spring sale", 2, 2)
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err = tg.Publish(ctx, obj, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	oldBudget, _ := srv.Budget(st.ID)
	rev := obj
	a := *obj.Ad
	a.Name = "Spring sale (extended)"
	a.Budget.Amount, a.Budget.Micros = "40.00", 40_000_000
	a.EndDate = a.StartDate[:8] + "28"
	a.Groups = append([]sandbox.AdGroup(nil), obj.Ad.Groups...)
	g0 := a.Groups[0]
	g0.Ads = append([]sandbox.Ad(nil), g0.Ads...)
	ad := g0.Ads[0]
	ad.Headlines = []string{"Last days: 30% off", "Tents, packs and boots", "Free returns on all gear"}
	g0.Ads[0] = ad
	g0.Keywords = append(g0.Keywords, sandbox.Keyword{Text: "trekking poles", Match: sandbox.MatchBroad})
	a.Groups[0] = g0
	a.Groups = append(a.Groups[:1], sandbox.AdGroup{Name: "Group Z", MaxCPC: "0.90", MaxCPCMicros: 900_000, Keywords: []sandbox.Keyword{{Text: "sleeping bags", Match: sandbox.MatchExact}}, Ads: obj.Ad.Groups[1].Ads})
	rev.Ad, rev.Revision = &a, 2
	rev.Refs = map[string]string{obj.ArtifactID: st.ID}
	if as, err := tg.Assess(ctx, rev); err != nil || len(as.Problems) > 0 {
		t.Fatalf("Assess(rev 2) = %+v %v", as, err)
	}
	up, err := tg.Put(ctx, rev, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != st.ID || up.Status != "enabled" || up.Version == st.Version {
		t.Fatalf("update = %+v after %+v: want the same id, still enabled, a new version", up, st)
	}
	c, _ := srv.Campaign(st.ID)
	b, _ := srv.Budget(st.ID)
	if b.ID != oldBudget.ID || b.AmountMicros != 40_000_000 || !strings.HasPrefix(c.Name, "Spring sale (extended) [") || c.EndDate != a.EndDate+" 23:59:59" {
		t.Errorf("after the update: campaign %+v budget %+v", c, b)
	}
	if len(srv.Campaigns()) != 1 || srv.Budgets() != 1 {
		t.Errorf("%d campaigns and %d budgets, want 1 and 1", len(srv.Campaigns()), srv.Budgets())
	}
	tree := srv.Tree(st.ID)
	var removedAds, enabledAds, removedGroups, enabledGroups int
	for _, x := range tree.Ads {
		switch x.Status {
		case "REMOVED":
			removedAds++
		case "ENABLED":
			enabledAds++
		}
	}
	for _, g := range tree.Groups {
		switch g.Status {
		case "REMOVED":
			removedGroups++
		case "ENABLED":
			enabledGroups++
		}
	}
	// Group A: one ad replaced; group B removed (its two ads stay under it,
	// not serving); group Z new, enabled as the campaign is.
	if removedAds != 1 || enabledAds != 6 || removedGroups != 1 || enabledGroups != 2 {
		t.Errorf("ads removed %d enabled %d, groups removed %d enabled %d", removedAds, enabledAds, removedGroups, enabledGroups)
	}
	// Nothing changed: no write.
	m := srv.Counts().Mutates
	same, err := tg.Put(ctx, rev, st.ID)
	if err != nil || same.Version != up.Version || srv.Counts().Mutates != m {
		t.Errorf("Put of the same revision: %+v %v, %d mutates", same, err, srv.Counts().Mutates-m)
	}
}

func TestDryRun(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()

	good := adObj("Spring sale", 2, 3)
	before := srv.Counts()
	as, err := tg.Assess(ctx, good)
	if err != nil || len(as.Problems) > 0 || as.AudienceSize != -1 {
		t.Fatalf("Assess(good) = %+v %v", as, err)
	}
	if c := srv.Counts(); c.Mutates-before.Mutates != 1 || c.ValidateOnly-before.ValidateOnly != 1 {
		t.Errorf("dry run: %d mutates (%d validate-only), want exactly one validate-only request", c.Mutates-before.Mutates, c.ValidateOnly-before.ValidateOnly)
	}

	// A 31-character headline: a Problem with its position, found
	// locally, without asking Google.
	long := adObj("Spring sale", 1, 2)
	long.Ad.Groups[0].Ads[1].Headlines = append(long.Ad.Groups[0].Ads[1].Headlines, strings.Repeat("x", 31))
	as, err = tg.Assess(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ad_groups[0].ads[1].headlines[3]: 31 characters; Google Ads allows 30"; len(as.Problems) != 1 || as.Problems[0] != want {
		t.Errorf("Problems %q, want [%q]", as.Problems, want)
	}
	// Put without the local check: Google's refusal names the position,
	// and nothing is created (the request is atomic).
	if _, err := tg.Put(ctx, long, ""); err == nil || !strings.Contains(err.Error(), "ad_groups[0].ads[1].headlines[3]") || !strings.Contains(err.Error(), "stringLengthError TOO_LONG") {
		t.Errorf("Put(31-character headline): %v, want Google's TOO_LONG at ad_groups[0].ads[1].headlines[3]", err)
	}
	if n := len(srv.Campaigns()); n != 0 {
		t.Errorf("%d campaigns after refused requests, want none", n)
	}

	// Duplicate ad group names: a Problem with its position.
	twins := adObj("Twins", 2, 1)
	twins.Ad.Groups[1].Name = twins.Ad.Groups[0].Name
	as, err = tg.Assess(ctx, twins)
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(as.Problems, "\n"); !strings.Contains(text, "ad_groups[1].name: \"Group A\" is also ad_groups[0]'s") || !strings.Contains(text, "DUPLICATE_ADGROUP_NAME") {
		t.Errorf("Problems %q, want the duplicate ad group name at ad_groups[1].name", as.Problems)
	}

	// The campaign name is taken by what an interrupted promotion of this
	// very artifact created (its marker is in the name): Google's
	// DUPLICATE_CAMPAIGN_NAME makes the dry run check the update of that
	// campaign instead, and says so.
	taken := adObj("Taken", 1, 1)
	if _, err := tg.Put(ctx, taken, ""); err != nil {
		t.Fatal(err)
	}
	rev := taken
	a := *taken.Ad
	a.Budget.Micros, a.Budget.Amount = 30_000_000, "30.00"
	rev.Ad = &a
	before = srv.Counts()
	as, err = tg.Assess(ctx, rev)
	if err != nil || len(as.Problems) > 0 || !strings.Contains(strings.Join(as.Notes, "\n"), "is updated, not created again") {
		t.Errorf("Assess with the name taken by an earlier attempt: %+v %v", as, err)
	}
	if c := srv.Counts(); c.ValidateOnly-before.ValidateOnly != 2 || len(srv.Campaigns()) != 1 {
		t.Errorf("%d validate-only requests (create, then the update), %d campaigns", c.ValidateOnly-before.ValidateOnly, len(srv.Campaigns()))
	}
	if b, _ := srv.Budget(fmt.Sprint(srv.Campaigns()[0].ID)); b.AmountMicros != 25_000_000 {
		t.Errorf("the dry run changed the budget to %d", b.AmountMicros)
	}

	// Customer lists are refused with what to do instead.
	aud := adObj("Lookalike", 1, 1)
	aud.Ad.AudienceSegments = []string{"seg_vip"}
	as, _ = tg.Assess(ctx, aud)
	if text := strings.Join(as.Problems, "\n"); !strings.Contains(text, "customer lists") || !strings.Contains(text, "meta") {
		t.Errorf("Problems %q, want customer lists refused with an alternative", as.Problems)
	}
	// The wrong currency is refused.
	eur := adObj("Euro", 1, 1)
	eur.Ad.Budget.Currency = "EUR"
	as, _ = tg.Assess(ctx, eur)
	if text := strings.Join(as.Problems, "\n"); !strings.Contains(text, "budget.currency: EUR") {
		t.Errorf("Problems %q, want the currency refused", as.Problems)
	}
}

func TestResumedPutDoesNotDuplicate(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	obj := adObj("Spring sale", 1, 2)
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	// A resumed attempt looks first.
	obj.Resumed = true
	again, err := tg.Put(ctx, obj, "")
	if err != nil || again.ID != st.ID {
		t.Fatalf("resumed Put = %+v %v, want %s", again, err, st.ID)
	}
	// One that does not know it is resumed meets the name and adopts.
	obj.Resumed = false
	third, err := tg.Put(ctx, obj, "")
	if err != nil || third.ID != st.ID {
		t.Fatalf("repeated Put = %+v %v, want %s", third, err, st.ID)
	}
	if n := len(srv.Campaigns()); n != 1 || len(srv.Tree(st.ID).Ads) != 2 {
		t.Errorf("%d campaigns, %d ads; want 1 and 2", n, len(srv.Tree(st.ID).Ads))
	}
}

func TestRateLimit(t *testing.T) {
	// The fake allows 20 requests a second; the connector is told 1000,
	// so it meets the throttle and waits out Google's retryDelay.
	srv := googleadstest.New(t, googleadstest.WithRate(20, 1))
	tg := newTarget(t, srv, googleads.WithRetry(10, time.Millisecond, 5*time.Millisecond))
	ctx := context.Background()
	obj := adObj("Spring sale", 1, 1)
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(ctx, obj, st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if srv.Counts().Throttled == 0 {
		t.Fatal("the fake throttled nothing; the test proves nothing")
	}
	if c, _ := srv.Campaign(st.ID); c.Status != "ENABLED" || len(srv.Campaigns()) != 1 {
		t.Errorf("after throttled requests: %+v, %d campaigns", c, len(srv.Campaigns()))
	}

	// A wait longer than max_retry_wait is not waited out: the error
	// carries the delay and the 429, which the sandbox classes rate_limited.
	slow := googleadstest.New(t, googleadstest.WithRate(0.2, 1))
	cfg := googleads.Config{CustomerID: "1234567890", BaseURL: slow.BaseURL(), TokenURL: slow.TokenURL(), Currency: "USD", RequestsPerSecond: 1000, MaxRetryWait: time.Second}
	tg2 := newTargetCfg(t, slow, cfg)
	_, _, _ = tg2.Find(ctx, obj)
	_, _, err = tg2.Find(ctx, obj)
	var ra interface{ RetryAfter() time.Duration }
	var hs interface{ HTTPStatus() int }
	if !errors.As(err, &ra) || ra.RetryAfter() < 2*time.Second || !errors.As(err, &hs) || hs.HTTPStatus() != 429 {
		t.Fatalf("throttled Find: %v; want an error with RetryAfter and HTTP 429", err)
	}
	if !strings.Contains(err.Error(), "RESOURCE_TEMPORARILY_EXHAUSTED") || !strings.Contains(err.Error(), "try again in") {
		t.Errorf("error %q does not say what happened and when to retry", err)
	}
}

func TestAuthErrors(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100), googleadstest.WithLoginCustomerID("9876543210"))
	ctx := context.Background()
	secrets := []string{googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken, googleadstest.DefaultClientSecret, "wrong-refresh", "wrong-dev-token"}
	base := googleads.Config{CustomerID: "1234567890", LoginCustomerID: "987-654-3210", BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), RequestsPerSecond: 1000}
	logs := &promotetest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name                       string
		refresh, dev, login, check string
	}{
		{"revoked refresh token", "wrong-refresh", googleadstest.DefaultDeveloperToken, "987-654-3210", "invalid_grant"},
		{"bad developer token", googleadstest.DefaultRefreshToken, "wrong-dev-token", "987-654-3210", "DEVELOPER_TOKEN_INVALID"},
		{"wrong manager", googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken, "111-111-1111", "INVALID_LOGIN_CUSTOMER_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.LoginCustomerID = tc.login
			tg, err := googleads.New("gads", t.TempDir(), cfg, googleads.WithLogger(logger), googleads.WithRetry(2, time.Millisecond, time.Millisecond),
				googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, tc.refresh, tc.dev))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tg.Put(ctx, adObj("Spring sale", 1, 1), "")
			if !errors.Is(err, sandbox.ErrAuth) {
				t.Fatalf("Put: %v, want ErrAuth", err)
			}
			if !strings.Contains(err.Error(), "lastmile connect google-ads --name gads") || !strings.Contains(err.Error(), tc.check) {
				t.Errorf("error %q: want the cause (%s) and the reconnect command", err, tc.check)
			}
			if err := tg.CheckAuth(ctx); !errors.Is(err, sandbox.ErrAuth) {
				t.Errorf("CheckAuth: %v, want ErrAuth", err)
			}
			if _, err := tg.Assess(ctx, adObj("Spring sale", 1, 1)); !errors.Is(err, sandbox.ErrAuth) {
				t.Errorf("Assess: %v, want an ErrAuth error (not a Problem)", err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error carries a secret: %q", err)
				}
			}
		})
	}
	// A working target through the manager: everything, logged at debug.
	tg, err := googleads.New("gads", t.TempDir(), base, googleads.WithLogger(logger),
		googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken))
	if err != nil {
		t.Fatal(err)
	}
	obj := adObj("Spring sale", 1, 1)
	obj.Resumed = true
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Put(ctx, adObj("Spring sale", 1, 1), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Marked(ctx, sandbox.KindAd); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(ctx, obj, st, time.Time{}); err != nil {
		t.Fatal(err)
	}
	desc := tg.Describe()
	for _, s := range append(secrets, srv.AccessToken()) {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log carries a secret %q", s)
		}
		if strings.Contains(desc.Account, s) {
			t.Errorf("Describe carries a secret")
		}
	}
}

func TestMetrics(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	a, err := tg.Put(ctx, adObj("One", 1, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := tg.Put(ctx, adObj("Two", 1, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetMetrics(a.ID, "2027-03-01", googleadstest.Metrics{Impressions: 1000, Clicks: 40, CostMicros: 32_500_000, Conversions: 2.5})
	srv.SetMetrics(a.ID, "2027-03-02", googleadstest.Metrics{Impressions: 500, Clicks: 10, CostMicros: 9_000_000, Conversions: 0.25})
	items := []sandbox.MetricsItem{{ArtifactID: "ad_a", Kind: sandbox.KindAd, LiveID: a.ID}, {ArtifactID: "ad_b", Kind: sandbox.KindAd, LiveID: b.ID}}
	ms, err := tg.Metrics(ctx, sandbox.MetricsRequest{Items: items})
	if err != nil || len(ms) != 2 {
		t.Fatalf("Metrics = %+v %v", ms, err)
	}
	want := map[string]int64{sandbox.MetricImpressions: 1500, sandbox.MetricClicks: 50, sandbox.MetricCostMicros: 41_500_000, sandbox.MetricConversionsMilli: 2750}
	for k, v := range want {
		if ms[0].Counters[k] != v {
			t.Errorf("all time %s = %d, want %d", k, ms[0].Counters[k], v)
		}
	}
	if ms[0].Source != "google_ads" || ms[1].Counters[sandbox.MetricClicks] != 0 {
		t.Errorf("metrics %+v", ms)
	}
	since := time.Date(2027, 3, 2, 15, 0, 0, 0, time.UTC) // 10:00 in New York: 2 March
	ms, err = tg.Metrics(ctx, sandbox.MetricsRequest{Items: items, Since: since})
	if err != nil || ms[0].Counters[sandbox.MetricClicks] != 10 || ms[0].Counters[sandbox.MetricConversionsMilli] != 250 {
		t.Errorf("since 2 March: %+v %v", ms, err)
	}
}

func TestSweep(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
	tg := newTarget(t, srv)
	ctx := context.Background()
	paused, enabled, spent := adObj("Paused", 1, 1), adObj("Enabled", 1, 1), adObj("Spent", 1, 1)
	var ids []string
	for _, o := range []sandbox.Object{paused, enabled, spent} {
		st, err := tg.Put(ctx, o, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	if _, err := tg.Publish(ctx, enabled, sandbox.LiveState{ID: ids[1]}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	srv.SetMetrics(ids[2], "2027-03-01", googleadstest.Metrics{Impressions: 3, CostMicros: 10_000})
	ms, err := tg.Marked(ctx, sandbox.KindAd)
	if err != nil || len(ms) != 3 {
		t.Fatalf("Marked = %+v %v", ms, err)
	}
	reached := map[string]bool{}
	for _, m := range ms {
		reached[m.ArtifactID] = m.Reached
		err := tg.Discard(ctx, m)
		if m.Reached != errors.Is(err, sandbox.ErrReachedPeople) || (!m.Reached && err != nil) {
			t.Errorf("Discard(%s, reached %v): %v", m.ArtifactID, m.Reached, err)
		}
	}
	if reached[paused.ArtifactID] || !reached[enabled.ArtifactID] || !reached[spent.ArtifactID] {
		t.Errorf("reached %v", reached)
	}
	if c, _ := srv.Campaign(ids[0]); c.Status != "REMOVED" {
		t.Errorf("the paused, unspent campaign is %s, want REMOVED", c.Status)
	}
	if c, _ := srv.Campaign(ids[2]); c.Status != "PAUSED" {
		t.Errorf("the campaign that spent is %s, want it left PAUSED", c.Status)
	}
}
