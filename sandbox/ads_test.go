package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// adPlatform is an ad platform in memory: campaigns keyed by id, their
// status, and every call in order, so tests can tell what was created,
// enabled, paused and when.
type adPlatform struct {
	platform string
	mu       sync.Mutex
	seq      int
	byID     map[string]*adLive
	calls    []string
	// refuse, when set, is what the platform's dry run says of every
	// campaign (Assess Problems).
	refuse string
}

type adLive struct {
	id, marker, status string
	ad                 *sandbox.AdCampaign
	version            int
}

func newAdPlatform(platform string) *adPlatform {
	return &adPlatform{platform: platform, byID: map[string]*adLive{}}
}

func (p *adPlatform) Name() string     { return "ads" }
func (p *adPlatform) Platform() string { return p.platform }
func (p *adPlatform) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Ads: true, Metrics: true}
}

func (p *adPlatform) Assess(_ context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "dry-run "+obj.ArtifactID)
	a := sandbox.Assessment{AudienceSize: -1}
	if p.refuse != "" {
		a.Problems = append(a.Problems, p.refuse)
	}
	return a, nil
}

func (p *adPlatform) state(l *adLive) sandbox.LiveState {
	return sandbox.LiveState{ID: l.id, Version: fmt.Sprint(l.version), Status: l.status}
}

func (p *adPlatform) Live(_ context.Context, _ sandbox.Kind, id string) (sandbox.LiveState, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.byID[id]; l != nil {
		return p.state(l), true, nil
	}
	return sandbox.LiveState{}, false, nil
}

func (p *adPlatform) Find(_ context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.byID {
		if l.marker == obj.Marker {
			return p.state(l), true, nil
		}
	}
	return sandbox.LiveState{}, false, nil
}

func (p *adPlatform) Put(_ context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if obj.Ad == nil {
		return sandbox.LiveState{}, fmt.Errorf("ads: %s: %w", obj.Kind, sandbox.ErrNotSupported)
	}
	for _, g := range obj.Ad.Groups {
		for _, ad := range g.Ads {
			if ad.PagePending {
				return sandbox.LiveState{}, fmt.Errorf("ads: a pending page URL reached Put: %s", ad.FinalURL)
			}
		}
	}
	l := p.byID[liveID]
	if l == nil {
		p.seq++
		l = &adLive{id: fmt.Sprintf("cmp-%d", p.seq), marker: obj.Marker, status: "paused"}
		p.byID[l.id] = l
		p.calls = append(p.calls, "create "+obj.ArtifactID)
	} else {
		p.calls = append(p.calls, "update "+obj.ArtifactID)
	}
	l.ad, l.version = obj.Ad, l.version+1
	return p.state(l), nil
}

func (p *adPlatform) Send(context.Context, sandbox.Object, sandbox.LiveState, time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, fmt.Errorf("ads: send: %w", sandbox.ErrNotSupported)
}

func (p *adPlatform) Publish(_ context.Context, obj sandbox.Object, live sandbox.LiveState, _ time.Time) (sandbox.LiveState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byID[live.ID]
	if l == nil {
		return sandbox.LiveState{}, errors.New("ads: no such campaign " + live.ID)
	}
	if l.status != "enabled" {
		l.status, l.version = "enabled", l.version+1
		p.calls = append(p.calls, "enable "+obj.ArtifactID)
	}
	return p.state(l), nil
}

func (p *adPlatform) CanRetire(k sandbox.Kind, op string) (string, error) {
	return "the platform " + op + "s it", nil
}

func (p *adPlatform) Retire(_ context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byID[live.ID]
	if l == nil {
		return sandbox.LiveState{}, errors.New("ads: no such campaign " + live.ID)
	}
	want := map[string]string{sandbox.OpPause: "paused", sandbox.OpResume: "enabled", sandbox.OpRemove: "removed"}[op]
	if l.status != want {
		l.status, l.version = want, l.version+1
		p.calls = append(p.calls, op+" "+obj.ArtifactID)
	}
	return p.state(l), nil
}

func (p *adPlatform) Metrics(_ context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	var out []sandbox.Metrics
	for _, it := range req.Items {
		out = append(out, sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID, Source: p.platform, Counters: map[string]int64{
			sandbox.MetricImpressions: 10_000, sandbox.MetricClicks: 400, sandbox.MetricCostMicros: 300_000_000, sandbox.MetricConversionsMilli: 20_000,
		}})
	}
	return out, nil
}

