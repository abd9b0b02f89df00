package governance

import (
	"slices"
	"strings"
)

// Levels, in decreasing severity.
const (
	LevelError      = "error"
	LevelWarning    = "warning"
	LevelSuggestion = "suggestion"
)

// Channels a document (and a rule selector) can name.
const (
	ChannelEmail    = "email"
	ChannelPage     = "page"
	ChannelSegment  = "segment"
	ChannelWorkflow = "workflow"
	// ChannelAd is an ad campaign's text: headlines, descriptions,
	// primary text.
	ChannelAd = "ad"
)

var (
	validLevels   = []string{LevelError, LevelWarning, LevelSuggestion}
	validChannels = []string{ChannelEmail, ChannelPage, ChannelSegment, ChannelWorkflow, ChannelAd}
)

// isoCountries is ISO 3166-1 alpha-2. Validating against the real list turns
// language codes ("EN") and typos ("DU") into load errors instead of market
// selectors that never match.
const isoCountries = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

var (
	euMembers  = strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")
	eeaMembers = append(slices.Clone(euMembers), "IS", "LI", "NO")
	// Market groups a policy may name instead of listing members. UK is the
	// common name for GB, which is what documents carry.
	marketGroups = map[string][]string{
		"EU":  euMembers,
		"EEA": eeaMembers,
		"UK":  {"GB"},
	}
)

func isCountry(code string) bool {
	if len(code) != 2 {
		return false
	}
	i := strings.Index(isoCountries, code)
	return i >= 0 && i%3 == 0
}

// selector decides whether a rule applies to a document or an approval
// request. Empty lists match everything.
type selector struct {
	markets       []string // expanded to ISO codes
	industries    []string // lower case
	channels      []string
	minRecipients int
}

// selectorMatch reports whether s applies. unknown lists the selectors that
// matched only because the document did not say (no markets, no industry,
// audience size -1): unknown is treated as matching so that a missing
// field never switches a legal rule off, and the finding says why.
func (s *selector) match(markets []string, industry string, channels []string, recipients int) (ok bool, unknown []string) {
	if len(s.channels) > 0 && !intersects(s.channels, channels, false) {
		return false, nil
	}
	if len(s.markets) > 0 {
		if len(markets) == 0 {
			unknown = append(unknown, "markets")
		} else if !intersects(s.markets, markets, true) {
			return false, nil
		}
	}
	if len(s.industries) > 0 {
		if industry == "" {
			unknown = append(unknown, "industry")
		} else if !slices.Contains(s.industries, strings.ToLower(industry)) {
			return false, nil
		}
	}
	if s.minRecipients > 0 {
		if recipients < 0 {
			unknown = append(unknown, "audience size")
		} else if recipients < s.minRecipients {
			return false, nil
		}
	}
	return true, unknown
}

// intersects reports whether have and want share an element; upper compares
// market codes case-insensitively (documents should carry "DE", but "de"
// must not silently miss a German rule).
func intersects(want, have []string, upper bool) bool {
	for _, h := range have {
		if upper {
			h = strings.ToUpper(h)
		}
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// closest returns the candidate nearest to s by edit distance when it is
// close enough to be a plausible typo, for "did you mean" hints.
func closest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
