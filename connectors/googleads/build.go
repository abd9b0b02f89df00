package googleads

import (
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/lastmile/lastmile/sandbox"
)

// Operation field names of a MutateOperation.
const (
	opBudget    = "campaignBudgetOperation"
	opCampaign  = "campaignOperation"
	opAdGroup   = "adGroupOperation"
	opAd        = "adGroupAdOperation"
	opCriterion = "adGroupCriterionOperation"
	// opCampaignCriterion carries the campaign's locations and languages.
	opCampaignCriterion = "campaignCriterionOperation"
)

// languageConstants maps ISO 639-1 codes to Google's language criterion
// ids (languageConstants/{id}).
var languageConstants = map[string]int{
	"en": 1000, "de": 1001, "fr": 1002, "es": 1003, "it": 1004, "ja": 1005, "da": 1009, "nl": 1010, "fi": 1011,
	"ko": 1012, "no": 1013, "nb": 1013, "pt": 1014, "sv": 1015, "zh": 1017, "ar": 1019, "bg": 1020, "cs": 1021,
	"el": 1022, "hi": 1023, "hu": 1024, "id": 1025, "is": 1026, "he": 1027, "lv": 1028, "lt": 1029, "pl": 1030,
	"ru": 1031, "ro": 1032, "sk": 1033, "sl": 1034, "sr": 1035, "uk": 1036, "tr": 1037, "ca": 1038, "hr": 1039,
	"vi": 1040, "ur": 1041, "tl": 1042, "et": 1043, "th": 1044,
}

// geoConstant is the geo target constant of a country: Google's country
// criterion ids are 2000 + the ISO 3166-1 numeric code (United States
// 2840, United Kingdom 2826, Germany 2276).
func geoConstant(country string) (string, bool) {
	r, err := language.ParseRegion(country)
	if err != nil || !r.IsCountry() || len(country) != 2 {
		return "", false
	}
	return "geoTargetConstants/" + strconv.Itoa(2000+r.M49()), true
}

func languageConstant(code string) (string, bool) {
	id, ok := languageConstants[strings.ToLower(code)]
	if !ok {
		return "", false
	}
	return "languageConstants/" + strconv.Itoa(id), true
}

// desired is the campaign as the artifact wants it, in Google's terms.
type desired struct {
	name, budgetName string
	period           string // DAILY | CUSTOM_PERIOD
	amount           int64
	start, end       string // yyyy-MM-dd HH:mm:ss, end empty for none
	manualCPC        bool
	// criteria are the campaign criteria: locations and languages.
	criteria []desiredCriterion
	groups   []desiredGroup
}

type desiredGroup struct {
	pos      string // ad_groups[i]
	name     string
	cpc      int64
	ads      []desiredAd
	criteria []desiredCriterion
}

type desiredAd struct {
	pos string
	ad  liveAd // content only
}

type desiredCriterion struct {
	pos      string
	key      string
	resource map[string]any // the create body less adGroup/campaign and status
}

