// Package mailchimptest is a contract fake of the Mailchimp Marketing API 3.0
// for tests: an httptest server that follows Mailchimp's documented rules
// closely enough that a connector passing against it is right about the real
// thing, and that can misbehave on purpose.
//
// What it enforces:
//   - request bodies validated against the request schemas of Mailchimp's
//     own spec (3.0.55; see testdata/schemas.json and gen_schemas.go);
//   - errors as application/problem+json {type, title, status, detail,
//     instance} with errors[] {field, message} on validation failures;
//   - HTTP Basic (any user name, the API key as password) or Bearer (the key
//     or an OAuth token it issued);
//   - at most 10 simultaneous requests per account: the 11th gets a 429 with
//     no rate-limit headers, as Mailchimp answers;
//   - the send checklist (is_ready false, item by item, when subject, from
//     name, reply-to, content, unsubscribe link or recipients are missing),
//     checked again by schedule and send;
//   - schedule times on the quarter hour only, and in the future;
//   - campaign status transitions save → schedule/sending → sent, and no
//     second send; unschedule only from schedule (back to save), a 400
//     Invalid Action otherwise; no delete of a scheduled or sending
//     campaign; a deleted campaign's report gone with it;
//   - reports only for sent campaigns, their counts computed from the
//     recipients deterministically, their ecommerce totals from the
//     orders that name the campaign (see ecommerce.go).
//
// It also simulates latency and injects faults (faketest.Fault) on chosen
// calls: 429s, error statuses, latency, timeouts after the write applied,
// dropped connections, writes that commit only after a delay whether or not
// the client waited, writes that commit after the client's deadline. And it
// serves the OAuth 2 endpoints of login.mailchimp.com (authorize, token,
// metadata).
//
// The server lives in the process that created it and keeps serving when a
// client process dies mid-request (an end-to-end test can SIGKILL a
// promoting child and start another against the same server): every write is
// applied atomically under one lock, and a client that vanishes only ends
// its own request.
package mailchimptest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Defaults of a new fake.
const (
	DefaultAPIKey       = "0123456789abcdef0123456789abcdef-us21"
	DefaultDC           = "us21"
	DefaultListID       = "a1b2c3d4e5"
	DefaultClientID     = "lastmile-test-client"
	DefaultClientSecret = "lastmile-test-client-secret"
	// MaxConnections is Mailchimp's limit of simultaneous requests per account.
	MaxConnections = 10
)

// Member is one contact on an audience (list).
type Member struct {
	Email string
	// Status is subscribed (default), unsubscribed, cleaned or pending; only
	// subscribed members receive campaigns.
	Status      string
	MergeFields map[string]string // FNAME, LNAME, … → value
	Language    string
}

// List is an audience.
type List struct {
	ID      string
	Name    string
	Members []Member
}

// Settings are the campaign settings the fake keeps.
type Settings struct {
	SubjectLine string `json:"subject_line"`
	PreviewText string `json:"preview_text"`
	Title       string `json:"title"`
	FromName    string `json:"from_name"`
	ReplyTo     string `json:"reply_to"`
	ToName      string `json:"to_name"`
	AutoFooter  bool   `json:"auto_footer"`
	InlineCSS   bool   `json:"inline_css"`
	FolderID    string `json:"folder_id"`
}

// Campaign is a campaign as the fake holds it.
type Campaign struct {
	ID          string
	WebID       int
	Type        string
	Status      string // save | schedule | sending | sent | canceled
	CreateTime  time.Time
	SendTime    time.Time // scheduled or actual send time; zero if neither
	Timewarp    bool      // scheduled with Timewarp: SendTime is each recipient's clock time
	ListID      string
	SegmentOpts map[string]any // as given, nil for the whole audience
	Settings    Settings
	HTML        string
	PlainText   string
	// Variate and VariateContents are a variate (A/B) campaign's test.
	Variate         *VariateSettings
	VariateContents []VariateContent
	// Recipients are the addresses the campaign went to, frozen at send.
	Recipients []string
	// SendActions counts the accepted send and schedule actions: more than
	// one means the campaign was sent (or scheduled) twice.
	SendActions int
	// Unschedules counts the accepted unschedule actions, each of which
	// took a schedule back: SendActions - Unschedules sends stand.
	Unschedules int
}

