package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// Local limits checked before the dry run. Headline 40 characters is the
// most Meta's feed shows [3p]; the rest are the contract fake's bounds.
const (
	maxName        = 400
	maxHeadline    = 40
	maxDescription = 255
	maxPrimaryText = 2200
)

// accountInfo is what lastmile reads of the ad account.
type accountInfo struct {
	Name     string `json:"name"`
	Currency string `json:"currency"`
	TimeZone string `json:"timezone_name"`
	Status   int    `json:"account_status"`
}

func (t *Target) readAccount(ctx context.Context) (accountInfo, error) {
	var a accountInfo
	err := t.get(ctx, "/"+t.account, url.Values{"fields": {"name,currency,timezone_name,account_status"}}, &a)
	return a, err
}

// accountOf returns the account, read once.
func (t *Target) accountOf(ctx context.Context) (accountInfo, error) {
	t.acctMu.Lock()
	defer t.acctMu.Unlock()
	if t.acct != nil && t.acct.TimeZone != "" {
		return *t.acct, nil
	}
	a, err := t.readAccount(ctx)
	if err != nil {
		return accountInfo{}, t.fail("read ad account "+t.account, err)
	}
	t.acct = &a
	return a, nil
}

// tagRE reads a name's lastmile tag: the marker, then the ad set (g0), the
// ad (a1) and the creative content hash (c…).
// A custom audience's tag names the segment (s0) and the hash of its
// members (m…).
var tagRE = regexp.MustCompile(`\[(` + regexp.QuoteMeta(sandbox.MarkerPrefix) + `[^\s\]]+)(?: (g\d+))?(?: (a\d+))?(?: (s\d+))?(?: ([cm][0-9a-f]+))?\]$`)

type tag struct{ marker, group, ad, seg, hash string }

func tagOf(name string) (tag, bool) {
	m := tagRE.FindStringSubmatch(name)
	if m == nil {
		return tag{}, false
	}
	return tag{m[1], m[2], m[3], m[4], m[5]}, true
}

// desired is what the campaign should look like on Meta.
type desired struct {
	name     string
	campaign url.Values // create parameters, without status
	sets     []setPlan
}

type setPlan struct {
	key    string // g0
	name   string
	params url.Values // without campaign_id and status
	ads    []adPlan
}

type adPlan struct {
	key      string // g0 a1
	pos      string // ad_groups[0].ads[1]
	name     string // carries the creative hash
	hash     string
	creative url.Values
}

func objectiveOf(o string) (objective, goal string) {
	switch o {
	case sandbox.ObjectiveAwareness:
		return "OUTCOME_AWARENESS", "REACH"
	case sandbox.ObjectiveLeads:
		return "OUTCOME_LEADS", "LANDING_PAGE_VIEWS"
	case sandbox.ObjectiveSales:
		return "OUTCOME_SALES", "LANDING_PAGE_VIEWS"
	case sandbox.ObjectiveTraffic:
		return "OUTCOME_TRAFFIC", "LINK_CLICKS"
	}
	return "", ""
}

// metaTime is a day's start in the account's zone, as Graph writes times.
func metaTime(day string, loc *time.Location, addDays int) (string, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return "", err
	}
	return d.AddDate(0, 0, addDays).Format("2006-01-02T15:04:05-0700"), nil
}

func short(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:10]
}

