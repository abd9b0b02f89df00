// Package metatest is a contract fake of the Meta Marketing API (Graph API
// v25.0) for the meta connector's tests: an httptest.Server that holds one
// ad account and enforces the contract the connector relies on, as
// shared/docs/platform-apis-ads-webflow.md section 2 and the codegen specs
// in shared/apispecs/meta describe it.
//
// What it serves (every path under /v25.0):
//
//   - GET /act_{id}?fields=…: the account (name, currency, timezone_name,
//     account_status); GET /me/permissions: the token's permissions.
//   - POST /act_{id}/campaigns|adsets|adcreatives|ads: creates, with form
//     parameters whose lists and objects are JSON-encoded; required
//     parameters from AdAccount.json (special_ad_categories*, name* of ad
//     sets and ads, creative*), enums from enum_types.json, budgets and
//     bids as unsigned integers in minor units. Answers {"id":"…"}.
//     execution_options=["validate_only"] runs the same checks and answers
//     {"success":true} without creating anything.
//   - POST /{id}: updates (a creative takes only name, status, adlabels and
//     account_id, as AdCreative.json says); DELETE /{id}: status DELETED.
//   - GET /{id}?fields=…; lists GET /act_{id}/campaigns|adsets|ads|
//     adcreatives and GET /{campaign_id}/adsets|ads, GET /{adset_id}/ads,
//     with cursor pagination (limit, after; paging.cursors and paging.next).
//     Lists leave out DELETED and ARCHIVED objects unless effective_status
//     names them. Read types are the platform's: budgets are strings.
//   - GET /{campaign_id}/insights: string numerics, actions as
//     AdsActionStats, from what the test set with SetInsights.
//   - Customer lists: POST /act_{id}/customaudiences (name, subtype CUSTOM,
//     customer_file_source from enum_types.json), GET
//     /act_{id}/customaudiences, and POST /{audience_id}/users with
//     payload {"schema":"EMAIL_SHA256","data":[64 hex digits, …]} (at
//     most 10,000 entries a call, as the SDK examples batch), answering
//     {audience_id, session_id, num_received, num_invalid_entries,
//     invalid_entry_samples}; an ad set's targeting.custom_audiences must
//     name audiences of the account.
//
// Choices where the contract is silent [unconf in the docs], made strict
// so the connector cannot rely on leniency: an ad set needs campaign_id,
// billing_event, optimization_goal and targeting with
// geo_locations.countries; a lifetime budget (the ad set's or its
// campaign's) needs an end_time; a campaign with the bid strategy
// LOWEST_COST_WITH_BID_CAP needs bid_amount on every ad set; a campaign
// budget (CBO) and an ad set budget exclude each other; a creative's
// page_id must be the account's page (Server.PageID); link_data.name (the
// headline) has at most 255 characters, link_data.description at most 255
// and link_data.message at most 2200 (the connector checks the tighter
// limits it documents before this); DELETED objects cannot be changed
// (code 100, subcode 1487056) but can be read; deleting a campaign deletes
// its ad sets and ads.
//
// Auth: the token as the access_token parameter (the SDKs) or as
// "Authorization: Bearer" (Meta's Postman collection); with WithAppSecret,
// appsecret_proof = hex HMAC-SHA256(secret, token) is required on every
// call. Server.Token, AccountID (act_<AccountID>) and PageID default to
// DefaultToken, DefaultAccountID and DefaultPageID; the account bills in
// USD in America/Los_Angeles.
//
// Errors use Graph's envelope {"error":{message, type:"OAuthException",
// code, error_subcode, error_user_title, error_user_msg, fbtrace_id}} with
// error_data.blame_field_specs naming the parameter: code 190 for a bad
// token (HTTP 400), 100 for an invalid parameter (subcode 1487694, or 33
// for an object that does not exist), 17 (subcode 1885172) for a fifth ad
// set budget change within an hour.
//
// Rate limits: every call counts against an hourly ads_management quota
// per ad account: Quota (default 300, the development tier) + 40 × active
// ads, in fixed hours from the first call. Every answer carries
// X-Business-Use-Case-Usage, X-Ad-Account-Usage and X-App-Usage with the
// share used in percent; a call over the quota is refused with HTTP 400,
// code 80004, subcode 2446079 and estimated_time_to_regain_access (minutes)
// in the usage header.
//
// Tests read what happened through Objects, Count and Requests, set
// insights with SetInsights, and inject faults (faketest vocabulary) with
// Inject: RateLimit (the 80004 answer for one call, saying access returns after
// Fault.RetryAfter, default a minute), Fail, SlowApply (a create commits
// Delay after it arrived, whatever becomes of the request: the hold for
// the kill test), DropAfterApply and Latency.
package metatest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Defaults of a new Server.
const (
	DefaultToken     = "EAAtesttoken0123456789abcdef"
	DefaultAccountID = "1234567890"
	DefaultPageID    = "555000111"
	DefaultQuota     = 300
	Version          = "v25.0"
)

// Object is one campaign, ad set, ad or creative as the fake holds it.
type Object struct {
	ID, Type, Name, Status string // Type: campaign, adset, ad, adcreative, customaudience
	CampaignID, AdSetID    string
	// Params are the create and update parameters, JSON-decoded.
	Params  map[string]any
	Created time.Time
	// Activations counts the writes that set status ACTIVE on an object
	// that was not ACTIVE.
	Activations int
	// Members are a custom audience's uploaded hashes.
	Members     map[string]bool
	budgetEdits []time.Time
}

// Insight is what GET /{campaign_id}/insights answers for a campaign.
type Insight struct {
	Impressions, Clicks, Spend string
	Actions                    map[string]string // action_type → value
}

