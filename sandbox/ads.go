package sandbox

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox/content"
)

// Paid media: an ad campaign on one ad platform (Google Ads, Meta) as one
// artifact. Promotion creates everything paused; the plan's enable step,
// when the artifact asks for it, is what starts spending, and the plan
// states the most it can spend.

// Ad platforms, as Target.Platform names them.
const (
	PlatformGoogleAds = "google_ads"
	PlatformMeta      = "meta"
)

// Ad objectives: what the campaign is bought for. Connectors map them to
// their platform's words (Meta's OUTCOME_TRAFFIC, Google's bidding).
const (
	ObjectiveTraffic   = "traffic"
	ObjectiveLeads     = "leads"
	ObjectiveSales     = "sales"
	ObjectiveAwareness = "awareness"
)

// Budget periods.
const (
	BudgetDaily    = "daily"
	BudgetLifetime = "lifetime"
)

// Keyword match types (Google search).
const (
	MatchExact  = "exact"
	MatchPhrase = "phrase"
	MatchBroad  = "broad"
)

// AdCampaign is a paid campaign as staged: its budget, schedule, targeting,
// ad groups (Meta: ad sets) and their ads.
type AdCampaign struct {
	Name string `json:"name"`
	// Platform is the ad platform of the artifact's target (google_ads,
	// meta), set at staging: an ad's fields are that platform's.
	Platform  string   `json:"platform"`
	Objective string   `json:"objective"`
	Budget    AdBudget `json:"budget"`
	// StartDate and EndDate are days (YYYY-MM-DD) in the ad account's time
	// zone; EndDate is the last day that spends, empty for no end.
	StartDate string `json:"start_date"`
	EndDate   string `json:"end_date,omitempty"`
	// Locations are ISO 3166-1 alpha-2 country codes, upper case.
	Locations []string `json:"locations"`
	// Languages are ISO 639-1 codes, lower case.
	Languages []string `json:"languages,omitempty"`
	// AudienceSegments are lastmile segments whose members are uploaded
	// to the platform as a customer list and targeted, where the platform
	// allows it and consent permits.
	AudienceSegments []string  `json:"audience_segments,omitempty"`
	Groups           []AdGroup `json:"ad_groups"`
	// Enable sets the campaign live, spending, as the plan's last step;
	// off, it is created paused and stays so.
	Enable bool   `json:"enable"`
	Target string `json:"target,omitempty"`
}

// AdBudget is what the campaign may spend: per day on average, or in all.
type AdBudget struct {
	Period string `json:"period"` // daily | lifetime
	// Amount is in currency units as written ("150.00"); Micros is the
	// same amount in millionths, derived at staging (Google's unit;
	// MinorUnits gives Meta's).
	Amount   string `json:"amount"`
	Currency string `json:"currency"` // ISO 4217, upper case
	Micros   int64  `json:"micros"`
}

// AdGroup is a Google ad group or a Meta ad set.
type AdGroup struct {
	Name string `json:"name"`
	// MaxCPC is the most one click may cost, in currency units (Google:
	// the manual CPC bid; Meta: the bid cap); MaxCPCMicros is derived.
	MaxCPC       string    `json:"max_cpc,omitempty"`
	MaxCPCMicros int64     `json:"max_cpc_micros,omitempty"`
	Keywords     []Keyword `json:"keywords,omitempty"` // Google search
	Ads          []Ad      `json:"ads"`
}

// Keyword is a search keyword and how queries must match it.
type Keyword struct {
	Text  string `json:"text"`
	Match string `json:"match"` // exact | phrase | broad
}