func (p *adPlatform) callLog() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *adPlatform) campaign(id string) *adLive {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id]
}

// searchAd is a well-formed Google search campaign input.
func searchAd(campaignID, pageID string) sandbox.AdCampaignInput {
	ad := sandbox.Ad{Headlines: []string{"Spring gear, 30% off", "Tents, packs and boots", "Free returns"},
		Descriptions: []string{"Thirty percent off tents, packs and boots this week.", "Order by Friday."}}
	if pageID != "" {
		ad.PageID = pageID
	} else {
		ad.FinalURL = "https://www.acme.com/spring"
	}
	return sandbox.AdCampaignInput{
		CampaignID: campaignID, Name: "Spring search", Objective: sandbox.ObjectiveTraffic, Target: "ads",
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "150.00", Currency: "USD"},
		StartDate: "2027-03-08", EndDate: "2027-04-07", Locations: []string{"us"}, Languages: []string{"en"},
		Groups: []sandbox.AdGroup{{Name: "Tents", MaxCPC: "1.20", Keywords: []sandbox.Keyword{{Text: "camping tents", Match: "phrase"}}, Ads: []sandbox.Ad{ad}}},
		Enable: true,
	}
}

// usCampaign creates a campaign for the US market.
func usCampaign(t *testing.T, e *env, name string) *sandbox.Campaign {
	t.Helper()
	c, err := e.sb.CreateCampaign(context.Background(), "test", sandbox.CampaignInput{Name: name, Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newAdEnv(t *testing.T, o envOptions) (*env, *adPlatform) {
	t.Helper()
	ads := newAdPlatform(sandbox.PlatformGoogleAds)
	o.targets = map[string]sandbox.Target{"ads": ads}
	return newEnv(t, o), ads
}

func TestStageAdCampaignRefusesWithPositions(t *testing.T) {
	ctx := context.Background()
	e, _ := newAdEnv(t, envOptions{})
	c := usCampaign(t, e, "Ads")
	for _, tc := range []struct {
		name  string
		edit  func(in *sandbox.AdCampaignInput)
		field string
	}{
		{"amount", func(in *sandbox.AdCampaignInput) { in.Budget.Amount = "12.345" }, "budget"},
		{"yen cents", func(in *sandbox.AdCampaignInput) { in.Budget.Amount, in.Budget.Currency = "100.5", "JPY" }, "budget"},
		{"period", func(in *sandbox.AdCampaignInput) { in.Budget.Period = "weekly" }, "budget.period"},
		{"past start", func(in *sandbox.AdCampaignInput) { in.StartDate = "2027-02-01" }, "start_date"},
		{"end before start", func(in *sandbox.AdCampaignInput) { in.EndDate = "2027-03-01" }, "end_date"},
		{"lifetime without end", func(in *sandbox.AdCampaignInput) { in.Budget.Period, in.EndDate = "lifetime", "" }, "end_date"},
		{"no locations", func(in *sandbox.AdCampaignInput) { in.Locations = nil }, "locations"},
		{"bad location", func(in *sandbox.AdCampaignInput) { in.Locations = []string{"USA"} }, "locations[0]"},
		{"bad language", func(in *sandbox.AdCampaignInput) { in.Languages = []string{"english"} }, "languages[0]"},
		{"match type", func(in *sandbox.AdCampaignInput) { in.Groups[0].Keywords[0].Match = "fuzzy" }, "ad_groups[0].keywords[0].match"},
		{"meta fields on google", func(in *sandbox.AdCampaignInput) { in.Groups[0].Ads[0].PrimaryText = "Hi" }, "ad_groups[0].ads[0]"},
		{"http url", func(in *sandbox.AdCampaignInput) { in.Groups[0].Ads[0].FinalURL = "http://www.acme.com/" }, "ad_groups[0].ads[0].final_url"},
		{"unknown page", func(in *sandbox.AdCampaignInput) {
			in.Groups[0].Ads[0].FinalURL, in.Groups[0].Ads[0].PageID = "", "pg_01jzzzzzzzzzzzzzzzzzzzzzzz"
		}, "ad_groups[0].ads[0].page_id"},
		{"email target", func(in *sandbox.AdCampaignInput) { in.Target = "local" }, "target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := searchAd(c.ID, "")
			tc.edit(&in)
			_, err := e.sb.StageAdCampaign(ctx, "agent", in)
			var ve *sandbox.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("StageAdCampaign: %v, want a ValidationError", err)
			}
			found := false
			for _, p := range ve.Problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("problems %+v name no field %q", ve.Problems, tc.field)
			}
		})
	}
}