// Server is the fake.
type Server struct {
	srv *httptest.Server
	// URL is the Graph base, with the version: http://127.0.0.1:port/v25.0.
	URL                                 string
	Token, AppSecret, AccountID, PageID string
	Currency, TimeZone                  string
	Quota                               int
	Permissions                         []string
	Now                                 func() time.Time
	mu                                  sync.Mutex
	objects                             map[string]*Object
	order                               []string
	next                                int64
	counts                              map[string]int
	requests                            int
	hourStart                           time.Time
	hourCalls                           int
	insights                            map[string]Insight
	lastQuery                           map[string]url.Values
	faults                              faketest.Queue
	applying, applied                   int
	latency                             time.Duration
	timeRanges                          []string
	businessID                          string
}

// Option configures a Server.
type Option func(*Server)

// WithAppSecret makes the fake require appsecret_proof = hex
// HMAC-SHA256(secret, token) on every call.
func WithAppSecret(secret string) Option { return func(s *Server) { s.AppSecret = secret } }

// WithQuota sets the hourly ads_management base quota (before 40 × active ads).
func WithQuota(n int) Option { return func(s *Server) { s.Quota = n } }

// WithLatency delays every answer by d (the benchmark's per-call cost).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithClock sets the fake's clock (quota hours, created times).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.Now = now } }

// New starts a fake, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{
		Token: DefaultToken, AccountID: DefaultAccountID, PageID: DefaultPageID,
		Currency: "USD", TimeZone: "America/Los_Angeles", Quota: DefaultQuota,
		Permissions: []string{"ads_management", "ads_read"},
		Now:         time.Now, objects: map[string]*Object{}, next: 120330000000000000,
		counts: map[string]int{}, insights: map[string]Insight{}, lastQuery: map[string]url.Values{},
		businessID: "909090",
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/" + Version
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Inject queues a fault. Op names are "POST /act_{id}/campaigns" (method
// and the path with act_{id} or {id} for ids), e.g. "POST /act_{id}/ads",
// "POST /{id}", "GET /{id}", "GET /{id}/adsets", "GET /{id}/insights".
func (s *Server) Inject(f faketest.Fault) { s.faults.Inject(f) }

// PendingFaults is how many fault hits are left.
func (s *Server) PendingFaults() int { return s.faults.Pending() }

// Applying is the number of writes received but not committed (SlowApply).
func (s *Server) Applying() int { s.mu.Lock(); defer s.mu.Unlock(); return s.applying }

// Applied is the number of SlowApply writes that committed.
func (s *Server) Applied() int { s.mu.Lock(); defer s.mu.Unlock(); return s.applied }

// Count is how many calls of op (as Inject names them) the fake answered
// or refused.
func (s *Server) Count(op string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.counts[op] }

// Requests is the number of calls received.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// TimeRanges are the time_range (or date_preset) values insights calls asked for.
func (s *Server) TimeRanges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.timeRanges)
}

// Objects returns copies of the objects of a type (campaign, adset, ad,
// adcreative), deleted ones included, in creation order.
func (s *Server) Objects(typ string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, id := range s.order {
		if o := s.objects[id]; o.Type == typ {
			c := *o
			out = append(out, c)
		}
	}
	return out
}

// Object returns a copy of one object.
func (s *Server) Object(id string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[id]
	if !ok {
		return Object{}, false
	}
	return *o, true
}

// Members returns the hashes uploaded to a custom audience, sorted.
func (s *Server) Members(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[id]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(o.Members))
	for h := range o.Members {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// SetInsights sets what the insights of a campaign answer.
func (s *Server) SetInsights(campaignID string, in Insight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insights[campaignID] = in
}

// AddCampaign adds a campaign as someone in Ads Manager would (no
// validation), and returns its id.
func (s *Server) AddCampaign(name, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := strconv.FormatInt(s.next, 10)
	s.objects[id] = &Object{ID: id, Type: "campaign", Name: name, Status: status, Params: map[string]any{"objective": "OUTCOME_TRAFFIC"}, Created: s.Now()}
	s.order = append(s.order, id)
	return id
}

// SetStatus changes an object's status as someone in Ads Manager would.
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.objects[id]; ok {
		o.Status = status
	}
}

// graphErr is an error answer.
type graphErr struct {
	status         int
	code, subcode  int
	msg, userTitle string
	blame          []string
}

func (e *graphErr) write(w http.ResponseWriter) {
	body := map[string]any{
		"message": e.msg, "type": "OAuthException", "code": e.code, "fbtrace_id": "AFake" + strconv.Itoa(e.code) + "trace",
	}
	if e.subcode != 0 {
		body["error_subcode"] = e.subcode
	}
	if e.userTitle != "" {
		body["error_user_title"] = e.userTitle
		body["error_user_msg"] = e.msg
	}
	if len(e.blame) > 0 {
		body["error_data"] = map[string]any{"blame_field_specs": [][]string{e.blame}}
	}
	st := e.status
	if st == 0 {
		st = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/json")
	if e.code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+e.msg+`"`)
	}
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func invalid(blame string, format string, args ...any) *graphErr {
	msg := fmt.Sprintf(format, args...)
	var b []string
	if blame != "" {
		b = strings.Split(blame, ".")
	}
	return &graphErr{code: 100, subcode: 1487694, msg: "(#100) " + msg, userTitle: "Invalid parameter", blame: b}
}

func missing(id string) *graphErr {
	return &graphErr{code: 100, subcode: 33, msg: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)}
}

var idRE = regexp.MustCompile(`^[0-9]+$`)

