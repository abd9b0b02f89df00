package hubspottest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

type client struct {
	t     *testing.T
	s     *Server
	token string
}

func (c *client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.s.URL+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// conform checks a response body against one of the spec's schemas.
func conform(t *testing.T, schema string, body []byte) {
	t.Helper()
	d, err := Validate(schema, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) > 0 {
		t.Errorf("response does not match %s: %+v\n%s", schema, d, body)
	}
}

func envelope(t *testing.T, body []byte) Envelope {
	t.Helper()
	conform(t, schemaError, body)
	var e Envelope
	_ = json.Unmarshal(body, &e)
	if e.Status != "error" || e.CorrelationID == "" || e.Category == "" || e.Message == "" {
		t.Errorf("envelope = %+v", e)
	}
	return e
}

var listBody = map[string]any{"name": "Germany", "objectTypeId": "0-1", "processingType": "DYNAMIC",
	"filterBranch": map[string]any{"filterBranchType": "OR", "filterBranchOperator": "OR", "filters": []any{},
		"filterBranches": []any{map[string]any{"filterBranchType": "AND", "filterBranchOperator": "AND", "filterBranches": []any{},
			"filters": []any{map[string]any{"filterType": "PROPERTY", "property": "country",
				"operation": map[string]any{"operationType": "MULTISTRING", "operator": "IS_EQUAL_TO", "values": []any{"DE"}, "includeObjectsWithNoValueSet": false}}}}}}}

// Every answer the fake gives matches the response schema HubSpot publishes.
func TestResponsesConform(t *testing.T) {
	s := New(t)
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	s.AddContacts("a@x.test")
	st, _, body := c.do("POST", "/crm/v3/lists", listBody)
	if st != 200 {
		t.Fatalf("create list: %d %s", st, body)
	}
	conform(t, schemaListCreated, body)
	var lc struct{ List struct{ ListID string } }
	_ = json.Unmarshal(body, &lc)
	_, _, body = c.do("GET", "/crm/v3/lists/"+lc.List.ListID+"?includeFilters=true", nil)
	conform(t, schemaListFetched, body)
	_, _, body = c.do("POST", "/crm/v3/lists/search", map[string]any{"query": "germ", "offset": 0, "additionalProperties": []any{}})
	conform(t, schemaListSearchRes, body)
	_, _, body = c.do("POST", "/crm/v3/lists", map[string]any{"name": "Static", "objectTypeId": "0-1", "processingType": "MANUAL"})
	_ = json.Unmarshal(body, &lc)
	_, _, body = c.do("PUT", "/crm/v3/lists/"+lc.List.ListID+"/memberships/add", []string{s.AddContacts("a@x.test")[0], "999"})
	conform(t, schemaMembersUpdate, body)
	_, _, body = c.do("GET", "/crm/v3/lists/"+lc.List.ListID+"/memberships", nil)
	conform(t, schemaMembersPage, body)

	st, h, body := c.do("POST", "/marketing/v3/emails", map[string]any{"name": "Hello", "subject": "Hi", "subcategory": "automated",
		"from": map[string]any{"fromName": "A", "replyTo": "a@x.test"}})
	if st != 201 || h.Get("Location") == "" {
		t.Fatalf("create email: %d %s", st, body)
	}
	conform(t, schemaPublicEmail, body)
	var em struct{ ID string }
	_ = json.Unmarshal(body, &em)
	_, _, body = c.do("GET", "/marketing/v3/emails?includeStats=true", nil)
	conform(t, schemaEmailPage, body)
	_, _, body = c.do("GET", "/marketing/v3/emails/statistics/list?emailIds="+em.ID, nil)
	conform(t, schemaEmailStats, body)
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+em.ID+"/publish", nil); st != 204 {
		t.Fatalf("publish: %d %s", st, body)
	}

	flow := map[string]any{"type": "CONTACT_FLOW", "flowType": "WORKFLOW", "objectTypeId": "0-1", "isEnabled": true, "name": "F",
		"startActionId": "1", "actions": []any{map[string]any{"actionId": "1", "actionTypeId": "0-4", "actionTypeVersion": 0, "type": "SINGLE_CONNECTION", "fields": map[string]any{"content_id": em.ID}}},
		"enrollmentCriteria": map[string]any{"type": "MANUAL", "shouldReEnroll": false},
		"blockedDates":       []any{}, "timeWindows": []any{}, "customProperties": map[string]any{}, "dataSources": []any{}, "suppressionListIds": []any{}, "canEnrollFromSalesforce": false}
	st, _, body = c.do("POST", "/automation/v4/flows", flow)
	if st != 201 {
		t.Fatalf("create flow: %d %s", st, body)
	}
	conform(t, schemaFlow, body)
	_, _, body = c.do("GET", "/automation/v4/flows", nil)
	conform(t, schemaFlowPage, body)

	st, _, body = c.do("POST", "/cms/v3/pages/landing-pages", map[string]any{"name": "P", "templatePath": "t.html", "slug": "p"})
	if st != 201 {
		t.Fatalf("create page: %d %s", st, body)
	}
	conform(t, schemaPage, body)
	assertAllPageFields(t, body)
	_, _, body = c.do("GET", "/cms/v3/pages/landing-pages", nil)
	conform(t, schemaPageList, body)
}

