package mailchimptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

type call struct {
	method, path, body string
	auth               string // "", "basic", "bearer:<tok>", "basic:<key>"
}

func do(t *testing.T, s *Server, c call) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, s.BaseURL()+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.auth == "basic":
		req.SetBasicAuth("anyone", s.APIKey())
	case strings.HasPrefix(c.auth, "basic:"):
		req.SetBasicAuth("anyone", strings.TrimPrefix(c.auth, "basic:"))
	case strings.HasPrefix(c.auth, "bearer:"):
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(c.auth, "bearer:"))
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %s", c.method, c.path, b)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func TestProblemDocuments(t *testing.T) {
	s := New(t)
	tests := []struct {
		name       string
		call       call
		status     int
		title      string
		errorField string
	}{
		{"missing key", call{method: "GET", path: "/ping"}, 401, "API Key Missing", ""},
		{"wrong key", call{method: "GET", path: "/ping", auth: "basic:nope-us21"}, 401, "API Key Invalid", ""},
		{"unknown campaign", call{method: "GET", path: "/campaigns/nope", auth: "basic"}, 404, "Resource Not Found", ""},
		{"unknown route", call{method: "GET", path: "/automations/x/y/z", auth: "basic"}, 404, "Resource Not Found", ""},
		{"bad json", call{method: "POST", path: "/campaigns", body: "{", auth: "basic"}, 400, "JSON Parse Error", ""},
		{"type not in enum", call{method: "POST", path: "/campaigns", body: `{"type":"weekly"}`, auth: "basic"}, 400, "Invalid Resource", "type"},
		{"type missing", call{method: "POST", path: "/campaigns", body: `{"settings":{}}`, auth: "basic"}, 400, "Invalid Resource", "body"},
		{"list missing", call{method: "POST", path: "/campaigns", body: `{"type":"regular","recipients":{"list_id":"zzz"}}`, auth: "basic"}, 400, "Invalid Resource", "recipients.list_id"},
		{"settings wrong type", call{method: "POST", path: "/campaigns", body: `{"type":"regular","settings":{"subject_line":5}}`, auth: "basic"}, 400, "Invalid Resource", "settings.subject_line"},
		{"condition op not in enum", call{method: "POST", path: "/lists/" + DefaultListID + "/segments",
			body: `{"name":"x","options":{"match":"all","conditions":[{"condition_type":"TextMerge","field":"FNAME","op":"equals","value":"a"}]}}`, auth: "basic"},
			400, "Invalid Resource", "options.conditions.0.op"},
		{"condition type unknown", call{method: "POST", path: "/lists/" + DefaultListID + "/segments",
			body: `{"name":"x","options":{"match":"all","conditions":[{"condition_type":"Nope","field":"FNAME","op":"is","value":"a"}]}}`, auth: "basic"},
			400, "Invalid Resource", "options.conditions.0.condition_type"},
		{"static and options", call{method: "POST", path: "/lists/" + DefaultListID + "/segments",
			body: `{"name":"x","static_segment":[],"options":{"match":"all","conditions":[{"condition_type":"TextMerge","field":"FNAME","op":"is","value":"a"}]}}`, auth: "basic"},
			400, "Invalid Resource", "static_segment"},
		{"schedule time not a date", call{method: "POST", path: "/campaigns/x/actions/schedule", body: `{"schedule_time":"tomorrow"}`, auth: "basic"}, 400, "Invalid Resource", "schedule_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, m := do(t, s, tc.call)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, m)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("content type %q", ct)
			}
			for _, k := range []string{"type", "title", "status", "detail", "instance"} {
				if _, ok := m[k]; !ok {
					t.Errorf("problem lacks %q: %v", k, m)
				}
			}
			if m["title"] != tc.title {
				t.Errorf("title %v, want %q", m["title"], tc.title)
			}
			if tc.errorField != "" {
				errs, _ := m["errors"].([]any)
				found := false
				for _, e := range errs {
					if e.(map[string]any)["field"] == tc.errorField {
						found = true
					}
				}
				if !found {
					t.Errorf("errors %v lack field %q", errs, tc.errorField)
				}
			}
		})
	}
}