// Ad is one ad: a Google responsive search ad (Headlines, Descriptions,
// Path1, Path2) or a Meta link ad (PrimaryText, Headline, Description,
// ImageURL, CallToAction), going to FinalURL or to a lastmile page.
type Ad struct {
	Headlines    []string `json:"headlines,omitempty"`
	Descriptions []string `json:"descriptions,omitempty"`
	Path1        string   `json:"path1,omitempty"`
	Path2        string   `json:"path2,omitempty"`

	PrimaryText  string `json:"primary_text,omitempty"`
	Headline     string `json:"headline,omitempty"`
	Description  string `json:"description,omitempty"`
	ImageURL     string `json:"image_url,omitempty"`
	CallToAction string `json:"call_to_action,omitempty"`

	// FinalURL is where a click goes. PageID names a lastmile page
	// instead; the page's live URL is used, resolved at promotion. In
	// what a target is given, FinalURL is final: UTM applied, the page
	// resolved (PagePending says it is still a stand-in, at planning).
	FinalURL    string `json:"final_url,omitempty"`
	PageID      string `json:"page_id,omitempty"`
	PagePending bool   `json:"page_pending,omitempty"`
}

// UTM media of ad clicks, by platform.
const (
	MediumCPC        = "cpc"
	MediumPaidSocial = "paid_social"
)

// AdMedium is the utm_medium of a platform's ad clicks.
func AdMedium(platform string) string {
	if platform == PlatformMeta {
		return MediumPaidSocial
	}
	return MediumCPC
}

// AdSource is the utm_source of a platform's ad clicks.
func AdSource(platform string) string {
	switch platform {
	case PlatformMeta:
		return "facebook"
	case PlatformGoogleAds:
		return "google"
	}
	return platform
}

// PendingPageURL stands in, at planning, for the live URL of a page that
// is not live yet: the platforms' dry runs need a well-formed URL.
func PendingPageURL(pageID string) string {
	return "https://pending.lastmile.example/" + pageID
}

// Normalized ad counters (Metrics.Counters) and the cost unit.
const (
	MetricImpressions = "impressions"
	MetricCostMicros  = "cost_micros"
	// MetricConversions is in thousandths of a conversion: platforms
	// count fractional conversions (data-driven attribution).
	MetricConversionsMilli = "conversions_milli"
)

// ParseMoney reads an amount in currency units ("150", "150.5",
// "150.00") as micros, refusing what the currency cannot express (cents
// of yen) or a negative amount.
func ParseMoney(amount, cur string) (int64, error) {
	m, err := outcomes.ParseMoney(amount, cur)
	if err != nil {
		return 0, err
	}
	if m.Minor < 0 {
		return 0, fmt.Errorf("%s is negative", amount)
	}
	if m.Minor > math.MaxInt64/1_000_000 {
		return 0, fmt.Errorf("%s is too large", amount)
	}
	return m.Micros(), nil
}