// opName is the call's name for faults and counts.
func (s *Server) opName(method string, parts []string) string {
	segs := make([]string, len(parts))
	for i, p := range parts {
		switch {
		case p == "act_"+s.AccountID || strings.HasPrefix(p, "act_"):
			segs[i] = "act_{id}"
		case idRE.MatchString(p):
			segs[i] = "{id}"
		default:
			segs[i] = p
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		invalid("", "could not parse the parameters").write(w)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/"+Version+"/")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	op := s.opName(r.Method, parts)
	s.mu.Lock()
	s.requests++
	s.counts[op]++
	s.mu.Unlock()
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	if !strings.HasPrefix(r.URL.Path, "/"+Version+"/") {
		(&graphErr{code: 2635, msg: "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: " + Version + "."}).write(w)
		return
	}
	// Auth first: a bad token is refused before the quota counts the call.
	if e := s.auth(r); e != nil {
		e.write(w)
		return
	}
	if e := s.overQuota(w); e != nil {
		e.write(w)
		return
	}
	s.usageHeaders(w)
	// A dry run writes nothing: SlowApply (which delays a commit) passes
	// it by, as it passes reads.
	write := r.Method != http.MethodGet && !strings.Contains(r.Form.Get("execution_options"), "validate_only")
	f, hit := s.faults.Take(op, write)
	if hit {
		switch f.Kind {
		case faketest.RateLimit:
			s.throttle(w, f.RetryAfter)
			return
		case faketest.Fail:
			if f.Body != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(f.StatusOr(500))
				_, _ = w.Write(f.Body)
				return
			}
			(&graphErr{status: f.StatusOr(500), code: 2, msg: "An unexpected error has occurred. Please retry your request later.", subcode: 0}).write(w)
			return
		case faketest.Latency:
			time.Sleep(f.Wait())
		}
	}
	status, body, commit, e := s.route(r, parts)
	if e != nil {
		e.write(w)
		return
	}
	if commit != nil {
		if hit && f.Kind == faketest.SlowApply {
			s.mu.Lock()
			s.applying++
			s.mu.Unlock()
			done := make(chan any, 1)
			go func() {
				time.Sleep(f.Wait())
				s.mu.Lock()
				res := commit()
				s.applying--
				s.applied++
				s.mu.Unlock()
				done <- res
			}()
			select {
			case body = <-done:
			case <-r.Context().Done():
				return
			}
		} else {
			s.mu.Lock()
			body = commit()
			s.mu.Unlock()
		}
	}
	if hit && f.Kind == faketest.DropAfterApply {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	if hit && f.Kind == faketest.FailAfterApply {
		(&graphErr{status: f.StatusOr(500), code: 2, msg: "An unexpected error has occurred. Please retry your request later."}).write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) auth(r *http.Request) *graphErr {
	tok := r.Form.Get("access_token")
	if tok == "" {
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
	}
	if tok == "" {
		return &graphErr{code: 104, msg: "An access token is required to request this resource."}
	}
	if tok != s.Token {
		return &graphErr{code: 190, subcode: 463, msg: "Error validating access token: Session has expired or the token is invalid."}
	}
	if s.AppSecret != "" {
		m := hmac.New(sha256.New, []byte(s.AppSecret))
		m.Write([]byte(tok))
		want := hex.EncodeToString(m.Sum(nil))
		got := r.Form.Get("appsecret_proof")
		if got == "" {
			return &graphErr{code: 100, msg: "(#100) API calls from the server require an appsecret_proof argument"}
		}
		if !hmac.Equal([]byte(got), []byte(want)) {
			return &graphErr{code: 100, msg: "(#100) Invalid appsecret_proof provided in the API argument"}
		}
	}
	return nil
}

// quota is the hourly limit now; call with s.mu held.
func (s *Server) quota() int {
	active := 0
	for _, o := range s.objects {
		if o.Type == "ad" && o.Status == "ACTIVE" {
			active++
		}
	}
	return s.Quota + 40*active
}

func (s *Server) rollHour() {
	now := s.Now()
	if s.hourStart.IsZero() || now.Sub(s.hourStart) >= time.Hour {
		s.hourStart, s.hourCalls = now, 0
	}
}

// overQuota counts the call and refuses it when the hour's quota is spent.
func (s *Server) overQuota(w http.ResponseWriter) *graphErr {
	s.mu.Lock()
	s.rollHour()
	s.hourCalls++
	over := s.hourCalls > s.quota()
	s.mu.Unlock()
	if !over {
		return nil
	}
	s.usageHeaders(w)
	return throttleErr()
}

func throttleErr() *graphErr {
	return &graphErr{code: 80004, subcode: 2446079, msg: "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."}
}

// throttle answers one call with the 80004 throttle, saying access
// returns after wait (default a minute), without spending the quota.
func (s *Server) throttle(w http.ResponseWriter, wait time.Duration) {
	if wait <= 0 {
		wait = time.Minute
	}
	s.mu.Lock()
	biz := s.businessID
	s.mu.Unlock()
	mins := int((wait + time.Minute - 1) / time.Minute)
	buc, _ := json.Marshal(map[string]any{biz: []map[string]any{{
		"type": "ads_management", "call_count": 100, "total_cputime": 40, "total_time": 40,
		"estimated_time_to_regain_access": mins, "ads_api_access_tier": "development_access",
	}}})
	w.Header().Set("X-Business-Use-Case-Usage", string(buc))
	throttleErr().write(w)
}

// usageHeaders sets the three usage headers from the hour's count.
func (s *Server) usageHeaders(w http.ResponseWriter) {
	s.mu.Lock()
	s.rollHour()
	q := s.quota()
	pct := min(100*s.hourCalls/max(q, 1), 100)
	if s.hourCalls > q {
		pct = 100
	}
	reset := int(s.hourStart.Add(time.Hour).Sub(s.Now()).Seconds())
	regain := 0
	if s.hourCalls > q {
		regain = (reset + 59) / 60
	}
	biz := s.businessID
	s.mu.Unlock()
	buc, _ := json.Marshal(map[string]any{biz: []map[string]any{{
		"type": "ads_management", "call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2,
		"estimated_time_to_regain_access": regain, "ads_api_access_tier": "development_access",
	}}})
	acc, _ := json.Marshal(map[string]any{"acc_id_util_pct": pct, "reset_time_duration": reset, "ads_api_access_tier": "development_access"})
	app, _ := json.Marshal(map[string]any{"call_count": pct / 4, "total_cputime": pct / 8, "total_time": pct / 8})
	w.Header().Set("X-Business-Use-Case-Usage", string(buc))
	w.Header().Set("X-Ad-Account-Usage", string(acc))
	w.Header().Set("X-App-Usage", string(app))
}

type commitFunc func() any

// route dispatches a call: a read answers at once; a write returns commit,
// which the caller runs under s.mu (at once or, on SlowApply, later).
func (s *Server) route(r *http.Request, parts []string) (int, any, commitFunc, *graphErr) {
	f := r.Form
	acct := "act_" + s.AccountID
	switch {
	case len(parts) == 2 && parts[0] == "me" && parts[1] == "permissions" && r.Method == http.MethodGet:
		var data []map[string]string
		for _, p := range s.Permissions {
			data = append(data, map[string]string{"permission": p, "status": "granted"})
		}
		return 200, map[string]any{"data": data}, nil, nil
	case len(parts) >= 1 && strings.HasPrefix(parts[0], "act_") && parts[0] != acct:
		return 0, nil, nil, &graphErr{code: 100, subcode: 33, msg: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", parts[0])}
	case len(parts) == 1 && parts[0] == acct && r.Method == http.MethodGet:
		return 200, pick(map[string]any{"id": acct, "account_id": s.AccountID, "name": "Acme Ads", "currency": s.Currency,
			"timezone_name": s.TimeZone, "account_status": 1}, f.Get("fields")), nil, nil
	case len(parts) == 2 && parts[0] == acct && r.Method == http.MethodPost:
		return s.create(parts[1], f)
	case len(parts) == 2 && parts[0] == acct && r.Method == http.MethodGet:
		typ := strings.TrimSuffix(parts[1], "s")
		if parts[1] == "adsets" {
			typ = "adset"
		}
		if !slices.Contains([]string{"campaign", "adset", "ad", "adcreative", "customaudience"}, typ) {
			return 0, nil, nil, invalid("", "Tried accessing nonexisting field (%s) on node type (AdAccount)", parts[1])
		}
		return s.list(r, func(o *Object) bool { return o.Type == typ })
	case len(parts) == 1 && idRE.MatchString(parts[0]):
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			defer s.mu.Unlock()
			o, ok := s.objects[parts[0]]
			if !ok {
				return 0, nil, nil, missing(parts[0])
			}
			return 200, pick(s.view(o), f.Get("fields")), nil, nil
		case http.MethodPost:
			return s.update(parts[0], f)
		case http.MethodDelete:
			return s.del(parts[0])
		}
	case len(parts) == 2 && idRE.MatchString(parts[0]) && parts[1] == "users" && r.Method == http.MethodPost:
		return s.addUsers(parts[0], f)
	case len(parts) == 2 && idRE.MatchString(parts[0]) && r.Method == http.MethodGet:
		id, edge := parts[0], parts[1]
		s.mu.Lock()
		o, ok := s.objects[id]
		s.mu.Unlock()
		if !ok {
			return 0, nil, nil, missing(id)
		}
		switch {
		case edge == "insights":
			return s.insightsOf(o, f)
		case edge == "adsets" && o.Type == "campaign":
			return s.list(r, func(x *Object) bool { return x.Type == "adset" && x.CampaignID == id })
		case edge == "ads" && o.Type == "campaign":
			return s.list(r, func(x *Object) bool { return x.Type == "ad" && x.CampaignID == id })
		case edge == "ads" && o.Type == "adset":
			return s.list(r, func(x *Object) bool { return x.Type == "ad" && x.AdSetID == id })
		}
		return 0, nil, nil, invalid("", "Tried accessing nonexisting field (%s) on node type (%s)", edge, o.Type)
	}
	return 0, nil, nil, &graphErr{code: 100, msg: fmt.Sprintf("Unsupported %s request.", strings.ToLower(r.Method))}
}

// pick keeps the fields asked for (id always).
func pick(v map[string]any, fields string) map[string]any {
	out := map[string]any{}
	if id, ok := v["id"]; ok {
		out["id"] = id
	}
	if fields == "" {
		return out
	}
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if x, ok := v[f]; ok && x != nil {
			out[f] = x
		}
	}
	return out
}

// view is an object as Graph reads it back; call with s.mu held.
func (s *Server) view(o *Object) map[string]any {
	v := map[string]any{"id": o.ID, "name": o.Name, "status": o.Status, "account_id": s.AccountID,
		"created_time": o.Created.Format("2006-01-02T15:04:05-0700")}
	eff := o.Status
	for k, x := range o.Params {
		switch k {
		case "daily_budget", "lifetime_budget", "spend_cap":
			v[k] = fmt.Sprint(x) // strings on read
		case "bid_amount":
			n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64)
			v[k] = n
		case "creative":
			if m, ok := x.(map[string]any); ok {
				v["creative"] = map[string]any{"id": m["creative_id"]}
			}
		case "execution_options", "access_token", "appsecret_proof", "status", "name":
		default:
			v[k] = x
		}
	}
	if o.CampaignID != "" {
		v["campaign_id"] = o.CampaignID
		if c := s.objects[o.CampaignID]; c != nil && c.Status == "PAUSED" && eff == "ACTIVE" {
			eff = "CAMPAIGN_PAUSED"
		}
	}
	if o.AdSetID != "" {
		v["adset_id"] = o.AdSetID
		if a := s.objects[o.AdSetID]; a != nil && a.Status == "PAUSED" && eff == "ACTIVE" {
			eff = "ADSET_PAUSED"
		}
	}
	if o.Type != "adcreative" && o.Type != "customaudience" {
		v["effective_status"] = eff
	}
	if o.Type == "customaudience" {
		delete(v, "status")
		v["approximate_count_lower_bound"] = len(o.Members)
	}
	return v
}

func (s *Server) list(r *http.Request, match func(*Object) bool) (int, any, commitFunc, *graphErr) {
	f := r.Form
	var statuses []string
	if es := f.Get("effective_status"); es != "" {
		if err := json.Unmarshal([]byte(es), &statuses); err != nil {
			return 0, nil, nil, invalid("effective_status", "Param effective_status must be an array.")
		}
	}
	limit := 25
	if l := f.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return 0, nil, nil, invalid("limit", "Param limit must be a positive integer")
		}
		limit = min(n, 500)
	}
	start := 0
	if a := f.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil {
			return 0, nil, nil, invalid("after", "Invalid cursor")
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*Object
	for _, id := range s.order {
		o := s.objects[id]
		if !match(o) {
			continue
		}
		if len(statuses) == 0 {
			if o.Status == "DELETED" || o.Status == "ARCHIVED" {
				continue
			}
		} else if !slices.Contains(statuses, o.Status) {
			continue
		}
		all = append(all, o)
	}
	end := min(start+limit, len(all))
	if start > len(all) {
		start = len(all)
	}
	data := []map[string]any{}
	for _, o := range all[start:end] {
		data = append(data, pick(s.view(o), f.Get("fields")))
	}
	body := map[string]any{"data": data}
	if len(data) > 0 {
		cur := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
		paging := map[string]any{"cursors": map[string]string{"before": cur(start), "after": cur(end)}}
		if end < len(all) {
			q := url.Values{}
			for k, v := range f {
				if k != "access_token" && k != "appsecret_proof" && k != "after" {
					q[k] = v
				}
			}
			q.Set("after", cur(end))
			q.Set("limit", strconv.Itoa(limit))
			paging["next"] = s.URL + strings.TrimPrefix(r.URL.Path, "/"+Version) + "?" + q.Encode()
		}
		body["paging"] = paging
	}
	return 200, body, nil, nil
}

