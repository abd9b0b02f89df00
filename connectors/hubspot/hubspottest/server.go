// Package hubspottest is a contract fake of the HubSpot APIs lastmile uses:
// Marketing Emails v3, Lists v3, Automation v4 flows, CMS landing pages v3,
// the contacts, deals and contact-to-deal associations batch reads, the
// Email Events API (legacy v1), the account details, and the OAuth 2
// authorization server.
//
// It follows HubSpot's contract as recorded in ../shared/docs/platform-apis.md
// §1 and the OpenAPI files (see schemas.go): request bodies are validated
// against the published JSON schemas; errors use HubSpot's envelope (status,
// message, correlationId, category, errors[]); bearer tokens and their scopes
// are enforced per operation as the spec's security lists them; every
// response carries the X-HubSpot-RateLimit-* headers of a rolling 10-second
// window, and a request over the limit gets HubSpot's 429 body with its
// policyName; lists page with after; publishing an email needs Marketing Hub
// Enterprise (or the transactional add-on). Faults (faketest.Fault) can be
// injected on chosen operations: 429 bursts, error statuses, latency,
// timeouts and dropped connections, before or after the write is applied,
// and writes that commit later than they are answered (SlowApply,
// LateApply): a platform still processing a create when its client died or
// gave up.
//
// Rules the fake enforces that the spec does not state, marked [mem] in the
// platform notes, are listed in rules.go.
package hubspottest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Tiers of a portal, as far as the fake cares: only Enterprise may publish
// marketing email through the API.
const (
	TierStarter      = "starter"
	TierProfessional = "professional"
	TierEnterprise   = "enterprise"
)

// AllScopes are the scopes the fake knows; a private-app token gets them all
// unless Options.Scopes says otherwise.
var AllScopes = []string{
	"oauth", "content", "marketing.email.read", "marketing.email.write", "marketing-email",
	"crm.lists.read", "crm.lists.write", "crm.objects.contacts.read", "crm.objects.deals.read", "automation",
	"content.landing_pages.read", "content.landing_pages.write",
}

// Options configure a fake portal.
type Options struct {
	// Tier is starter, professional or enterprise (default).
	Tier string
	// TransactionalAddon allows publishing on a lower tier.
	TransactionalAddon bool
	// RateLimit is the number of requests allowed per Window (default 100).
	RateLimit int
	// Window is the rolling rate-limit window (default 10s). Tests shorten
	// it; the headers report it in milliseconds.
	Window time.Duration
	// SecondlyLimit, when > 0, also limits requests per second (scaled like
	// Window: Window/10).
	SecondlyLimit int
	// DailyLimit, when > 0, is the number of requests allowed per day.
	DailyLimit int
	// Scopes granted to the private-app token (default AllScopes). OAuth
	// tokens get what the authorization asked for, within these.
	Scopes []string
	// HubID is the portal id (default 62515).
	HubID int64
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
	// StateFile, when set, is loaded at start (if present) and rewritten
	// after every write, so the fake's objects survive a restart.
	StateFile string
	// AccessTokenTTL is the lifetime of OAuth access tokens (default 30m).
	AccessTokenTTL time.Duration
	// ClientID and ClientSecret of the OAuth app (defaults provided).
	ClientID, ClientSecret string
	// Domain of landing pages (default fake-portal.hs-sites.com).
	Domain string
	// Latency is added to every API answer (after the request is counted and
	// applied), to model the network and HubSpot's processing time.
	Latency time.Duration
	// SlowApply makes the chosen writes commit Delay after they arrive,
	// even when the client has gone away by then (faketest.SlowApply on
	// every matching call).
	SlowApply Apply
	// LateApply makes the chosen writes commit Delay after their client gave
	// up on them, its request timeout say (faketest.LateApply on every
	// matching call).
	LateApply Apply
	// OnPending, when set, is called with the operation's name when a write
	// is held to commit later (slow or late apply), before it commits: the
	// moment a test kills or cancels the client whose create is in flight.
	OnPending func(op string)
}

// Server is a running fake HubSpot.
type Server struct {
	*httptest.Server
	opts Options

	mu        sync.Mutex
	st        *state
	faults    faketest.Queue
	standing  faketest.Queue // from Options.SlowApply and LateApply
	inFlight  int            // writes held to commit later
	pending   sync.WaitGroup
	arrivals  []time.Time // counted requests in the rolling window
	secondly  []time.Time
	dailyUsed int
	calls     map[string]int
	served429 int
	injected  int
	refreshes int
	exchanges int
	saveErr   error
	closing   chan struct{}
	closeOnce sync.Once
}