// check validates the campaign locally; each problem names its position.
func (t *Target) check(a *sandbox.AdCampaign, segments map[string]*sandbox.Segment, acct accountInfo) (problems, notes []string) {
	p := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(a.Name) == "" {
		p("name: empty; Meta needs a campaign name")
	}
	if obj, _ := objectiveOf(a.Objective); obj == "" {
		p("objective: %q is not one of traffic, leads, sales, awareness", a.Objective)
	}
	switch a.Budget.Period {
	case sandbox.BudgetDaily, sandbox.BudgetLifetime:
	default:
		p("budget.period: %q is not daily or lifetime", a.Budget.Period)
	}
	if acct.Currency != "" && !strings.EqualFold(a.Budget.Currency, acct.Currency) {
		p("budget.currency: %s, but ad account %s bills in %s; Meta takes budgets in the account's currency: write the budget in %s", a.Budget.Currency, t.account, acct.Currency, acct.Currency)
	}
	if sandbox.MinorUnits(a.Budget.Micros, a.Budget.Currency) <= 0 {
		p("budget.amount: %q is less than the currency's smallest unit", a.Budget.Amount)
	}
	start, err := time.Parse(time.DateOnly, a.StartDate)
	if err != nil {
		p("start_date: %q is not YYYY-MM-DD", a.StartDate)
	}
	if a.EndDate != "" {
		end, err := time.Parse(time.DateOnly, a.EndDate)
		switch {
		case err != nil:
			p("end_date: %q is not YYYY-MM-DD", a.EndDate)
		case !start.IsZero() && end.Before(start):
			p("end_date: %s is before start_date %s", a.EndDate, a.StartDate)
		}
	} else if a.Budget.Period == sandbox.BudgetLifetime {
		p("end_date: a lifetime budget needs an end date on Meta (the ad sets' end_time); set end_date or use a daily budget")
	}
	if len(a.Locations) == 0 {
		p("locations: none; Meta needs at least one country (ISO code, e.g. US)")
	}
	for i, c := range a.Locations {
		if len(c) != 2 || strings.ToUpper(c) != c || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			p("locations[%d]: %q is not an ISO 3166-1 alpha-2 country code in upper case", i, c)
		}
	}
	if len(a.Languages) > 0 {
		notes = append(notes, fmt.Sprintf("languages %s are not targeted on Meta: its locales are numeric ids lastmile does not map, so the ads reach everyone in %s", strings.Join(a.Languages, ", "), strings.Join(a.Locations, ", ")))
	}
	for i, id := range a.AudienceSegments {
		seg := segments[id]
		switch {
		case seg == nil:
			p("audience_segments[%d]: segment %s is not in the campaign", i, id)
		case len(seg.Conditions) > 0 || len(seg.Groups) > 0 || len(seg.IncludeSegments) > 0 || len(seg.ExcludeSegments) > 0:
			p("audience_segments[%d]: segment %s (%q) selects by conditions or other segments; lastmile knows the addresses of static segments only, so only those can go to Meta as a customer list: use a segment of static_emails", i, id, seg.Name)
		case len(seg.StaticEmails) == 0:
			p("audience_segments[%d]: segment %s (%q) has no addresses", i, id, seg.Name)
		default:
			notes = append(notes, fmt.Sprintf("audience_segments[%d]: the %d addresses of segment %q go to Meta as a customer list (a custom audience; each address trimmed, lower-cased and hashed with SHA-256 before it leaves lastmile); Meta matches them to its accounts, and the ad sets reach only the matches; the account must have accepted Meta's Custom Audience terms",
				i, len(seg.StaticEmails), seg.Name))
		}
	}
	if t.pageID == "" {
		p("target %q has no page_id: Meta link ads run as a Facebook page; set page_id in its config or run lastmile connect meta --page-id PAGE again", t.name)
	}
	if obj, _ := objectiveOf(a.Objective); obj == "OUTCOME_LEADS" || obj == "OUTCOME_SALES" {
		notes = append(notes, "the ad sets optimise for landing page views: optimising for conversions needs a Meta pixel (promoted_object), which lastmile does not set")
	}
	if len(a.Groups) == 0 {
		p("ad_groups: none; a Meta campaign needs at least one ad set with one ad")
	}
	withBid := 0
	for i, g := range a.Groups {
		gp := fmt.Sprintf("ad_groups[%d]", i)
		if strings.TrimSpace(g.Name) == "" {
			p("%s.name: empty; Meta needs an ad set name", gp)
		}
		if g.MaxCPCMicros > 0 {
			withBid++
			if sandbox.MinorUnits(g.MaxCPCMicros, a.Budget.Currency) <= 0 {
				p("%s.max_cpc: %q is less than the currency's smallest unit", gp, g.MaxCPC)
			}
		}
		if len(g.Keywords) > 0 {
			p("%s.keywords: Meta has no search keywords; remove them, or put this campaign on a google_ads target", gp)
		}
		if len(g.Ads) == 0 {
			p("%s.ads: none; a Meta ad set needs at least one ad", gp)
		}
		for j, ad := range g.Ads {
			ap := fmt.Sprintf("%s.ads[%d]", gp, j)
			if len(ad.Headlines) > 0 || len(ad.Descriptions) > 0 || ad.Path1 != "" || ad.Path2 != "" {
				p("%s: headlines, descriptions, path1 and path2 are Google responsive search ad fields; a Meta link ad takes primary_text, headline, description, image_url and call_to_action", ap)
			}
			if ad.PrimaryText == "" && ad.Headline == "" {
				p("%s: no primary_text and no headline; a Meta link ad needs its copy", ap)
			}
			for _, f := range []struct {
				field, v string
				max      int
			}{{"primary_text", ad.PrimaryText, maxPrimaryText}, {"headline", ad.Headline, maxHeadline}, {"description", ad.Description, maxDescription}} {
				if n := utf8.RuneCountInString(f.v); n > f.max {
					p("%s.%s: %d characters; Meta allows %d", ap, f.field, n, f.max)
				}
			}
			if u, err := url.Parse(ad.FinalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p("%s.final_url: %q is not an http(s) URL", ap, ad.FinalURL)
			}
			if ad.ImageURL != "" {
				if u, err := url.Parse(ad.ImageURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p("%s.image_url: %q is not an http(s) URL", ap, ad.ImageURL)
				}
			} else {
				notes = append(notes, ap+": no image_url, so Meta shows the image of the page the ad links to (its og:image)")
			}
			if ad.CallToAction != "" && !callToActions[ad.CallToAction] {
				p("%s.call_to_action: %q is not one of Meta's buttons (e.g. LEARN_MORE, SHOP_NOW, SIGN_UP)", ap, ad.CallToAction)
			}
		}
	}
	if withBid > 0 && withBid < len(a.Groups) {
		p("ad_groups: %d of %d ad groups give max_cpc; Meta's bid cap is the campaign's bid strategy, so give every ad group a max_cpc or none", withBid, len(a.Groups))
	}
	return problems, notes
}