// Segment is a saved, static (tag) or fuzzy segment of a list.
type Segment struct {
	ID        int
	ListID    string
	Name      string
	Type      string         // saved | static
	Options   map[string]any // saved: {match, conditions}
	Static    []string       // static: member addresses
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Stats counts what the fake saw.
type Stats struct {
	Requests        int            // API requests received, including rejected ones
	ByRoute         map[string]int // "POST /campaigns" → count
	TooManyRequests int            // 429s answered because of the connection limit
	MaxInFlight     int            // most simultaneous requests seen
	FaultsInjected  int
	Unauthorized    int
}

type options struct {
	latency      time.Duration
	maxConns     int
	now          func() time.Time
	apiKey       string
	dc           string
	clientID     string
	clientSecret string
	sendingFor   time.Duration
	hangFor      time.Duration
	members      []Member
}

// Option configures the fake.
type Option func(*options)

// WithLatency adds d of simulated processing time to every API request,
// spent while the request holds one of the account's connections.
func WithLatency(d time.Duration) Option { return func(o *options) { o.latency = d } }

// WithMaxConnections changes the simultaneous-request limit (default 10).
func WithMaxConnections(n int) Option { return func(o *options) { o.maxConns = n } }

// WithClock replaces time.Now (schedule checks, status transitions, timestamps).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithAPIKey sets the accepted API key; its suffix after the last '-' is the
// data centre.
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithOAuthClient sets the OAuth client id and secret the token endpoint accepts.
func WithOAuthClient(id, secret string) Option {
	return func(o *options) { o.clientID, o.clientSecret = id, secret }
}

// WithSendingFor keeps a sent campaign in "sending" for d before "sent".
func WithSendingFor(d time.Duration) Option { return func(o *options) { o.sendingFor = d } }

// WithHangFor bounds how long TimeoutAfterApply and LateApply faults hold a
// connection whose client never gives up (default 30s).
func WithHangFor(d time.Duration) Option { return func(o *options) { o.hangFor = d } }

// WithMembers replaces the default list's seeded members.
func WithMembers(m ...Member) Option { return func(o *options) { o.members = m } }

// DefaultMembers are the 50 subscribed members the default list starts
// with: member01@example.com … member50@example.com, FNAME "Member01"…,
// LNAME "Test", PLAN "pro" for every third member else "free", language en
// (every fifth fr).
func DefaultMembers() []Member {
	ms := make([]Member, 50)
	for i := range ms {
		n := i + 1
		plan := "free"
		if n%3 == 0 {
			plan = "pro"
		}
		lang := "en"
		if n%5 == 0 {
			lang = "fr"
		}
		ms[i] = Member{
			Email:       fmt.Sprintf("member%02d@example.com", n),
			Status:      "subscribed",
			MergeFields: map[string]string{"FNAME": fmt.Sprintf("Member%02d", n), "LNAME": "Test", "PLAN": plan},
			Language:    lang,
		}
	}
	return ms
}

// Server is a running fake.
type Server struct {
	hs   *httptest.Server
	opts options
	seed string

	mu           sync.Mutex
	lists        map[string]*List
	listOrder    []string
	campaigns    map[string]*Campaign
	order        []string
	segments     map[int]*Segment
	segOrder     []int
	stores       map[string]*Store
	orders       []Order // in the order they were added
	tests        []TestEmail
	nextCampaign int
	nextSegment  int
	nextInstance int
	tokens       map[string]bool
	codes        map[string]string // authorization code → redirect_uri
	faults       faketest.Queue
	inflight     int
	// applying counts writes received but not committed yet (slow and
	// late applies); applied counts those that committed since.
	applying, applied int
	stats             Stats
	// hold, when set (by this package's tests), keeps every API request
	// waiting inside its connection slot until it is closed.
	hold chan struct{}
}

// New starts a fake for a test and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake; the caller closes it. Use it when the server must
// outlive a single test (a TestMain, a helper process).
func Start(opts ...Option) *Server {
	o := options{
		maxConns:     MaxConnections,
		now:          time.Now,
		apiKey:       DefaultAPIKey,
		dc:           DefaultDC,
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		hangFor:      30 * time.Second,
		members:      DefaultMembers(),
	}
	for _, f := range opts {
		f(&o)
	}
	if i := strings.LastIndexByte(o.apiKey, '-'); i >= 0 {
		o.dc = o.apiKey[i+1:]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &Server{
		opts:         o,
		seed:         hex.EncodeToString(b[:]),
		lists:        map[string]*List{},
		campaigns:    map[string]*Campaign{},
		segments:     map[int]*Segment{},
		nextCampaign: 1,
		nextSegment:  10001,
		tokens:       map[string]bool{},
		codes:        map[string]string{},
		stats:        Stats{ByRoute: map[string]int{}},
	}
	members := make([]Member, len(o.members))
	for i, m := range o.members {
		members[i] = normMember(m)
	}
	s.lists[DefaultListID] = &List{ID: DefaultListID, Name: "Newsletter", Members: members}
	s.listOrder = []string{DefaultListID}
	s.hs = httptest.NewServer(s.routes())
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.hs.Close() }

// URL is the server's root: the OAuth endpoints are under URL()/oauth2 and
// the API under BaseURL().
func (s *Server) URL() string { return s.hs.URL }

// BaseURL is the API base, the equivalent of https://us21.api.mailchimp.com/3.0.
func (s *Server) BaseURL() string { return s.hs.URL + "/3.0" }

// APIKey is the accepted API key.
func (s *Server) APIKey() string { return s.opts.apiKey }

// DC is the data centre of the account.
func (s *Server) DC() string { return s.opts.dc }

// ListID is the default audience's id.
func (s *Server) ListID() string { return DefaultListID }

// Client returns the server's HTTP client (plain; use any client).
func (s *Server) Client() *http.Client { return s.hs.Client() }

// IssueToken returns a new OAuth access token valid for the API, as if a
// user had completed the authorization flow.
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTokenLocked()
}

func (s *Server) issueTokenLocked() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.tokens[tok] = true
	return tok
}