// params decodes the form parameters: JSON where the value is JSON.
func decodeParam(v string) any {
	var x any
	if (strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{")) && json.Unmarshal([]byte(v), &x) == nil {
		return x
	}
	return v
}

func uintParam(f url.Values, name string) (int64, bool, *graphErr) {
	v := f.Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, true, invalid(name, "Param %s must be a non-negative integer (in the account currency's minimum denomination, e.g. cents)", name)
	}
	return n, true, nil
}

func enumParam(f url.Values, name string, allowed map[string]bool, required bool) *graphErr {
	v := f.Get(name)
	if v == "" {
		if required {
			return invalid(name, "The parameter %s is required", name)
		}
		return nil
	}
	if !allowed[v] {
		return invalid(name, "Param %s must be one of {%s}", name, keys(allowed))
	}
	return nil
}

func keys(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func validateOnly(f url.Values) (bool, *graphErr) {
	eo := f.Get("execution_options")
	if eo == "" {
		return false, nil
	}
	var opts []string
	if err := json.Unmarshal([]byte(eo), &opts); err != nil {
		return false, invalid("execution_options", "Param execution_options must be an array")
	}
	for _, o := range opts {
		if !adExecutionOptions[o] {
			return false, invalid("execution_options", "Param execution_options[0] must be one of {%s}", keys(adExecutionOptions))
		}
	}
	return slices.Contains(opts, "validate_only"), nil
}

func (s *Server) create(edge string, f url.Values) (int, any, commitFunc, *graphErr) {
	vo, e := validateOnly(f)
	if e != nil {
		return 0, nil, nil, e
	}
	var typ string
	switch edge {
	case "campaigns":
		typ, e = "campaign", s.checkCampaign(f)
	case "adsets":
		typ, e = "adset", s.checkAdSet(f, nil)
	case "adcreatives":
		typ, e = "adcreative", s.checkCreative(f)
	case "ads":
		typ, e = "ad", s.checkAd(f)
	case "customaudiences":
		typ, e = "customaudience", s.checkAudience(f)
	default:
		return 0, nil, nil, &graphErr{code: 100, msg: "Unsupported post request."}
	}
	if e != nil {
		return 0, nil, nil, e
	}
	if vo {
		return 200, map[string]any{"success": true}, nil, nil
	}
	commit := func() any {
		s.next++
		id := strconv.FormatInt(s.next, 10)
		o := &Object{ID: id, Type: typ, Name: f.Get("name"), Status: f.Get("status"), Params: map[string]any{}, Created: s.Now()}
		if o.Status == "" {
			o.Status = "ACTIVE" // the default when status is left out [unconf]
		}
		for k, v := range f {
			if k == "access_token" || k == "appsecret_proof" || k == "execution_options" {
				continue
			}
			o.Params[k] = decodeParam(v[0])
		}
		switch typ {
		case "adset":
			o.CampaignID = f.Get("campaign_id")
		case "ad":
			o.AdSetID = f.Get("adset_id")
			if as := s.objects[o.AdSetID]; as != nil {
				o.CampaignID = as.CampaignID
			}
		}
		if typ == "customaudience" {
			o.Members = map[string]bool{}
		}
		if o.Status == "ACTIVE" && typ != "adcreative" && typ != "customaudience" {
			o.Activations++
		}
		s.objects[id] = o
		s.order = append(s.order, id)
		return map[string]any{"id": id}
	}
	return 200, nil, commit, nil
}

func (s *Server) checkCampaign(f url.Values) *graphErr {
	sac := f.Get("special_ad_categories")
	if sac == "" {
		return invalid("special_ad_categories", "The parameter special_ad_categories is required")
	}
	var cats []string
	if err := json.Unmarshal([]byte(sac), &cats); err != nil {
		return invalid("special_ad_categories", "Param special_ad_categories must be an array")
	}
	for _, c := range cats {
		if !specialAdCategories[c] {
			return invalid("special_ad_categories", "Param special_ad_categories[0] must be one of {%s}", keys(specialAdCategories))
		}
	}
	for _, p := range []struct {
		n string
		m map[string]bool
	}{{"objective", objectives}, {"status", statuses}, {"bid_strategy", bidStrategies}} {
		if e := enumParam(f, p.n, p.m, false); e != nil {
			return e
		}
	}
	_, d, e := uintParam(f, "daily_budget")
	if e != nil {
		return e
	}
	_, l, e := uintParam(f, "lifetime_budget")
	if e != nil {
		return e
	}
	if d && l {
		return invalid("daily_budget", "Only one of daily_budget and lifetime_budget can be set")
	}
	if e := checkName(f, false); e != nil {
		return e
	}
	return nil
}

func checkName(f url.Values, required bool) *graphErr {
	n := f.Get("name")
	if n == "" && required {
		return invalid("name", "The parameter name is required")
	}
	if utf8.RuneCountInString(n) > 400 {
		return invalid("name", "Param name must be at most 400 characters long")
	}
	return nil
}

// checkAdSet checks create parameters, or an update of cur.
func (s *Server) checkAdSet(f url.Values, cur *Object) *graphErr {
	if cur == nil {
		if e := checkName(f, true); e != nil {
			return e
		}
	}
	campID := f.Get("campaign_id")
	if cur != nil {
		campID = cur.CampaignID
	}
	s.mu.Lock()
	camp := s.objects[campID]
	var campCopy Object
	if camp != nil {
		campCopy = *camp
	}
	s.mu.Unlock()
	if cur == nil {
		if campID == "" {
			return invalid("campaign_id", "The parameter campaign_id is required")
		}
		if camp == nil || campCopy.Type != "campaign" {
			return invalid("campaign_id", "Campaign %s does not exist", campID)
		}
		if campCopy.Status == "DELETED" {
			return invalid("campaign_id", "Campaign %s is deleted", campID)
		}
		for _, n := range []string{"billing_event", "optimization_goal", "targeting"} {
			if f.Get(n) == "" {
				return invalid(n, "The parameter %s is required", n)
			}
		}
	}
	if e := enumParam(f, "billing_event", billingEvents, false); e != nil {
		return e
	}
	if e := enumParam(f, "optimization_goal", optimizationGoals, false); e != nil {
		return e
	}
	if e := enumParam(f, "status", statuses, false); e != nil {
		return e
	}
	if tg := f.Get("targeting"); tg != "" {
		var t struct {
			Geo struct {
				Countries []string `json:"countries"`
			} `json:"geo_locations"`
			Locales         []int            `json:"locales"`
			CustomAudiences []map[string]any `json:"custom_audiences"`
		}
		if err := json.Unmarshal([]byte(tg), &t); err != nil {
			return invalid("targeting", "Param targeting must be a JSON object")
		}
		if len(t.Geo.Countries) == 0 {
			return invalid("targeting.geo_locations", "Your audience is missing a location. Add a location to targeting.geo_locations.")
		}
		for _, c := range t.Geo.Countries {
			if len(c) != 2 || strings.ToUpper(c) != c {
				return invalid("targeting.geo_locations.countries", "Invalid country code %q", c)
			}
		}
		for _, ca := range t.CustomAudiences {
			id := fmt.Sprint(ca["id"])
			s.mu.Lock()
			o := s.objects[id]
			s.mu.Unlock()
			if o == nil || o.Type != "customaudience" || o.Status == "DELETED" {
				return invalid("targeting.custom_audiences", "Custom audience %s does not exist or cannot be used by this ad account", id)
			}
		}
	}
	_, ownD, e := uintParam(f, "daily_budget")
	if e != nil {
		return e
	}
	_, ownL, e := uintParam(f, "lifetime_budget")
	if e != nil {
		return e
	}
	_, hasBid, e := uintParam(f, "bid_amount")
	if e != nil {
		return e
	}
	_, campD := campCopy.Params["daily_budget"]
	_, campL := campCopy.Params["lifetime_budget"]
	if (ownD || ownL) && (campD || campL) {
		return invalid("daily_budget", "The campaign has a campaign budget; an ad set of it cannot have its own budget")
	}
	if cur == nil && campCopy.Params["bid_strategy"] == "LOWEST_COST_WITH_BID_CAP" && !hasBid {
		return invalid("bid_amount", "The campaign's bid strategy LOWEST_COST_WITH_BID_CAP needs a bid_amount on every ad set")
	}
	start, hasStart := time.Time{}, false
	for _, n := range []string{"start_time", "end_time"} {
		if v := f.Get(n); v != "" {
			t, ok := parseTime(v)
			if !ok {
				return invalid(n, "Param %s must be a valid time (ISO 8601 or a UNIX timestamp)", n)
			}
			if n == "start_time" {
				start, hasStart = t, true
			} else if hasStart && !t.After(start) {
				return invalid("end_time", "The end time must be after the start time")
			}
		}
	}
	end := f.Get("end_time")
	if cur != nil && end == "" {
		if v, ok := cur.Params["end_time"].(string); ok {
			end = v
		}
	}
	if (ownL || campL) && end == "" {
		return invalid("end_time", "An ad set with a lifetime budget needs an end_time")
	}
	return nil
}

func (s *Server) checkCreative(f url.Values) *graphErr {
	if e := checkName(f, false); e != nil {
		return e
	}
	oss := f.Get("object_story_spec")
	if oss == "" && f.Get("object_story_id") == "" {
		return invalid("object_story_spec", "The creative needs an object_story_spec or an object_story_id")
	}
	var spec struct {
		PageID   string `json:"page_id"`
		LinkData *struct {
			Link        string `json:"link"`
			Message     string `json:"message"`
			Name        string `json:"name"`
			Description string `json:"description"`
			Picture     string `json:"picture"`
			ImageHash   string `json:"image_hash"`
			CTA         *struct {
				Type  string            `json:"type"`
				Value map[string]string `json:"value"`
			} `json:"call_to_action"`
		} `json:"link_data"`
	}
	if err := json.Unmarshal([]byte(oss), &spec); err != nil {
		return invalid("object_story_spec", "Param object_story_spec must be a JSON object")
	}
	if spec.PageID == "" {
		return invalid("object_story_spec.page_id", "The object_story_spec needs a page_id")
	}
	if spec.PageID != s.PageID {
		return &graphErr{code: 100, subcode: 1487472, userTitle: "Invalid Page", msg: fmt.Sprintf("(#100) The Facebook page %s cannot be used by this ad account: pick a page the account may advertise for", spec.PageID),
			blame: []string{"object_story_spec", "page_id"}}
	}
	ld := spec.LinkData
	if ld == nil {
		return invalid("object_story_spec.link_data", "The object_story_spec needs link_data, photo_data or video_data")
	}
	if u, err := url.Parse(ld.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("object_story_spec.link_data.link", "The link %q is not a valid URL", ld.Link)
	}
	for _, x := range []struct {
		field, v string
		max      int
	}{{"message", ld.Message, 2200}, {"name", ld.Name, 255}, {"description", ld.Description, 255}} {
		if utf8.RuneCountInString(x.v) > x.max {
			return invalid("object_story_spec.link_data."+x.field, "link_data.%s must be at most %d characters", x.field, x.max)
		}
	}
	if ld.Picture != "" {
		if u, err := url.Parse(ld.Picture); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("object_story_spec.link_data.picture", "The picture %q is not a valid URL", ld.Picture)
		}
	}
	if ld.CTA != nil && !callToActionTypes[ld.CTA.Type] {
		return invalid("object_story_spec.link_data.call_to_action.type", "Param call_to_action[type] must be one of {%s}", keys(callToActionTypes))
	}
	return nil
}