// plan builds what the campaign should look like on Meta.
func (t *Target) plan(obj sandbox.Object, acct accountInfo) (desired, error) {
	a := obj.Ad
	loc, err := time.LoadLocation(acct.TimeZone)
	if err != nil || acct.TimeZone == "" {
		loc = time.UTC
	}
	objective, goal := objectiveOf(a.Objective)
	d := desired{name: fmt.Sprintf("%s [%s]", a.Name, obj.Marker)}
	c := url.Values{"name": {d.name}, "objective": {objective}, "special_ad_categories": {"[]"}, "buying_type": {"AUCTION"}}
	budget := strconv.FormatInt(sandbox.MinorUnits(a.Budget.Micros, a.Budget.Currency), 10)
	if a.Budget.Period == sandbox.BudgetLifetime {
		c.Set("lifetime_budget", budget)
	} else {
		c.Set("daily_budget", budget)
	}
	bidCap := len(a.Groups) > 0 && a.Groups[0].MaxCPCMicros > 0
	if bidCap {
		c.Set("bid_strategy", "LOWEST_COST_WITH_BID_CAP")
	} else {
		c.Set("bid_strategy", "LOWEST_COST_WITHOUT_CAP")
	}
	d.campaign = c
	start, err := metaTime(a.StartDate, loc, 0)
	if err != nil {
		return d, fmt.Errorf("start_date %q: %w", a.StartDate, err)
	}
	end := ""
	if a.EndDate != "" {
		if end, err = metaTime(a.EndDate, loc, 1); err != nil {
			return d, fmt.Errorf("end_date %q: %w", a.EndDate, err)
		}
	}
	targeting := targetingOf(a.Locations, nil)
	for i, g := range a.Groups {
		key := fmt.Sprintf("g%d", i)
		sp := setPlan{key: key, name: fmt.Sprintf("%s [%s %s]", g.Name, obj.Marker, key)}
		v := url.Values{"name": {sp.name}, "billing_event": {"IMPRESSIONS"}, "optimization_goal": {goal},
			"targeting": {targeting}, "start_time": {start}}
		if end != "" {
			v.Set("end_time", end)
		}
		if bidCap {
			v.Set("bid_amount", strconv.FormatInt(sandbox.MinorUnits(g.MaxCPCMicros, a.Budget.Currency), 10))
		}
		sp.params = v
		for j, ad := range g.Ads {
			cta := ad.CallToAction
			if cta == "" {
				cta = "LEARN_MORE"
			}
			link := map[string]any{"link": ad.FinalURL, "call_to_action": map[string]any{"type": cta, "value": map[string]string{"link": ad.FinalURL}}}
			for k, val := range map[string]string{"message": ad.PrimaryText, "name": ad.Headline, "description": ad.Description, "picture": ad.ImageURL} {
				if val != "" {
					link[k] = val
				}
			}
			spec := jsonParam(map[string]any{"page_id": t.pageID, "link_data": link})
			hash := short(spec)
			label := ad.Headline
			if label == "" {
				label = g.Name
			}
			akey := fmt.Sprintf("%s a%d", key, j)
			name := fmt.Sprintf("%s [%s %s c%s]", rest.Clip(label, 100), obj.Marker, akey, hash)
			sp.ads = append(sp.ads, adPlan{key: akey, pos: fmt.Sprintf("ad_groups[%d].ads[%d]", i, j), name: name, hash: hash,
				creative: url.Values{"name": {name}, "object_story_spec": {spec}}})
		}
		d.sets = append(d.sets, sp)
	}
	if n := utf8.RuneCountInString(d.name); n > maxName {
		return d, fmt.Errorf("the campaign name with its marker is %d characters; Meta allows %d", n, maxName)
	}
	return d, nil
}

