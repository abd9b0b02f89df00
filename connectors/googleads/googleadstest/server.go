// Package googleadstest is a contract fake of the Google Ads API v25 REST
// interface, as far as lastmile's googleads connector uses it, served by an
// httptest.Server. It enforces the contract of the v25 protos and Google's
// documentation (shared/docs/platform-apis-ads-webflow.md, section 1):
//
//   - paths: POST /v25/customers/{c}/googleAds:mutate (atomic, temp
//     resource names with negative ids), campaignBudgets:mutate,
//     campaigns:mutate, adGroups:mutate, adGroupAds:mutate,
//     adGroupCriteria:mutate, campaignCriteria:mutate, googleAds:search (pages of 10,000 rows,
//     pageSize refused) and googleAds:searchStream (a JSON array of
//     batches); POST /token answers OAuth 2 refresh-token and
//     authorization-code grants, and GET /auth approves a browser sign-in
//     at once;
//   - headers: Authorization: Bearer <an access token /token issued, or
//     AccessToken()>, developer-token, login-customer-id (ten digits) when
//     the fake is made WithLoginCustomerID; the customer id in the path is
//     ten digits without hyphens;
//   - resources: required fields, enums, the ENABLED default when status is
//     omitted, name uniqueness (DUPLICATE_CAMPAIGN_NAME among campaigns not
//     removed, a budget's DUPLICATE_NAME, DUPLICATE_ADGROUP_NAME within a
//     campaign), responsive search ads (3–15 unique headlines of at most 30
//     characters, 2–4 descriptions of at most 90, paths of at most 15,
//     path2 only with path1, at least one final URL), keywords of at most
//     80 characters and 10 words, budgets (DAILY amountMicros, or
//     CUSTOM_PERIOD totalAmountMicros with a campaign end date), immutable
//     ads; campaign criteria (campaignCriterionOperation: create with a
//     campaign, exactly one of location (geoTargetConstants/{id}) and
//     language (languageConstants/{id}), negative optional, no duplicate
//     in one campaign; remove by resource name), served as
//     campaign_criterion in GAQL;
//   - targeting level: a location or language criterion created on an ad
//     group of a SEARCH campaign is refused with
//     criterionError.CANNOT_ADD_CRITERIA_TYPE. This refusal is inferred
//     from Google's targeting guide ("Location targeting is achieved by
//     using Criterion IDs obtained through GeoTargetConstantService and
//     applied to campaigns using CampaignCriterionService") and its
//     examples, which target campaigns; Google documents no such error
//     for ad groups word for word;
//   - requests: partialFailure, validateOnly (validated, nothing created,
//     only errors returned), at most 10,000 operations, temp names defined
//     before use and unique;
//   - errors: the REST wrapper {"error":{code, message, status, details:
//     [GoogleAdsFailure{errors[{errorCode, message, location}], requestId}]}};
//   - rate: a token bucket of Rate requests per second per developer token
//     (DefaultRate, 10/s, with a burst of DefaultBurst, 2), the same for
//     every path; beyond it 429 RESOURCE_EXHAUSTED with
//     QuotaError.RESOURCE_TEMPORARILY_EXHAUSTED and
//     details.quotaErrorDetails.retryDelay. Google documents no per-second
//     figure and no rate-limit headers; the fake's is an option.
//
// Tests read counters (mutate requests, operations, validate-only
// requests, searches), a campaign's tree (Tree) and campaign criteria
// (CampaignCriteria), set a campaign's daily metrics, and can hold a
// mutate so that it commits after its client has gone (HoldMutates).
package googleadstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of a new fake.
const (
	DefaultCustomerID     = "1234567890"
	DefaultDeveloperToken = "devtoken-fake-0123456789"
	DefaultRefreshToken   = "1//refresh-fake-abcdef"
	DefaultClientID       = "fake-client.apps.googleusercontent.com"
	DefaultClientSecret   = "fake-client-secret"
	// DefaultRate is the fake's request rate per developer token, per second.
	DefaultRate = 10
	// DefaultBurst is how many requests may come at once before the rate applies.
	DefaultBurst = 2
	// MaxOperations is Google's cap on operations in one mutate request.
	MaxOperations = 10000
	// PageSize is the fixed page size of googleAds:search.
	PageSize = 10000
)

// Option configures a Server.
type Option func(*Server)

// WithRate sets the request rate per developer token (per second) and the burst.
func WithRate(perSecond float64, burst int) Option {
	return func(s *Server) { s.rate, s.burst = perSecond, burst }
}

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithLoginCustomerID makes the fake a client of the manager account id:
// every request must carry login-customer-id: id.
func WithLoginCustomerID(id string) Option { return func(s *Server) { s.loginCustomer = id } }

