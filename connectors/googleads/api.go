package googleads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// apiVersion is the Google Ads API version the connector speaks.
const apiVersion = "v25"

func (t *Target) path(method string) string {
	return "/" + apiVersion + "/customers/" + t.customer + "/" + method
}

// mutateOp is one MutateOperation of googleAds:mutate: the field naming
// the resource's operation ("campaignOperation") and the operation.
type mutateOp map[string]any

func createOp(field string, resource map[string]any) mutateOp {
	return mutateOp{field: map[string]any{"create": resource}}
}

func updateOp(field string, resource map[string]any, mask ...string) mutateOp {
	return mutateOp{field: map[string]any{"update": resource, "updateMask": strings.Join(mask, ",")}}
}

func removeOp(field, resourceName string) mutateOp {
	return mutateOp{field: map[string]any{"remove": resourceName}}
}

type mutateResponse struct {
	MutateOperationResponses []map[string]struct {
		ResourceName string `json:"resourceName"`
	} `json:"mutateOperationResponses"`
}

// resourceNames are the results' resource names, in operation order.
func (r mutateResponse) resourceNames() []string {
	out := make([]string, len(r.MutateOperationResponses))
	for i, res := range r.MutateOperationResponses {
		for _, v := range res {
			out[i] = v.ResourceName
		}
	}
	return out
}

// mutate sends one atomic googleAds:mutate. A request of creates is not
// repeated after an ambiguous failure (the caller reconciles by marker);
// updates and removes of named resources are.
func (t *Target) mutate(ctx context.Context, ops []mutateOp, validateOnly, repeatable bool) (mutateResponse, error) {
	body := map[string]any{"mutateOperations": ops, "partialFailure": false, "validateOnly": validateOnly}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("googleAds:mutate"), Body: body,
		Idempotent: validateOnly || repeatable})
	if err != nil {
		return mutateResponse{}, err
	}
	var out mutateResponse
	if err := resp.Decode(&out); err != nil {
		return mutateResponse{}, fmt.Errorf("google ads answered googleAds:mutate with something else: %w", err)
	}
	return out, nil
}

// row is a GoogleAdsRow with the fields the connector reads.
type row struct {
	Customer *struct {
		ID              string `json:"id"`
		DescriptiveName string `json:"descriptiveName"`
		CurrencyCode    string `json:"currencyCode"`
		TimeZone        string `json:"timeZone"`
		Manager         bool   `json:"manager"`
		TestAccount     bool   `json:"testAccount"`
	} `json:"customer"`
	Campaign *struct {
		ResourceName   string `json:"resourceName"`
		ID             string `json:"id"`
		Name           string `json:"name"`
		Status         string `json:"status"`
		CampaignBudget string `json:"campaignBudget"`
		StartDateTime  string `json:"startDateTime"`
		EndDateTime    string `json:"endDateTime"`
	} `json:"campaign"`
	CampaignBudget *struct {
		ResourceName      string `json:"resourceName"`
		Name              string `json:"name"`
		AmountMicros      string `json:"amountMicros"`
		TotalAmountMicros string `json:"totalAmountMicros"`
		Period            string `json:"period"`
	} `json:"campaignBudget"`
	AdGroup *struct {
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
		Name         string `json:"name"`
		Status       string `json:"status"`
		CpcBidMicros string `json:"cpcBidMicros"`
	} `json:"adGroup"`
	AdGroupAd *struct {
		ResourceName string `json:"resourceName"`
		Status       string `json:"status"`
		AdGroup      string `json:"adGroup"`
		Ad           struct {
			ID                 string   `json:"id"`
			FinalUrls          []string `json:"finalUrls"`
			ResponsiveSearchAd struct {
				Headlines    []struct{ Text string } `json:"headlines"`
				Descriptions []struct{ Text string } `json:"descriptions"`
				Path1        string                  `json:"path1"`
				Path2        string                  `json:"path2"`
			} `json:"responsiveSearchAd"`
		} `json:"ad"`
	} `json:"adGroupAd"`
	AdGroupCriterion *struct {
		ResourceName string `json:"resourceName"`
		Status       string `json:"status"`
		Type         string `json:"type"`
		AdGroup      string `json:"adGroup"`
		Keyword      *struct {
			Text      string `json:"text"`
			MatchType string `json:"matchType"`
		} `json:"keyword"`
		Location *struct {
			GeoTargetConstant string `json:"geoTargetConstant"`
		} `json:"location"`
		Language *struct {
			LanguageConstant string `json:"languageConstant"`
		} `json:"language"`
	} `json:"adGroupCriterion"`
	CampaignCriterion *struct {
		ResourceName string `json:"resourceName"`
		Type         string `json:"type"`
		Negative     bool   `json:"negative"`
		Location     *struct {
			GeoTargetConstant string `json:"geoTargetConstant"`
		} `json:"location"`
		Language *struct {
			LanguageConstant string `json:"languageConstant"`
		} `json:"language"`
	} `json:"campaignCriterion"`
	Metrics *struct {
		Impressions string  `json:"impressions"`
		Clicks      string  `json:"clicks"`
		CostMicros  string  `json:"costMicros"`
		Conversions float64 `json:"conversions"`
	} `json:"metrics"`
}