// One plan holds a page and a search campaign that sends clicks to it:
// the plan states the most the campaign can spend, the page is published
// before the campaign is made, the campaign is made paused with the page's
// live URL (tagged cpc) in its final URLs, and it is enabled last.
func TestAdPlanStatesSpendAndEnablesLast(t *testing.T) {
	ctx := context.Background()
	e, ads := newAdEnv(t, envOptions{siteURL: "https://lp.acme.com"})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Spring", Markets: []string{"US"}, UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "spring27"}})
	if err != nil {
		t.Fatal(err)
	}
	pg, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.ID, Title: "Spring", Slug: "spring", HTML: "<html><body><h1>Spring</h1></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.sb.StageAdCampaign(ctx, "agent", searchAd(c.ID, pg.Artifact.ID))
	if err != nil {
		t.Fatal(err)
	}
	adID := res.Artifact.ID
	p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var put, enable *sandbox.PlanStep
	for i := range p.Steps {
		st := &p.Steps[i]
		if st.ArtifactID == adID && st.Op == sandbox.OpCreate {
			put = st
		}
		if st.ArtifactID == adID && st.Op == sandbox.OpEnable {
			enable = st
		}
	}
	if put == nil || enable == nil {
		t.Fatalf("steps %+v: want a create and an enable step for %s", p.Steps, adID)
	}
	const want = "up to $150.00/day from 2027-03-08 to 2027-04-07, ≤ $4,650.00 total (31 days)"
	if !enable.Irreversible || enable.Spend == nil || enable.Spend.Text != want {
		t.Errorf("enable step = %+v, want irreversible with spend %q", enable, want)
	}
	if enable.Spend != nil && enable.Spend.TotalMicros != 4_650_000_000 {
		t.Errorf("total = %d micros, want 4,650,000,000", enable.Spend.TotalMicros)
	}
	if got := ads.callLog(); len(got) != 1 || got[0] != "dry-run "+adID {
		t.Errorf("platform calls while planning = %q, want one dry run", got)
	}
	planAndApproveID(t, e, p.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, c := range ads.callLog() {
		if !strings.HasPrefix(c, "dry-run ") { // confirmation may ask again
			calls = append(calls, c)
		}
	}
	if strings.Join(calls, ",") != "create "+adID+",enable "+adID {
		t.Errorf("platform calls = %q, want create then enable", calls)
	}
	live := ads.campaign(liveOf(t, e, adID).LiveID)
	if live == nil || live.status != "enabled" {
		t.Fatalf("live campaign %+v, want enabled", live)
	}
	pageLive := liveOf(t, e, pg.Artifact.ID)
	final, err := url.Parse(live.ad.Groups[0].Ads[0].FinalURL)
	if err != nil {
		t.Fatal(err)
	}
	q := final.Query()
	if base := strings.SplitN(final.String(), "?", 2)[0]; pageLive == nil || base != strings.SplitN(pageLive.URL, "?", 2)[0] {
		t.Errorf("final URL %s, want the page's live URL %v", final, pageLive)
	}
	if q.Get("utm_source") != "google" || q.Get("utm_medium") != "cpc" || q.Get("utm_campaign") != "spring27" || q.Get("utm_content") != adID {
		t.Errorf("final URL's UTM = %v, want google/cpc/spring27/%s", q, adID)
	}
}

// liveOf is an artifact's binding.
func liveOf(t *testing.T, e *env, id string) *sandbox.Binding {
	t.Helper()
	v, err := e.sb.GetArtifact(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v.Artifact.Live
}

// promoteNow plans the campaign, approves the plan and confirms it.
func promoteNow(t *testing.T, e *env, campaignID, what string) *sandbox.Plan {
	t.Helper()
	ctx := context.Background()
	p, err := e.sb.PlanPromotion(ctx, "agent", campaignID)
	if err != nil {
		t.Fatalf("%s: plan: %v", what, err)
	}
	planAndApproveID(t, e, p.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatalf("%s: confirm: %v", what, err)
	}
	return p
}

func planAndApproveID(t *testing.T, e *env, planID string) {
	t.Helper()
	if _, err := e.sb.Approve(context.Background(), sandbox.ApproveInput{PlanID: planID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, planID)}); err != nil {
		t.Fatal(err)
	}
}

// A budget above the policy's threshold needs the finance role: an
// approval without it does not let the campaign run.
func TestAdBudgetNeedsFinance(t *testing.T) {
	ctx := context.Background()
	pol := mustPolicy(t, `version: 1
roles:
  finance: [fran]
approval:
  channels:
    cli: {roles: true}
rules:
  - id: approvals.spend
    kind: approvals
    roles: [finance]
    min_daily_budget: USD 100
`)
	e, ads := newAdEnv(t, envOptions{policy: pol})
	c := usCampaign(t, e, "Spend")
	in := searchAd(c.ID, "")
	in.Budget.Amount = "99.99"
	res, err := e.sb.StageAdCampaign(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Approvals.Roles) != 0 {
		t.Errorf("a $99.99/day budget needs roles %v, want none", p.Approvals.Roles)
	}
	in.AdID, in.Budget.Amount = res.Artifact.ID, "100.00"
	if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	p, err = e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Approvals.Roles, ",") != "finance" {
		t.Fatalf("a $100/day budget: roles %v, want finance (reasons %q)", p.Approvals.Roles, p.Approvals.Reasons)
	}
	planAndApproveID(t, e, p.ID) // dana: no role
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err == nil || !strings.Contains(err.Error(), "role finance") {
		t.Fatalf("confirm without finance: %v, want a refusal naming the role", err)
	}
	if got := ads.callLog(); len(got) != 2 {
		t.Errorf("platform calls = %q, want only the two dry runs", got)
	}
	if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "fran", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatalf("confirm with finance: %v", err)
	}
}