func TestAuthSchemes(t *testing.T) {
	s := New(t)
	tok := s.IssueToken()
	for _, auth := range []string{"basic", "bearer:" + s.APIKey(), "bearer:" + tok} {
		if status, _, m := do(t, s, call{method: "GET", path: "/ping", auth: auth}); status != 200 || m["health_status"] != "Everything's Chimpy!" {
			t.Errorf("%s: %d %v", strings.SplitN(auth, ":", 2)[0], status, m)
		}
	}
	if status, _, _ := do(t, s, call{method: "GET", path: "/ping", auth: "bearer:not-a-token"}); status != 401 {
		t.Errorf("bad bearer: %d", status)
	}
}

func TestEleventhConcurrentRequestGets429(t *testing.T) {
	s := New(t)
	s.hold = make(chan struct{})
	var wg sync.WaitGroup
	statuses := make([]int, MaxConnections)
	for i := range MaxConnections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _, _ = do(t, s, call{method: "GET", path: "/ping", auth: "basic"})
		}()
	}
	for {
		s.mu.Lock()
		n := s.inflight
		s.mu.Unlock()
		if n == MaxConnections {
			break
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	status, h, m := do(t, s, call{method: "GET", path: "/ping", auth: "basic"})
	if status != http.StatusTooManyRequests || m["title"] != "Too Many Requests" {
		t.Fatalf("11th request: %d %v", status, m)
	}
	if h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") != "" {
		t.Errorf("Mailchimp sends no rate-limit headers, got %v", h)
	}
	close(s.hold)
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Errorf("request %d: %d", i, st)
		}
	}
	if st := s.Stats(); st.TooManyRequests != 1 || st.MaxInFlight != MaxConnections+1 {
		t.Errorf("stats %+v", st)
	}
}

func createCampaign(t *testing.T, s *Server, settings string) string {
	t.Helper()
	body := fmt.Sprintf(`{"type":"regular","recipients":{"list_id":%q},"settings":%s}`, DefaultListID, settings)
	status, _, m := do(t, s, call{method: "POST", path: "/campaigns", body: body, auth: "basic"})
	if status != 200 {
		t.Fatalf("create: %d %v", status, m)
	}
	return m["id"].(string)
}

func TestChecklistItemByItem(t *testing.T) {
	s := New(t)
	id := createCampaign(t, s, `{"title":"t"}`)
	_, _, m := do(t, s, call{method: "GET", path: "/campaigns/" + id + "/send-checklist", auth: "basic"})
	if m["is_ready"] != false {
		t.Fatalf("is_ready: %v", m)
	}
	var errs []string
	for _, it := range m["items"].([]any) {
		im := it.(map[string]any)
		if im["type"] == "error" {
			errs = append(errs, im["heading"].(string))
		}
	}
	want := []string{"Subject line", "From name", "From email address", "Content"}
	if strings.Join(errs, ",") != strings.Join(want, ",") {
		t.Errorf("error items %v, want %v", errs, want)
	}
	status, _, p := do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/send", auth: "basic"})
	if status != 400 || !strings.Contains(p["detail"].(string), "not ready") {
		t.Errorf("send of an unready campaign: %d %v", status, p)
	}
	// Content without an unsubscribe link fails unless auto_footer is on.
	id2 := createCampaign(t, s, `{"title":"t","subject_line":"s","from_name":"f","reply_to":"a@example.com"}`)
	do(t, s, call{method: "PUT", path: "/campaigns/" + id2 + "/content", body: `{"html":"<p>hi</p>"}`, auth: "basic"})
	_, _, m = do(t, s, call{method: "GET", path: "/campaigns/" + id2 + "/send-checklist", auth: "basic"})
	if m["is_ready"] != false || !strings.Contains(fmt.Sprint(m["items"]), "Unsubscribe link") {
		t.Errorf("missing *|UNSUB|*: %v", m)
	}
	do(t, s, call{method: "PATCH", path: "/campaigns/" + id2, body: `{"settings":{"subject_line":"s","from_name":"f","reply_to":"a@example.com","auto_footer":true}}`, auth: "basic"})
	if _, _, m = do(t, s, call{method: "GET", path: "/campaigns/" + id2 + "/send-checklist", auth: "basic"}); m["is_ready"] != true {
		t.Errorf("with auto_footer: %v", m)
	}
}