// targetingOf is the ad sets' targeting: the countries, and the custom
// audiences of the campaign's customer lists.
func targetingOf(countries, audiences []string) string {
	t := map[string]any{"geo_locations": map[string]any{"countries": countries}}
	if len(audiences) > 0 {
		var ca []map[string]string
		for _, id := range audiences {
			ca = append(ca, map[string]string{"id": id})
		}
		t["custom_audiences"] = ca
	}
	return jsonParam(t)
}

// assessAd checks locally, then dry-runs the campaign and each distinct
// creative with validate_only.
func (t *Target) assessAd(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	as := sandbox.Assessment{AudienceSize: -1}
	acct, err := t.accountOf(ctx)
	if err != nil {
		return as, err
	}
	as.Problems, as.Notes = t.check(obj.Ad, obj.Segments, acct)
	if len(as.Problems) > 0 {
		return as, nil
	}
	d, err := t.plan(obj, acct)
	if err != nil {
		as.Problems = append(as.Problems, err.Error())
		return as, nil
	}
	if liveID := obj.Refs[obj.ArtifactID]; liveID != "" {
		// An update: what Meta cannot change on the live campaign.
		var c node
		if err := t.get(ctx, "/"+liveID, url.Values{"fields": {campaignFields}}, &c); err != nil && !notFound(err) {
			return as, t.fail("read campaign "+liveID, err)
		} else if err == nil {
			daily := c.DailyBudget != "" && c.DailyBudget != "0"
			lifetime := c.LifetimeBudget != "" && c.LifetimeBudget != "0"
			if (daily && obj.Ad.Budget.Period == sandbox.BudgetLifetime) || (lifetime && obj.Ad.Budget.Period == sandbox.BudgetDaily) {
				as.Problems = append(as.Problems, fmt.Sprintf("budget.period: live campaign %s has a %s budget; Meta cannot switch a campaign between daily and lifetime budgets: keep the period, or stage a new ad campaign",
					liveID, map[bool]string{true: "daily", false: "lifetime"}[daily]))
				return as, nil
			}
		}
	}
	as.Notes = append(as.Notes, "dry run on Meta (validate_only): the campaign and every creative; ad sets and ads are checked by lastmile against the contract, since a dry run cannot give them the live parent they need")
	dry := func(pos, path string, v url.Values) error {
		v = cloneValues(v)
		v.Set("execution_options", `["validate_only"]`)
		if err := t.post(ctx, path, v, nil); err != nil {
			if p, ok := t.rejection(pos, err); ok {
				as.Problems = append(as.Problems, p)
				return nil
			}
			return t.fail("dry-run "+pos, err)
		}
		return nil
	}
	camp := cloneValues(d.campaign)
	camp.Set("status", "PAUSED")
	if err := dry("campaign", "/"+t.account+"/campaigns", camp); err != nil {
		return as, err
	}
	seen := map[string]bool{}
	for _, s := range d.sets {
		for _, ad := range s.ads {
			if seen[ad.hash] {
				continue
			}
			seen[ad.hash] = true
			if err := dry(ad.pos, "/"+t.account+"/adcreatives", ad.creative); err != nil {
				return as, err
			}
		}
	}
	return as, nil
}