func want(obj sandbox.Object) desired {
	a := obj.Ad
	d := desired{name: marked(a.Name, obj.Marker), budgetName: marked(a.Name+" budget", obj.Marker), period: "DAILY", amount: a.Budget.Micros}
	if a.Budget.Period == sandbox.BudgetLifetime {
		d.period = "CUSTOM_PERIOD"
	}
	if a.StartDate != "" {
		d.start = a.StartDate + " 00:00:00"
	}
	if a.EndDate != "" {
		d.end = a.EndDate + " 23:59:59"
	}
	for _, g := range a.Groups {
		if g.MaxCPCMicros > 0 {
			d.manualCPC = true
		}
	}
	// A country or language given twice ("US", "us"; "no", "nb") is one
	// criterion: Google refuses a campaign criterion it has already.
	seen := map[string]bool{}
	for li, loc := range a.Locations {
		if geo, ok := geoConstant(loc); ok && !seen["location:"+geo] {
			seen["location:"+geo] = true
			d.criteria = append(d.criteria, desiredCriterion{pos: "locations[" + strconv.Itoa(li) + "]", key: "location:" + geo,
				resource: map[string]any{"location": map[string]any{"geoTargetConstant": geo}}})
		}
	}
	for li, lang := range a.Languages {
		if lc, ok := languageConstant(lang); ok && !seen["language:"+lc] {
			seen["language:"+lc] = true
			d.criteria = append(d.criteria, desiredCriterion{pos: "languages[" + strconv.Itoa(li) + "]", key: "language:" + lc,
				resource: map[string]any{"language": map[string]any{"languageConstant": lc}}})
		}
	}
	for gi, g := range a.Groups {
		dg := desiredGroup{pos: "ad_groups[" + strconv.Itoa(gi) + "]", name: marked(g.Name, obj.Marker), cpc: g.MaxCPCMicros}
		for ai, ad := range g.Ads {
			la := liveAd{Headlines: ad.Headlines, Descriptions: ad.Descriptions, Path1: ad.Path1, Path2: ad.Path2}
			if ad.FinalURL != "" {
				la.FinalURLs = []string{ad.FinalURL}
			}
			dg.ads = append(dg.ads, desiredAd{pos: dg.pos + ".ads[" + strconv.Itoa(ai) + "]", ad: la})
		}
		for ki, k := range g.Keywords {
			match := strings.ToUpper(k.Match)
			dg.criteria = append(dg.criteria, desiredCriterion{pos: dg.pos + ".keywords[" + strconv.Itoa(ki) + "]", key: keywordKey(match, k.Text),
				resource: map[string]any{"keyword": map[string]any{"text": k.Text, "matchType": match}}})
		}
		d.groups = append(d.groups, dg)
	}
	return d
}

// request is a googleAds:mutate under construction, with the position in
// the artifact each operation stands for (to place Google's errors).
type request struct {
	ops  []mutateOp
	pos  []string
	temp int
}

func (r *request) add(pos string, op mutateOp) {
	r.ops = append(r.ops, op)
	r.pos = append(r.pos, pos)
}

func (r *request) tempName(customer, coll string) string {
	r.temp--
	return "customers/" + customer + "/" + coll + "/" + strconv.Itoa(r.temp)
}

func (d desired) budgetResource() map[string]any {
	b := map[string]any{"name": d.budgetName, "period": d.period, "deliveryMethod": "STANDARD", "explicitlyShared": false}
	if d.period == "CUSTOM_PERIOD" {
		b["totalAmountMicros"] = strconv.FormatInt(d.amount, 10)
	} else {
		b["amountMicros"] = strconv.FormatInt(d.amount, 10)
	}
	return b
}

func adResource(group, status string, a liveAd) map[string]any {
	assets := func(list []string) []any {
		out := make([]any, 0, len(list))
		for _, s := range list {
			out = append(out, map[string]any{"text": s})
		}
		return out
	}
	rsa := map[string]any{"headlines": assets(a.Headlines), "descriptions": assets(a.Descriptions)}
	if a.Path1 != "" {
		rsa["path1"] = a.Path1
	}
	if a.Path2 != "" {
		rsa["path2"] = a.Path2
	}
	urls := a.FinalURLs
	if urls == nil {
		urls = []string{}
	}
	return map[string]any{"adGroup": group, "status": status, "ad": map[string]any{"finalUrls": urls, "responsiveSearchAd": rsa}}
}

func criterionResource(group, status string, c desiredCriterion) map[string]any {
	out := map[string]any{"adGroup": group, "status": status}
	for k, v := range c.resource {
		out[k] = v
	}
	return out
}

// campaignCriterionResource is the create body of a location or language
// criterion of the campaign (positive; no status: it takes the default).
func campaignCriterionResource(campaign string, c desiredCriterion) map[string]any {
	out := map[string]any{"campaign": campaign}
	for k, v := range c.resource {
		out[k] = v
	}
	return out
}

func groupResource(campaign, name, status string, cpc int64, manual bool) map[string]any {
	g := map[string]any{"campaign": campaign, "name": name, "status": status, "type": "SEARCH_STANDARD"}
	if manual && cpc > 0 {
		g["cpcBidMicros"] = strconv.FormatInt(cpc, 10)
	}
	return g
}