func TestScheduleQuarterHourAndTransitions(t *testing.T) {
	now := time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(t, WithClock(clock))
	id := createCampaign(t, s, `{"title":"t","subject_line":"s","from_name":"f","reply_to":"a@example.com"}`)
	do(t, s, call{method: "PUT", path: "/campaigns/" + id + "/content", body: `{"html":"<p>hi *|UNSUB|*</p>"}`, auth: "basic"})

	status, _, p := do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/schedule", body: `{"schedule_time":"2030-05-01T10:07:00Z"}`, auth: "basic"})
	if status != 400 || !strings.Contains(p["detail"].(string), "quarter-hour (:00, :15, :30, :45)") {
		t.Fatalf("10:07: %d %v", status, p)
	}
	status, _, p = do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/schedule", body: `{"schedule_time":"2030-05-01T08:45:00Z"}`, auth: "basic"})
	if status != 400 || !strings.Contains(p["detail"].(string), "future") {
		t.Fatalf("past: %d %v", status, p)
	}
	if status, _, p = do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/schedule", body: `{"schedule_time":"2030-05-01T10:15:00+00:00"}`, auth: "basic"}); status != 204 {
		t.Fatalf("10:15: %d %v", status, p)
	}
	if _, _, m := do(t, s, call{method: "GET", path: "/campaigns/" + id + "?fields=status,send_time", auth: "basic"}); m["status"] != "schedule" || m["send_time"] != "2030-05-01T10:15:00+00:00" || len(m) != 2 {
		t.Fatalf("after schedule: %v", m)
	}
	if status, _, p = do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/send", auth: "basic"}); status != 400 || p["title"] != "Invalid Action" {
		t.Errorf("send of a scheduled campaign: %d %v", status, p)
	}
	if status, _, _ = do(t, s, call{method: "GET", path: "/reports/" + id, auth: "basic"}); status != 404 {
		t.Errorf("report before send: %d", status)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	c, _ := s.Campaign(id)
	if c.Status != "sent" || len(c.Recipients) != 50 || c.SendActions != 1 {
		t.Fatalf("after the time: %+v", c)
	}
	_, _, rep := do(t, s, call{method: "GET", path: "/reports/" + id, auth: "basic"})
	want := ReportFor(c)
	if rep["emails_sent"] != float64(50) || rep["opens"].(map[string]any)["unique_opens"] != float64(want.UniqueOpens) {
		t.Errorf("report %v, want %+v", rep, want)
	}
	if want.UniqueOpens == 0 || want.UniqueClicks == 0 {
		t.Errorf("engagement too thin to test with: %+v", want)
	}
}