// rejection turns a dry run's refusal into a Problem, or reports false for
// what is not the object's fault (auth, throttle, outage).
func (t *Target) rejection(pos string, err error) (string, bool) {
	g, ok := graphErrorOf(err)
	if !ok || g.Code == 190 || g.Code == 102 || g.Code == 104 || g.Code == 10 || (g.Code >= 200 && g.Code <= 299) || isThrottle(g.Code) || g.Code == 1 || g.Code == 2 || strings.Contains(g.Message, "appsecret_proof") {
		return "", false
	}
	if rs := statusOf(err); rs >= 500 {
		return "", false
	}
	where := pos
	if f := g.field(); f != "" {
		where += " (" + f + ")"
	}
	return redact(fmt.Sprintf("%s: Meta's dry run refused it: %s", where, g.said()), t.cred.Token), true
}

func statusOf(err error) int {
	if g, ok := err.(interface{ HTTPStatus() int }); ok {
		return g.HTTPStatus()
	}
	return 0
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = slices.Clone(x)
	}
	return out
}

const campaignFields = "id,name,status,effective_status,objective,bid_strategy,daily_budget,lifetime_budget,stop_time"
const setFields = "id,name,status,campaign_id,bid_amount,start_time,end_time,targeting"
const adFields = "id,name,status,adset_id,campaign_id,creative"

// campaignState is the campaign with its ad sets and ads as read back.
type campaignState struct {
	camp node
	sets []node
	ads  []node
}

func (t *Target) readCampaign(ctx context.Context, id string) (campaignState, bool, error) {
	var st campaignState
	if err := t.get(ctx, "/"+id, url.Values{"fields": {campaignFields}}, &st.camp); err != nil {
		if notFound(err) {
			return st, false, nil
		}
		return st, false, err
	}
	if st.camp.Status == "DELETED" {
		return st, true, nil
	}
	var err error
	if st.sets, err = t.list(ctx, "/"+id+"/adsets", setFields); err != nil {
		return st, true, err
	}
	if st.ads, err = t.list(ctx, "/"+id+"/ads", adFields); err != nil {
		return st, true, err
	}
	return st, true, nil
}

func statusWord(s string) string {
	switch s {
	case "ACTIVE":
		return "enabled"
	case "PAUSED":
		return "paused"
	case "DELETED":
		return "removed"
	}
	return strings.ToLower(s)
}

// state is the LiveState of what was read: Version hashes every field
// lastmile sets, of the campaign, its ad sets and its ads.
func (t *Target) state(st campaignState) sandbox.LiveState {
	h := sha256.New()
	c := st.camp
	fmt.Fprintf(h, "c|%s|%s|%s|%s|%s|%s|%s\n", c.ID, c.Name, c.Status, c.Objective, c.BidStrategy, c.DailyBudget, c.LifetimeBudget)
	for _, s := range sortedNodes(st.sets) {
		fmt.Fprintf(h, "s|%s|%s|%s|%s|%s|%s|%s\n", s.ID, s.Name, s.Status, s.BidAmount, s.StartTime, s.EndTime, canonJSON(s.Targeting))
	}
	for _, a := range sortedNodes(st.ads) {
		cr := ""
		if a.Creative != nil {
			cr = a.Creative.ID
		}
		fmt.Fprintf(h, "a|%s|%s|%s|%s|%s\n", a.ID, a.Name, a.Status, a.AdSetID, cr)
	}
	return sandbox.LiveState{ID: c.ID, Version: hex.EncodeToString(h.Sum(nil))[:16], Status: statusWord(c.Status),
		URL: fmt.Sprintf("https://adsmanager.facebook.com/adsmanager/manage/campaigns?act=%s&selected_campaign_ids=%s", strings.TrimPrefix(t.account, "act_"), c.ID)}
}

func sortedNodes(ns []node) []node {
	out := slices.Clone(ns)
	slices.SortFunc(out, func(a, b node) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func canonJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (t *Target) liveCampaign(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return sandbox.LiveState{}, false, nil
	}
	st, found, err := t.readCampaign(ctx, id)
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("read campaign "+id, err)
	}
	if !found {
		return sandbox.LiveState{}, false, nil
	}
	return t.state(st), true, nil
}