// addGroup appends the creates of a group and everything in it.
func (r *request) addGroup(customer, campaign, status string, g desiredGroup, manual bool) {
	gname := r.tempName(customer, "adGroups")
	res := groupResource(campaign, g.name, status, g.cpc, manual)
	res["resourceName"] = gname
	r.add(g.pos, createOp(opAdGroup, res))
	for _, a := range g.ads {
		r.add(a.pos, createOp(opAd, adResource(gname, status, a.ad)))
	}
	for _, c := range g.criteria {
		r.add(c.pos, createOp(opCriterion, criterionResource(gname, status, c)))
	}
}

// createRequest builds the whole campaign in dependency order, PAUSED:
// budget → campaign → its location and language criteria → ad groups →
// ads → keywords.
func (t *Target) createRequest(d desired) *request {
	r := &request{}
	budget := r.tempName(t.customer, "campaignBudgets")
	b := d.budgetResource()
	b["resourceName"] = budget
	r.add("budget", createOp(opBudget, b))
	campaign := r.tempName(t.customer, "campaigns")
	c := map[string]any{
		"resourceName": campaign, "name": d.name, "status": "PAUSED", "advertisingChannelType": "SEARCH", "campaignBudget": budget,
		"networkSettings":                map[string]any{"targetGoogleSearch": true, "targetSearchNetwork": true, "targetContentNetwork": false, "targetPartnerSearchNetwork": false},
		"containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
	}
	if d.manualCPC {
		c["manualCpc"] = map[string]any{}
	} else {
		c["targetSpend"] = map[string]any{}
	}
	if d.start != "" {
		c["startDateTime"] = d.start
	}
	if d.end != "" {
		c["endDateTime"] = d.end
	}
	r.add("campaign", createOp(opCampaign, c))
	for _, cc := range d.criteria {
		r.add(cc.pos, createOp(opCampaignCriterion, campaignCriterionResource(campaign, cc)))
	}
	for _, g := range d.groups {
		r.addGroup(t.customer, campaign, "PAUSED", g, d.manualCPC)
	}
	return r
}