// search runs a GAQL query over googleAds:searchStream (one operation of
// quota whatever the rows) and returns every row.
func (t *Target) search(ctx context.Context, query string) ([]row, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("googleAds:searchStream"),
		Body: map[string]any{"query": query}, Idempotent: true})
	if err != nil {
		return nil, err
	}
	var batches []struct {
		Results []row `json:"results"`
	}
	if err := resp.Decode(&batches); err != nil {
		return nil, fmt.Errorf("google ads answered searchStream with something else: %w", err)
	}
	var out []row
	for _, b := range batches {
		out = append(out, b.Results...)
	}
	return out, nil
}

// gaqlString quotes s for GAQL.
func gaqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// likeLiteral escapes s for a GAQL LIKE pattern: [, _ and % stand for
// themselves inside brackets.
func likeLiteral(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '[', '_', '%':
			b.WriteString("[" + string(c) + "]")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// markerTag is how a marker appears in names: "[lm-ad_…]".
func markerTag(marker string) string { return "[" + marker + "]" }

// marked is a name with the marker appended.
func marked(name, marker string) string { return strings.TrimSpace(name) + " " + markerTag(marker) }

// liveCampaign is the campaign as read back, the source of its Version.
type liveCampaign struct {
	ID           string     `json:"id"`
	ResourceName string     `json:"resource_name"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	Start        string     `json:"start"`
	End          string     `json:"end"`
	Budget       liveBudget `json:"budget"`
	// Criteria are the campaign's location and language criteria (left
	// out when none, so a campaign without them keeps the Version it had
	// before lastmile read campaign criteria).
	Criteria []liveCriterion `json:"criteria,omitempty"`
	Groups   []liveGroup     `json:"groups"`
}

type liveBudget struct {
	ResourceName string `json:"resource_name"`
	Name         string `json:"name"`
	Period       string `json:"period"`
	Amount       int64  `json:"amount"`
	Total        int64  `json:"total"`
}

type liveGroup struct {
	ResourceName string          `json:"resource_name"`
	Name         string          `json:"name"`
	Status       string          `json:"status"`
	CPC          int64           `json:"cpc"`
	Ads          []liveAd        `json:"ads"`
	Criteria     []liveCriterion `json:"criteria"`
}

type liveAd struct {
	ResourceName string   `json:"resource_name"`
	Status       string   `json:"status"`
	Headlines    []string `json:"headlines"`
	Descriptions []string `json:"descriptions"`
	Path1        string   `json:"path1,omitempty"`
	Path2        string   `json:"path2,omitempty"`
	FinalURLs    []string `json:"final_urls"`
}

// key identifies an ad's content: ads are immutable, so equal content is
// the same ad.
func (a liveAd) key() string {
	data, _ := json.Marshal([]any{a.Headlines, a.Descriptions, a.Path1, a.Path2, a.FinalURLs})
	return string(data)
}

type liveCriterion struct {
	ResourceName string `json:"resource_name"`
	Status       string `json:"status,omitempty"`
	// Key is "keyword:EXACT:text", "location:geoTargetConstants/2840",
	// "language:languageConstants/1000".
	Key string `json:"key"`
}

func i64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// readLive reads the campaign with its budget, its location and language
// criteria, ad groups, ads and keywords (five GAQL queries: GAQL reads one
// resource a query, and campaign_criterion rows carry neither the budget
// nor a campaign without criteria; removed children left out).
func (t *Target) readLive(ctx context.Context, op, id string) (*liveCampaign, bool, error) {
	lc, found, err := t.readTree(ctx, op, id)
	if err != nil || !found || lc.Status == "REMOVED" {
		return lc, found, err
	}
	if err := t.readTargets(ctx, op, lc); err != nil {
		return nil, false, err
	}
	return lc, true, nil
}

// readTargets reads the campaign's location and language criteria into
// lc (one GAQL query).
func (t *Target) readTargets(ctx context.Context, op string, lc *liveCampaign) error {
	id := lc.ID
	// Exclusions (negative criteria) someone added in Google Ads are not
	// lastmile's: left out of the Version and never removed.
	camp, err := t.search(ctx, "SELECT campaign_criterion.resource_name, campaign_criterion.type, campaign_criterion.negative, "+
		"campaign_criterion.location.geo_target_constant, campaign_criterion.language.language_constant FROM campaign_criterion "+
		"WHERE campaign.id = "+id+" AND campaign_criterion.type IN ('LOCATION', 'LANGUAGE') AND campaign_criterion.status != 'REMOVED'")
	if err != nil {
		return t.fail(op, err)
	}
	for _, r := range camp {
		c := r.CampaignCriterion
		if c == nil || c.Negative {
			continue
		}
		lcr := liveCriterion{ResourceName: c.ResourceName}
		switch {
		case c.Location != nil:
			lcr.Key = "location:" + c.Location.GeoTargetConstant
		case c.Language != nil:
			lcr.Key = "language:" + c.Language.LanguageConstant
		default:
			continue
		}
		lc.Criteria = append(lc.Criteria, lcr)
	}
	sort.Slice(lc.Criteria, func(i, j int) bool { return lc.Criteria[i].ResourceName < lc.Criteria[j].ResourceName })
	return nil
}

// readTree is readLive without the campaign criteria (four GAQL queries),
// for what needs no targeting: enabling, discarding. Its Version is not
// the campaign's: complete it with readTargets first.
func (t *Target) readTree(ctx context.Context, op, id string) (*liveCampaign, bool, error) {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return nil, false, failf(op, nil, "%q is not a Google Ads campaign id", id)
	}
	rows, err := t.search(ctx, "SELECT campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.start_date_time, campaign.end_date_time, "+
		"campaign_budget.resource_name, campaign_budget.name, campaign_budget.period, campaign_budget.amount_micros, campaign_budget.total_amount_micros "+
		"FROM campaign WHERE campaign.id = "+id)
	if err != nil {
		return nil, false, t.fail(op, err)
	}
	if len(rows) == 0 || rows[0].Campaign == nil {
		return nil, false, nil
	}
	c := rows[0].Campaign
	lc := &liveCampaign{ID: c.ID, ResourceName: c.ResourceName, Name: c.Name, Status: c.Status, Start: c.StartDateTime, End: c.EndDateTime}
	if b := rows[0].CampaignBudget; b != nil {
		lc.Budget = liveBudget{ResourceName: b.ResourceName, Name: b.Name, Period: b.Period, Amount: i64(b.AmountMicros), Total: i64(b.TotalAmountMicros)}
	}
	if lc.Status == "REMOVED" {
		return lc, true, nil
	}
	groups, err := t.search(ctx, "SELECT ad_group.resource_name, ad_group.id, ad_group.name, ad_group.status, ad_group.cpc_bid_micros "+
		"FROM ad_group WHERE campaign.id = "+id+" AND ad_group.status != 'REMOVED'")
	if err != nil {
		return nil, false, t.fail(op, err)
	}
	byName := map[string]*liveGroup{}
	for _, r := range groups {
		if r.AdGroup == nil {
			continue
		}
		lc.Groups = append(lc.Groups, liveGroup{ResourceName: r.AdGroup.ResourceName, Name: r.AdGroup.Name, Status: r.AdGroup.Status, CPC: i64(r.AdGroup.CpcBidMicros)})
	}
	sort.Slice(lc.Groups, func(i, j int) bool { return lc.Groups[i].ResourceName < lc.Groups[j].ResourceName })
	for i := range lc.Groups {
		byName[lc.Groups[i].ResourceName] = &lc.Groups[i]
	}
	ads, err := t.search(ctx, "SELECT ad_group_ad.resource_name, ad_group_ad.status, ad_group_ad.ad_group, ad_group_ad.ad.id, ad_group_ad.ad.final_urls, "+
		"ad_group_ad.ad.responsive_search_ad.headlines, ad_group_ad.ad.responsive_search_ad.descriptions, "+
		"ad_group_ad.ad.responsive_search_ad.path1, ad_group_ad.ad.responsive_search_ad.path2 "+
		"FROM ad_group_ad WHERE campaign.id = "+id+" AND ad_group_ad.status != 'REMOVED'")
	if err != nil {
		return nil, false, t.fail(op, err)
	}
	for _, r := range ads {
		a := r.AdGroupAd
		if a == nil || byName[a.AdGroup] == nil {
			continue
		}
		la := liveAd{ResourceName: a.ResourceName, Status: a.Status, Path1: a.Ad.ResponsiveSearchAd.Path1, Path2: a.Ad.ResponsiveSearchAd.Path2, FinalURLs: a.Ad.FinalUrls}
		for _, h := range a.Ad.ResponsiveSearchAd.Headlines {
			la.Headlines = append(la.Headlines, h.Text)
		}
		for _, d := range a.Ad.ResponsiveSearchAd.Descriptions {
			la.Descriptions = append(la.Descriptions, d.Text)
		}
		g := byName[a.AdGroup]
		g.Ads = append(g.Ads, la)
	}
	crits, err := t.search(ctx, "SELECT ad_group_criterion.resource_name, ad_group_criterion.status, ad_group_criterion.type, ad_group_criterion.ad_group, "+
		"ad_group_criterion.keyword.text, ad_group_criterion.keyword.match_type, ad_group_criterion.location.geo_target_constant, "+
		"ad_group_criterion.language.language_constant FROM ad_group_criterion WHERE campaign.id = "+id+" AND ad_group_criterion.status != 'REMOVED'")
	if err != nil {
		return nil, false, t.fail(op, err)
	}
	for _, r := range crits {
		c := r.AdGroupCriterion
		if c == nil || byName[c.AdGroup] == nil {
			continue
		}
		lcr := liveCriterion{ResourceName: c.ResourceName, Status: c.Status}
		switch {
		case c.Keyword != nil:
			lcr.Key = keywordKey(c.Keyword.MatchType, c.Keyword.Text)
		case c.Location != nil:
			lcr.Key = "location:" + c.Location.GeoTargetConstant
		case c.Language != nil:
			lcr.Key = "language:" + c.Language.LanguageConstant
		default:
			lcr.Key = "other:" + c.Type
		}
		g := byName[c.AdGroup]
		g.Criteria = append(g.Criteria, lcr)
	}
	for i := range lc.Groups {
		g := &lc.Groups[i]
		sort.Slice(g.Ads, func(a, b int) bool { return g.Ads[a].ResourceName < g.Ads[b].ResourceName })
		sort.Slice(g.Criteria, func(a, b int) bool { return g.Criteria[a].ResourceName < g.Criteria[b].ResourceName })
	}
	return lc, true, nil
}

func keywordKey(match, text string) string {
	return "keyword:" + match + ":" + strings.ToLower(strings.Join(strings.Fields(text), " "))
}

// version hashes what was read back: any change to the campaign, its
// budget, groups, ads or criteria (statuses included) changes it.
func (lc *liveCampaign) version() string {
	data, _ := json.Marshal(lc)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:12])
}

// statusWord is the sandbox's word for a campaign status.
func statusWord(s string) string { return strings.ToLower(s) }

func (t *Target) state(lc *liveCampaign) sandbox.LiveState {
	return sandbox.LiveState{ID: lc.ID, Version: lc.version(), Status: statusWord(lc.Status), URL: t.campaignURL(lc.ID)}
}

// campaignURL is the campaign in the Google Ads UI.
func (t *Target) campaignURL(id string) string {
	if t.cfg.BaseURL != "" && t.cfg.BaseURL != DefaultBaseURL {
		return ""
	}
	return "https://ads.google.com/aw/campaigns?campaignId=" + id + "&__c=" + t.customer
}

// findByMarker finds the campaign (not removed) whose name carries marker.
func (t *Target) findByMarker(ctx context.Context, marker string) (string, bool, error) {
	tag := markerTag(marker)
	rows, err := t.search(ctx, "SELECT campaign.id, campaign.name, campaign.status FROM campaign WHERE campaign.name LIKE '%"+
		strings.ReplaceAll(likeLiteral(tag), "'", `\'`)+"%' AND campaign.status != 'REMOVED'")
	if err != nil {
		return "", false, t.fail("find ad campaign by marker "+marker, err)
	}
	var ids []string
	for _, r := range rows {
		if r.Campaign != nil && strings.Contains(r.Campaign.Name, tag) {
			ids = append(ids, r.Campaign.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", false, nil
	case 1:
		return ids[0], true, nil
	}
	sort.Slice(ids, func(i, j int) bool { return i64(ids[i]) < i64(ids[j]) })
	t.log.Warn("several Google Ads campaigns carry one marker; using the oldest", "marker", marker, "campaigns", strings.Join(ids, ","))
	return ids[0], true, nil
}