// New starts a fake for a test and stops it when the test ends.
func New(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatalf("hubspottest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake; Close stops it.
func NewServer(o Options) (*Server, error) {
	if o.Tier == "" {
		o.Tier = TierEnterprise
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 100
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Second
	}
	if o.Scopes == nil {
		o.Scopes = AllScopes
	}
	if o.HubID == 0 {
		o.HubID = 62515
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = 30 * time.Minute
	}
	if o.ClientID == "" {
		o.ClientID = "11111111-2222-3333-4444-555555555555"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "cs-" + randHex(16)
	}
	if o.Domain == "" {
		o.Domain = "fake-portal.hs-sites.com"
	}
	if _, err := loadValidators(); err != nil {
		return nil, fmt.Errorf("loading schemas: %w", err)
	}
	s := &Server{opts: o, calls: map[string]int{}, closing: make(chan struct{})}
	o.SlowApply.stand(&s.standing, faketest.SlowApply)
	o.LateApply.stand(&s.standing, faketest.LateApply)
	st, err := loadState(o.StateFile)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = newState()
		st.PrivateAppToken = "pat-na1-" + randUUID()
	}
	s.st = st
	s.Server = httptest.NewServer(s.routes())
	return s, nil
}

// Close stops the server; requests held by a timeout fault are released.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.Server.Close()
}

// PrivateAppToken is the static token that authenticates as the portal.
func (s *Server) PrivateAppToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.PrivateAppToken
}

// ClientID and ClientSecret of the fake's OAuth app.
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// HubID is the portal id.
func (s *Server) HubID() int64 { return s.opts.HubID }

// AuthURL and TokenURL of the fake's OAuth server.
func (s *Server) AuthURL() string  { return s.URL + "/oauth/authorize" }
func (s *Server) TokenURL() string { return s.URL + "/oauth/v1/token" }

// SetTier changes the portal's tier.
func (s *Server) SetTier(tier string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Tier = tier
}

// SaveError reports the last failure to write the state file, if any.
func (s *Server) SaveError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveErr
}

// ErrorDetail is one entry of the envelope's errors[].
type ErrorDetail struct {
	Message     string              `json:"message"`
	Code        string              `json:"code,omitempty"`
	In          string              `json:"in,omitempty"`
	SubCategory string              `json:"subCategory,omitempty"`
	Context     map[string][]string `json:"context,omitempty"`
}