// assertAllPageFields checks a page carries every property the spec's Page
// lists as required (the fake drops that list for requests only).
func assertAllPageFields(t *testing.T, body []byte) {
	t.Helper()
	data, _ := schemaFS.ReadFile("schemas/cms-pages-v3.json")
	var spec struct {
		Components struct {
			Schemas struct {
				Page struct {
					Required []string `json:"required"`
				} `json:"Page"`
			} `json:"schemas"`
		} `json:"components"`
	}
	_ = json.Unmarshal(data, &spec)
	var page map[string]any
	_ = json.Unmarshal(body, &page)
	if len(spec.Components.Schemas.Page.Required) < 50 {
		t.Fatalf("spec lists %d required page fields", len(spec.Components.Schemas.Page.Required))
	}
	for _, f := range spec.Components.Schemas.Page.Required {
		if _, ok := page[f]; !ok {
			t.Errorf("page lacks %s", f)
		}
	}
}

func TestAuthScopesAndErrors(t *testing.T) {
	s := New(t, Options{Scopes: []string{"content", "crm.lists.read"}})
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
		category                  string
		detail                    string
	}{
		{"no token", "", "GET", "/marketing/v3/emails", nil, 401, "INVALID_AUTHENTICATION", ""},
		{"unknown token", "pat-na1-nope", "GET", "/marketing/v3/emails", nil, 401, "INVALID_AUTHENTICATION", ""},
		{"missing scope", s.PrivateAppToken(), "POST", "/crm/v3/lists", listBody, 403, "MISSING_SCOPES", "crm.lists.write"},
		{"publish needs marketing-email", s.PrivateAppToken(), "POST", "/marketing/v3/emails/1/publish", nil, 403, "MISSING_SCOPES", "marketing-email"},
		{"bad field type", s.PrivateAppToken(), "POST", "/marketing/v3/emails", map[string]any{"name": 5}, 400, "VALIDATION_ERROR", "/name"},
		{"missing required", s.PrivateAppToken(), "POST", "/marketing/v3/emails", map[string]any{"subject": "x"}, 400, "VALIDATION_ERROR", "name"},
		{"not JSON", s.PrivateAppToken(), "POST", "/marketing/v3/emails", "{", 400, "VALIDATION_ERROR", "JSON"},
		{"unknown email", s.PrivateAppToken(), "GET", "/marketing/v3/emails/42", nil, 404, "OBJECT_NOT_FOUND", ""},
		{"unknown route", s.PrivateAppToken(), "GET", "/marketing/v9/nope", nil, 404, "OBJECT_NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, s: s, token: tt.token}
			st, _, body := c.do(tt.method, tt.path, tt.body)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, body)
			}
			e := envelope(t, body)
			if e.Category != tt.category || !strings.Contains(string(body), tt.detail) {
				t.Errorf("envelope %s", body)
			}
		})
	}
}

func TestValidationNamesTheField(t *testing.T) {
	s := New(t)
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	bad := func(mut func(m map[string]any)) string {
		var b map[string]any
		data, _ := json.Marshal(listBody)
		_ = json.Unmarshal(data, &b)
		mut(b)
		st, _, body := c.do("POST", "/crm/v3/lists", b)
		if st != 400 {
			t.Fatalf("status %d: %s", st, body)
		}
		envelope(t, body)
		return string(body)
	}
	filter := func(m map[string]any) map[string]any {
		return m["filterBranch"].(map[string]any)["filterBranches"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
	}
	tests := []struct {
		name string
		mut  func(map[string]any)
		want string
	}{
		{"wrong value type inside a filter", func(m map[string]any) { filter(m)["operation"].(map[string]any)["values"] = "DE" }, "/filterBranch/filterBranches/0/filters/0/operation/values"},
		{"missing field inside a filter", func(m map[string]any) {
			delete(filter(m)["operation"].(map[string]any), "includeObjectsWithNoValueSet")
		}, "includeObjectsWithNoValueSet"},
		{"unknown filter type", func(m map[string]any) { filter(m)["filterType"] = "NOPE" }, "does not match any of the allowed shapes"},
		{"AND at the root", func(m map[string]any) { m["filterBranch"].(map[string]any)["filterBranchType"] = "AND" }, "OR branch at the root"},
		{"MANUAL with filters", func(m map[string]any) { m["processingType"] = "MANUAL" }, "MANUAL lists cannot have a filterBranch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if body := bad(tt.mut); !strings.Contains(body, tt.want) {
				t.Errorf("answer lacks %q: %s", tt.want, body)
			}
		})
	}
	// A duplicate name.
	c.do("POST", "/crm/v3/lists", listBody)
	st, _, body := c.do("POST", "/crm/v3/lists", listBody)
	if st != 400 || !strings.Contains(string(body), "DUPLICATE_LIST_NAMES") {
		t.Errorf("duplicate list: %d %s", st, body)
	}
}

