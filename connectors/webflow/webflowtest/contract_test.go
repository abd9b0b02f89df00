package webflowtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, srv *webflowtest.Server, token, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, srv.BaseURL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &a.body); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, data)
		}
	}
	return a
}

const items = "/collections/" + webflowtest.DefaultCollectionID + "/items"

// checkError asserts Webflow's error envelope with the code.
func checkError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["code"] != code {
		t.Fatalf("got %d %v, want %d %s", a.status, a.body, status, code)
	}
	for _, k := range []string{"code", "message", "externalReference", "details"} {
		if _, ok := a.body[k]; !ok {
			t.Errorf("the error envelope lacks %q: %v", k, a.body)
		}
	}
}

func TestAuth(t *testing.T) {
	srv := webflowtest.New(t, func(o *webflowtest.Options) { o.Scopes = []string{"cms:read"} })
	checkError(t, call(t, srv, "", "GET", items, nil), 401, "not_authorized")
	checkError(t, call(t, srv, "wrong", "GET", items, nil), 401, "invalid_credentials")
	checkError(t, call(t, srv, webflowtest.DefaultToken, "POST", items, map[string]any{"fieldData": map[string]any{"name": "A", "slug": "a"}}), 403, "missing_scopes")
	if a := call(t, srv, webflowtest.DefaultToken, "GET", items, nil); a.status != 200 {
		t.Fatalf("list with cms:read: %d %v", a.status, a.body)
	}
}

func TestFieldDataValidation(t *testing.T) {
	srv := webflowtest.New(t)
	tok := webflowtest.DefaultToken
	for _, tc := range []struct {
		name  string
		fd    map[string]any
		field string
	}{
		{"no name", map[string]any{"slug": "a"}, "name"},
		{"no slug", map[string]any{"name": "A"}, "slug"},
		{"bad slug", map[string]any{"name": "A", "slug": "Not A Slug"}, "slug"},
		{"unknown field", map[string]any{"name": "A", "slug": "a", "colour": "red"}, "colour"},
		{"wrong type", map[string]any{"name": "A", "slug": "a", "body": 3}, "body"},
		{"too long", map[string]any{"name": strings.Repeat("n", 257), "slug": "a"}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, srv, tok, "POST", items, map[string]any{"isDraft": true, "fieldData": tc.fd})
			checkError(t, a, 400, "validation_error")
			found := false
			for _, d := range a.body["details"].([]any) {
				if m, ok := d.(map[string]any); ok && m["field"] == tc.field && m["message"] != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("details %v name no %q", a.body["details"], tc.field)
			}
		})
	}
	if len(srv.Items(webflowtest.DefaultCollectionID)) != 0 {
		t.Error("a refused create made an item")
	}
}

