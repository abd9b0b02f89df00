package metatest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/meta/metatest"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, srv *metatest.Server, method, path string, v url.Values) answer {
	t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if v.Get("access_token") == "" {
		v.Set("access_token", srv.Token)
	}
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, srv.URL+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, srv.URL+path+"?"+v.Encode(), nil)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, data)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func errCode(a answer) (code, subcode float64) {
	e, _ := a.body["error"].(map[string]any)
	code, _ = e["code"].(float64)
	subcode, _ = e["error_subcode"].(float64)
	return
}

func campaign(extra ...string) url.Values {
	v := url.Values{"name": {"C"}, "objective": {"OUTCOME_TRAFFIC"}, "special_ad_categories": {"[]"}, "status": {"PAUSED"}, "daily_budget": {"2500"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestContract(t *testing.T) {
	srv := metatest.New(t)
	acct := "/act_" + srv.AccountID

	// validate_only answers success and creates nothing.
	a := call(t, srv, "POST", acct+"/campaigns", campaign("execution_options", `["validate_only"]`))
	if a.status != 200 || a.body["success"] != true || len(srv.Objects("campaign")) != 0 {
		t.Fatalf("validate_only: %d %v, %d campaigns", a.status, a.body, len(srv.Objects("campaign")))
	}
	// A required parameter, an enum and a budget type.
	for _, c := range []struct {
		v     url.Values
		blame string
	}{
		{campaign("special_ad_categories", ""), "special_ad_categories"},
		{campaign("objective", "SALES"), "objective"},
		{campaign("daily_budget", "25.00"), "daily_budget"},
	} {
		a := call(t, srv, "POST", acct+"/campaigns", c.v)
		code, sub := errCode(a)
		if a.status != 400 || code != 100 || sub != 1487694 || !strings.Contains(fmt.Sprint(a.body), c.blame) {
			t.Errorf("%s: %d %v", c.blame, a.status, a.body)
		}
	}
	// A bad token: code 190 on HTTP 400.
	if a := call(t, srv, "GET", acct, url.Values{"access_token": {"nope"}}); a.status != 400 {
		t.Errorf("bad token: %d", a.status)
	} else if code, _ := errCode(a); code != 190 {
		t.Errorf("bad token: code %v", code)
	}
	// Budgets read back as strings; usage headers on every answer.
	a = call(t, srv, "POST", acct+"/campaigns", campaign("lifetime_budget", "10000", "daily_budget", ""))
	id := fmt.Sprint(a.body["id"])
	a = call(t, srv, "GET", "/"+id, url.Values{"fields": {"lifetime_budget,status"}})
	if a.body["lifetime_budget"] != "10000" || a.header.Get("X-Business-Use-Case-Usage") == "" || a.header.Get("X-Ad-Account-Usage") == "" || a.header.Get("X-App-Usage") == "" {
		t.Errorf("read: %v %v", a.body, a.header)
	}
	// A lifetime budget needs an end_time on the ad set.
	set := url.Values{"name": {"S"}, "campaign_id": {id}, "billing_event": {"IMPRESSIONS"}, "optimization_goal": {"LINK_CLICKS"},
		"targeting": {`{"geo_locations":{"countries":["US"]}}`}, "status": {"PAUSED"}}
	a = call(t, srv, "POST", acct+"/adsets", set)
	if !strings.Contains(fmt.Sprint(a.body), "end_time") {
		t.Errorf("lifetime without end_time: %v", a.body)
	}
	// A creative takes only name and status as updates.
	cr := call(t, srv, "POST", acct+"/adcreatives", url.Values{"name": {"Cr"}, "object_story_spec": {`{"page_id":"` + srv.PageID + `","link_data":{"link":"https://acme.example/"}}`}})
	a = call(t, srv, "POST", "/"+fmt.Sprint(cr.body["id"]), url.Values{"object_story_spec": {`{}`}})
	if code, _ := errCode(a); code != 100 {
		t.Errorf("creative update: %v", a.body)
	}
	// Pagination: cursors and next.
	for i := range 7 {
		srv.AddCampaign(fmt.Sprintf("x%d", i), "PAUSED")
	}
	a = call(t, srv, "GET", acct+"/campaigns", url.Values{"fields": {"id,name"}, "limit": {"5"}})
	paging, _ := a.body["paging"].(map[string]any)
	cursors, _ := paging["cursors"].(map[string]any)
	if len(a.body["data"].([]any)) != 5 || paging["next"] == nil || cursors["after"] == nil {
		t.Fatalf("page 1: %v", a.body)
	}
	a = call(t, srv, "GET", acct+"/campaigns", url.Values{"fields": {"id,name"}, "limit": {"5"}, "after": {fmt.Sprint(cursors["after"])}})
	if p, _ := a.body["paging"].(map[string]any); len(a.body["data"].([]any)) != 3 || p["next"] != nil {
		t.Errorf("page 2: %v", a.body)
	}
	// Deleted campaigns leave the list but can be read.
	call(t, srv, "DELETE", "/"+id, nil)
	if a := call(t, srv, "GET", "/"+id, url.Values{"fields": {"status"}}); a.body["status"] != "DELETED" {
		t.Errorf("deleted: %v", a.body)
	}
	if a := call(t, srv, "POST", "/"+id, url.Values{"name": {"again"}}); a.status != 400 {
		t.Errorf("update of a deleted campaign: %v", a.body)
	}
}

func TestQuotaAndAppSecret(t *testing.T) {
	srv := metatest.New(t, metatest.WithQuota(3), metatest.WithAppSecret("s3"))
	acct := "/act_" + srv.AccountID
	if a := call(t, srv, "GET", acct, nil); a.status != 400 || !strings.Contains(fmt.Sprint(a.body), "appsecret_proof") {
		t.Fatalf("no proof: %v", a.body)
	}
	srv2 := metatest.New(t, metatest.WithQuota(3))
	for i := range 3 {
		if a := call(t, srv2, "GET", "/act_"+srv2.AccountID, nil); a.status != 200 {
			t.Fatalf("call %d: %v", i, a.body)
		}
	}
	a := call(t, srv2, "GET", "/act_"+srv2.AccountID, nil)
	code, sub := errCode(a)
	if a.status != 400 || code != 80004 || sub != 2446079 || !strings.Contains(a.header.Get("X-Business-Use-Case-Usage"), `"estimated_time_to_regain_access":60`) {
		t.Errorf("over quota: %d %v %v", a.status, a.body, a.header)
	}
}
