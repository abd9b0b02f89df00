package googleadstest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
)

type client struct {
	t   *testing.T
	srv *googleadstest.Server
	hdr map[string]string
}

func newClient(t *testing.T, opts ...googleadstest.Option) *client {
	srv := googleadstest.New(t, append([]googleadstest.Option{googleadstest.WithRate(1000, 1000)}, opts...)...)
	return &client{t: t, srv: srv, hdr: map[string]string{"Authorization": "Bearer " + srv.AccessToken(), "developer-token": googleadstest.DefaultDeveloperToken}}
}

func (c *client) post(path string, body any) (int, map[string]any) {
	c.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.srv.BaseURL()+path, bytes.NewReader(data))
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if m, ok := out.(map[string]any); ok {
		return resp.StatusCode, m
	}
	return resp.StatusCode, map[string]any{"array": out}
}

func (c *client) mutate(body map[string]any) (int, map[string]any) {
	return c.post("/v25/customers/"+googleadstest.DefaultCustomerID+"/googleAds:mutate", body)
}

// codes are "family CODE @ path" of a REST error body's GoogleAdsErrors.
func codes(body map[string]any) []string {
	var out []string
	e, _ := body["error"].(map[string]any)
	if e == nil {
		e, _ = body["partialFailureError"].(map[string]any)
	}
	if e == nil {
		return nil
	}
	details, _ := e["details"].([]any)
	for _, d := range details {
		errs, _ := d.(map[string]any)["errors"].([]any)
		for _, x := range errs {
			m := x.(map[string]any)
			var fam, code string
			for k, v := range m["errorCode"].(map[string]any) {
				fam, code = k, v.(string)
			}
			var path []string
			if loc, ok := m["location"].(map[string]any); ok {
				for _, p := range loc["fieldPathElements"].([]any) {
					pe := p.(map[string]any)
					s := pe["fieldName"].(string)
					if i, ok := pe["index"]; ok {
						s += fmt.Sprintf("[%v]", i)
					}
					path = append(path, s)
				}
			}
			out = append(out, fam+" "+code+" @ "+strings.Join(path, "."))
		}
	}
	return out
}

const cust = "customers/" + googleadstest.DefaultCustomerID

func budget(temp int, name string) map[string]any {
	return map[string]any{"campaignBudgetOperation": map[string]any{"create": map[string]any{
		"resourceName": fmt.Sprintf("%s/campaignBudgets/%d", cust, temp), "name": name, "amountMicros": "25000000"}}}
}

func campaign(temp, budgetTemp int, name string, status *string) map[string]any {
	c := map[string]any{"resourceName": fmt.Sprintf("%s/campaigns/%d", cust, temp), "name": name, "advertisingChannelType": "SEARCH",
		"campaignBudget": fmt.Sprintf("%s/campaignBudgets/%d", cust, budgetTemp), "manualCpc": map[string]any{},
		"containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"}
	if status != nil {
		c["status"] = *status
	}
	return map[string]any{"campaignOperation": map[string]any{"create": c}}
}

func group(temp, campTemp int, name string) map[string]any {
	return map[string]any{"adGroupOperation": map[string]any{"create": map[string]any{
		"resourceName": fmt.Sprintf("%s/adGroups/%d", cust, temp), "name": name, "campaign": fmt.Sprintf("%s/campaigns/%d", cust, campTemp)}}}
}

func ops(list ...map[string]any) map[string]any { return map[string]any{"mutateOperations": list} }

