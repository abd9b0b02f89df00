package sandbox

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/lastmile/lastmile/governance"
)

// The ad platforms' length and count limits, as checks: each finding
// names the position of what breaks a limit, so check_campaign says where
// to fix it before any plan asks the platform. The platform's dry run at
// planning still has the last word (Assess).

// RuleAdLimits is the rule id of a platform-limit finding.
const RuleAdLimits = "ad_platform_limits"

// Google Ads responsive search ad limits (platform-apis-ads-webflow.md
// 1.4): 3–15 unique headlines of up to 30 characters, 2–4 descriptions
// of up to 90, display paths of up to 15, keywords of up to 80 characters
// and 10 words. Google counts a double-width character (CJK) twice.
const (
	googleMinHeadlines   = 3
	googleMaxHeadlines   = 15
	googleHeadlineLen    = 30
	googleMinDescs       = 2
	googleMaxDescs       = 4
	googleDescriptionLen = 90
	googlePathLen        = 15
	googleKeywordLen     = 80
	googleKeywordWords   = 10
	// googleNameBytes bounds campaign, budget and ad group names
	// (campaign_budget.proto: 1–255 UTF-8 bytes), the marker included.
	googleNameBytes = 255
)

// Meta truncates link-ad text past these lengths in most placements
// (Meta's ads guide); the API takes longer text, so they are warnings.
const (
	metaPrimaryTextLen = 125
	metaHeadlineLen    = 40
	metaDescriptionLen = 30
)

// markerLen is the length of the " [lm-ad_…]" suffix names carry.
var markerLen = len(" [" + MarkerPrefix + PrefixAd + "]" + strings.Repeat("x", 26))

// googleLen counts as Google Ads does.
func googleLen(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// adLimitFindings checks the campaign against its platform's limits.
func adLimitFindings(artifactID string, a *AdCampaign) []governance.Finding {
	var fs []governance.Finding
	add := func(level, field, excerpt, msg, fix string, col int) {
		if len(excerpt) > 120 {
			excerpt = excerpt[:120] + "…"
		}
		fs = append(fs, governance.Finding{Rule: RuleAdLimits, Level: level, ArtifactID: artifactID, Field: field, Line: 1, Col: col, Excerpt: excerpt, Message: msg, Fix: fix})
	}
	tooLong := func(field, text string, n, limit int, platform string, level string) {
		add(level, field, text, fmt.Sprintf("is %d characters; %s allows %d", n, platform, limit), fmt.Sprintf("shorten it to %d characters or fewer", limit), limit+1)
	}
	switch a.Platform {
	case PlatformGoogleAds:
		if n := len(a.Name) + markerLen; n > googleNameBytes {
			add(governance.LevelError, "name", a.Name, fmt.Sprintf("is %d bytes with lastmile's marker; Google Ads allows %d", n, googleNameBytes), "shorten the name", 1)
		}
		for gi, g := range a.Groups {
			at := fmt.Sprintf("ad_groups[%d]", gi)
			if n := len(g.Name) + markerLen; n > googleNameBytes {
				add(governance.LevelError, at+".name", g.Name, fmt.Sprintf("is %d bytes with lastmile's marker; Google Ads allows %d", n, googleNameBytes), "shorten the name", 1)
			}
			for ki, k := range g.Keywords {
				kat := fmt.Sprintf("%s.keywords[%d].text", at, ki)
				if n := utf8.RuneCountInString(k.Text); n > googleKeywordLen {
					tooLong(kat, k.Text, n, googleKeywordLen, "Google Ads", governance.LevelError)
				}
				if n := len(strings.Fields(k.Text)); n > googleKeywordWords {
					add(governance.LevelError, kat, k.Text, fmt.Sprintf("has %d words; Google Ads allows %d", n, googleKeywordWords), "split it into shorter keywords", 1)
				}
			}
			for ai, ad := range g.Ads {
				aat := fmt.Sprintf("%s.ads[%d]", at, ai)
				switch n := len(ad.Headlines); {
				case n < googleMinHeadlines:
					add(governance.LevelError, aat+".headlines", "", fmt.Sprintf("has %d headlines; a responsive search ad needs at least %d", n, googleMinHeadlines), fmt.Sprintf("add %d more", googleMinHeadlines-n), 1)
				case n > googleMaxHeadlines:
					add(governance.LevelError, aat+".headlines", "", fmt.Sprintf("has %d headlines; Google Ads allows %d", n, googleMaxHeadlines), "keep the best 15", 1)
				}
				seen := map[string]int{}
				for i, h := range ad.Headlines {
					f := fmt.Sprintf("%s.headlines[%d]", aat, i)
					if n := googleLen(h); n > googleHeadlineLen {
						tooLong(f, h, n, googleHeadlineLen, "Google Ads", governance.LevelError)
					}
					if j, dup := seen[strings.ToLower(strings.TrimSpace(h))]; dup {
						add(governance.LevelError, f, h, fmt.Sprintf("repeats headlines[%d]; Google Ads refuses duplicate headlines", j), "write a different headline", 1)
					}
					seen[strings.ToLower(strings.TrimSpace(h))] = i
				}
				switch n := len(ad.Descriptions); {
				case n < googleMinDescs:
					add(governance.LevelError, aat+".descriptions", "", fmt.Sprintf("has %d descriptions; a responsive search ad needs at least %d", n, googleMinDescs), fmt.Sprintf("add %d more", googleMinDescs-n), 1)
				case n > googleMaxDescs:
					add(governance.LevelError, aat+".descriptions", "", fmt.Sprintf("has %d descriptions; Google Ads allows %d", n, googleMaxDescs), "keep the best 4", 1)
				}
				for i, d := range ad.Descriptions {
					if n := googleLen(d); n > googleDescriptionLen {
						tooLong(fmt.Sprintf("%s.descriptions[%d]", aat, i), d, n, googleDescriptionLen, "Google Ads", governance.LevelError)
					}
				}
				for name, p := range map[string]string{"path1": ad.Path1, "path2": ad.Path2} {
					if n := googleLen(p); n > googlePathLen {
						tooLong(aat+"."+name, p, n, googlePathLen, "Google Ads", governance.LevelError)
					}
				}
			}
		}
	case PlatformMeta:
		for gi, g := range a.Groups {
			for ai, ad := range g.Ads {
				aat := fmt.Sprintf("ad_groups[%d].ads[%d]", gi, ai)
				for _, f := range []struct {
					name, text string
					limit      int
				}{{"primary_text", ad.PrimaryText, metaPrimaryTextLen}, {"headline", ad.Headline, metaHeadlineLen}, {"description", ad.Description, metaDescriptionLen}} {
					if n := utf8.RuneCountInString(f.text); n > f.limit {
						add(governance.LevelWarning, aat+"."+f.name, f.text, fmt.Sprintf("is %d characters; Meta cuts it after %d in most placements", n, f.limit), fmt.Sprintf("keep what matters in the first %d characters", f.limit), f.limit+1)
					}
				}
			}
		}
	}
	return fs
}