// Unschedule takes a schedule back and nothing else; a delete takes a
// campaign or segment away, its report with it, and a second one is a 404.
func TestUnscheduleAndDelete(t *testing.T) {
	now := time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(t, WithClock(clock))
	id := createCampaign(t, s, `{"title":"t","subject_line":"s","from_name":"f","reply_to":"a@example.com"}`)
	do(t, s, call{method: "PUT", path: "/campaigns/" + id + "/content", body: `{"html":"<p>hi *|UNSUB|*</p>"}`, auth: "basic"})
	unschedule := call{method: "POST", path: "/campaigns/" + id + "/actions/unschedule", auth: "basic"}
	problem := func(name string, c call, status int, title, detail string) {
		t.Helper()
		got, h, p := do(t, s, c)
		if got != status || p["title"] != title || !strings.Contains(fmt.Sprint(p["detail"]), detail) || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %v, want %d %q %q", name, got, p, status, title, detail)
		}
	}
	problem("unschedule without a key", call{method: "POST", path: unschedule.path}, 401, "API Key Missing", "")
	problem("unschedule with a wrong key", call{method: "POST", path: unschedule.path, auth: "basic:nope-us21"}, 401, "API Key Invalid", "")
	problem("unschedule of no campaign", call{method: "POST", path: "/campaigns/0fedcba987/actions/unschedule", auth: "basic"}, 404, "Resource Not Found", "")
	problem("unschedule of a draft", unschedule, 400, "Invalid Action", `it is not scheduled (its status is "save")`)

	if status, _, p := do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/schedule", body: `{"schedule_time":"2030-05-01T10:15:00Z"}`, auth: "basic"}); status != 204 {
		t.Fatalf("schedule: %d %v", status, p)
	}
	problem("delete of a scheduled campaign", call{method: "DELETE", path: "/campaigns/" + id, auth: "basic"}, 400, "Bad Request", "cannot be deleted")
	if status, _, p := do(t, s, unschedule); status != 204 {
		t.Fatalf("unschedule: %d %v", status, p)
	}
	if _, _, m := do(t, s, call{method: "GET", path: "/campaigns/" + id + "?fields=status,send_time", auth: "basic"}); m["status"] != "save" || m["send_time"] != "" {
		t.Errorf("after unschedule: %v", m)
	}
	problem("a second unschedule", unschedule, 400, "Invalid Action", "not scheduled")
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if c, _ := s.Campaign(id); c.Status != "save" || c.SendActions != 1 || c.Unschedules != 1 || len(c.Recipients) != 0 {
		t.Fatalf("an unscheduled campaign went out at its old time: %+v", c)
	}

	// Sent: no unschedule; a delete takes it and its report away.
	if status, _, p := do(t, s, call{method: "POST", path: "/campaigns/" + id + "/actions/send", auth: "basic"}); status != 204 {
		t.Fatalf("send: %d %v", status, p)
	}
	problem("unschedule of a sent campaign", unschedule, 400, "Invalid Action", "already been sent")
	if status, _, p := do(t, s, call{method: "DELETE", path: "/campaigns/" + id, auth: "basic"}); status != 204 {
		t.Fatalf("delete of a sent campaign: %d %v", status, p)
	}
	problem("the campaign after its delete", call{method: "GET", path: "/campaigns/" + id, auth: "basic"}, 404, "Resource Not Found", "")
	problem("its report after its delete", call{method: "GET", path: "/reports/" + id, auth: "basic"}, 404, "Resource Not Found", "")
	problem("a second delete", call{method: "DELETE", path: "/campaigns/" + id, auth: "basic"}, 404, "Resource Not Found", "")

	// Segments likewise.
	status, _, seg := do(t, s, call{method: "POST", path: "/lists/" + DefaultListID + "/segments", body: `{"name":"x","static_segment":["member01@example.com"]}`, auth: "basic"})
	if status != 200 {
		t.Fatalf("segment: %d %v", status, seg)
	}
	segPath := fmt.Sprintf("/lists/%s/segments/%v", DefaultListID, seg["id"])
	problem("segment delete without a key", call{method: "DELETE", path: segPath}, 401, "API Key Missing", "")
	if status, _, p := do(t, s, call{method: "DELETE", path: segPath, auth: "basic"}); status != 204 {
		t.Fatalf("segment delete: %d %v", status, p)
	}
	problem("a second segment delete", call{method: "DELETE", path: segPath, auth: "basic"}, 404, "Resource Not Found", "")
	s.mu.Lock()
	members := len(s.lists[DefaultListID].Members)
	s.mu.Unlock()
	if members != 50 {
		t.Errorf("the segment's delete took contacts with it: %d members", members)
	}
}

func TestSegmentsAndFields(t *testing.T) {
	s := New(t)
	status, _, m := do(t, s, call{method: "POST", path: "/lists/" + DefaultListID + "/segments",
		body: `{"name":"vip","static_segment":["member01@example.com","MEMBER02@example.com","stranger@example.com"]}`, auth: "basic"})
	if status != 200 || m["type"] != "static" || m["member_count"] != float64(2) {
		t.Fatalf("static: %d %v", status, m)
	}
	staticID := int(m["id"].(float64))
	body := fmt.Sprintf(`{"name":"pro but not vip","options":{"match":"all","conditions":[
		{"condition_type":"TextMerge","field":"PLAN","op":"is","value":"pro"},
		{"condition_type":"StaticSegment","field":"static_segment","op":"static_not","value":%d}]}}`, staticID)
	status, _, m = do(t, s, call{method: "POST", path: "/lists/" + DefaultListID + "/segments", body: body, auth: "basic"})
	if status != 200 || m["type"] != "saved" || m["member_count"] != float64(16) {
		t.Fatalf("saved: %d %v", status, m)
	}
	_, _, m = do(t, s, call{method: "GET", path: "/lists/" + DefaultListID + "/segments?count=1&offset=1&fields=total_items,segments.name", auth: "basic"})
	b, _ := json.Marshal(m)
	if string(b) != `{"segments":[{"name":"pro but not vip"}],"total_items":2}` {
		t.Errorf("paged and projected: %s", b)
	}
	if got := len(s.Segments()); got != 2 {
		t.Errorf("Segments(): %d", got)
	}
}