// findCampaign lists the account's campaigns and matches the marker.
func (t *Target) findCampaign(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	all, err := t.list(ctx, "/"+t.account+"/campaigns", "id,name,status")
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("look for the campaign of "+obj.Marker, err)
	}
	var hits []node
	for _, c := range all {
		if tg, ok := tagOf(c.Name); ok && tg.marker == obj.Marker && tg.group == "" {
			hits = append(hits, c)
		}
	}
	if len(hits) == 0 {
		return sandbox.LiveState{}, false, nil
	}
	if len(hits) > 1 {
		t.log.Warn("meta: more than one campaign carries one marker; using the oldest", "target", t.name, "marker", obj.Marker, "count", len(hits))
	}
	slices.SortFunc(hits, func(a, b node) int { return cmpID(a.ID, b.ID) })
	st, found, err := t.liveCampaign(ctx, hits[0].ID)
	return st, found, err
}

func cmpID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// putAd creates (liveID "") or updates the campaign and everything in it.
func (t *Target) putAd(ctx context.Context, op string, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	acct, err := t.accountOf(ctx)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if problems, _ := t.check(obj.Ad, obj.Segments, acct); len(problems) > 0 {
		return sandbox.LiveState{}, failf(op, nil, "the campaign cannot go to Meta as staged: %s; fix it and re-plan", strings.Join(problems, "; "))
	}
	d, err := t.plan(obj, acct)
	if err != nil {
		return sandbox.LiveState{}, failf(op, nil, "%v", err)
	}
	var cur campaignState
	if liveID == "" {
		v := cloneValues(d.campaign)
		v.Set("status", "PAUSED")
		var res struct {
			ID string `json:"id"`
		}
		if err := t.post(ctx, "/"+t.account+"/campaigns", v, &res); err != nil {
			return sandbox.LiveState{}, t.fail(op+": create the campaign", err)
		}
		if res.ID == "" {
			return sandbox.LiveState{}, failf(op, nil, "Meta created the campaign but answered with no id; lastmile finds it by its marker on the next attempt")
		}
		cur = campaignState{camp: node{ID: res.ID, Status: "PAUSED"}}
		t.log.Info("meta: created campaign", "target", t.name, "campaign", res.ID, "marker", obj.Marker)
	} else {
		st, found, err := t.readCampaign(ctx, liveID)
		if err != nil {
			return sandbox.LiveState{}, t.fail(op+": read the campaign", err)
		}
		if !found || st.camp.Status == "DELETED" {
			return sandbox.LiveState{}, failf(op, nil, "campaign %s is gone from ad account %s (deleted in Ads Manager?); re-plan to create it again", liveID, t.account)
		}
		cur = st
		if err := t.updateCampaign(ctx, op, obj, d, cur.camp); err != nil {
			return sandbox.LiveState{}, err
		}
	}
	audiences, stale, err := t.syncAudiences(ctx, op, obj, liveID != "" || obj.Resumed)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if len(audiences) > 0 {
		tg := targetingOf(obj.Ad.Locations, audiences)
		for i := range d.sets {
			d.sets[i].params.Set("targeting", tg)
		}
	}
	var creatives map[string]string
	if obj.Resumed {
		// An interrupted attempt may have made creatives (they need no
		// parent, so nothing else leads to them).
		if creatives, err = t.markedCreatives(ctx, obj.Marker); err != nil {
			return sandbox.LiveState{}, t.fail(op+": look for creatives an earlier attempt made", err)
		}
	}
	if err := t.syncChildren(ctx, op, d, cur, creatives); err != nil {
		return sandbox.LiveState{}, err
	}
	for _, id := range stale {
		// Customer lists the revision no longer targets: no ad set uses
		// them now, and they hold hashed addresses, so they go.
		if err := t.remove(ctx, id); err != nil {
			return sandbox.LiveState{}, t.fail(op+": delete the customer list "+id+", which the revision no longer targets", err)
		}
	}
	st, found, err := t.readCampaign(ctx, cur.camp.ID)
	if err != nil || !found {
		if err == nil {
			return sandbox.LiveState{}, failf(op, nil, "campaign %s vanished right after it was written", cur.camp.ID)
		}
		return sandbox.LiveState{}, t.fail(op+": read the campaign back", err)
	}
	return t.state(st), nil
}