func TestRateLimitAndPaging(t *testing.T) {
	s := New(t, Options{RateLimit: 3, Window: time.Hour})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	for i := range 3 {
		st, h, _ := c.do("GET", "/marketing/v3/emails", nil)
		if st != 200 || h.Get("X-HubSpot-RateLimit-Max") != "3" || h.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "3600000" ||
			h.Get("X-HubSpot-RateLimit-Remaining") != string(rune('2'-i)) {
			t.Errorf("request %d: %d %v", i, st, h)
		}
	}
	st, _, body := c.do("GET", "/marketing/v3/emails", nil)
	var rl map[string]any
	_ = json.Unmarshal(body, &rl)
	if st != 429 || rl["policyName"] != "TEN_SECONDLY_ROLLING" || rl["errorType"] != "RATE_LIMIT" {
		t.Errorf("over the limit: %d %s", st, body)
	}
	if s.Stats().Served429 != 1 {
		t.Errorf("served429 = %d", s.Stats().Served429)
	}

	p := New(t)
	pc := &client{t: t, s: p, token: p.PrivateAppToken()}
	p.SeedEmails(25)
	seen := map[string]bool{}
	next := "/marketing/v3/emails?limit=10"
	for pages := 0; next != "" && pages < 10; pages++ {
		_, _, body := pc.do("GET", next, nil)
		var page struct {
			Results []struct{ ID string }
			Total   int
			Paging  *struct{ Next struct{ After string } }
		}
		_ = json.Unmarshal(body, &page)
		for _, r := range page.Results {
			seen[r.ID] = true
		}
		next = ""
		if page.Paging != nil {
			next = "/marketing/v3/emails?limit=10&after=" + url.QueryEscape(page.Paging.Next.After)
		}
	}
	if len(seen) != 25 {
		t.Errorf("paging saw %d emails, want 25", len(seen))
	}
}

func TestTierGateAndPublishRules(t *testing.T) {
	s := New(t, Options{Tier: TierProfessional})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	_, _, body := c.do("POST", "/marketing/v3/emails", map[string]any{"name": "x"})
	var em struct{ ID string }
	_ = json.Unmarshal(body, &em)
	st, _, body := c.do("POST", "/marketing/v3/emails/"+em.ID+"/publish", nil)
	if st != 403 || !strings.Contains(string(body), "Enterprise") {
		t.Errorf("publish on professional: %d %s", st, body)
	}
	envelope(t, body)
	s.SetTier(TierEnterprise)
	st, _, body = c.do("POST", "/marketing/v3/emails/"+em.ID+"/publish", nil)
	if st != 400 || !strings.Contains(string(body), "subject") {
		t.Errorf("publish without subject: %d %s", st, body)
	}
}

