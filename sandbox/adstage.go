package sandbox

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/lastmile/lastmile/sandbox/content"
	"github.com/lastmile/lastmile/store"
)

// Bounds of one staged ad campaign: far above what a campaign needs, low
// enough that a plan, its review page and one atomic platform request stay
// small.
const (
	MaxAdGroups       = 100
	MaxAdsPerGroup    = 50
	MaxKeywordsPerGrp = 200
	MaxAdLocations    = 250
)

// AdCampaignInput is what build_ad_campaign takes.
type AdCampaignInput struct {
	CampaignID string
	AdID       string
	Name       string
	Objective  string
	Budget     AdBudget // Micros is derived
	StartDate  string
	EndDate    string
	Locations  []string
	Languages  []string
	// AudienceSegments are segment ids of the campaign or the workspace.
	AudienceSegments []string
	Groups           []AdGroup // MaxCPCMicros is derived
	Enable           bool
	Target           string
}

var ctaPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z_]{1,39}$`) })

// StageAdCampaign validates an ad campaign and stages it as a new
// revision. Nothing reaches the platform until an approved plan is
// confirmed, and then everything is created paused; only the plan's
// enable step, when Enable is set, makes it spend.
func (s *Sandbox) StageAdCampaign(ctx context.Context, actor string, in AdCampaignInput) (*StageResult, error) {
	return s.stageAd(ctx, actor, in, false)
}

// CheckAdCampaign reports every problem StageAdCampaign would, and
// writes nothing.
func (s *Sandbox) CheckAdCampaign(ctx context.Context, in AdCampaignInput) error {
	return checked(s.stageAd(ctx, "", in, true))
}

func (s *Sandbox) stageAd(ctx context.Context, actor string, in AdCampaignInput, checkOnly bool) (*StageResult, error) {
	var ps problems
	a := &AdCampaign{
		Name: strings.TrimSpace(in.Name), Objective: strings.TrimSpace(in.Objective),
		Budget:    AdBudget{Period: strings.TrimSpace(in.Budget.Period), Amount: strings.TrimSpace(in.Budget.Amount), Currency: strings.ToUpper(strings.TrimSpace(in.Budget.Currency))},
		StartDate: strings.TrimSpace(in.StartDate), EndDate: strings.TrimSpace(in.EndDate),
		AudienceSegments: in.AudienceSegments, Enable: in.Enable, Target: in.Target,
	}
	checkLen(&ps, "name", a.Name, 200, true, `give the campaign's name, e.g. "Spring sale – search"`)
	if strings.ContainsAny(a.Name, "\x00\r\n") {
		ps.add("name", "contains a line break or NUL, which ad platforms refuse in names", "write it on one line")
	}
	switch a.Objective {
	case ObjectiveTraffic, ObjectiveLeads, ObjectiveSales, ObjectiveAwareness:
	case "":
		ps.add("objective", "is required", "one of traffic, leads, sales, awareness")
	default:
		ps.add("objective", fmt.Sprintf("%q is not an objective", a.Objective), "one of traffic, leads, sales, awareness")
	}
	s.checkBudget(&ps, &a.Budget)
	s.checkFlight(&ps, a)
	for i, loc := range in.Locations {
		code := strings.ToUpper(strings.TrimSpace(loc))
		if r, err := language.ParseRegion(code); err != nil || !r.IsCountry() || len(code) != 2 {
			ps.add(fmt.Sprintf("locations[%d]", i), fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code", loc), "write a country as two letters, e.g. US, GB, DE")
			continue
		}
		if !slices.Contains(a.Locations, code) {
			a.Locations = append(a.Locations, code)
		}
	}
	switch {
	case len(a.Locations) == 0 && len(in.Locations) == 0:
		ps.add("locations", "is required: an ad campaign without locations runs worldwide", "list the countries it targets, e.g. [\"US\"]")
	case len(a.Locations) > MaxAdLocations:
		ps.add("locations", fmt.Sprintf("lists %d countries; the limit is %d", len(a.Locations), MaxAdLocations), "split the campaign")
	}
	for i, l := range in.Languages {
		code := strings.ToLower(strings.TrimSpace(l))
		if b, err := language.ParseBase(code); err != nil || len(code) != 2 || b.String() != code {
			ps.add(fmt.Sprintf("languages[%d]", i), fmt.Sprintf("%q is not an ISO 639-1 language code", l), "write a language as two letters, e.g. en, de, fr")
			continue
		}
		if !slices.Contains(a.Languages, code) {
			a.Languages = append(a.Languages, code)
		}
	}
	s.checkTargetOverride("target", a.Target, KindAd, &ps)
	a.Groups = checkAdGroups(&ps, in.Groups, a.Budget.Currency)
	var target string
	return s.stage(ctx, actor, staging{
		kind: KindAd, campaignID: in.CampaignID, artifactID: in.AdID, rev: &Revision{Ad: a}, pre: ps, checkOnly: checkOnly,
		check: func(tx store.Tx, c *Campaign, _ string, ps *problems) error {
			target = a.Target
			if target == "" {
				target = c.Target
			}
			a.Platform = s.platformOf(target)
			switch a.Platform {
			case PlatformGoogleAds, PlatformMeta:
				s.checkAdFields(ps, a)
				if cur, ok := s.targets[target].(interface{ Currency() string }); ok && cur.Currency() != "" && a.Budget.Currency != "" && cur.Currency() != a.Budget.Currency {
					ps.add("budget.currency", fmt.Sprintf("the ad account of target %s bills in %s, not %s", target, cur.Currency(), a.Budget.Currency), fmt.Sprintf("write the budget in %s", cur.Currency()))
				}
			default:
				if slices.ContainsFunc(*ps, func(p Problem) bool { return p.Field == "target" }) {
					break // the override is refused already
				}
				ps.add("target", fmt.Sprintf("target %q is a %s target, which runs no ad campaigns", target, cmp.Or(a.Platform, "unknown")),
					fmt.Sprintf("set target to a google_ads or meta target (configured: %v; connect one with lastmile connect google-ads or lastmile connect meta)", s.adTargets()))
			}
			if err := checkRefs(tx, c, "audience_segments", a.AudienceSegments, KindSegment, ps); err != nil {
				return err
			}
			for gi, g := range a.Groups {
				for ai, ad := range g.Ads {
					if err := checkRef(tx, c, fmt.Sprintf("ad_groups[%d].ads[%d].page_id", gi, ai), ad.PageID, KindPage, ps); err != nil {
						return err
					}
				}
			}
			return nil
		},
	})
}