// AddList adds an audience.
func (s *Server) AddList(id, name string, members ...Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := make([]Member, len(members))
	for i, m := range members {
		ms[i] = normMember(m)
	}
	if _, ok := s.lists[id]; !ok {
		s.listOrder = append(s.listOrder, id)
	}
	s.lists[id] = &List{ID: id, Name: name, Members: ms}
}

// AddMembers adds subscribed members to a list (by address) or updates them.
func (s *Server) AddMembers(listID string, members ...Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[listID]
	if l == nil {
		return
	}
	for _, m := range members {
		m = normMember(m)
		found := false
		for i := range l.Members {
			if strings.EqualFold(l.Members[i].Email, m.Email) {
				l.Members[i], found = m, true
			}
		}
		if !found {
			l.Members = append(l.Members, m)
		}
	}
}

func normMember(m Member) Member {
	if m.Status == "" {
		m.Status = "subscribed"
	}
	m.Email = strings.ToLower(m.Email)
	mf := make(map[string]string, len(m.MergeFields))
	for k, v := range m.MergeFields {
		mf[strings.ToUpper(k)] = v
	}
	m.MergeFields = mf
	return m
}

// TestEmail is one accepted test send (POST /campaigns/{id}/actions/test):
// the campaign as it was then, and who got it. A test is not a send: the
// campaign's status, recipients and reports do not change.
type TestEmail struct {
	CampaignID string
	Subject    string
	HTML       string
	To         []string
	SendType   string
	At         time.Time
}

// TestEmails returns the accepted test sends, in order.
func (s *Server) TestEmails() []TestEmail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tests)
}

// Campaigns returns a copy of every campaign, in creation order.
func (s *Server) Campaigns() []Campaign {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Campaign, 0, len(s.order))
	for _, id := range s.order {
		c := s.campaigns[id]
		s.advanceLocked(c)
		cp := *c
		cp.Recipients = append([]string(nil), c.Recipients...)
		out = append(out, cp)
	}
	return out
}

// Campaign returns a copy of one campaign.
func (s *Server) Campaign(id string) (Campaign, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[id]
	if !ok {
		return Campaign{}, false
	}
	s.advanceLocked(c)
	cp := *c
	cp.Recipients = append([]string(nil), c.Recipients...)
	return cp, true
}

// Segments returns a copy of every segment of every list, in creation order.
func (s *Server) Segments() []Segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Segment, 0, len(s.segOrder))
	for _, id := range s.segOrder {
		g := *s.segments[id]
		g.Static = append([]string(nil), g.Static...)
		out = append(out, g)
	}
	return out
}

// SegmentMembers returns the addresses a segment holds now.
func (s *Server) SegmentMembers(id int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.segments[id]
	if g == nil {
		return nil
	}
	return s.segmentMembersLocked(g)
}