// WithCurrency sets the account's currency and time zone.
func WithCurrency(code, timeZone string) Option {
	return func(s *Server) { s.currency, s.timeZone = code, timeZone }
}

// Server is the fake Google Ads account.
type Server struct {
	*httptest.Server
	t                                 testing.TB
	rate                              float64
	burst                             int
	latency                           time.Duration
	loginCustomer, currency, timeZone string
	mu                                sync.Mutex
	limiters                          map[string]*rate.Limiter
	tokens                            map[string]bool
	state
	metrics                            map[int64]map[string]Metrics
	mutates, operations, validateOnly  int
	searches, throttled, tokenRequests int
	hold                               chan struct{}
	holdArmed                          bool
	holding                            int
	committedLate, refusedLate         int
}

// Metrics are one day's figures for a campaign.
type Metrics struct {
	Impressions, Clicks, CostMicros int64
	Conversions                     float64
}

// Budget is a campaign budget as stored.
type Budget struct {
	ID                int64
	Name              string
	AmountMicros      int64
	TotalAmountMicros int64
	Period            string
	DeliveryMethod    string
	ExplicitlyShared  bool
	Status            string
}

// Campaign is a campaign as stored.
type Campaign struct {
	ID                 int64
	Name, Status       string
	ChannelType        string
	Budget             int64
	Bidding            string // MANUAL_CPC, TARGET_SPEND, …
	CPCCeilingMicros   int64
	StartDate, EndDate string // yyyy-MM-dd HH:mm:ss as sent
	EUPolitical        string
	Network            map[string]bool
	StatusUpdates      int // updates that changed the status
}

// AdGroup is an ad group as stored.
type AdGroup struct {
	ID, Campaign       int64
	Name, Status, Type string
	CPCBidMicros       int64
}

// AdGroupAd is a responsive search ad as stored.
type AdGroupAd struct {
	AdGroup, AdID int64
	Status        string
	Headlines     []string
	Descriptions  []string
	Path1, Path2  string
	FinalURLs     []string
}

// Criterion is an ad group criterion: a keyword (a location or a language
// only in an ad group of a campaign that is not SEARCH; a search campaign
// targets them with CampaignCriterion).
type Criterion struct {
	AdGroup, ID int64
	Status      string
	Type        string // KEYWORD, LOCATION, LANGUAGE
	Text, Match string
	GeoTarget   string // geoTargetConstants/2840
	Language    string // languageConstants/1000
	Negative    bool
}

// CampaignCriterion is a campaign criterion: a location or a language.
type CampaignCriterion struct {
	Campaign, ID int64
	Status       string
	Type         string // LOCATION, LANGUAGE
	GeoTarget    string // geoTargetConstants/2840
	Language     string // languageConstants/1000
	Negative     bool
}