// The platforms' limits are findings with positions, blocking the plan,
// whether or not a policy is configured; a dry-run rejection is a plan
// error before any human is asked.
func TestAdLimitsAndDryRun(t *testing.T) {
	ctx := context.Background()
	e, ads := newAdEnv(t, envOptions{})
	c := usCampaign(t, e, "Limits")
	in := searchAd(c.ID, "")
	in.Groups[0].Ads[0].Headlines[2] = "Free returns on every single order" // 34 characters
	if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Governance.Errors != 1 || p.Status != sandbox.PlanBlocked {
		t.Fatalf("governance %+v status %s, want one error and a blocked plan", p.Governance, p.Status)
	}
	f := p.Governance.Findings[0]
	if f.Rule != sandbox.RuleAdLimits || f.Field != "ad_groups[0].ads[0].headlines[2]" || !strings.Contains(f.Message, "34 characters; Google Ads allows 30") {
		t.Errorf("finding %+v", f)
	}
	ads.refuse = "ad_groups[0].ads[0].final_url: DESTINATION_NOT_WORKING"
	in.AdID = ""
	in.Name = "Second"
	in.Groups[0].Ads[0].Headlines[2] = "Free returns"
	if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.PlanPromotion(ctx, "agent", c.ID)
	var pe *sandbox.PlanError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "DESTINATION_NOT_WORKING") {
		t.Fatalf("plan with a dry-run rejection: %v, want a PlanError carrying it", err)
	}
}