// Inject adds a fault (faketest.Fault) on the calls it names by method and
// the spec's path template without the /3.0 prefix: "POST /campaigns",
// "POST /campaigns/{campaign_id}/actions/send". Faults are matched in the
// order they were added. Fail answers Mailchimp's problem document with the
// title Code (default: the status's).
func (s *Server) Inject(f faketest.Fault) { s.faults.Inject(f) }

// PendingFaults is the number of injected failures not yet triggered.
func (s *Server) PendingFaults() int { return s.faults.Pending() }

// Stats returns what the fake saw so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByRoute = make(map[string]int, len(s.stats.ByRoute))
	for k, v := range s.stats.ByRoute {
		st.ByRoute[k] = v
	}
	return st
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{ByRoute: map[string]int{}}
}

// ---- plumbing ----

// reply is what a handler produces; the middleware writes it after the
// request has given its connection slot back, so a client that has read the
// answer can never find its slot still taken.
type reply struct {
	status  int
	body    any
	problem *problem
	header  http.Header
	raw     []byte // written as is (content type in header)
}

type problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance"`
	Errors   []FieldError `json:"errors,omitempty"`
}

const errorsDocURL = "https://mailchimp.com/developer/marketing/docs/errors/"

func fail(status int, title, detail string, errs ...FieldError) reply {
	return reply{status: status, problem: &problem{Type: errorsDocURL, Title: title, Status: status, Detail: detail, Errors: errs}}
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func noContent() reply { return reply{status: http.StatusNoContent} }

func invalidResource(errs ...FieldError) reply {
	return fail(http.StatusBadRequest, "Invalid Resource",
		"The resource submitted could not be validated. For field-specific details, see the 'errors' array.", errs...)
}

func notFound() reply {
	return fail(http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
}

type handlerFunc func(r *http.Request, body []byte) reply

// api registers an API route. pattern is "METHOD /path" with the spec's
// path template (no /3.0 prefix). write marks handlers that change state
// (faults "after write" need one).
func (s *Server) api(mux *http.ServeMux, pattern string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	mp := path
	if mp == "/" {
		mp = "/{$}" // the API root only, not everything under it
	}
	mux.HandleFunc(method+" /3.0"+mp, func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, method, path, h)
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method, path string, h handlerFunc) {
	route := method + " " + path
	s.mu.Lock()
	s.stats.Requests++
	s.stats.ByRoute[route]++
	s.inflight++
	if s.inflight > s.stats.MaxInFlight {
		s.stats.MaxInFlight = s.inflight
	}
	over := s.inflight > s.opts.maxConns
	if over {
		s.inflight--
		s.stats.TooManyRequests++
	}
	s.mu.Unlock()
	if over {
		// Mailchimp sends no Retry-After and no rate-limit headers.
		s.write(w, fail(http.StatusTooManyRequests, "Too Many Requests",
			fmt.Sprintf("You have exceeded the limit of %d simultaneous connections.", s.opts.maxConns)))
		return
	}
	released := false
	release := func() {
		if !released {
			released = true
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}
	}
	defer release()

	if rep, authed := s.authenticate(r); !authed {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		release()
		s.write(w, rep)
		return
	}
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
	}
	if d := s.opts.latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return
	}
	f := s.takeFault(route, method != http.MethodGet && method != http.MethodHead)
	switch f.Kind {
	case faketest.RateLimit, faketest.Fail:
		release()
		s.write(w, s.faultReply(f))
		return
	case faketest.DropBeforeApply:
		release()
		drop(w)
		return
	case faketest.SlowApply, faketest.LateApply:
		// The slot is given back: the platform goes on working on the
		// write whether or not anyone waits for it.
		release()
		s.lateApply(w, r, f, body, h)
		return
	}
	rep := h(r, body)
	switch f.Kind {
	case faketest.FailAfterApply:
		release()
		s.write(w, s.faultReply(f))
		return
	case faketest.DropAfterApply:
		release()
		drop(w)
		return
	case faketest.Latency:
		t := time.NewTimer(f.Wait())
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	case faketest.TimeoutAfterApply:
		// The slot is given back first so a client's retry is not refused
		// while this connection lingers.
		release()
		t := time.NewTimer(s.opts.hangFor)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		drop(w)
		return
	}
	release()
	s.write(w, rep)
}

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// lateApply runs a slow or late write: it commits after its delay whatever
// the client does, and answers only a client that is still there (slow
// apply) or nobody (late apply).
func (s *Server) lateApply(w http.ResponseWriter, r *http.Request, f faketest.Fault, body []byte, h handlerFunc) {
	s.mu.Lock()
	s.applying++
	s.mu.Unlock()
	commit := func() reply {
		rep := h(r, body)
		s.mu.Lock()
		s.applying--
		s.applied++
		s.mu.Unlock()
		return rep
	}
	if f.Kind == faketest.SlowApply {
		time.Sleep(f.Wait()) // not r.Context(): the client leaving does not stop the platform
		rep := commit()
		if r.Context().Err() != nil {
			return
		}
		s.write(w, rep)
		return
	}
	t := time.NewTimer(s.opts.hangFor)
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
	t.Stop()
	time.Sleep(f.Wait())
	commit()
	drop(w)
}