// Unpublish carries publish's entitlement and takes a scheduled email back
// to draft; a sent one is refused. DELETE archives an email and a list.
func TestUnpublishAndArchive(t *testing.T) {
	s := New(t, Options{Tier: TierProfessional})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	ids := s.AddContacts("a@x.test")
	_, _, body := c.do("POST", "/crm/v3/lists", map[string]any{"name": "L", "objectTypeId": "0-1", "processingType": "MANUAL"})
	var l struct{ List struct{ ListID string } }
	_ = json.Unmarshal(body, &l)
	c.do("PUT", "/crm/v3/lists/"+l.List.ListID+"/memberships/add", ids)
	email := func(name, publishDate string) string {
		req := map[string]any{"name": name, "subject": "S",
			"from": map[string]any{"fromName": "A", "replyTo": "a@acme.test"}, "to": map[string]any{"contactIlsLists": map[string]any{"include": []string{l.List.ListID}}}}
		if publishDate != "" {
			req["publishDate"] = publishDate
		}
		_, _, body := c.do("POST", "/marketing/v3/emails", req)
		var em struct{ ID string }
		_ = json.Unmarshal(body, &em)
		if em.ID == "" {
			t.Fatalf("create email %s: %s", name, body)
		}
		return em.ID
	}
	later, now := email("later", time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)), email("now", "")
	st, _, body := c.do("POST", "/marketing/v3/emails/"+later+"/unpublish", nil)
	if st != 403 || !strings.Contains(string(body), "Enterprise") {
		t.Errorf("unpublish on professional: %d %s", st, body)
	}
	envelope(t, body)
	s.SetTier(TierEnterprise)
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+later+"/publish", nil); st != 204 {
		t.Fatalf("schedule: %d %s", st, body)
	}
	c.do("POST", "/marketing/v3/emails/"+now+"/publish", nil)
	sends := map[string]int{}
	for _, e := range s.Emails() {
		sends[e.ID] = e.Sends
	}
	if sends[later] != 1 || sends[now] != 1 {
		t.Errorf("sends before unpublish: %v", sends)
	}
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+later+"/unpublish", nil); st != 204 {
		t.Errorf("unpublish of a scheduled email: %d %s", st, body)
	}
	st, _, body = c.do("GET", "/marketing/v3/emails/"+later, nil)
	conform(t, schemaPublicEmail, body)
	if !strings.Contains(string(body), `"state":"DRAFT"`) || !strings.Contains(string(body), `"isPublished":false`) {
		t.Errorf("after unpublish: %d %s", st, body)
	}
	for name, id := range map[string]string{"sent": now, "draft": later} {
		st, _, body := c.do("POST", "/marketing/v3/emails/"+id+"/unpublish", nil)
		if st != 400 || envelope(t, body).Category != "VALIDATION_ERROR" {
			t.Errorf("unpublish of a %s email: %d %s", name, st, body)
		}
	}
	if st, _, _ := c.do("DELETE", "/marketing/v3/emails/"+now, nil); st != 204 {
		t.Errorf("archive: %d", st)
	}
	if st, _, _ := c.do("GET", "/marketing/v3/emails/"+now, nil); st != 404 {
		t.Errorf("GET of an archived email: %d, want 404", st)
	}
	if st, _, body := c.do("GET", "/marketing/v3/emails/"+now+"?archived=true", nil); st != 200 || !strings.Contains(string(body), `"archived":true`) {
		t.Errorf("GET ?archived=true: %d %s", st, body)
	}
	if st, _, body := c.do("DELETE", "/marketing/v3/emails/"+now, nil); st != 404 || envelope(t, body).Category != "OBJECT_NOT_FOUND" {
		t.Errorf("second archive: %d %s", st, body)
	}
	c.do("DELETE", "/crm/v3/lists/"+l.List.ListID, nil)
	if st, _, _ := c.do("GET", "/crm/v3/lists/"+l.List.ListID, nil); st != 404 {
		t.Errorf("GET of a deleted list: %d", st)
	}
	if emails, lists := s.Archived(); len(emails) != 1 || emails[0] != now || len(lists) != 1 || lists[0] != l.List.ListID {
		t.Errorf("archived: %v %v", emails, lists)
	}
}

func TestFaultsAndPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	s := New(t, Options{StateFile: file})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	s.Inject(faketest.Fault{Op: "lists.create", Kind: faketest.DropAfterApply})
	req, _ := http.NewRequest("POST", s.URL+"/crm/v3/lists", strings.NewReader(`{"name":"A","objectTypeId":"0-1","processingType":"MANUAL"}`))
	req.Header.Set("Authorization", "Bearer "+s.PrivateAppToken())
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a dropped connection answered")
	}
	if n := s.Counts()["lists"]; n != 1 {
		t.Fatalf("the write was not applied: %d lists", n)
	}
	s.Inject(faketest.Fault{Op: "lists.*", Kind: faketest.Fail, Skip: 1})
	if st, _, _ := c.do("GET", "/crm/v3/lists/101", nil); st != 200 {
		t.Errorf("skipped call: %d", st)
	}
	if st, _, body := c.do("GET", "/crm/v3/lists/101", nil); st != 500 {
		t.Errorf("faulted call: %d %s", st, body)
	}
	token := s.PrivateAppToken()
	s.Close()
	if err := s.SaveError(); err != nil {
		t.Fatal(err)
	}
	s2 := New(t, Options{StateFile: file})
	if s2.PrivateAppToken() != token || s2.Counts()["lists"] != 1 {
		t.Errorf("restarted fake: token kept %v, counts %v", s2.PrivateAppToken() == token, s2.Counts())
	}
}