// Envelope is HubSpot's error body.
type Envelope struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []ErrorDetail       `json:"errors,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

// httpError is returned by handlers; the middleware writes the envelope.
type httpError struct {
	status int
	env    Envelope
}

func (e *httpError) Error() string { return e.env.Message }

func apiErr(status int, category, msg string, details ...ErrorDetail) *httpError {
	return &httpError{status: status, env: Envelope{
		Status: "error", Message: msg, CorrelationID: randUUID(), Category: category, Errors: details,
	}}
}

func validationErr(msg string, details ...ErrorDetail) *httpError {
	return apiErr(http.StatusBadRequest, "VALIDATION_ERROR", msg, details...)
}

func notFound(what, id string) *httpError {
	return apiErr(http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("%s %s not found", what, id))
}

func conflict(msg string) *httpError {
	return apiErr(http.StatusConflict, "CONFLICT", msg)
}

// request is what a handler sees.
type request struct {
	r      *http.Request
	body   []byte
	now    time.Time
	scopes map[string]bool
	hdr    http.Header
}

func (q *request) setHeader(k, v string) {
	if q.hdr == nil {
		q.hdr = http.Header{}
	}
	q.hdr.Set(k, v)
}

func (q *request) path(name string) string { return q.r.PathValue(name) }
func (q *request) query(name string) string {
	return q.r.URL.Query().Get(name)
}

// decode parses the body after validating it against schema ("" skips).
func (q *request) decode(schema string, v any) *httpError {
	if len(q.body) == 0 {
		return validationErr("Request body is required")
	}
	if schema != "" {
		d, err := Validate(schema, q.body)
		if err != nil {
			return apiErr(http.StatusInternalServerError, "INTERNAL_ERROR", err.Error())
		}
		if len(d) > 0 {
			return validationErr(fmt.Sprintf("Invalid input JSON: %d problem(s): %s", len(d), d[0].Message), d...)
		}
	}
	if err := json.Unmarshal(q.body, v); err != nil {
		return validationErr("Invalid input JSON: " + err.Error())
	}
	return nil
}

// handler answers with (status, body) or an error. write marks operations
// that change state (persisted; faults "after apply" apply to them).
type handler func(q *request) (int, any, *httpError)

// op describes one route.
type op struct {
	name string
	// scopes: any one alternative, each alternative needs all its scopes.
	scopes [][]string
	write  bool
	// exempt from the ten-secondly limit (the spec's x-hubspot-rate-limit-exemptions).
	exempt bool
	h      handler
}

func any1(scopes ...string) [][]string {
	out := make([][]string, len(scopes))
	for i, s := range scopes {
		out[i] = []string{s}
	}
	return out
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	reg := func(pattern string, o op) {
		mux.Handle(pattern, s.wrap(o))
	}
	emailRead := any1("marketing.email.read", "marketing.email.write", "content")
	listRead := any1("crm.lists.read")
	listWrite := [][]string{{"crm.lists.read", "crm.lists.write"}, {"cms.membership.access_groups.write", "crm.lists.read"}}
	pageRead := any1("content", "content.landing_pages.read")
	pageWrite := any1("content.landing_pages.write", "content")
	flows := any1("automation")
	for _, p := range []string{"/marketing/v3/emails", "/marketing/emails/2026-03"} {
		reg("GET "+p, op{name: "emails.list", scopes: emailRead, h: s.listEmails})
		reg("POST "+p, op{name: "emails.create", scopes: emailRead, write: true, h: s.createEmail})
		reg("GET "+p+"/statistics/list", op{name: "emails.stats", scopes: emailRead, h: s.emailStats})
		reg("GET "+p+"/{emailId}", op{name: "emails.get", scopes: emailRead, h: s.getEmail})
		reg("PATCH "+p+"/{emailId}", op{name: "emails.update", scopes: emailRead, write: true, h: s.updateEmail})
		reg("PATCH "+p+"/{emailId}/draft", op{name: "emails.update", scopes: emailRead, write: true, h: s.updateEmail})
		reg("DELETE "+p+"/{emailId}", op{name: "emails.delete", scopes: emailRead, write: true, h: s.deleteEmail})
		reg("POST "+p+"/{emailId}/publish", op{name: "emails.publish", scopes: any1("marketing-email", "transactional-email"), write: true, h: s.publishEmail})
		reg("POST "+p+"/{emailId}/unpublish", op{name: "emails.unpublish", scopes: any1("marketing-email", "transactional-email"), write: true, h: s.unpublishEmail})
		reg("POST "+p+"/ab-test/create-variation", op{name: "emails.abCreate", scopes: emailRead, write: true, h: s.createVariation})
		reg("GET "+p+"/{emailId}/ab-test/get-variation", op{name: "emails.abGet", scopes: emailRead, h: s.getVariation})
	}
	for _, p := range []string{"/crm/v3/lists", "/crm/lists/2026-03"} {
		reg("POST "+p, op{name: "lists.create", scopes: [][]string{{"crm.lists.write"}, {"cms.membership.access_groups.write"}}, write: true, h: s.createList})
		reg("POST "+p+"/search", op{name: "lists.search", scopes: listRead, h: s.searchLists})
		reg("GET "+p+"/object-type-id/{objectTypeId}/name/{listName}", op{name: "lists.byname", scopes: listRead, h: s.listByName})
		reg("GET "+p+"/{listId}", op{name: "lists.get", scopes: listRead, h: s.getList})
		reg("DELETE "+p+"/{listId}", op{name: "lists.delete", scopes: listWrite, write: true, h: s.deleteList})
		reg("PUT "+p+"/{listId}/update-list-filters", op{name: "lists.filters", scopes: listWrite, write: true, h: s.updateListFilters})
		reg("PUT "+p+"/{listId}/update-list-name", op{name: "lists.rename", scopes: listWrite, write: true, h: s.renameList})
		reg("GET "+p+"/{listId}/memberships", op{name: "lists.members", scopes: listRead, h: s.listMembers})
		reg("PUT "+p+"/{listId}/memberships/add", op{name: "lists.members.add", scopes: listWrite, write: true, h: s.addMembers})
		reg("PUT "+p+"/{listId}/memberships/remove", op{name: "lists.members.remove", scopes: listWrite, write: true, h: s.removeMembers})
		reg("PUT "+p+"/{listId}/memberships/add-and-remove", op{name: "lists.members.change", scopes: listWrite, write: true, h: s.changeMembers})
	}
	reg("POST /crm/v3/objects/contacts/batch/read", op{name: "contacts.read", scopes: any1("crm.objects.contacts.read", "crm.objects.contacts.write"), h: s.readContacts})
	dealRead := any1("crm.objects.deals.read", "crm.objects.deals.write")
	reg("POST /crm/v3/objects/deals/batch/read", op{name: "deals.read", scopes: dealRead, h: s.readDeals})
	reg("POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read", op{name: "associations.read",
		scopes: [][]string{{"crm.objects.contacts.read", "crm.objects.deals.read"}}, h: s.readAssociations})
	reg("GET /email/public/v1/events", op{name: "email.events", scopes: any1("content"), h: s.emailEvents})
	reg("GET /account-info/v3/details", op{name: "account.details", scopes: any1("oauth"), h: s.accountDetails})
	reg("GET /automation/v4/flows", op{name: "flows.list", scopes: flows, h: s.listFlows})
	reg("POST /automation/v4/flows", op{name: "flows.create", scopes: flows, write: true, exempt: true, h: s.createFlow})
	reg("GET /automation/v4/flows/{flowId}", op{name: "flows.get", scopes: flows, h: s.getFlow})
	reg("PUT /automation/v4/flows/{flowId}", op{name: "flows.update", scopes: flows, write: true, exempt: true, h: s.updateFlow})
	reg("DELETE /automation/v4/flows/{flowId}", op{name: "flows.delete", scopes: flows, write: true, h: s.deleteFlow})
	for _, p := range []string{"/cms/v3/pages/landing-pages", "/cms/pages/2026-03/landing-pages"} {
		reg("GET "+p, op{name: "pages.list", scopes: pageRead, h: s.listPages})
		reg("POST "+p, op{name: "pages.create", scopes: pageWrite, write: true, h: s.createPage})
		reg("POST "+p+"/schedule", op{name: "pages.schedule", scopes: pageWrite, write: true, h: s.schedulePage})
		reg("GET "+p+"/{objectId}", op{name: "pages.get", scopes: pageRead, h: s.getPage(false)})
		reg("PATCH "+p+"/{objectId}", op{name: "pages.update", scopes: pageWrite, write: true, h: s.updatePage(false)})
		reg("DELETE "+p+"/{objectId}", op{name: "pages.delete", scopes: pageWrite, write: true, h: s.deletePage})
		reg("GET "+p+"/{objectId}/draft", op{name: "pages.draft.get", scopes: pageRead, h: s.getPage(true)})
		reg("PATCH "+p+"/{objectId}/draft", op{name: "pages.draft.update", scopes: pageWrite, write: true, h: s.updatePage(true)})
		reg("POST "+p+"/{objectId}/draft/push-live", op{name: "pages.pushlive", scopes: pageWrite, write: true, h: s.pushLive})
	}
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/v2/private-apps/get/access-token-info", s.privateAppInfo)
	for _, p := range []string{"/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"} {
		mux.HandleFunc("POST "+p, s.token)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusNotFound, nil, apiErr(http.StatusNotFound, "OBJECT_NOT_FOUND",
			fmt.Sprintf("No route for %s %s", r.Method, r.URL.Path)).env)
	})
	return mux
}

func writeEnvelope(w http.ResponseWriter, status int, h http.Header, env Envelope) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("X-HubSpot-Correlation-Id", env.CorrelationID)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(env)
}

func (s *Server) wrap(o op) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		s.mu.Lock()
		now := s.opts.Now()
		s.calls[o.name]++
		s.settleEmails(now)
		// Authentication identifies the portal; only then can requests be counted.
		scopes, authErr := s.authenticate(r, now)
		if authErr != nil {
			s.mu.Unlock()
			writeEnvelope(w, authErr.status, nil, authErr.env)
			return
		}
		rlHeaders, limited := s.rateLimit(o, now, scopes["__private_app"])
		if limited != nil {
			s.served429++
			s.mu.Unlock()
			writeRateLimited(w, rlHeaders, limited.env.Message)
			return
		}
		f, faulty := s.takeFault(o.name, o.write)
		switch {
		case faulty && (f.Kind == faketest.RateLimit || f.Kind == faketest.Fail):
			s.injected++
			s.mu.Unlock()
			writeFault(w, f, rlHeaders, false)
			return
		case faulty && f.Kind == faketest.DropBeforeApply:
			s.injected++
			s.mu.Unlock()
			drop(w)
			return
		}
		if missing := missingScopes(o.scopes, scopes); missing != nil {
			s.mu.Unlock()
			e := apiErr(http.StatusForbidden, "MISSING_SCOPES",
				"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
				ErrorDetail{Message: "One or more of the following scopes are required.", Context: map[string][]string{"requiredGranularScopes": missing}})
			e.env.Links = map[string]string{"scopes": "https://developers.hubspot.com/scopes"}
			writeEnvelope(w, e.status, rlHeaders, e.env)
			return
		}
		q := &request{r: r, body: body, now: now, scopes: scopes}
		if faulty && f.Deferred() {
			s.injected++
			s.inFlight++
			s.mu.Unlock()
			s.commitLater(w, r, o, q, f, rlHeaders)
			return
		}
		status, out, herr := o.h(q)
		if herr == nil && o.write {
			s.persistLocked()
		}
		s.mu.Unlock()
		if s.opts.Latency > 0 {
			select {
			case <-time.After(s.opts.Latency):
			case <-r.Context().Done():
			}
		}
		if faulty {
			s.mu.Lock()
			s.injected++
			s.mu.Unlock()
			switch f.Kind {
			case faketest.FailAfterApply:
				writeFault(w, f, rlHeaders, true)
				return
			case faketest.DropAfterApply:
				drop(w)
				return
			case faketest.Latency:
				select {
				case <-time.After(f.Wait()):
				case <-r.Context().Done():
					return
				}
			case faketest.TimeoutAfterApply:
				// Hold the response until the client gives up (or the fake stops).
				select {
				case <-r.Context().Done():
				case <-s.closing:
				}
				drop(w)
				return
			}
		}
		respond(w, status, out, herr, rlHeaders, q.hdr)
	})
}

func respond(w http.ResponseWriter, status int, out any, herr *httpError, rl, extra http.Header) {
	if herr != nil {
		writeEnvelope(w, herr.status, rl, herr.env)
		return
	}
	for k, v := range rl {
		w.Header()[k] = v
	}
	for k, v := range extra {
		w.Header()[k] = v
	}
	if out == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// commitLater runs a write's handler after the fault's delay, in a
// goroutine that outlives the request: HubSpot goes on processing a write
// whose client timed out or died, and nothing sees the object until it has
// committed. The handler runs at commit time, so rules such as unique list
// names are checked then: of two creates in flight for one name, the one
// that commits second fails.
func (s *Server) commitLater(w http.ResponseWriter, r *http.Request, o op, q *request, f faketest.Fault, rl http.Header) {
	delay := f.Wait()
	// The request outlives its handler; keep what the handler reads.
	q.r = r.Clone(context.WithoutCancel(r.Context()))
	s.pending.Add(1)
	if s.opts.OnPending != nil {
		s.opts.OnPending(o.name)
	}
	type answer struct {
		status int
		out    any
		herr   *httpError
	}
	done := make(chan answer, 1)
	commit := func(wait time.Duration) {
		defer s.pending.Done()
		select {
		case <-time.After(wait):
		case <-s.closing: // the fake stopped: the write is lost with it
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		q.now = s.opts.Now()
		status, out, herr := o.h(q)
		if herr == nil {
			s.persistLocked()
		}
		s.inFlight--
		s.mu.Unlock()
		done <- answer{status, out, herr}
	}
	if f.Kind == faketest.LateApply {
		go func() {
			select {
			case <-r.Context().Done(): // the client gave up: now the write may land
			case <-s.closing:
			}
			commit(delay)
		}()
		select {
		case <-r.Context().Done():
		case <-s.closing:
			drop(w)
		}
		return
	}
	go commit(delay)
	select {
	case a := <-done:
		respond(w, a.status, a.out, a.herr, rl, q.hdr)
	case <-r.Context().Done(): // the client is gone; the write still lands
	case <-s.closing:
		drop(w)
	}
}

// Pending is the number of writes held to commit later.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// Settle waits until every write held to commit later has committed (or
// failed at its commit, as a duplicate list name does).
func (s *Server) Settle() { s.pending.Wait() }

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeRateLimited(w http.ResponseWriter, h http.Header, policy string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	msg := map[string]string{
		"TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
		"SECONDLY":             "You have reached your secondly limit.",
		"DAILY":                "You have reached your daily limit.",
	}[policy]
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": "error", "message": msg, "errorType": "RATE_LIMIT",
		"correlationId": randUUID(), "policyName": policy, "requestId": randUUID(),
		"category": "RATE_LIMITS",
	})
}

// authenticate resolves the bearer token to its scopes. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (map[string]bool, *httpError) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, apiErr(http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
	}
	if tok == s.st.PrivateAppToken {
		m := map[string]bool{"__private_app": true}
		for _, sc := range s.opts.Scopes {
			m[sc] = true
		}
		return m, nil
	}
	at, ok := s.st.AccessTokens[tok]
	if !ok {
		return nil, apiErr(http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
	}
	if !now.Before(at.Expiry) {
		return nil, apiErr(http.StatusUnauthorized, "EXPIRED_AUTHENTICATION",
			"The OAuth token used to make this call expired "+strconv.FormatInt(int64(now.Sub(at.Expiry)/time.Millisecond), 10)+" ms ago.")
	}
	m := map[string]bool{}
	for _, sc := range at.Scopes {
		m[sc] = true
	}
	return m, nil
}

func missingScopes(need [][]string, have map[string]bool) []string {
	if len(need) == 0 {
		return nil
	}
	for _, alt := range need {
		ok := true
		for _, sc := range alt {
			if !have[sc] {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	// Report the first alternative's missing scopes by name.
	var out []string
	for _, sc := range need[0] {
		if !have[sc] {
			out = append(out, sc)
		}
	}
	return out
}

// rateLimit counts the request in the rolling windows and answers the
// headers, or a 429 when the request is over a limit. Caller holds s.mu.
func (s *Server) rateLimit(o op, now time.Time, privateApp bool) (http.Header, *httpError) {
	w := s.opts.Window
	cut := now.Add(-w)
	i := 0
	for i < len(s.arrivals) && !s.arrivals[i].After(cut) {
		i++
	}
	s.arrivals = s.arrivals[i:]
	sec := w / 10
	j := 0
	for j < len(s.secondly) && !s.secondly[j].After(now.Add(-sec)) {
		j++
	}
	s.secondly = s.secondly[j:]

	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(w.Milliseconds(), 10))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.opts.RateLimit))
	if s.opts.SecondlyLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(s.opts.SecondlyLimit))
	}
	if privateApp && s.opts.DailyLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.opts.DailyLimit))
	}
	set := func() {
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-len(s.arrivals))))
		if s.opts.SecondlyLimit > 0 {
			h.Set("X-HubSpot-RateLimit-Secondly-Remaining", strconv.Itoa(max(0, s.opts.SecondlyLimit-len(s.secondly))))
		}
		if privateApp && s.opts.DailyLimit > 0 {
			h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, s.opts.DailyLimit-s.dailyUsed)))
		}
	}
	if s.opts.DailyLimit > 0 && s.dailyUsed >= s.opts.DailyLimit {
		set()
		return h, &httpError{status: 429, env: Envelope{Message: "DAILY"}}
	}
	if !o.exempt {
		if len(s.arrivals) >= s.opts.RateLimit {
			set()
			return h, &httpError{status: 429, env: Envelope{Message: "TEN_SECONDLY_ROLLING"}}
		}
		if s.opts.SecondlyLimit > 0 && len(s.secondly) >= s.opts.SecondlyLimit {
			set()
			return h, &httpError{status: 429, env: Envelope{Message: "SECONDLY"}}
		}
		s.arrivals = append(s.arrivals, now)
		s.secondly = append(s.secondly, now)
	}
	s.dailyUsed++
	set()
	return h, nil
}

// Stats are counters about what the fake saw.
type Stats struct {
	// Calls per operation name (emails.create, lists.get, ...), every
	// request including rejected ones.
	Calls map[string]int
	// Served429 counts 429s the rate limiter answered (not injected ones).
	Served429 int
	// Injected counts faults applied.
	Injected int
	// Refreshes counts refresh_token grants; Exchanges authorization_code grants.
	Refreshes, Exchanges int
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(map[string]int, len(s.calls))
	total := 0
	for k, v := range s.calls {
		c[k] = v
		total += v
	}
	return Stats{Calls: c, Served429: s.served429, Injected: s.injected, Refreshes: s.refreshes, Exchanges: s.exchanges}
}

// TotalCalls is the number of API requests (OAuth endpoints excluded).
func (st Stats) TotalCalls() int {
	n := 0
	for _, v := range st.Calls {
		n += v
	}
	return n
}

// ResetStats zeroes the counters (not the objects).
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.served429, s.injected, s.refreshes, s.exchanges = 0, 0, 0, 0
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randUUID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