// updateRequest is what takes the live campaign to d, keeping its status
// (children added under an enabled campaign are enabled) and its id. Ads
// are immutable: an ad whose content changed is created anew and the old
// one removed. Groups are matched by name (with the marker), keywords by
// their text and match type, the campaign's location and language criteria
// by their constant.
func (t *Target) updateRequest(lc *liveCampaign, d desired) *request {
	r := &request{}
	status := "PAUSED"
	if lc.Status == "ENABLED" {
		status = "ENABLED"
	}
	if lc.Budget.ResourceName != "" {
		upd := map[string]any{"resourceName": lc.Budget.ResourceName}
		var mask []string
		if lc.Budget.Name != d.budgetName {
			upd["name"] = d.budgetName
			mask = append(mask, "name")
		}
		if d.period == "CUSTOM_PERIOD" && lc.Budget.Total != d.amount {
			upd["totalAmountMicros"] = strconv.FormatInt(d.amount, 10)
			mask = append(mask, "total_amount_micros")
		} else if d.period == "DAILY" && lc.Budget.Amount != d.amount {
			upd["amountMicros"] = strconv.FormatInt(d.amount, 10)
			mask = append(mask, "amount_micros")
		}
		if len(mask) > 0 {
			r.add("budget", updateOp(opBudget, upd, mask...))
		}
	}
	upd := map[string]any{"resourceName": lc.ResourceName}
	var mask []string
	if lc.Name != d.name {
		upd["name"] = d.name
		mask = append(mask, "name")
	}
	if lc.End != d.end {
		if d.end != "" {
			upd["endDateTime"] = d.end
		}
		mask = append(mask, "end_date_time")
	}
	if d.start != "" && lc.Start != d.start {
		upd["startDateTime"] = d.start
		mask = append(mask, "start_date_time")
	}
	if len(mask) > 0 {
		r.add("campaign", updateOp(opCampaign, upd, mask...))
	}
	liveCamp := map[string][]liveCriterion{}
	for _, c := range lc.Criteria {
		liveCamp[c.Key] = append(liveCamp[c.Key], c)
	}
	for _, c := range d.criteria {
		if list := liveCamp[c.key]; len(list) > 0 {
			liveCamp[c.key] = list[1:]
			continue
		}
		r.add(c.pos, createOp(opCampaignCriterion, campaignCriterionResource(lc.ResourceName, c)))
	}
	for _, c := range lc.Criteria {
		if list := liveCamp[c.Key]; len(list) > 0 && list[0].ResourceName == c.ResourceName {
			liveCamp[c.Key] = list[1:]
			pos := "locations"
			if strings.HasPrefix(c.Key, "language:") {
				pos = "languages"
			}
			r.add(pos, removeOp(opCampaignCriterion, c.ResourceName))
		}
	}
	liveGroups := map[string]*liveGroup{}
	for i := range lc.Groups {
		liveGroups[lc.Groups[i].Name] = &lc.Groups[i]
	}
	kept := map[string]bool{}
	var adds []desiredGroup
	for _, g := range d.groups {
		lg := liveGroups[g.name]
		if lg == nil {
			adds = append(adds, g)
			continue
		}
		kept[g.name] = true
		if d.manualCPC && g.cpc > 0 && lg.CPC != g.cpc {
			r.add(g.pos+".max_cpc", updateOp(opAdGroup, map[string]any{"resourceName": lg.ResourceName, "cpcBidMicros": strconv.FormatInt(g.cpc, 10)}, "cpc_bid_micros"))
		}
		liveAds := map[string][]liveAd{}
		for _, a := range lg.Ads {
			liveAds[a.key()] = append(liveAds[a.key()], a)
		}
		for _, a := range g.ads {
			if list := liveAds[a.ad.key()]; len(list) > 0 {
				liveAds[a.ad.key()] = list[1:]
				continue
			}
			r.add(a.pos, createOp(opAd, adResource(lg.ResourceName, status, a.ad)))
		}
		for _, list := range liveAds {
			for _, a := range list {
				r.add(g.pos, removeOp(opAd, a.ResourceName))
			}
		}
		liveCrit := map[string][]liveCriterion{}
		for _, c := range lg.Criteria {
			liveCrit[c.Key] = append(liveCrit[c.Key], c)
		}
		for _, c := range g.criteria {
			if list := liveCrit[c.key]; len(list) > 0 {
				liveCrit[c.key] = list[1:]
				continue
			}
			r.add(c.pos, createOp(opCriterion, criterionResource(lg.ResourceName, status, c)))
		}
		for _, list := range liveCrit {
			for _, c := range list {
				r.add(g.pos, removeOp(opCriterion, c.ResourceName))
			}
		}
	}
	for _, lg := range lc.Groups {
		if !kept[lg.Name] {
			r.add("ad_groups", removeOp(opAdGroup, lg.ResourceName))
		}
	}
	for _, g := range adds {
		r.addGroup(t.customer, lc.ResourceName, status, g, d.manualCPC)
	}
	return r
}

// enableRequest sets what is paused in the campaign ENABLED: campaign,
// ad groups, ads and keywords.
func enableRequest(lc *liveCampaign) *request {
	r := &request{}
	en := func(field, name string) {
		r.add("campaign", updateOp(field, map[string]any{"resourceName": name, "status": "ENABLED"}, "status"))
	}
	if lc.Status == "PAUSED" {
		en(opCampaign, lc.ResourceName)
	}
	for _, g := range lc.Groups {
		if g.Status == "PAUSED" {
			en(opAdGroup, g.ResourceName)
		}
		for _, a := range g.Ads {
			if a.Status == "PAUSED" {
				en(opAd, a.ResourceName)
			}
		}
		for _, c := range g.Criteria {
			if c.Status == "PAUSED" && strings.HasPrefix(c.Key, "keyword:") {
				en(opCriterion, c.ResourceName)
			}
		}
	}
	return r
}