func (s *Server) checkAd(f url.Values) *graphErr {
	if e := checkName(f, true); e != nil {
		return e
	}
	if e := enumParam(f, "status", statuses, false); e != nil {
		return e
	}
	cr := f.Get("creative")
	if cr == "" {
		return invalid("creative", "The parameter creative is required")
	}
	var c struct {
		ID string `json:"creative_id"`
	}
	if err := json.Unmarshal([]byte(cr), &c); err != nil || c.ID == "" {
		return invalid("creative", "Param creative must be a JSON object with creative_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.objects[c.ID]; o == nil || o.Type != "adcreative" || o.Status == "DELETED" {
		return invalid("creative.creative_id", "Creative %s does not exist", c.ID)
	}
	as := f.Get("adset_id")
	if as == "" {
		return invalid("adset_id", "The parameter adset_id is required")
	}
	if o := s.objects[as]; o == nil || o.Type != "adset" || o.Status == "DELETED" {
		return invalid("adset_id", "Ad set %s does not exist", as)
	}
	return nil
}

// updatable lists what POST /{id} takes per type (Campaign/AdSet/Ad/AdCreative.json).
var updatable = map[string][]string{
	"campaign":       {"name", "status", "daily_budget", "lifetime_budget", "bid_strategy", "stop_time", "start_time", "special_ad_categories", "spend_cap", "objective"},
	"adset":          {"name", "status", "daily_budget", "lifetime_budget", "bid_amount", "bid_strategy", "end_time", "start_time", "targeting", "billing_event", "optimization_goal"},
	"ad":             {"name", "status", "creative"},
	"adcreative":     {"name", "status", "account_id", "adlabels"},
	"customaudience": {"name", "description"},
}

func (s *Server) update(id string, f url.Values) (int, any, commitFunc, *graphErr) {
	vo, e := validateOnly(f)
	if e != nil {
		return 0, nil, nil, e
	}
	s.mu.Lock()
	o, ok := s.objects[id]
	var cur Object
	if ok {
		cur = *o
	}
	s.mu.Unlock()
	if !ok {
		return 0, nil, nil, missing(id)
	}
	if cur.Status == "DELETED" {
		return 0, nil, nil, &graphErr{code: 100, subcode: 1487056, msg: fmt.Sprintf("(#100) The %s %s is deleted and cannot be edited", cur.Type, id)}
	}
	for k := range f {
		if k == "access_token" || k == "appsecret_proof" || k == "execution_options" {
			continue
		}
		if !slices.Contains(updatable[cur.Type], k) {
			return 0, nil, nil, invalid(k, "Param %s cannot be updated on a %s", k, cur.Type)
		}
	}
	if e := enumParam(f, "status", statuses, false); e != nil {
		return 0, nil, nil, e
	}
	switch cur.Type {
	case "adset":
		if e := s.checkAdSet(f, &cur); e != nil {
			return 0, nil, nil, e
		}
	case "campaign":
		if _, _, e := uintParam(f, "daily_budget"); e != nil {
			return 0, nil, nil, e
		}
		if _, _, e := uintParam(f, "lifetime_budget"); e != nil {
			return 0, nil, nil, e
		}
	case "ad":
		if cr := f.Get("creative"); cr != "" {
			var c struct {
				ID string `json:"creative_id"`
			}
			if err := json.Unmarshal([]byte(cr), &c); err != nil || c.ID == "" {
				return 0, nil, nil, invalid("creative", "Param creative must be a JSON object with creative_id")
			}
			s.mu.Lock()
			x := s.objects[c.ID]
			s.mu.Unlock()
			if x == nil || x.Type != "adcreative" {
				return 0, nil, nil, invalid("creative.creative_id", "Creative %s does not exist", c.ID)
			}
		}
	}
	if cur.Type == "adset" && (f.Has("daily_budget") || f.Has("lifetime_budget")) {
		s.mu.Lock()
		now := s.Now()
		n := 0
		for _, t := range o.budgetEdits {
			if now.Sub(t) < time.Hour {
				n++
			}
		}
		s.mu.Unlock()
		if n >= 4 {
			return 0, nil, nil, &graphErr{code: 17, subcode: 1885172, msg: "(#17) User request limit reached: the budget of this ad set was changed 4 times within the hour; wait an hour"}
		}
	}
	if vo {
		return 200, map[string]any{"success": true}, nil, nil
	}
	commit := func() any {
		o := s.objects[id]
		for k, v := range f {
			switch k {
			case "access_token", "appsecret_proof", "execution_options":
			case "name":
				o.Name = v[0]
			case "status":
				if v[0] == "ACTIVE" && o.Status != "ACTIVE" {
					o.Activations++
				}
				o.Status = v[0]
				if v[0] == "DELETED" {
					s.cascadeDelete(o)
				}
			default:
				if (k == "daily_budget" || k == "lifetime_budget") && o.Type == "adset" {
					o.budgetEdits = append(o.budgetEdits, s.Now())
				}
				o.Params[k] = decodeParam(v[0])
			}
		}
		return map[string]any{"success": true}
	}
	return 200, nil, commit, nil
}

// cascadeDelete deletes a campaign's or ad set's children; s.mu held.
func (s *Server) cascadeDelete(o *Object) {
	for _, x := range s.objects {
		if (o.Type == "campaign" && x.CampaignID == o.ID) || (o.Type == "adset" && x.AdSetID == o.ID) {
			x.Status = "DELETED"
		}
	}
}

func (s *Server) del(id string) (int, any, commitFunc, *graphErr) {
	s.mu.Lock()
	_, ok := s.objects[id]
	s.mu.Unlock()
	if !ok {
		return 0, nil, nil, missing(id)
	}
	return 200, nil, func() any {
		o := s.objects[id]
		o.Status = "DELETED"
		s.cascadeDelete(o)
		return map[string]any{"success": true}
	}, nil
}

func (s *Server) insightsOf(o *Object, f url.Values) (int, any, commitFunc, *graphErr) {
	if o.Type != "campaign" {
		return 200, map[string]any{"data": []any{}}, nil, nil
	}
	tr := f.Get("time_range")
	if tr != "" {
		var r struct{ Since, Until string }
		if err := json.Unmarshal([]byte(tr), &r); err != nil {
			return 0, nil, nil, invalid("time_range", "Param time_range must be a JSON object {since, until}")
		}
		for _, d := range []string{r.Since, r.Until} {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return 0, nil, nil, invalid("time_range", "time_range dates must be YYYY-MM-DD")
			}
		}
	} else if dp := f.Get("date_preset"); dp != "" {
		tr = dp
	}
	s.mu.Lock()
	s.timeRanges = append(s.timeRanges, tr)
	in, ok := s.insights[o.ID]
	s.mu.Unlock()
	if !ok {
		return 200, map[string]any{"data": []any{}}, nil, nil
	}
	row := map[string]any{"campaign_id": o.ID, "account_id": s.AccountID, "impressions": in.Impressions, "clicks": in.Clicks,
		"spend": in.Spend, "date_start": o.Created.Format(time.DateOnly), "date_stop": s.Now().Format(time.DateOnly)}
	var acts []map[string]string
	for k, v := range in.Actions {
		acts = append(acts, map[string]string{"action_type": k, "value": v})
	}
	sort.Slice(acts, func(i, j int) bool { return acts[i]["action_type"] < acts[j]["action_type"] })
	if len(acts) > 0 {
		row["actions"] = acts
	}
	return 200, map[string]any{"data": []any{pick(row, "id,"+f.Get("fields")+",date_start,date_stop,campaign_id")}}, nil, nil
}