// New starts a fake account; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{t: t, rate: DefaultRate, burst: DefaultBurst, currency: "USD", timeZone: "America/New_York",
		limiters: map[string]*rate.Limiter{}, tokens: map[string]bool{}, metrics: map[int64]map[string]Metrics{},
		state: state{nextID: 1000, budgets: map[int64]*Budget{}, campaigns: map[int64]*Campaign{}, groups: map[int64]*AdGroup{},
			ads: map[string]*AdGroupAd{}, criteria: map[string]*Criterion{}, campCrit: map[string]*CampaignCriterion{}}}
	for _, o := range opts {
		o(s)
	}
	s.tokens[s.AccessToken()] = true
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hold != nil {
			close(s.hold)
			s.hold = nil
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

// BaseURL is the API's base URL (no trailing slash).
func (s *Server) BaseURL() string { return s.URL }

// AuthURL is the OAuth 2 authorization page: it approves at once (as if
// the person signed in and consented) and redirects with a code, when the
// request asks for the adwords scope, offline access and a PKCE challenge.
func (s *Server) AuthURL() string { return s.URL + "/auth" }

const authCode = "4/fake-authorization-code"

func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" || q.Get("client_id") != DefaultClientID {
		http.Error(w, "invalid_request: unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	switch {
	case !strings.Contains(q.Get("scope"), "https://www.googleapis.com/auth/adwords"):
		back.Set("error", "invalid_scope")
	case q.Get("access_type") != "offline" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
	default:
		back.Set("code", authCode)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// TokenURL is the OAuth 2 token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// AccessToken is an access token the fake accepts without a refresh.
func (s *Server) AccessToken() string { return "ya29.fake-access-token" }

// CustomerID is the account's id.
func (s *Server) CustomerID() string { return DefaultCustomerID }

// ---- counters and state for tests ----

// Counts are what the fake has served.
type Counts struct {
	// Mutates are mutate requests (validate-only ones included);
	// Operations the operations in them; ValidateOnly the validate-only
	// requests; Searches search and searchStream requests; Throttled the
	// requests answered 429; TokenRequests the OAuth token requests.
	Mutates, Operations, ValidateOnly, Searches, Throttled, TokenRequests int
}

// Counts returns the counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Counts{s.mutates, s.operations, s.validateOnly, s.searches, s.throttled, s.tokenRequests}
}

// Requests is every API request answered or refused (token requests excluded).
func (c Counts) Requests() int { return c.Mutates + c.Searches + c.Throttled }

// Campaigns returns copies of the campaigns, in id order.
func (s *Server) Campaigns() []Campaign {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Campaign
	for _, c := range s.campaigns {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Campaign returns a copy of campaign id.
func (s *Server) Campaign(id string) (Campaign, bool) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[n]
	if !ok {
		return Campaign{}, false
	}
	return *c, true
}

// Budget returns a copy of the campaign's budget.
func (s *Server) Budget(campaignID string) (Budget, bool) {
	n, _ := strconv.ParseInt(campaignID, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[n]
	if !ok {
		return Budget{}, false
	}
	b, ok := s.budgets[c.Budget]
	if !ok {
		return Budget{}, false
	}
	return *b, true
}

// Budgets returns how many budgets exist.
func (s *Server) Budgets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.budgets)
}

// Tree is a campaign's ad groups, ads and ad group criteria, and its
// campaign criteria.
type Tree struct {
	Groups   []AdGroup
	Ads      []AdGroupAd
	Criteria []Criterion
	// CampaignCriteria are the campaign's locations and languages.
	CampaignCriteria []CampaignCriterion
}

// Tree returns copies of what campaign id holds (removed children included).
func (s *Server) Tree(id string) Tree {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	var tr Tree
	for _, g := range s.groups {
		if g.Campaign == n {
			tr.Groups = append(tr.Groups, *g)
		}
	}
	sort.Slice(tr.Groups, func(i, j int) bool { return tr.Groups[i].ID < tr.Groups[j].ID })
	for _, a := range s.ads {
		if g := s.groups[a.AdGroup]; g != nil && g.Campaign == n {
			cp := *a
			cp.Headlines, cp.Descriptions, cp.FinalURLs = append([]string(nil), a.Headlines...), append([]string(nil), a.Descriptions...), append([]string(nil), a.FinalURLs...)
			tr.Ads = append(tr.Ads, cp)
		}
	}
	sort.Slice(tr.Ads, func(i, j int) bool { return tr.Ads[i].AdID < tr.Ads[j].AdID })
	for _, c := range s.criteria {
		if g := s.groups[c.AdGroup]; g != nil && g.Campaign == n {
			tr.Criteria = append(tr.Criteria, *c)
		}
	}
	sort.Slice(tr.Criteria, func(i, j int) bool { return tr.Criteria[i].ID < tr.Criteria[j].ID })
	tr.CampaignCriteria = s.campaignCriteria(n)
	return tr
}

// CampaignCriteria returns copies of campaign id's campaign criteria
// (removed ones included, Status REMOVED), in creation order.
func (s *Server) CampaignCriteria(id string) []CampaignCriterion {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.campaignCriteria(n)
}

func (s *Server) campaignCriteria(n int64) []CampaignCriterion {
	var out []CampaignCriterion
	for _, c := range s.campCrit {
		if c.Campaign == n {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetMetrics sets campaign id's figures for day (YYYY-MM-DD).
func (s *Server) SetMetrics(id, day string, m Metrics) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metrics[n] == nil {
		s.metrics[n] = map[string]Metrics{}
	}
	s.metrics[n][day] = m
}

// HoldNextMutate makes the next non-validate-only mutate wait, unanswered
// and uncommitted, until Release. When released it is applied as if it had
// just arrived, whether or not its client is still there (Google goes on
// processing a request whose caller died).
func (s *Server) HoldNextMutate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.holdArmed = make(chan struct{}), true
}

// Holding is how many mutates wait on a hold.
func (s *Server) Holding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// Late says what became of held mutates whose client had gone by the time
// they were applied: how many committed and how many Google refused.
func (s *Server) Late() (committed, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committedLate, s.refusedLate
}

// Release lets the held mutate go on.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// ---- HTTP ----

var pathRE = regexp.MustCompile(`^/v25/customers/([^/]+)/(googleAds:mutate|googleAds:search|googleAds:searchStream|campaignBudgets:mutate|campaigns:mutate|adGroups:mutate|adGroupAds:mutate|adGroupCriteria:mutate|campaignCriteria:mutate)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	if r.URL.Path == "/token" {
		s.serveToken(w, r)
		return
	}
	if r.URL.Path == "/auth" {
		s.serveAuth(w, r)
		return
	}
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeStatus(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.", nil)
		return
	}
	if r.Method != http.MethodPost {
		writeStatus(w, http.StatusMethodNotAllowed, "INVALID_ARGUMENT", "only POST is bound", nil)
		return
	}
	if f := s.checkHeaders(r, m[1]); f != nil {
		f.write(w)
		return
	}
	if f := s.throttle(r.Header.Get("developer-token")); f != nil {
		f.write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	switch m[2] {
	case "googleAds:search", "googleAds:searchStream":
		s.serveSearch(w, body, m[2] == "googleAds:searchStream")
	default:
		s.serveMutate(w, r, body, m[2])
	}
}

func (s *Server) checkHeaders(r *http.Request, customer string) *failure {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	s.mu.Lock()
	valid := ok && s.tokens[tok]
	s.mu.Unlock()
	if !valid {
		code := "OAUTH_TOKEN_INVALID"
		if auth == "" {
			code = "NOT_ADS_USER"
		}
		f := newFailure(http.StatusUnauthorized, "UNAUTHENTICATED", "Request is missing required authentication credential.")
		f.add("authenticationError", code, "Oauth token in the header is not valid.", nil)
		return f
	}
	if r.Header.Get("developer-token") != DefaultDeveloperToken {
		f := newFailure(http.StatusUnauthorized, "UNAUTHENTICATED", "The developer token is not valid.")
		f.add("authenticationError", "DEVELOPER_TOKEN_INVALID", "The developer token is not valid.", nil)
		return f
	}
	lc := r.Header.Get("login-customer-id")
	if lc != "" && !tenDigits(lc) || s.loginCustomer != "" && lc != s.loginCustomer {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("headerError", "INVALID_LOGIN_CUSTOMER_ID", "The login customer ID could not be validated.", nil)
		return f
	}
	if !tenDigits(customer) {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("requestError", "INVALID_CUSTOMER_ID", "Invalid customer ID '"+customer+"'.", nil)
		return f
	}
	if customer != DefaultCustomerID {
		f := newFailure(http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission")
		f.add("authorizationError", "USER_PERMISSION_DENIED", "User doesn't have permission to access customer.", nil)
		return f
	}
	return nil
}

func tenDigits(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Server) throttle(devToken string) *failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[devToken]
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.rate), s.burst)
		s.limiters[devToken] = l
	}
	now := time.Now()
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		s.throttled++
		f := newFailure(http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Too many requests in a short amount of time.")
		secs := d.Seconds()
		f.add("quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED", "Too many requests in a short amount of time.", nil)
		f.errs[0]["details"] = map[string]any{"quotaErrorDetails": map[string]any{
			"rateScope": "DEVELOPER", "rateName": "Requests per developer token",
			"retryDelay": strconv.FormatFloat(secs, 'f', 3, 64) + "s"}}
		return f
	}
	return nil
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenRequests++
	s.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if id != DefaultClientID || secret != DefaultClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`)
		return
	}
	if r.PostForm.Get("grant_type") == "authorization_code" {
		// The browser sign-in: the code /auth issued, with a PKCE verifier.
		if r.PostForm.Get("code") != authCode || r.PostForm.Get("code_verifier") == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Malformed auth code."}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": s.AccessToken(), "token_type": "Bearer", "expires_in": 3599,
			"refresh_token": DefaultRefreshToken, "scope": "https://www.googleapis.com/auth/adwords"})
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != DefaultRefreshToken {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
		return
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	tok := "ya29." + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
		"scope": "https://www.googleapis.com/auth/adwords"})
}