// The shared fault vocabulary in HubSpot's words: a 429 with its policy and
// Retry-After, an error status with its category or a body of the test's,
// and latency after the write.
func TestFaultVocabulary(t *testing.T) {
	s := New(t)
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	s.Inject(faketest.Fault{Op: "lists.get", Kind: faketest.RateLimit, Code: "SECONDLY", RetryAfter: 2 * time.Second})
	st, h, body := c.do("GET", "/crm/v3/lists/1", nil)
	var limited struct{ PolicyName string }
	_ = json.Unmarshal(body, &limited)
	if st != 429 || h.Get("Retry-After") != "2" || limited.PolicyName != "SECONDLY" {
		t.Errorf("rate limit: %d %v %s", st, h.Get("Retry-After"), body)
	}
	s.Inject(faketest.Fault{Op: "lists.get", Kind: faketest.Fail, Status: 503})
	if st, _, body := c.do("GET", "/crm/v3/lists/1", nil); st != 503 || envelope(t, body).Category != "INTERNAL_ERROR" {
		t.Errorf("fail 503: %d %s", st, body)
	}
	s.Inject(faketest.Fault{Op: "lists.get", Kind: faketest.Fail, Status: 409, Body: []byte(`{"status":"error","message":"mine"}`)})
	if st, _, body := c.do("GET", "/crm/v3/lists/1", nil); st != 409 || string(body) != `{"status":"error","message":"mine"}` {
		t.Errorf("fail with a body: %d %s", st, body)
	}
	s.Inject(faketest.Fault{Op: "lists.create", Kind: faketest.Latency, Delay: 150 * time.Millisecond})
	start := time.Now()
	st, _, _ = c.do("POST", "/crm/v3/lists", map[string]any{"name": "Slow", "objectTypeId": "0-1", "processingType": "MANUAL"})
	if st/100 != 2 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("latency: %d after %v", st, time.Since(start))
	}
	if n := s.PendingFaults(); n != 0 {
		t.Errorf("%d faults left", n)
	}
}

func TestOAuthServer(t *testing.T) {
	s := New(t)
	verifier := "verifier-0123456789-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func() string {
		q := url.Values{"client_id": {s.ClientID()}, "redirect_uri": {"http://localhost:9/cb"}, "scope": {"content crm.lists.read"},
			"state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		resp, err := noRedirect.Get(s.AuthURL() + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("state") != "st" {
			t.Fatalf("redirect %s", loc)
		}
		return loc.Query().Get("code")
	}
	token := func(form url.Values, basic bool) (int, map[string]any) {
		req, _ := http.NewRequest("POST", s.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(s.ClientID(), s.ClientSecret())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		data, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(data, &out)
		if resp.StatusCode == 200 {
			conform(t, schemaToken, data)
		}
		return resp.StatusCode, out
	}
	base := func(code, v string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()},
			"redirect_uri": {"http://localhost:9/cb"}, "code": {code}, "code_verifier": {v}}
	}
	if st, out := token(base(authorize(), "wrong-verifier"), false); st != 400 || out["status"] != "BAD_CODE_VERIFIER" {
		t.Errorf("wrong verifier: %d %v", st, out)
	}
	basicForm := base(authorize(), verifier)
	basicForm.Del("client_secret")
	if st, out := token(basicForm, true); st != 400 || out["error"] != "invalid_client" {
		t.Errorf("client secret in a Basic header: %d %v", st, out)
	}
	code := authorize()
	st, out := token(base(code, verifier), false)
	if st != 200 || out["refresh_token"] == nil || out["hub_id"] == nil {
		t.Fatalf("exchange: %d %v", st, out)
	}
	if st, out := token(base(code, verifier), false); st != 400 || out["status"] != "BAD_AUTH_CODE" {
		t.Errorf("code reuse: %d %v", st, out)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}, "refresh_token": {out["refresh_token"].(string)}}
	if st, _ := token(refresh, false); st != 200 {
		t.Errorf("refresh: %d", st)
	}
	s.RevokeRefreshTokens()
	if st, out := token(refresh, false); st != 400 || out["status"] != "BAD_REFRESH_TOKEN" || out["error"] != "invalid_grant" {
		t.Errorf("revoked refresh: %d %v", st, out)
	}
	if s.Stats().Refreshes != 2 || s.Stats().Exchanges != 3 {
		t.Errorf("stats = %+v", s.Stats())
	}
}
