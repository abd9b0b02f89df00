package googleads

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmile/lastmile/sandbox"
)

// Google's limits on what lastmile creates [v25 protos; Google's
// responsive search ad guide].
const (
	maxHeadlines, minHeadlines       = 15, 3
	maxDescriptions, minDescriptions = 2 + 2, 2
	headlineLen, descriptionLen      = 30, 90
	pathLen                          = 15
	keywordLen, keywordWords         = 80, 10
	nameLen                          = 255
	maxOperations                    = 10000
)

// check is the local half of Assess: each problem names its position.
func (t *Target) check(obj sandbox.Object) (problems, notes []string) {
	a := obj.Ad
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if a.Platform != "" && a.Platform != Platform {
		add("platform: the ad campaign was staged for %s, and its ads are in that platform's terms; stage it for target %q (google_ads) or put it on a %s target", a.Platform, t.name, a.Platform)
	}
	if strings.TrimSpace(a.Name) == "" {
		add("name: empty; Google Ads needs a campaign name")
	} else if n := utf8.RuneCountInString(marked(a.Name, obj.Marker)); n > nameLen {
		add("name: %d characters with lastmile's marker; Google Ads allows %d", n, nameLen)
	}
	if strings.ContainsAny(a.Name, "\x00\r\n") {
		add("name: contains a line break; Google Ads names are one line")
	}
	switch a.Objective {
	case sandbox.ObjectiveTraffic:
	case sandbox.ObjectiveLeads, sandbox.ObjectiveSales:
		notes = append(notes, fmt.Sprintf("objective %s: lastmile bids for clicks on Google Ads (manual CPC with max_cpc, else Maximize Clicks); conversion bidding needs conversion tracking set up in Google Ads", a.Objective))
	case sandbox.ObjectiveAwareness:
		notes = append(notes, "objective awareness: a search campaign shows ads only to people searching the keywords; for reach use a Meta target")
	default:
		add("objective: %q; use traffic, leads, sales or awareness", a.Objective)
	}
	b := a.Budget
	switch {
	case b.Period != sandbox.BudgetDaily && b.Period != sandbox.BudgetLifetime:
		add("budget.period: %q; use daily or lifetime", b.Period)
	case b.Micros <= 0:
		add("budget.amount: %q is not a positive amount", b.Amount)
	case b.Period == sandbox.BudgetLifetime && a.EndDate == "":
		add("budget: a lifetime budget needs end_date (Google Ads: END_DATE_TIME_REQUIRED_FOR_TOTAL_BUDGET); set one, or use a daily budget")
	}
	if cur := t.cfg.Currency; cur != "" && b.Currency != "" && !strings.EqualFold(cur, b.Currency) {
		add("budget.currency: %s, but Google Ads account %s bills in %s; write the budget and bids in %s", b.Currency, t.customer, cur, cur)
	}
	if step := minorStep(b.Currency); b.Micros > 0 && b.Micros%step != 0 {
		add("budget.amount: %s has more decimals than %s has", b.Amount, b.Currency)
	}
	today := t.today()
	start, err1 := time.Parse(time.DateOnly, a.StartDate)
	switch {
	case a.StartDate == "":
		add("start_date: empty; give the first day (YYYY-MM-DD, in the account's time zone)")
	case err1 != nil:
		add("start_date: %q is not YYYY-MM-DD", a.StartDate)
	case a.StartDate < today && obj.Refs[obj.ArtifactID] == "":
		add("start_date: %s is in the past (today is %s in %s); Google Ads cannot start a new campaign in the past", a.StartDate, today, t.zoneName())
	}
	if a.EndDate != "" {
		end, err := time.Parse(time.DateOnly, a.EndDate)
		switch {
		case err != nil:
			add("end_date: %q is not YYYY-MM-DD", a.EndDate)
		case err1 == nil && end.Before(start):
			add("end_date: %s is before start_date %s", a.EndDate, a.StartDate)
		}
	}
	for i, loc := range a.Locations {
		if _, ok := geoConstant(loc); !ok {
			add("locations[%d]: %q is not an ISO 3166-1 country code Google Ads targets", i, loc)
		}
	}
	for i, lang := range a.Languages {
		if _, ok := languageConstant(lang); !ok {
			known := make([]string, 0, len(languageConstants))
			for k := range languageConstants {
				known = append(known, k)
			}
			sort.Strings(known)
			add("languages[%d]: %q: lastmile knows no Google Ads language constant for it; use one of %s", i, lang, strings.Join(known, ", "))
		}
	}
	if len(a.Locations) == 0 {
		notes = append(notes, "no locations: the ads may show in every country")
	}
	if len(a.AudienceSegments) > 0 {
		add("audience_segments: Google Ads customer lists (Customer Match) are not supported by this connector yet; remove audience_segments and target by keywords and locations, or put the customer-list campaign on a meta target")
	}
	if len(a.Groups) == 0 {
		add("ad_groups: none; a Google Ads search campaign needs at least one ad group with keywords and ads")
	}
	manual, anyMissing := false, false
	names := map[string]int{}
	ops := 2 + len(a.Locations) + len(a.Languages)
	for gi, g := range a.Groups {
		p := fmt.Sprintf("ad_groups[%d]", gi)
		ops += 1 + len(g.Ads) + len(g.Keywords)
		switch {
		case strings.TrimSpace(g.Name) == "":
			add("%s.name: empty; Google Ads needs an ad group name", p)
		case utf8.RuneCountInString(marked(g.Name, obj.Marker)) >= nameLen:
			add("%s.name: %d characters with lastmile's marker; Google Ads allows fewer than %d", p, utf8.RuneCountInString(marked(g.Name, obj.Marker)), nameLen)
		}
		if prev, dup := names[strings.TrimSpace(g.Name)]; dup {
			add("%s.name: %q is also ad_groups[%d]'s; Google Ads needs ad group names unique in a campaign (DUPLICATE_ADGROUP_NAME)", p, g.Name, prev)
		} else {
			names[strings.TrimSpace(g.Name)] = gi
		}
		if g.MaxCPCMicros > 0 {
			manual = true
			if step := minorStep(b.Currency); g.MaxCPCMicros%step != 0 {
				add("%s.max_cpc: %s has more decimals than %s has", p, g.MaxCPC, b.Currency)
			}
		} else {
			anyMissing = true
		}
		if len(g.Keywords) == 0 {
			add("%s.keywords: none; a search ad group shows ads only for its keywords", p)
		}
		for ki, k := range g.Keywords {
			kp := fmt.Sprintf("%s.keywords[%d]", p, ki)
			n, words := utf8.RuneCountInString(k.Text), len(strings.Fields(k.Text))
			switch {
			case strings.TrimSpace(k.Text) == "":
				add("%s.text: empty", kp)
			case n > keywordLen:
				add("%s.text: %d characters; Google Ads allows %d", kp, n, keywordLen)
			case words > keywordWords:
				add("%s.text: %d words; Google Ads allows %d", kp, words, keywordWords)
			}
			switch k.Match {
			case sandbox.MatchExact, sandbox.MatchPhrase, sandbox.MatchBroad:
			default:
				add("%s.match: %q; use exact, phrase or broad", kp, k.Match)
			}
		}
		if len(g.Ads) == 0 {
			add("%s.ads: none; an ad group without ads shows nothing", p)
		}
		for ai, ad := range g.Ads {
			problems = append(problems, checkAd(fmt.Sprintf("%s.ads[%d]", p, ai), ad)...)
		}
	}
	if manual && anyMissing {
		add("ad_groups: some groups have max_cpc and some do not; lastmile bids manual CPC when any group sets max_cpc, so set it on every group (or on none, for Maximize Clicks)")
	}
	if ops > maxOperations {
		add("ad_groups: the campaign needs %d operations; Google Ads takes at most %d in one request, and lastmile creates a campaign in one atomic request: split it into several ad campaigns", ops, maxOperations)
	}
	return problems, notes
}