func TestHeaders(t *testing.T) {
	c := newClient(t, googleadstest.WithLoginCustomerID("9876543210"))
	path := "/v25/customers/" + googleadstest.DefaultCustomerID + "/googleAds:searchStream"
	q := map[string]any{"query": "SELECT customer.id FROM customer"}
	for _, tc := range []struct {
		name, header, value string
		status              int
		code                string
	}{
		{"no token", "Authorization", "", 401, "authenticationError"},
		{"bad developer token", "developer-token", "nope", 401, "authenticationError DEVELOPER_TOKEN_INVALID"},
		{"login id with hyphens", "login-customer-id", "987-654-3210", 400, "headerError INVALID_LOGIN_CUSTOMER_ID"},
		{"no login id", "login-customer-id", "", 400, "headerError INVALID_LOGIN_CUSTOMER_ID"},
		{"fine", "login-customer-id", "9876543210", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := c.hdr
			c.hdr = map[string]string{"Authorization": saved["Authorization"], "developer-token": saved["developer-token"]}
			if tc.value != "" || tc.header != "login-customer-id" {
				c.hdr[tc.header] = tc.value
			}
			if tc.header != "login-customer-id" {
				c.hdr["login-customer-id"] = "9876543210"
			}
			status, body := c.post(path, q)
			c.hdr = saved
			if status != tc.status || (tc.code != "" && !strings.HasPrefix(strings.Join(codes(body), ";"), tc.code)) {
				t.Errorf("HTTP %d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
	c.hdr["login-customer-id"] = "9876543210"
	if status, body := c.post("/v25/customers/123-456-7890/googleAds:searchStream", q); status != 400 || !strings.Contains(strings.Join(codes(body), ";"), "INVALID_CUSTOMER_ID") {
		t.Errorf("hyphenated customer in the path: %d %v", status, body)
	}
}

func TestMutateContract(t *testing.T) {
	c := newClient(t)
	// Status omitted: ENABLED, as Google defaults it.
	if status, body := c.mutate(ops(budget(-1, "B1"), campaign(-2, -1, "C1", nil))); status != 200 {
		t.Fatalf("create: %d %v", status, body)
	}
	if camps := c.srv.Campaigns(); len(camps) != 1 || camps[0].Status != "ENABLED" {
		t.Fatalf("campaigns %+v, want one ENABLED", camps)
	}
	paused := "PAUSED"
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"duplicate campaign name", ops(budget(-1, "B2"), campaign(-2, -1, "C1", &paused)), "campaignError DUPLICATE_CAMPAIGN_NAME @ mutate_operations[1].campaign_operation.create.name"},
		{"duplicate budget name", ops(budget(-1, "B1")), "campaignBudgetError DUPLICATE_NAME @ mutate_operations[0].campaign_budget_operation.create.name"},
		{"temp name used before it is created", ops(campaign(-2, -1, "C3", &paused), budget(-1, "B3")), "mutateError RESOURCE_NOT_FOUND"},
		{"duplicate temp ids", ops(budget(-1, "B4"), budget(-1, "B5")), "newResourceCreationError DUPLICATE_TEMP_IDS"},
		{"real id on create", ops(map[string]any{"campaignBudgetOperation": map[string]any{"create": map[string]any{"resourceName": cust + "/campaignBudgets/77", "name": "B6", "amountMicros": "1000000"}}}), "newResourceCreationError CANNOT_SET_ID_FOR_CREATE"},
		{"no EU declaration", ops(budget(-1, "B7"), map[string]any{"campaignOperation": map[string]any{"create": map[string]any{"name": "C7", "advertisingChannelType": "SEARCH", "campaignBudget": cust + "/campaignBudgets/-1", "manualCpc": map[string]any{}}}}), "mutateError EU_POLITICAL_ADVERTISING_DECLARATION_REQUIRED"},
		{"total amount on a daily budget", ops(map[string]any{"campaignBudgetOperation": map[string]any{"create": map[string]any{"name": "B8", "amountMicros": "1000000", "totalAmountMicros": "5000000"}}}), "TOTAL_BUDGET_AMOUNT_MUST_BE_UNSET_FOR_BUDGET_PERIOD_DAILY"},
		{"fraction of a cent", ops(map[string]any{"campaignBudgetOperation": map[string]any{"create": map[string]any{"name": "B9", "amountMicros": "1000001"}}}), "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.srv.Campaigns())
			status, body := c.mutate(tc.body)
			if status != 400 || !strings.Contains(strings.Join(codes(body), ";"), tc.want) {
				t.Errorf("HTTP %d %v, want 400 with %s", status, codes(body), tc.want)
			}
			if e, _ := body["error"].(map[string]any); e == nil || e["status"] != "INVALID_ARGUMENT" {
				t.Errorf("error envelope %v", body)
			}
			if len(c.srv.Campaigns()) != before {
				t.Error("a refused request created something")
			}
		})
	}
	// A bad enum value is refused at parsing, without a GoogleAdsFailure.
	bad := "SPENDING"
	if status, body := c.mutate(ops(budget(-1, "B10"), campaign(-2, -1, "C10", &bad))); status != 400 || len(codes(body)) != 0 || !strings.Contains(fmt.Sprint(body), "CampaignStatus") {
		t.Errorf("bad enum: %d %v", status, body)
	}
	// validateOnly: an empty answer, nothing created.
	body := ops(budget(-1, "B11"), campaign(-2, -1, "C11", &paused), group(-3, -2, "G"))
	body["validateOnly"] = true
	if status, resp := c.mutate(body); status != 200 || len(resp) != 0 || len(c.srv.Campaigns()) != 1 {
		t.Errorf("validateOnly: %d %v, %d campaigns", status, resp, len(c.srv.Campaigns()))
	}
	// partialFailure: the good operations are applied, the bad one is an
	// empty result with its error located.
	body = ops(budget(-1, "B12"), campaign(-2, -1, "C1", &paused), budget(-3, "B13"))
	body["partialFailure"] = true
	status, resp := c.mutate(body)
	results, _ := resp["mutateOperationResponses"].([]any)
	if status != 200 || len(results) != 3 || len(results[1].(map[string]any)) != 0 || !strings.Contains(strings.Join(codes(resp), ";"), "DUPLICATE_CAMPAIGN_NAME @ mutate_operations[1]") {
		t.Errorf("partialFailure: %d %v", status, resp)
	}
	if c.srv.Budgets() != 3 {
		t.Errorf("%d budgets after the partial failure, want 3", c.srv.Budgets())
	}
	// Ad group names: unique per campaign, reusable in another.
	if status, resp := c.mutate(ops(budget(-1, "B20"), campaign(-2, -1, "C20", &paused), group(-3, -2, "G"), group(-4, -2, "G"))); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "DUPLICATE_ADGROUP_NAME") {
		t.Errorf("duplicate ad group: %d %v", status, codes(resp))
	}
	if status, resp := c.mutate(ops(budget(-1, "B21"), campaign(-2, -1, "C21", &paused), group(-3, -2, "G"), budget(-4, "B22"), campaign(-5, -4, "C22", &paused), group(-6, -5, "G"))); status != 200 {
		t.Errorf("the same ad group name in two campaigns: %d %v", status, codes(resp))
	}
	// Over 10,000 operations.
	var many []map[string]any
	for i := range googleadstest.MaxOperations + 1 {
		many = append(many, budget(-1-i, fmt.Sprintf("many %d", i)))
	}
	if status, resp := c.mutate(ops(many...)); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "TOO_MANY_MUTATE_OPERATIONS") {
		t.Errorf("10,001 operations: %d %v", status, codes(resp))
	}
}