// adTargets lists the configured targets that run ad campaigns.
func (s *Sandbox) adTargets() []string {
	var out []string
	for _, name := range s.cfg.TargetNames() {
		if p := s.platformOf(name); p == PlatformGoogleAds || p == PlatformMeta {
			out = append(out, name)
		}
	}
	return out
}

func (s *Sandbox) checkBudget(ps *problems, b *AdBudget) {
	switch b.Period {
	case BudgetDaily, BudgetLifetime:
	case "":
		ps.add("budget.period", "is required", "daily (an average per day) or lifetime (for the whole flight)")
	default:
		ps.add("budget.period", fmt.Sprintf("%q is not a budget period", b.Period), "daily or lifetime")
	}
	switch {
	case b.Currency == "":
		ps.add("budget.currency", "is required", "the ad account's currency as an ISO 4217 code, e.g. USD")
	case b.Amount == "":
		ps.add("budget.amount", "is required", `the amount in currency units, e.g. "150.00"`)
	default:
		m, err := ParseMoney(b.Amount, b.Currency)
		switch {
		case err != nil:
			ps.add("budget", err.Error(), `write the amount in currency units, e.g. "150.00" with currency "USD"`)
		case m == 0:
			ps.add("budget.amount", "is zero", "give the most the campaign may spend")
		default:
			b.Micros = m
		}
	}
}

func (s *Sandbox) checkFlight(ps *problems, a *AdCampaign) {
	today := s.clock().UTC().Format(time.DateOnly)
	start, err := time.Parse(time.DateOnly, a.StartDate)
	switch {
	case a.StartDate == "":
		ps.add("start_date", "is required", fmt.Sprintf("the first day it may spend, as YYYY-MM-DD (today is %s)", today))
	case err != nil:
		ps.add("start_date", fmt.Sprintf("%q is not a date", a.StartDate), "write it as YYYY-MM-DD")
	case a.StartDate < today:
		ps.add("start_date", fmt.Sprintf("%s has passed (today is %s)", a.StartDate, today), "pick today or a later day")
	}
	if a.EndDate == "" {
		if a.Budget.Period == BudgetLifetime {
			ps.add("end_date", "is required with a lifetime budget", "give the last day the budget covers, as YYYY-MM-DD")
		}
		return
	}
	end, err2 := time.Parse(time.DateOnly, a.EndDate)
	switch {
	case err2 != nil:
		ps.add("end_date", fmt.Sprintf("%q is not a date", a.EndDate), "write it as YYYY-MM-DD")
	case err == nil && end.Before(start):
		ps.add("end_date", fmt.Sprintf("%s is before start_date %s", a.EndDate, a.StartDate), "end on or after the start")
	}
}