func TestFaultsAfterWriteApply(t *testing.T) {
	s := New(t)
	s.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.FailAfterApply})
	s.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.DropAfterApply})
	s.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.DropBeforeApply})
	body := fmt.Sprintf(`{"type":"regular","recipients":{"list_id":%q}}`, DefaultListID)
	post := func() (int, error) {
		req, _ := http.NewRequest("POST", s.BaseURL()+"/campaigns", bytes.NewReader([]byte(body)))
		req.SetBasicAuth("x", s.APIKey())
		resp, err := s.Client().Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if st, err := post(); err != nil || st != 500 {
		t.Errorf("500 after write: %d %v", st, err)
	}
	if _, err := post(); err == nil {
		t.Errorf("drop after write: no error")
	}
	if _, err := post(); err == nil {
		t.Errorf("drop: no error")
	}
	if st, err := post(); err != nil || st != 200 {
		t.Errorf("after the faults: %d %v", st, err)
	}
	if n := len(s.Campaigns()); n != 3 {
		t.Errorf("campaigns: %d, want 3 (two applied despite the fault, one clean)", n)
	}
	if s.PendingFaults() != 0 || s.Stats().FaultsInjected != 3 {
		t.Errorf("faults: pending %d, stats %+v", s.PendingFaults(), s.Stats())
	}
}

// The shared fault vocabulary in Mailchimp's words: a 429 with Retry-After,
// an error status with its problem title, and latency after the write.
func TestFaultVocabulary(t *testing.T) {
	s := New(t)
	s.Inject(faketest.Fault{Op: "GET /lists", Kind: faketest.RateLimit, RetryAfter: 3 * time.Second})
	s.Inject(faketest.Fault{Op: "GET /lists", Kind: faketest.Fail, Status: 503, Code: "Service Unavailable"})
	st, h, m := do(t, s, call{method: "GET", path: "/lists", auth: "basic"})
	if st != 429 || h.Get("Retry-After") != "3" || m["title"] != "Too Many Requests" {
		t.Errorf("rate limit: %d %v %v", st, h.Get("Retry-After"), m)
	}
	st, _, m = do(t, s, call{method: "GET", path: "/lists", auth: "basic"})
	if st != 503 || m["title"] != "Service Unavailable" || m["status"] != float64(503) {
		t.Errorf("fail 503: %d %v", st, m)
	}
	s.Inject(faketest.Fault{Op: "POST /campaigns", Kind: faketest.Latency, Delay: 150 * time.Millisecond})
	start := time.Now()
	st, _, _ = do(t, s, call{method: "POST", path: "/campaigns", auth: "basic", body: fmt.Sprintf(`{"type":"regular","recipients":{"list_id":%q}}`, DefaultListID)})
	if st != 200 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("latency: %d after %v", st, time.Since(start))
	}
	if s.PendingFaults() != 0 {
		t.Errorf("%d faults left", s.PendingFaults())
	}
}

func TestOAuthEndpoints(t *testing.T) {
	s := New(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL() + "/oauth2/authorize?response_type=code&client_id=" + DefaultClientID + "&redirect_uri=http://127.0.0.1:9/cb&state=xyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	code := loc.Query().Get("code")
	if resp.StatusCode != 302 || code == "" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, loc)
	}
	form := "grant_type=authorization_code&client_id=" + DefaultClientID + "&client_secret=" + DefaultClientSecret + "&redirect_uri=http://127.0.0.1:9/cb&code=" + code
	resp, err = http.Post(s.URL()+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok["expires_in"] != float64(0) || tok["access_token"] == "" || tok["refresh_token"] != nil {
		t.Fatalf("token: %v", tok)
	}
	// A code works once.
	resp, _ = http.Post(s.URL()+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("second use of a code: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/oauth2/metadata", nil)
	req.Header.Set("Authorization", "OAuth "+tok["access_token"].(string))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["dc"] != DefaultDC || meta["api_endpoint"] != s.URL() {
		t.Errorf("metadata: %v", meta)
	}
	if status, _, _ := do(t, s, call{method: "GET", path: "/ping", auth: "bearer:" + tok["access_token"].(string)}); status != 200 {
		t.Errorf("API with the OAuth token: %d", status)
	}
}