// MinorUnits converts micros to the currency's smallest unit (cents for
// USD, yen for JPY), as Meta takes budgets and bids.
func MinorUnits(micros int64, cur string) int64 {
	scale := 2
	if u, err := currency.ParseISO(cur); err == nil {
		scale, _ = currency.Standard.Rounding(u)
	}
	return micros / pow10(6-scale)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// FormatMoney writes micros in the currency, as people read it
// ("$150.00", "¥1,500", "CHF 12.50").
func FormatMoney(micros int64, cur string) string {
	u, err := currency.ParseISO(cur)
	if err != nil {
		return fmt.Sprintf("%.2f %s", float64(micros)/1e6, cur)
	}
	s := message.NewPrinter(language.English).Sprint(currency.NarrowSymbol(u.Amount(float64(micros) / 1e6)))
	if sym, rest, ok := strings.Cut(s, " "); ok && utf8.RuneCountInString(sym) == 1 {
		return sym + rest
	}
	return s
}

// Spend is the most an ad campaign can spend, as its plan states it.
type Spend struct {
	Currency string `json:"currency"`
	// DailyMicros is the average daily budget (0 for a lifetime budget).
	DailyMicros int64 `json:"daily_micros,omitempty"`
	// TotalMicros bounds the whole flight; 0 when nothing does (a daily
	// budget without an end date): MonthlyMicros then bounds a month.
	TotalMicros   int64  `json:"total_micros,omitempty"`
	MonthlyMicros int64  `json:"monthly_micros,omitempty"`
	From          string `json:"from"`
	Until         string `json:"until,omitempty"`
	// Text says it in a line: "up to $150.00/day from 2026-12-08 to
	// 2026-12-31, ≤ $3,600.00 total".
	Text string `json:"text"`
}

// monthFactor is how many average days' budget Google charges at most in
// a month (campaign_budget.proto: 30.4).
const monthFactor = 30.4

// MaxSpend is the most the campaign can spend as staged.
func (a *AdCampaign) MaxSpend() Spend {
	b := a.Budget
	sp := Spend{Currency: b.Currency, From: a.StartDate, Until: a.EndDate}
	money := func(m int64) string { return FormatMoney(m, b.Currency) }
	span := "from " + a.StartDate
	if a.EndDate != "" {
		span += " to " + a.EndDate
	}
	if b.Period == BudgetLifetime {
		sp.TotalMicros = b.Micros
		sp.Text = fmt.Sprintf("up to %s in all, %s", money(b.Micros), span)
		return sp
	}
	sp.DailyMicros = b.Micros
	if days := a.Days(); days > 0 {
		sp.TotalMicros = b.Micros * int64(days)
		sp.Text = fmt.Sprintf("up to %s/day %s, ≤ %s total (%d days)", money(b.Micros), span, money(sp.TotalMicros), days)
		return sp
	}
	sp.MonthlyMicros = int64(float64(b.Micros) * monthFactor)
	sp.Text = fmt.Sprintf("up to %s/day %s with no end date, ≤ %s a month", money(b.Micros), span, money(sp.MonthlyMicros))
	return sp
}

// Days is the number of days from StartDate to EndDate inclusive, 0 when
// there is no end (or the dates do not parse).
func (a *AdCampaign) Days() int {
	s, err1 := time.Parse(time.DateOnly, a.StartDate)
	e, err2 := time.Parse(time.DateOnly, a.EndDate)
	if err1 != nil || err2 != nil || e.Before(s) {
		return 0
	}
	return int(e.Sub(s).Hours()/24) + 1
}

// AdCount is the number of ads in all groups.
func (a *AdCampaign) AdCount() int {
	n := 0
	for _, g := range a.Groups {
		n += len(g.Ads)
	}
	return n
}

// NoAds is what a target that runs no ad campaigns answers for one: where
// ad campaigns go instead.
func NoAds(platform string) string {
	return fmt.Sprintf("%s runs no ad campaigns; put this ad campaign on a google_ads or meta target (lastmile connect google-ads, lastmile connect meta) by setting target on it", platform)
}

// finalAd is the campaign as it goes live: every final URL tagged, pages
// standing in as PendingPageURL until promotion resolves them
// (resolveAdPages).
func finalAd(a *AdCampaign, u content.UTM) *AdCampaign {
	out := *a
	out.Groups = make([]AdGroup, len(a.Groups))
	for gi, g := range a.Groups {
		g.Keywords = slices.Clone(g.Keywords)
		ads := make([]Ad, len(g.Ads))
		for ai, ad := range g.Ads {
			ad.Headlines, ad.Descriptions = slices.Clone(ad.Headlines), slices.Clone(ad.Descriptions)
			if ad.PageID != "" {
				ad.FinalURL, ad.PagePending = content.TagURL(PendingPageURL(ad.PageID), u), true
			} else {
				ad.FinalURL = content.TagURL(ad.FinalURL, u)
			}
			ads[ai] = ad
		}
		g.Ads = ads
		out.Groups[gi] = g
	}
	out.Locations, out.Languages, out.AudienceSegments = slices.Clone(a.Locations), slices.Clone(a.Languages), slices.Clone(a.AudienceSegments)
	return &out
}

// resolveAdPages puts the live URL of each page an ad sends clicks to in
// its final URL, tagged as the rest; urls maps page artifact ids to their
// live URLs. It reports the pages still without one a visitor can reach
// (a local target's pages without a site URL are files).
func resolveAdPages(a *AdCampaign, c *Campaign, artifactID string, urls map[string]string) (missing []string) {
	if a == nil {
		return nil
	}
	u := utmOf(c, &Revision{ArtifactID: artifactID, Ad: a})
	for gi := range a.Groups {
		for ai := range a.Groups[gi].Ads {
			ad := &a.Groups[gi].Ads[ai]
			if ad.PageID == "" {
				continue
			}
			if live := urls[ad.PageID]; strings.HasPrefix(live, "https://") || strings.HasPrefix(live, "http://") {
				ad.FinalURL, ad.PagePending = content.TagURL(live, u), false
			} else if !slices.Contains(missing, ad.PageID) {
				missing = append(missing, ad.PageID)
			}
		}
	}
	return missing
}

// adFields are the ad texts governance reads, each named by its position
// (ad_groups[0].ads[1].headlines[2]), so a finding says where to fix it.
func adFields(a *AdCampaign) []governance.Field {
	fs := []governance.Field{{Name: "name", Value: a.Name}}
	add := func(name, v string) {
		if v != "" {
			fs = append(fs, governance.Field{Name: name, Value: v})
		}
	}
	for gi, g := range a.Groups {
		fs = append(fs, governance.Field{Name: "name", Value: g.Name})
		for ai, ad := range g.Ads {
			at := fmt.Sprintf("ad_groups[%d].ads[%d].", gi, ai)
			for i, h := range ad.Headlines {
				add(fmt.Sprintf("%sheadlines[%d]", at, i), h)
			}
			for i, d := range ad.Descriptions {
				add(fmt.Sprintf("%sdescriptions[%d]", at, i), d)
			}
			add(at+"primary_text", ad.PrimaryText)
			add(at+"headline", ad.Headline)
			add(at+"description", ad.Description)
		}
	}
	return fs
}

// adNote tells the approver what putting the campaign does to its spend.
func adNote(a *AdCampaign, live *Binding) string {
	switch {
	case live != nil && live.PublishedAt != nil:
		return "the campaign is running: this update applies at once, and it may spend " + a.MaxSpend().Text
	case a.Enable:
		return "created paused on the platform; the plan's enable step sets it running"
	case live != nil:
		return "the campaign stays paused: it spends nothing until a plan resumes it"
	}
	return "created paused: it spends nothing until a later plan enables it (enable: true) or resumes it"
}

// cloneAd copies a campaign down to its ads, which promotion fills in
// (resolveAdPages) while the final revision stays cached and shared.
func cloneAd(a *AdCampaign) *AdCampaign {
	if a == nil {
		return nil
	}
	out := *a
	out.Groups = make([]AdGroup, len(a.Groups))
	for i, g := range a.Groups {
		g.Keywords = slices.Clone(g.Keywords)
		g.Ads = slices.Clone(g.Ads)
		for j := range g.Ads {
			g.Ads[j].Headlines, g.Ads[j].Descriptions = slices.Clone(g.Ads[j].Headlines), slices.Clone(g.Ads[j].Descriptions)
		}
		out.Groups[i] = g
	}
	out.Locations, out.Languages, out.AudienceSegments = slices.Clone(a.Locations), slices.Clone(a.Languages), slices.Clone(a.AudienceSegments)
	return &out
}

// adPagesOffline is a problem for each ad that sends clicks to a live page
// whose address no visitor can reach (a local target's page without a site
// URL is a file): the platforms would refuse it, or worse, pay for clicks
// that land nowhere.
func (in *planInput) adPagesOffline() []Problem {
	pages := map[string]*Artifact{}
	for _, a := range in.artifacts {
		if a.Kind == KindPage {
			pages[a.ID] = a
		}
	}
	var out []Problem
	for _, a := range in.artifacts {
		r := in.revs[a.ID]
		if r == nil || r.Ad == nil || a.Retire != nil {
			continue
		}
		for _, ref := range r.References() {
			p := pages[ref]
			if p == nil || p.Live == nil {
				continue
			}
			if u := p.Live.URL; !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				out = append(out, Problem{Field: a.ID, Message: fmt.Sprintf("its ads send clicks to page %s, whose live address %q is not a public web address", ref, u),
					Fix: "publish the page on a public target (a local target needs its site URL: lastmile site), or give the ads a final_url"})
			}
		}
	}
	return out
}