// checkAdGroups checks the groups' structure, whatever the platform, and
// returns them with bids derived.
func checkAdGroups(ps *problems, in []AdGroup, currency string) []AdGroup {
	if currency == "" {
		currency = "USD" // the budget's own problem is reported; bids are still checked
	}
	switch {
	case len(in) == 0:
		ps.add("ad_groups", "is required", "give at least one ad group (Meta: ad set) with its ads")
	case len(in) > MaxAdGroups:
		ps.add("ad_groups", fmt.Sprintf("has %d groups; the limit is %d", len(in), MaxAdGroups), "split the campaign")
	}
	out := make([]AdGroup, 0, len(in))
	names := map[string]int{}
	for gi, g := range in {
		at := fmt.Sprintf("ad_groups[%d]", gi)
		g.Name = strings.TrimSpace(g.Name)
		checkLen(ps, at+".name", g.Name, 200, true, `name the group, e.g. "Tents"`)
		if j, dup := names[strings.ToLower(g.Name)]; dup && g.Name != "" {
			ps.add(at+".name", fmt.Sprintf("%q is also ad_groups[%d]'s name; platforms refuse two groups of one campaign with the same name", g.Name, j), "give each group its own name")
		}
		names[strings.ToLower(g.Name)] = gi
		g.MaxCPCMicros = 0
		if g.MaxCPC = strings.TrimSpace(g.MaxCPC); g.MaxCPC != "" {
			if m, err := ParseMoney(g.MaxCPC, currency); err != nil {
				ps.add(at+".max_cpc", err.Error(), `write it in the budget's currency units, e.g. "1.20"`)
			} else if m == 0 {
				ps.add(at+".max_cpc", "is zero", "give the most one click may cost, or leave it out")
			} else {
				g.MaxCPCMicros = m
			}
		}
		if len(g.Keywords) > MaxKeywordsPerGrp {
			ps.add(at+".keywords", fmt.Sprintf("has %d keywords; the limit is %d", len(g.Keywords), MaxKeywordsPerGrp), "split the group")
		}
		seen := map[string]bool{}
		for ki := range g.Keywords {
			k := &g.Keywords[ki]
			kat := fmt.Sprintf("%s.keywords[%d]", at, ki)
			k.Text = strings.Join(strings.Fields(k.Text), " ")
			k.Match = strings.ToLower(strings.TrimSpace(k.Match))
			if k.Text == "" {
				ps.add(kat+".text", "is required", `write the search phrase, e.g. "camping tents"`)
			}
			switch k.Match {
			case MatchExact, MatchPhrase, MatchBroad:
			case "":
				ps.add(kat+".match", "is required", "exact, phrase or broad")
			default:
				ps.add(kat+".match", fmt.Sprintf("%q is not a match type", k.Match), "exact, phrase or broad")
			}
			key := strings.ToLower(k.Text) + "|" + k.Match
			if seen[key] && k.Text != "" {
				ps.add(kat, fmt.Sprintf("%q (%s) is listed twice", k.Text, k.Match), "list it once")
			}
			seen[key] = true
		}
		switch {
		case len(g.Ads) == 0:
			ps.add(at+".ads", "is required", "give the group at least one ad")
		case len(g.Ads) > MaxAdsPerGroup:
			ps.add(at+".ads", fmt.Sprintf("has %d ads; the limit is %d", len(g.Ads), MaxAdsPerGroup), "split the group")
		}
		for ai := range g.Ads {
			ad := &g.Ads[ai]
			aat := fmt.Sprintf("%s.ads[%d]", at, ai)
			ad.FinalURL, ad.PageID, ad.PagePending = strings.TrimSpace(ad.FinalURL), strings.TrimSpace(ad.PageID), false
			switch {
			case ad.FinalURL == "" && ad.PageID == "":
				ps.add(aat+".final_url", "is required", "give the landing page's URL, or page_id to send clicks to a lastmile page")
			case ad.FinalURL != "" && ad.PageID != "":
				ps.add(aat+".page_id", "both final_url and page_id were given", "give one: page_id uses the page's live URL")
			case ad.FinalURL != "":
				if why := content.URLProblem(ad.FinalURL); why != "" {
					ps.add(aat+".final_url", why, "give an absolute https:// URL")
				} else if !strings.HasPrefix(strings.ToLower(ad.FinalURL), "https://") {
					ps.add(aat+".final_url", "is not https://; ad platforms and browsers warn on plain http landing pages", "use the https:// address")
				}
			case KindOf(ad.PageID) != KindPage:
				ps.add(aat+".page_id", fmt.Sprintf("%q is not a page id", ad.PageID), "give the id publish_page returned (pg_…)")
			}
		}
		out = append(out, g)
	}
	return out
}