func TestStatesAndPublishing(t *testing.T) {
	srv := webflowtest.New(t, func(o *webflowtest.Options) { o.SitePublished = true })
	tok := webflowtest.DefaultToken
	a := call(t, srv, tok, "POST", items, map[string]any{"isDraft": true, "fieldData": map[string]any{"name": "Spring", "slug": "spring", "body": "<p>v1</p>"}})
	if a.status != 202 || a.body["isDraft"] != true || a.body["lastPublished"] != nil {
		t.Fatalf("create: %d %v, want 202 draft never published", a.status, a.body)
	}
	id := a.body["id"].(string)
	// Duplicate slug: the fake's choice, 400 validation_error on slug.
	checkError(t, call(t, srv, tok, "POST", items, map[string]any{"fieldData": map[string]any{"name": "Other", "slug": "spring"}}), 400, "validation_error")
	if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, "spring"); ok {
		t.Fatal("a draft is on the live site")
	}
	checkError(t, call(t, srv, tok, "GET", items+"/"+id+"/live", nil), 404, "item_not_found")
	p := call(t, srv, tok, "POST", items+"/publish", map[string]any{"itemIds": []string{id, "0123456789abcdef01234567"}})
	if p.status != 202 || len(p.body["publishedItemIds"].([]any)) != 1 || len(p.body["errors"].([]any)) != 1 {
		t.Fatalf("publish: %d %v", p.status, p.body)
	}
	if page, ok := srv.LivePage(webflowtest.DefaultCollectionID, "spring"); !ok || !strings.Contains(page, "v1") {
		t.Fatalf("live page after publish: %q %v", page, ok)
	}
	// Staged edit with isDraft:true on a live item: live keeps v1.
	u := call(t, srv, tok, "PATCH", items+"/"+id, map[string]any{"isDraft": true, "fieldData": map[string]any{"body": "<p>v2</p>"}})
	if u.status != 200 || u.body["isDraft"] != true || u.body["lastPublished"] == nil {
		t.Fatalf("update: %d %v, want draft changes", u.status, u.body)
	}
	if page, _ := srv.LivePage(webflowtest.DefaultCollectionID, "spring"); !strings.Contains(page, "v1") {
		t.Fatalf("isDraft:true unpublished or changed the live item: %q", page)
	}
	// Unpublish.
	if d := call(t, srv, tok, "DELETE", items+"/"+id+"/live", nil); d.status != 204 {
		t.Fatalf("unpublish: %d", d.status)
	}
	if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, "spring"); ok {
		t.Fatal("still live after DELETE …/live")
	}
	if g := call(t, srv, tok, "GET", items+"/"+id, nil); g.body["isDraft"] != true {
		t.Fatalf("after unpublish isDraft = %v, want true", g.body["isDraft"])
	}
	// Queued: isDraft false, never published: live at the next site publish.
	q := call(t, srv, tok, "POST", items, map[string]any{"isDraft": false, "fieldData": map[string]any{"name": "Queued", "slug": "queued"}})
	qid := q.body["id"].(string)
	if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, "queued"); ok {
		t.Fatal("a queued item is live before a site publish")
	}
	sp := call(t, srv, tok, "POST", "/sites/"+webflowtest.DefaultSiteID+"/publish", map[string]any{"publishToWebflowSubdomain": true})
	if sp.status != 202 || sp.body["publishScope"] != "site" {
		t.Fatalf("site publish: %d %v", sp.status, sp.body)
	}
	if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, "queued"); !ok || srv.Publishes(qid) != 1 {
		t.Fatal("the site publish did not publish the queued item")
	}
	// One site publish per minute.
	again := call(t, srv, tok, "POST", "/sites/"+webflowtest.DefaultSiteID+"/publish", map[string]any{"publishToWebflowSubdomain": true})
	checkError(t, again, 429, "too_many_requests")
	if again.header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the site publish 429")
	}
	checkError(t, call(t, srv, tok, "POST", "/sites/"+webflowtest.DefaultSiteID+"/publish", map[string]any{}), 400, "validation_error")
}

func TestPaginationAndRateLimit(t *testing.T) {
	srv := webflowtest.New(t, func(o *webflowtest.Options) { o.RateLimit = 8 })
	tok := webflowtest.DefaultToken
	for i := range 3 {
		srv.AddItem(webflowtest.DefaultCollectionID, map[string]any{"name": "x", "slug": "s" + string(rune('a'+i))}, false)
	}
	a := call(t, srv, tok, "GET", items+"?offset=1&limit=1", nil)
	pg := a.body["pagination"].(map[string]any)
	if len(a.body["items"].([]any)) != 1 || pg["total"] != 3.0 || pg["offset"] != 1.0 || pg["limit"] != 1.0 {
		t.Fatalf("page: %v", a.body)
	}
	if a.header.Get("X-RateLimit-Limit") != "8" || a.header.Get("X-RateLimit-Remaining") != "7" {
		t.Errorf("rate-limit headers: %v", a.header)
	}
	checkError(t, call(t, srv, tok, "GET", items+"?limit=101", nil), 400, "validation_error")
	var last answer
	for range 8 {
		last = call(t, srv, tok, "GET", items, nil)
	}
	checkError(t, last, 429, "too_many_requests")
	if last.header.Get("Retry-After") == "" || last.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: %v", last.header)
	}
}