// Applying is the number of writes the fake has received but not committed
// yet (SlowApply, LateApply).
func (s *Server) Applying() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applying
}

// Applied is the number of slow or late writes that have committed.
func (s *Server) Applied() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

// takeFault returns the fault that hits this call (a zero Fault for none)
// and counts it.
func (s *Server) takeFault(route string, write bool) faketest.Fault {
	f, ok := s.faults.Take(route, write)
	if !ok {
		return faketest.Fault{}
	}
	s.mu.Lock()
	s.stats.FaultsInjected++
	s.mu.Unlock()
	return f
}

// faultReply is Mailchimp's answer to a RateLimit, Fail or FailAfterApply
// fault: its problem document, or the fault's own body.
func (s *Server) faultReply(f faketest.Fault) reply {
	status := f.StatusOr(http.StatusInternalServerError)
	if f.Kind == faketest.RateLimit {
		status = http.StatusTooManyRequests
	}
	var rep reply
	switch {
	case f.Body != nil:
		rep = reply{status: status, raw: f.Body, header: http.Header{"Content-Type": {"application/problem+json; charset=utf-8"}}}
	case status == http.StatusTooManyRequests:
		rep = fail(status, "Too Many Requests", fmt.Sprintf("You have exceeded the limit of %d simultaneous connections.", s.opts.maxConns))
	case status == http.StatusInternalServerError && f.Code == "":
		rep = fail(status, "Internal Server Error", "An unexpected internal error has occurred. Please contact Support for more information.")
	default:
		title := f.Code
		if title == "" {
			title = http.StatusText(status)
		}
		rep = fail(status, title, "The request failed (injected fault).")
	}
	if ra := f.RetryAfterSeconds(); ra != "" {
		if rep.header == nil {
			rep.header = http.Header{}
		}
		rep.header.Set("Retry-After", ra)
	}
	return rep
}

func (s *Server) write(w http.ResponseWriter, rep reply) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	switch {
	case rep.problem != nil:
		s.mu.Lock()
		s.nextInstance++
		rep.problem.Instance = fmt.Sprintf("%s-0000-4000-8000-%012x", s.seed, s.nextInstance)
		s.mu.Unlock()
		b, _ := json.Marshal(rep.problem)
		w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		w.WriteHeader(rep.status)
		_, _ = w.Write(b)
	case rep.raw != nil:
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.raw)
	case rep.status == http.StatusNoContent || rep.body == nil:
		w.WriteHeader(rep.status)
	default:
		b, _ := json.Marshal(rep.body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(rep.status)
		_, _ = w.Write(b)
	}
}

func (s *Server) authenticate(r *http.Request) (reply, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return fail(http.StatusUnauthorized, "API Key Missing", "Your request did not include an API key."), false
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err == nil {
			_, pass, _ := strings.Cut(string(raw), ":")
			if pass == s.opts.apiKey {
				return reply{}, true
			}
		}
	case "bearer":
		tok := strings.TrimSpace(cred)
		s.mu.Lock()
		valid := tok == s.opts.apiKey || s.tokens[tok]
		s.mu.Unlock()
		if valid {
			return reply{}, true
		}
	}
	return fail(http.StatusUnauthorized, "API Key Invalid",
		"Your API key may be invalid, or you've attempted to access the wrong datacenter."), false
}