// checkAdFields checks that every ad has its platform's fields and none
// of the other's. Lengths and counts are not refused here: they are the
// platform-limit checks of check_campaign, each with its position, and the
// platform's own dry run at planning.
func (s *Sandbox) checkAdFields(ps *problems, a *AdCampaign) {
	for gi := range a.Groups {
		g := &a.Groups[gi]
		at := fmt.Sprintf("ad_groups[%d]", gi)
		if a.Platform == PlatformMeta && len(g.Keywords) > 0 {
			ps.add(at+".keywords", "Meta ad sets have no keywords", "leave keywords out, or put this campaign on a google_ads target")
		}
		for ai := range g.Ads {
			ad := &g.Ads[ai]
			aat := fmt.Sprintf("%s.ads[%d]", at, ai)
			search := len(ad.Headlines) > 0 || len(ad.Descriptions) > 0 || ad.Path1 != "" || ad.Path2 != ""
			link := ad.PrimaryText != "" || ad.Headline != "" || ad.Description != "" || ad.ImageURL != "" || ad.CallToAction != ""
			switch a.Platform {
			case PlatformGoogleAds:
				if link {
					ps.add(aat, "has Meta link-ad fields (primary_text, headline, description, image_url, call_to_action)", "Google Ads runs responsive search ads: give headlines and descriptions instead")
				}
				if len(ad.Headlines) == 0 {
					ps.add(aat+".headlines", "is required", "give 3 to 15 headlines of up to 30 characters")
				}
				if len(ad.Descriptions) == 0 {
					ps.add(aat+".descriptions", "is required", "give 2 to 4 descriptions of up to 90 characters")
				}
				if ad.Path2 != "" && ad.Path1 == "" {
					ps.add(aat+".path2", "is set without path1", "set path1 first")
				}
			case PlatformMeta:
				if search {
					ps.add(aat, "has Google search-ad fields (headlines, descriptions, path1, path2)", "Meta runs link ads: give primary_text, headline, image_url and call_to_action instead")
				}
				if strings.TrimSpace(ad.PrimaryText) == "" {
					ps.add(aat+".primary_text", "is required", "the text above the image")
				}
				if strings.TrimSpace(ad.Headline) == "" {
					ps.add(aat+".headline", "is required", "the line under the image")
				}
				switch {
				case ad.ImageURL == "":
					ps.add(aat+".image_url", "is required", "an https:// URL of the ad's image")
				case content.URLProblem(ad.ImageURL) != "" || !strings.HasPrefix(strings.ToLower(ad.ImageURL), "https://"):
					ps.add(aat+".image_url", fmt.Sprintf("%q is not an absolute https:// URL", ad.ImageURL), "give the image's https:// address")
				}
				ad.CallToAction = strings.ToUpper(strings.TrimSpace(ad.CallToAction))
				if ad.CallToAction == "" {
					ad.CallToAction = "LEARN_MORE"
				} else if !ctaPattern().MatchString(ad.CallToAction) {
					ps.add(aat+".call_to_action", fmt.Sprintf("%q is not a call to action", ad.CallToAction), "e.g. LEARN_MORE, SHOP_NOW, SIGN_UP, GET_OFFER")
				}
			}
		}
	}
}