func (s *Server) checkAudience(f url.Values) *graphErr {
	if e := checkName(f, true); e != nil {
		return e
	}
	if e := enumParam(f, "subtype", audienceSubtypes, true); e != nil {
		return e
	}
	if f.Get("subtype") == "CUSTOM" {
		if e := enumParam(f, "customer_file_source", customerFileSources, true); e != nil {
			return e
		}
	}
	return nil
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// addUsers is POST /{audience_id}/users.
func (s *Server) addUsers(id string, f url.Values) (int, any, commitFunc, *graphErr) {
	s.mu.Lock()
	o, ok := s.objects[id]
	s.mu.Unlock()
	if !ok || o.Type != "customaudience" {
		return 0, nil, nil, missing(id)
	}
	var p struct {
		Schema any   `json:"schema"`
		Data   []any `json:"data"`
	}
	if err := json.Unmarshal([]byte(f.Get("payload")), &p); err != nil {
		return 0, nil, nil, invalid("payload", "Param payload must be a JSON object {schema, data}")
	}
	schema := fmt.Sprint(p.Schema)
	if l, ok := p.Schema.([]any); ok && len(l) == 1 {
		schema = fmt.Sprint(l[0])
	}
	if schema != "EMAIL_SHA256" && schema != "EMAIL" {
		return 0, nil, nil, invalid("payload.schema", "This fake takes the schema EMAIL_SHA256 (or EMAIL, hashed)")
	}
	if len(p.Data) == 0 || len(p.Data) > 10000 {
		return 0, nil, nil, invalid("payload.data", "payload.data must hold 1 to 10000 entries, got %d", len(p.Data))
	}
	var good []string
	bad := 0
	for _, d := range p.Data {
		h := fmt.Sprint(d)
		if l, ok := d.([]any); ok && len(l) == 1 {
			h = fmt.Sprint(l[0])
		}
		if hexHash.MatchString(h) {
			good = append(good, h)
		} else {
			bad++
		}
	}
	return 200, nil, func() any {
		for _, h := range good {
			s.objects[id].Members[h] = true
		}
		s.next++
		return map[string]any{"audience_id": id, "session_id": strconv.FormatInt(s.next, 10), "num_received": len(p.Data),
			"num_invalid_entries": bad, "invalid_entry_samples": map[string]any{}}
	}, nil
}