func (t *Target) markedCreatives(ctx context.Context, marker string) (map[string]string, error) {
	all, err := t.list(ctx, "/"+t.account+"/adcreatives", "id,name,status")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range all {
		if tg, ok := tagOf(c.Name); ok && tg.marker == marker && c.Status != "DELETED" {
			if _, dup := out[c.Name]; !dup {
				out[c.Name] = c.ID
			}
		}
	}
	return out, nil
}

func (t *Target) updateCampaign(ctx context.Context, op string, obj sandbox.Object, d desired, c node) error {
	v := url.Values{}
	if c.Name != d.name {
		v.Set("name", d.name)
	}
	if want := d.campaign.Get("daily_budget"); want != "" {
		if c.LifetimeBudget != "" && c.LifetimeBudget != "0" {
			return failf(op, nil, "campaign %s has a lifetime budget and the revision a daily one; Meta cannot switch a campaign's budget type: stage a new ad campaign instead", c.ID)
		}
		if c.DailyBudget != want {
			v.Set("daily_budget", want)
		}
	}
	if want := d.campaign.Get("lifetime_budget"); want != "" {
		if c.DailyBudget != "" && c.DailyBudget != "0" {
			return failf(op, nil, "campaign %s has a daily budget and the revision a lifetime one; Meta cannot switch a campaign's budget type: stage a new ad campaign instead", c.ID)
		}
		if c.LifetimeBudget != want {
			v.Set("lifetime_budget", want)
		}
	}
	if want := d.campaign.Get("bid_strategy"); c.BidStrategy != want {
		v.Set("bid_strategy", want)
	}
	if len(v) == 0 {
		return nil
	}
	if err := t.post(ctx, "/"+c.ID, v, nil); err != nil {
		return t.fail(op+": update the campaign", err)
	}
	return nil
}

// syncChildren makes the campaign's ad sets and ads what d says: updates
// what is there, creates what is missing, deletes what the revision dropped.
// New children take the campaign's status.
func (t *Target) syncChildren(ctx context.Context, op string, d desired, cur campaignState, creatives map[string]string) error {
	status := "PAUSED"
	if cur.camp.Status == "ACTIVE" {
		status = "ACTIVE"
	}
	setsByKey := map[string]node{}
	var stray []string
	for _, s := range cur.sets {
		tg, ok := tagOf(s.Name)
		if _, dup := setsByKey[tg.group]; !ok || tg.group == "" || dup {
			stray = append(stray, s.ID)
			continue
		}
		setsByKey[tg.group] = s
	}
	adsByKey := map[string]node{}
	for _, a := range cur.ads {
		tg, ok := tagOf(a.Name)
		key := tg.group + " " + tg.ad
		if _, dup := adsByKey[key]; !ok || tg.ad == "" || dup {
			stray = append(stray, a.ID)
			continue
		}
		adsByKey[key] = a
	}
	wantSets := map[string]bool{}
	wantAds := map[string]bool{}
	for _, sp := range d.sets {
		wantSets[sp.key] = true
		setID := ""
		if s, ok := setsByKey[sp.key]; ok {
			setID = s.ID
			if v := setChanges(sp, s); len(v) > 0 {
				if err := t.post(ctx, "/"+s.ID, v, nil); err != nil {
					return t.fail(fmt.Sprintf("%s: update ad set %q", op, sp.name), err)
				}
			}
		} else {
			v := cloneValues(sp.params)
			v.Set("campaign_id", cur.camp.ID)
			v.Set("status", status)
			var res struct {
				ID string `json:"id"`
			}
			if err := t.post(ctx, "/"+t.account+"/adsets", v, &res); err != nil {
				return t.fail(fmt.Sprintf("%s: create ad set %q", op, sp.name), err)
			}
			setID = res.ID
		}
		for _, ap := range sp.ads {
			wantAds[ap.key] = true
			ex, ok := adsByKey[ap.key]
			if ok && ex.Name == ap.name && ex.AdSetID == setID {
				continue
			}
			crID, err := t.creative(ctx, op, ap, creatives)
			if err != nil {
				return err
			}
			if ok && ex.AdSetID == setID {
				v := url.Values{"name": {ap.name}, "creative": {jsonParam(map[string]string{"creative_id": crID})}}
				if err := t.post(ctx, "/"+ex.ID, v, nil); err != nil {
					return t.fail(fmt.Sprintf("%s: point ad %s at its new creative", op, ap.pos), err)
				}
				continue
			}
			if ok {
				stray = append(stray, ex.ID)
			}
			v := url.Values{"name": {ap.name}, "adset_id": {setID}, "status": {status},
				"creative": {jsonParam(map[string]string{"creative_id": crID})}}
			if err := t.post(ctx, "/"+t.account+"/ads", v, nil); err != nil {
				return t.fail(fmt.Sprintf("%s: create ad %s", op, ap.pos), err)
			}
		}
	}
	for key, a := range adsByKey {
		if !wantAds[key] {
			stray = append(stray, a.ID)
		}
	}
	for key, s := range setsByKey {
		if !wantSets[key] {
			stray = append(stray, s.ID)
		}
	}
	for _, id := range stray {
		if err := t.remove(ctx, id); err != nil {
			return t.fail(fmt.Sprintf("%s: delete %s, which the revision no longer has", op, id), err)
		}
	}
	return nil
}