func campCrit(campTemp int, crit map[string]any) map[string]any {
	c := map[string]any{"campaign": fmt.Sprintf("%s/campaigns/%d", cust, campTemp)}
	for k, v := range crit {
		c[k] = v
	}
	return map[string]any{"campaignCriterionOperation": map[string]any{"create": c}}
}

func groupCrit(groupTemp int, crit map[string]any) map[string]any {
	c := map[string]any{"adGroup": fmt.Sprintf("%s/adGroups/%d", cust, groupTemp)}
	for k, v := range crit {
		c[k] = v
	}
	return map[string]any{"adGroupCriterionOperation": map[string]any{"create": c}}
}

func TestCampaignCriteria(t *testing.T) {
	c := newClient(t)
	paused := "PAUSED"
	us := map[string]any{"location": map[string]any{"geoTargetConstant": "geoTargetConstants/2840"}}
	en := map[string]any{"language": map[string]any{"languageConstant": "languageConstants/1000"}}
	status, resp := c.mutate(ops(budget(-1, "B1"), campaign(-2, -1, "C1", &paused), campCrit(-2, us), campCrit(-2, en),
		campCrit(-2, map[string]any{"negative": true, "location": map[string]any{"geoTargetConstant": "geoTargetConstants/2826"}})))
	if status != 200 {
		t.Fatalf("create: %d %v", status, codes(resp))
	}
	results := resp["mutateOperationResponses"].([]any)
	name := results[2].(map[string]any)["campaignCriterionResult"].(map[string]any)["resourceName"].(string)
	camp := c.srv.Campaigns()[0]
	if !strings.HasPrefix(name, fmt.Sprintf("%s/campaignCriteria/%d~", cust, camp.ID)) {
		t.Errorf("resource name %s", name)
	}
	id := fmt.Sprint(camp.ID)
	if cc := c.srv.CampaignCriteria(id); len(cc) != 3 || cc[0].Type != "LOCATION" || cc[1].Type != "LANGUAGE" || !cc[2].Negative || cc[0].Status != "ENABLED" {
		t.Errorf("campaign criteria %+v", cc)
	}
	if tr := c.srv.Tree(id); len(tr.CampaignCriteria) != 3 || len(tr.Criteria) != 0 {
		t.Errorf("tree %+v", tr)
	}
	// GAQL: the connector's filters.
	status, body := c.post("/v25/customers/"+googleadstest.DefaultCustomerID+"/googleAds:searchStream", map[string]any{"query": "SELECT campaign_criterion.resource_name, campaign_criterion.type, " +
		"campaign_criterion.negative, campaign_criterion.location.geo_target_constant, campaign_criterion.language.language_constant FROM campaign_criterion " +
		"WHERE campaign.id = " + id + " AND campaign_criterion.type IN ('LOCATION', 'LANGUAGE') AND campaign_criterion.status != 'REMOVED'"})
	rows := body["array"].([]any)[0].(map[string]any)["results"].([]any)
	if status != 200 || len(rows) != 3 || !strings.Contains(fmt.Sprint(rows), "geoTargetConstants/2840") || !strings.Contains(fmt.Sprint(rows), "negative:true") {
		t.Errorf("search: %d %v", status, body)
	}
	// Remove by resource name; a second remove is not found.
	if status, resp := c.mutate(ops(map[string]any{"campaignCriterionOperation": map[string]any{"remove": name}})); status != 200 {
		t.Errorf("remove: %d %v", status, codes(resp))
	}
	if cc := c.srv.CampaignCriteria(id); cc[0].Status != "REMOVED" {
		t.Errorf("after the remove: %+v", cc[0])
	}
	if status, resp := c.mutate(ops(map[string]any{"campaignCriterionOperation": map[string]any{"remove": name}})); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "RESOURCE_NOT_FOUND") {
		t.Errorf("second remove: %d %v", status, codes(resp))
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"no campaign", ops(map[string]any{"campaignCriterionOperation": map[string]any{"create": us}}), "fieldError REQUIRED @ mutate_operations[0].campaign_criterion_operation.create.campaign"},
		{"both location and language", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), campCrit(-2, map[string]any{"location": us["location"], "language": en["language"]})), "criterionError CRITERION_TYPE_NOT_SET @ mutate_operations[2]"},
		{"neither", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), campCrit(-2, nil)), "criterionError CRITERION_TYPE_NOT_SET"},
		{"bad geo constant", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), campCrit(-2, map[string]any{"location": map[string]any{"geoTargetConstant": "US"}})), "criterionError INVALID_GEO_TARGET_CONSTANT @ mutate_operations[2].campaign_criterion_operation.create.location.geo_target_constant"},
		{"bad language constant", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), campCrit(-2, map[string]any{"language": map[string]any{"languageConstant": "en"}})), "criterionError INVALID_LANGUAGE_CONSTANT"},
		{"temp campaign not created", ops(campCrit(-9, us)), "mutateError RESOURCE_NOT_FOUND"},
		{"duplicate", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), campCrit(-2, us), campCrit(-2, us)), "mutateError DUPLICATE_RESOURCE @ mutate_operations[3]"},
		// Location targeting is set on the campaign: a search campaign's ad
		// group takes neither a location nor a language.
		{"ad group location", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), group(-3, -2, "G"), groupCrit(-3, us)), "criterionError CANNOT_ADD_CRITERIA_TYPE @ mutate_operations[3].ad_group_criterion_operation.create.location"},
		{"ad group language", ops(budget(-1, "B2"), campaign(-2, -1, "C2", &paused), group(-3, -2, "G"), groupCrit(-3, en)), "criterionError CANNOT_ADD_CRITERIA_TYPE @ mutate_operations[3].ad_group_criterion_operation.create.language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.srv.Campaigns())
			status, body := c.mutate(tc.body)
			if status != 400 || !strings.Contains(strings.Join(codes(body), ";"), tc.want) {
				t.Errorf("HTTP %d %v, want 400 with %s", status, codes(body), tc.want)
			}
			if len(c.srv.Campaigns()) != before {
				t.Error("a refused request created something")
			}
		})
	}
	// Keywords still go on ad groups.
	kw := map[string]any{"keyword": map[string]any{"text": "tents", "matchType": "EXACT"}}
	if status, resp := c.mutate(ops(budget(-1, "B3"), campaign(-2, -1, "C3", &paused), group(-3, -2, "G"), groupCrit(-3, kw))); status != 200 {
		t.Errorf("keyword: %d %v", status, codes(resp))
	}
}