// Pause, resume and a budget change are planned operations; a removed
// campaign never runs again.
func TestAdPauseResumeRemove(t *testing.T) {
	ctx := context.Background()
	e, ads := newAdEnv(t, envOptions{})
	c := usCampaign(t, e, "Ops")
	in := searchAd(c.ID, "")
	res, err := e.sb.StageAdCampaign(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	adID := res.Artifact.ID
	promote := func(what string) *sandbox.Plan { t.Helper(); return promoteNow(t, e, c.ID, what) }
	status := func() string {
		return ads.campaign(liveOf(t, e, adID).LiveID).status
	}
	promote("first")
	if s := status(); s != "enabled" {
		t.Fatalf("after the first plan: %s", s)
	}
	if _, err := e.sb.StageRetire(ctx, "agent", adID, sandbox.OpPause); err != nil {
		t.Fatal(err)
	}
	promote("pause")
	if s := status(); s != "paused" {
		t.Fatalf("after pause: %s", s)
	}
	if _, err := e.sb.StageRetire(ctx, "agent", adID, sandbox.OpResume); err != nil {
		t.Fatal(err)
	}
	p := promote("resume")
	if s := status(); s != "enabled" {
		t.Fatalf("after resume: %s", s)
	}
	if st := p.Steps[0]; st.Op != sandbox.OpResume || st.Spend == nil || !strings.Contains(st.Diff, "$150.00/day") {
		t.Errorf("resume step %+v, want the spend stated", st)
	}
	in.AdID, in.Budget.Amount = adID, "80.00"
	if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	p = promote("budget")
	if st := p.Steps[0]; st.Op != sandbox.OpUpdate || st.Spend == nil || !strings.Contains(st.Spend.Text, "$80.00/day") ||
		!strings.Contains(st.Diff, "~ budget: $150.00 daily → $80.00 daily") {
		t.Errorf("budget step %+v, want the change in its diff", st)
	}
	if l := ads.campaign(liveOf(t, e, adID).LiveID); l.ad.Budget.Micros != 80_000_000 || status() != "enabled" {
		t.Errorf("after the budget change: %+v, %s", l.ad.Budget, status())
	}
	if _, err := e.sb.StageRetire(ctx, "agent", adID, sandbox.OpRemove); err != nil {
		t.Fatal(err)
	}
	promote("remove")
	if s := status(); s != "removed" {
		t.Fatalf("after remove: %s", s)
	}
	if _, err := e.sb.StageRetire(ctx, "agent", adID, sandbox.OpResume); err == nil || !strings.Contains(err.Error(), "cannot run again") {
		t.Errorf("resume after remove: %v, want a refusal", err)
	}
}

// fetch_metrics reads an ad campaign's impressions, clicks, cost and
// conversions with their ratios, and the spend feeds the ROI report.
func TestAdMetricsAndSpend(t *testing.T) {
	ctx := context.Background()
	e, _ := newAdEnv(t, envOptions{})
	c := usCampaign(t, e, "Measured")
	res, err := e.sb.StageAdCampaign(ctx, "agent", searchAd(c.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	promoteNow(t, e, c.ID, "the campaign")
	ms, err := e.sb.FetchMetrics(ctx, sandbox.MetricsScope{CampaignID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].ArtifactID != res.Artifact.ID {
		t.Fatalf("metrics %+v, want the ad campaign's", ms)
	}
	m := ms[0]
	if m.Impressions != 10_000 || m.Clicks != 400 || m.Cost != "$300.00" || m.Conversions != 20 || m.CTR != 0.04 || m.CPCMicros != 750_000 || m.CPAMicros != 15_000_000 {
		t.Errorf("metrics %+v", m)
	}
	spend, err := e.sb.AdSpend(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(spend) != 1 || spend[0].Currency != "USD" || spend[0].Minor != 30_000 {
		t.Errorf("AdSpend = %+v, want USD 300.00", spend)
	}
}

// The policy's word rules apply to ad text (channels: [ad]), each finding
// at the headline or description it is in.
func TestPolicyRulesApplyToAdText(t *testing.T) {
	ctx := context.Background()
	pol := mustPolicy(t, `version: 1
rules:
  - id: claims.guarantee
    kind: existence
    level: error
    channels: [ad]
    tokens: [guaranteed]
    message: "Don't promise results in ads"
  - id: claims.disclaimer
    kind: required_text
    level: warning
    channels: [ad]
    text: "Terms apply"
`)
	e, _ := newAdEnv(t, envOptions{policy: pol})
	c := usCampaign(t, e, "Claims")
	in := searchAd(c.ID, "")
	in.Groups[0].Ads[0].Descriptions[1] = "Guaranteed delivery by Friday."
	if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{CampaignID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range rep.Findings {
		rules = append(rules, f.Rule+"@"+f.Field)
	}
	got := strings.Join(rules, " ")
	if !strings.Contains(got, "claims.guarantee@ad_groups[0].ads[0].descriptions[1]") || !strings.Contains(got, "claims.disclaimer") {
		t.Errorf("findings %s, want the guarantee at ad_groups[0].ads[0].descriptions[1] and the missing disclaimer", got)
	}
}

// Final tags every ad's final URL as its platform's paid click: Google
// cpc, Meta paid_social; a page stands in as pending until promotion.
func TestFinalTagsAdURLsByPlatform(t *testing.T) {
	c := &sandbox.Campaign{ID: "cmp_x", UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}}
	for _, tc := range []struct{ platform, source, medium string }{
		{sandbox.PlatformGoogleAds, "google", "cpc"},
		{sandbox.PlatformMeta, "facebook", "paid_social"},
	} {
		r := &sandbox.Revision{ArtifactID: "ad_x", Ad: &sandbox.AdCampaign{Platform: tc.platform, Groups: []sandbox.AdGroup{{Ads: []sandbox.Ad{
			{FinalURL: "https://www.acme.com/spring?ref=ad"}, {PageID: "pg_y"}}}}}}
		f := sandbox.Final(c, r)
		got, pending := f.Ad.Groups[0].Ads[0].FinalURL, f.Ad.Groups[0].Ads[1]
		want := "https://www.acme.com/spring?ref=ad&utm_source=" + tc.source + "&utm_medium=" + tc.medium + "&utm_campaign=spring&utm_content=ad_x"
		if got != want {
			t.Errorf("%s: final URL %s, want %s", tc.platform, got, want)
		}
		if !pending.PagePending || !strings.HasPrefix(pending.FinalURL, sandbox.PendingPageURL("pg_y")+"?utm_source="+tc.source) {
			t.Errorf("%s: the page's ad %+v, want the pending stand-in, tagged", tc.platform, pending)
		}
		if r.Ad.Groups[0].Ads[0].FinalURL != "https://www.acme.com/spring?ref=ad" {
			t.Error("Final changed the staged revision")
		}
	}
}

// The attack: once a human approved a plan at $50 a day, the agent raises
// the budget (or swaps the landing URL) before confirming. The approval
// binds the revision it saw: confirmation refuses the stale plan and
// nothing reaches the platform.
func TestRaisingABudgetAfterApprovalIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(in *sandbox.AdCampaignInput)
	}{
		{"budget", func(in *sandbox.AdCampaignInput) { in.Budget.Amount = "5000.00" }},
		{"end date", func(in *sandbox.AdCampaignInput) { in.EndDate = "2028-03-08" }},
		{"final url", func(in *sandbox.AdCampaignInput) { in.Groups[0].Ads[0].FinalURL = "https://evil.example/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ads := newAdEnv(t, envOptions{})
			c := usCampaign(t, e, "Bound")
			in := searchAd(c.ID, "")
			in.Budget.Amount = "50.00"
			res, err := e.sb.StageAdCampaign(ctx, "agent", in)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
			if err != nil {
				t.Fatal(err)
			}
			planAndApproveID(t, e, p.ID)
			in.AdID = res.Artifact.ID
			tc.edit(&in)
			if _, err := e.sb.StageAdCampaign(ctx, "agent", in); err != nil {
				t.Fatal(err)
			}
			_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
			var re *sandbox.RefusedError
			if !errors.As(err, &re) || re.Code != sandbox.RefusedStale {
				t.Fatalf("confirm after the change: %v, want a stale-plan refusal", err)
			}
			for _, call := range ads.callLog() {
				if !strings.HasPrefix(call, "dry-run ") {
					t.Errorf("the platform was written to: %s", call)
				}
			}
		})
	}
}

// An ad that sends clicks to a live page no visitor can reach (a local
// page without a site URL is a file) cannot be planned.
func TestAdToAnOfflinePageIsAPlanProblem(t *testing.T) {
	ctx := context.Background()
	e, ads := newAdEnv(t, envOptions{})
	c := usCampaign(t, e, "Offline")
	pg, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.ID, Title: "Spring", Slug: "spring", HTML: "<html><body><h1>Spring</h1></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	promoteNow(t, e, c.ID, "the page")
	if _, err := e.sb.StageAdCampaign(ctx, "agent", searchAd(c.ID, pg.Artifact.ID)); err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.PlanPromotion(ctx, "agent", c.ID)
	var pe *sandbox.PlanError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a public web address") {
		t.Fatalf("plan: %v, want a problem naming the page's address", err)
	}
	for _, call := range ads.callLog() {
		if !strings.HasPrefix(call, "dry-run ") {
			t.Errorf("the platform was written to: %s", call)
		}
	}
}