// ---- errors ----

type failure struct {
	status  int
	grpc    string
	message string
	errs    []map[string]any
}

func newFailure(status int, grpc, message string) *failure {
	return &failure{status: status, grpc: grpc, message: message}
}

// add appends one GoogleAdsError; path is its fieldPathElements.
func (f *failure) add(family, code, message string, path []map[string]any) {
	e := map[string]any{"errorCode": map[string]any{family: code}, "message": message}
	if len(path) > 0 {
		e["location"] = map[string]any{"fieldPathElements": path}
	}
	f.errs = append(f.errs, e)
}

func (f *failure) details() []any {
	return []any{map[string]any{
		"@type":     "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure",
		"errors":    f.errs,
		"requestId": requestID(),
	}}
}

func (f *failure) write(w http.ResponseWriter) {
	writeStatus(w, f.status, f.grpc, f.message, f.details())
}

func writeStatus(w http.ResponseWriter, status int, grpc, message string, details []any) {
	body := map[string]any{"code": status, "message": message, "status": grpc}
	if details != nil {
		body["details"] = details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fp builds fieldPathElements from alternating names and indexes: a name
// followed by an int gets that index.
func fp(parts ...any) []map[string]any {
	var out []map[string]any
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, map[string]any{"fieldName": v})
		case int:
			out[len(out)-1]["index"] = v
		}
	}
	return out
}

func fmtID(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) String() string { return fmt.Sprintf("googleadstest.Server(%s)", s.URL) }