func TestResponsiveSearchAdLimits(t *testing.T) {
	c := newClient(t)
	paused := "PAUSED"
	if status, resp := c.mutate(ops(budget(-1, "B"), campaign(-2, -1, "C", &paused), group(-3, -2, "G"))); status != 200 {
		t.Fatalf("%d %v", status, resp)
	}
	g := c.srv.Tree(fmt.Sprint(c.srv.Campaigns()[0].ID)).Groups[0]
	groupName := fmt.Sprintf("%s/adGroups/%d", cust, g.ID)
	ad := func(headlines, descriptions []string, path1 string, urls []string) map[string]any {
		asset := func(l []string) []any {
			var out []any
			for _, s := range l {
				out = append(out, map[string]any{"text": s})
			}
			return out
		}
		return map[string]any{"adGroupAdOperation": map[string]any{"create": map[string]any{"adGroup": groupName, "ad": map[string]any{"finalUrls": urls,
			"responsiveSearchAd": map[string]any{"headlines": asset(headlines), "descriptions": asset(descriptions), "path1": path1}}}}}
	}
	h3, d2, u := []string{"One", "Two", "Three"}, []string{"First description.", "Second description."}, []string{"https://acme.example/"}
	for _, tc := range []struct {
		name string
		op   map[string]any
		want string
	}{
		{"two headlines", ad(h3[:2], d2, "", u), "collectionSizeError TOO_FEW @ mutate_operations[0].ad_group_ad_operation.create.ad.responsive_search_ad.headlines"},
		{"31 characters", ad([]string{"One", "Two", strings.Repeat("x", 31)}, d2, "", u), "stringLengthError TOO_LONG @ mutate_operations[0].ad_group_ad_operation.create.ad.responsive_search_ad.headlines[2].text"},
		{"duplicate headline", ad([]string{"One", "Two", "One"}, d2, "", u), "assetError DUPLICATE_ASSET"},
		{"five descriptions", ad(h3, []string{"a", "b", "c", "d", "e"}, "", u), "collectionSizeError TOO_MANY"},
		{"91-character description", ad(h3, []string{"a", strings.Repeat("d", 91)}, "", u), "stringLengthError TOO_LONG @ mutate_operations[0].ad_group_ad_operation.create.ad.responsive_search_ad.descriptions[1].text"},
		{"16-character path", ad(h3, d2, strings.Repeat("p", 16), u), "stringLengthError TOO_LONG"},
		{"no final URL", ad(h3, d2, "", nil), "adError CANNOT_SET_WITHOUT_FINAL_URLS"},
		{"keyword of 11 words", map[string]any{"adGroupCriterionOperation": map[string]any{"create": map[string]any{"adGroup": groupName, "keyword": map[string]any{"text": "a b c d e f g h i j k", "matchType": "BROAD"}}}}, "criterionError KEYWORD_HAS_TOO_MANY_WORDS"},
		{"keyword of 81 characters", map[string]any{"adGroupCriterionOperation": map[string]any{"create": map[string]any{"adGroup": groupName, "keyword": map[string]any{"text": strings.Repeat("k", 81), "matchType": "EXACT"}}}}, "criterionError KEYWORD_TEXT_TOO_LONG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, resp := c.mutate(ops(tc.op)); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), tc.want) {
				t.Errorf("HTTP %d %v, want %s", status, codes(resp), tc.want)
			}
		})
	}
	// Ads are immutable but for their status.
	if status, _ := c.mutate(ops(ad(h3, d2, "", u))); status != 200 {
		t.Fatal("a valid ad was refused")
	}
	a := c.srv.Tree(fmt.Sprint(c.srv.Campaigns()[0].ID)).Ads[0]
	name := fmt.Sprintf("%s/adGroupAds/%d~%d", cust, a.AdGroup, a.AdID)
	if status, resp := c.mutate(ops(map[string]any{"adGroupAdOperation": map[string]any{"update": map[string]any{"resourceName": name, "ad": map[string]any{"finalUrls": u}}, "updateMask": "ad.final_urls"}})); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "IMMUTABLE_FIELD") {
		t.Errorf("ad update: %d %v", status, codes(resp))
	}
	// The per-resource path answers results[].resourceName.
	status, resp := c.post("/v25/customers/"+googleadstest.DefaultCustomerID+"/adGroupAds:mutate", map[string]any{"operations": []any{
		map[string]any{"update": map[string]any{"resourceName": name, "status": "PAUSED"}, "updateMask": "status"}}})
	if results, _ := resp["results"].([]any); status != 200 || len(results) != 1 || results[0].(map[string]any)["resourceName"] != name {
		t.Errorf("adGroupAds:mutate: %d %v", status, resp)
	}
}