// creative returns the id of the creative for ap: one made before with
// the same name (content hash included), else a new one.
func (t *Target) creative(ctx context.Context, op string, ap adPlan, known map[string]string) (string, error) {
	if id, ok := known[ap.name]; ok {
		return id, nil
	}
	var res struct {
		ID string `json:"id"`
	}
	if err := t.post(ctx, "/"+t.account+"/adcreatives", ap.creative, &res); err != nil {
		return "", t.fail(fmt.Sprintf("%s: create the creative of %s", op, ap.pos), err)
	}
	return res.ID, nil
}

func setChanges(sp setPlan, s node) url.Values {
	v := url.Values{}
	if s.Name != sp.name {
		v.Set("name", sp.name)
	}
	if want := sp.params.Get("bid_amount"); want != "" && s.BidAmount.String() != want {
		v.Set("bid_amount", want)
	}
	if want := sp.params.Get("end_time"); want != "" && !sameTime(s.EndTime, want) {
		v.Set("end_time", want)
	}
	if want := sp.params.Get("targeting"); canonJSON(s.Targeting) != canonJSON(json.RawMessage(want)) {
		v.Set("targeting", want)
	}
	return v
}

func sameTime(a, b string) bool {
	pa, err1 := time.Parse("2006-01-02T15:04:05-0700", a)
	pb, err2 := time.Parse("2006-01-02T15:04:05-0700", b)
	return err1 == nil && err2 == nil && pa.Equal(pb)
}

// remove deletes an object; one already gone is fine.
func (t *Target) remove(ctx context.Context, id string) error {
	_, err := t.call(ctx, http.MethodDelete, "/"+id, nil)
	if err != nil && notFound(err) {
		return nil
	}
	return err
}

// setStatus enables (ACTIVE: ads, ad sets, then the campaign, each only
// when it is not ACTIVE yet) or pauses (the campaign alone: nothing under
// it spends then) a campaign, and returns it as read back.
func (t *Target) setStatus(ctx context.Context, op, id, status string) (sandbox.LiveState, error) {
	st, found, err := t.readCampaign(ctx, id)
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	if !found || st.camp.Status == "DELETED" {
		return sandbox.LiveState{}, failf(op, nil, "campaign %s is gone from ad account %s (removed or deleted), so it cannot be %s", id, t.account, map[string]string{"ACTIVE": "enabled", "PAUSED": "paused"}[status])
	}
	var writes []string
	if status == "ACTIVE" {
		for _, a := range st.ads {
			if a.Status != "ACTIVE" {
				writes = append(writes, a.ID)
			}
		}
		for _, s := range st.sets {
			if s.Status != "ACTIVE" {
				writes = append(writes, s.ID)
			}
		}
	}
	if st.camp.Status != status {
		writes = append(writes, st.camp.ID)
	}
	if len(writes) == 0 {
		return t.state(st), nil
	}
	for _, w := range writes {
		if err := t.post(ctx, "/"+w, url.Values{"status": {status}}, nil); err != nil {
			return sandbox.LiveState{}, t.fail(fmt.Sprintf("%s: set %s %s", op, w, status), err)
		}
	}
	out, found, err := t.liveCampaign(ctx, id)
	if err == nil && !found {
		err = failf(op, nil, "campaign %s vanished", id)
	}
	return out, err
}