// decode validates body against the operation's schema and unmarshals it.
func decode(op string, body []byte, v any) (reply, bool) {
	if !jsonValid(body) {
		return fail(http.StatusBadRequest, "JSON Parse Error",
			"We encountered an unspecified JSON parsing error."), false
	}
	errs, err := validateBody(op, body)
	if err != nil {
		return fail(http.StatusInternalServerError, "Internal Server Error", "schema: "+err.Error()), false
	}
	if len(errs) > 0 {
		return invalidResource(errs...), false
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return fail(http.StatusBadRequest, "JSON Parse Error",
				"We encountered an unspecified JSON parsing error."), false
		}
	}
	return reply{}, true
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.api(mux, "GET /ping", func(*http.Request, []byte) reply {
		return ok(map[string]string{"health_status": "Everything's Chimpy!"})
	})
	s.api(mux, "GET /", s.getRoot)
	s.api(mux, "GET /lists", s.getLists)
	s.api(mux, "GET /lists/{list_id}", s.getList)
	s.api(mux, "GET /lists/{list_id}/segments", s.getSegments)
	s.api(mux, "POST /lists/{list_id}/segments", s.postSegment)
	s.api(mux, "GET /lists/{list_id}/segments/{segment_id}", s.getSegment)
	s.api(mux, "PATCH /lists/{list_id}/segments/{segment_id}", s.patchSegment)
	s.api(mux, "POST /lists/{list_id}/segments/{segment_id}", s.postSegmentMembers)
	s.api(mux, "DELETE /lists/{list_id}/segments/{segment_id}", s.deleteSegment)
	s.api(mux, "GET /campaigns", s.getCampaigns)
	s.api(mux, "POST /campaigns", s.postCampaign)
	s.api(mux, "GET /campaigns/{campaign_id}", s.getCampaign)
	s.api(mux, "PATCH /campaigns/{campaign_id}", s.patchCampaign)
	s.api(mux, "DELETE /campaigns/{campaign_id}", s.deleteCampaign)
	s.api(mux, "GET /campaigns/{campaign_id}/content", s.getContent)
	s.api(mux, "PUT /campaigns/{campaign_id}/content", s.putContent)
	s.api(mux, "GET /campaigns/{campaign_id}/send-checklist", s.getChecklist)
	s.api(mux, "POST /campaigns/{campaign_id}/actions/schedule", s.postSchedule)
	s.api(mux, "POST /campaigns/{campaign_id}/actions/unschedule", s.postUnschedule)
	s.api(mux, "POST /campaigns/{campaign_id}/actions/send", s.postSend)
	s.api(mux, "POST /campaigns/{campaign_id}/actions/test", s.postTest)
	s.api(mux, "GET /reports/{campaign_id}", s.getReport)
	s.api(mux, "GET /ecommerce/orders", s.getOrders)
	// Anything else under the API is a 404 problem, like Mailchimp's.
	mux.HandleFunc("/3.0/", func(w http.ResponseWriter, r *http.Request) {
		s.write(w, notFound())
	})
	mux.HandleFunc("GET /oauth2/authorize", s.oauthAuthorize)
	mux.HandleFunc("POST /oauth2/token", s.oauthToken)
	mux.HandleFunc("GET /oauth2/metadata", s.oauthMetadata)
	return mux
}

// ---- shared helpers ----

const timeLayout = "2006-01-02T15:04:05+00:00"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// paging reads count (default 10, max 1000) and offset.
func paging(r *http.Request) (count, offset int, rep reply, good bool) {
	count, offset = 10, 0
	q := r.URL.Query()
	if v := q.Get("count"); v != "" {
		n, err := atoi(v)
		if err != nil || n < 0 {
			return 0, 0, invalidResource(FieldError{Field: "count", Message: "count must be a non-negative integer"}), false
		}
		if n > 1000 {
			return 0, 0, invalidResource(FieldError{Field: "count", Message: "The maximum count is 1000"}), false
		}
		count = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := atoi(v)
		if err != nil || n < 0 {
			return 0, 0, invalidResource(FieldError{Field: "offset", Message: "offset must be a non-negative integer"}), false
		}
		offset = n
	}
	return count, offset, reply{}, true
}

func atoi(s string) (int, error) {
	var n int
	_, err := fmt.Sscanf(s, "%d", &n)
	if err == nil && fmt.Sprint(n) != strings.TrimLeft(s, "+") {
		return 0, fmt.Errorf("not an integer")
	}
	return n, err
}

func page[T any](all []T, count, offset int) []T {
	if offset >= len(all) {
		return []T{}
	}
	end := offset + count
	if end > len(all) {
		end = len(all)
	}
	return all[offset:end]
}