func TestSearchAndRate(t *testing.T) {
	c := newClient(t)
	paused := "PAUSED"
	c.mutate(ops(budget(-1, "B"), campaign(-2, -1, "Spring [lm-ad_1]", &paused)))
	path := "/v25/customers/" + googleadstest.DefaultCustomerID + "/googleAds:"
	status, resp := c.post(path+"searchStream", map[string]any{"query": "SELECT campaign.id, campaign.name, campaign_budget.amount_micros FROM campaign WHERE campaign.name LIKE '%[[]lm-ad[_]1]%' AND campaign.status IN ('PAUSED', 'ENABLED')"})
	batches, _ := resp["array"].([]any)
	if status != 200 || len(batches) != 1 {
		t.Fatalf("searchStream: %d %v", status, resp)
	}
	rows := batches[0].(map[string]any)["results"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["campaignBudget"].(map[string]any)["amountMicros"] != "25000000" {
		t.Errorf("rows %v: want one, int64 as a string", rows)
	}
	_, resp = c.post(path+"search", map[string]any{"query": "SELECT campaign.id FROM campaign WHERE campaign.name LIKE '%[[]lm-ad[_]2]%'"})
	if rows, _ := resp["results"].([]any); len(rows) != 0 || resp["nextPageToken"] != nil {
		t.Errorf("search for another marker: %v", resp)
	}
	if status, resp := c.post(path+"search", map[string]any{"query": "SELECT campaign.id FROM campaign", "pageSize": 10}); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "PAGE_SIZE_NOT_SUPPORTED") {
		t.Errorf("pageSize: %d %v", status, codes(resp))
	}
	if status, resp := c.post(path+"search", map[string]any{"query": "SELECT campaign.colour FROM campaign"}); status != 400 || !strings.Contains(strings.Join(codes(resp), ";"), "queryError") {
		t.Errorf("unknown field: %d %v", status, codes(resp))
	}

	slow := newClient(t, googleadstest.WithRate(1, 1))
	q := map[string]any{"query": "SELECT customer.id FROM customer"}
	slow.post(path+"searchStream", q)
	status, resp = slow.post(path+"searchStream", q)
	e, _ := resp["error"].(map[string]any)
	if status != 429 || e["status"] != "RESOURCE_EXHAUSTED" || !strings.Contains(strings.Join(codes(resp), ";"), "quotaError RESOURCE_TEMPORARILY_EXHAUSTED") || !strings.Contains(fmt.Sprint(resp), "retryDelay") {
		t.Errorf("over the rate: %d %v", status, resp)
	}
	if slow.srv.Counts().Throttled != 1 {
		t.Errorf("throttled %d", slow.srv.Counts().Throttled)
	}

	// The token endpoint: a refresh grant for the fake's client.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {googleadstest.DefaultRefreshToken}, "client_id": {googleadstest.DefaultClientID}, "client_secret": {googleadstest.DefaultClientSecret}}
	r, err := http.PostForm(c.srv.TokenURL(), form)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("token: %v %v", r, err)
	}
	r.Body.Close()
	form.Set("refresh_token", "revoked")
	r, _ = http.PostForm(c.srv.TokenURL(), form)
	if r.StatusCode != 400 {
		t.Errorf("a revoked refresh token: HTTP %d", r.StatusCode)
	}
	r.Body.Close()
}