func checkAd(p string, ad sandbox.Ad) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if ad.PrimaryText != "" || ad.Headline != "" || ad.Description != "" || ad.ImageURL != "" || ad.CallToAction != "" {
		add("%s: has Meta link ad fields (primary_text, headline, description, image_url, call_to_action); Google Ads runs responsive search ads: give headlines and descriptions, or put this ad on a meta target", p)
	}
	texts := func(field string, list []string, min, max, maxLen int) {
		switch {
		case len(list) < min:
			add("%s.%s: %d; Google Ads needs at least %d", p, field, len(list), min)
		case len(list) > max:
			add("%s.%s: %d; Google Ads allows at most %d", p, field, len(list), max)
		}
		seen := map[string]int{}
		for i, s := range list {
			n := utf8.RuneCountInString(s)
			switch {
			case strings.TrimSpace(s) == "":
				add("%s.%s[%d]: empty", p, field, i)
			case n > maxLen:
				add("%s.%s[%d]: %d characters; Google Ads allows %d", p, field, i, n, maxLen)
			}
			k := strings.ToLower(strings.TrimSpace(s))
			if j, dup := seen[k]; dup && k != "" {
				add("%s.%s[%d]: repeats %s[%d]; Google Ads needs them unique (DUPLICATE_ASSET)", p, field, i, field, j)
			} else {
				seen[k] = i
			}
		}
	}
	texts("headlines", ad.Headlines, minHeadlines, maxHeadlines, headlineLen)
	texts("descriptions", ad.Descriptions, minDescriptions, maxDescriptions, descriptionLen)
	for _, f := range []struct{ name, v string }{{"path1", ad.Path1}, {"path2", ad.Path2}} {
		if n := utf8.RuneCountInString(f.v); n > pathLen {
			add("%s.%s: %d characters; Google Ads allows %d", p, f.name, n, pathLen)
		}
	}
	if ad.Path2 != "" && ad.Path1 == "" {
		add("%s.path2: set without path1; Google Ads needs path1 first", p)
	}
	if ad.FinalURL == "" {
		add("%s.final_url: empty; a Google Ads ad needs a final URL (or a page_id)", p)
	} else if u, err := url.Parse(ad.FinalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("%s.final_url: %q is not an http(s) URL", p, ad.FinalURL)
	}
	return out
}

// minorStep is the currency's smallest unit in micros (10,000 for cents).
func minorStep(cur string) int64 {
	per := sandbox.MinorUnits(1_000_000, cur)
	if per <= 0 {
		return 1
	}
	return 1_000_000 / per
}

func (t *Target) zone() *time.Location {
	if t.cfg.TimeZone != "" {
		if loc, err := time.LoadLocation(t.cfg.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func (t *Target) zoneName() string {
	if t.cfg.TimeZone != "" {
		return t.cfg.TimeZone
	}
	return "UTC (the account's time zone is not recorded)"
}

// today is the date in the account's time zone.
func (t *Target) today() string { return t.now().In(t.zone()).Format(time.DateOnly) }
