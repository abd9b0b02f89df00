package hubspottest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// state is everything the fake holds; it is JSON so it can be persisted.
type state struct {
	NextID          int64                `json:"next_id"`
	PrivateAppToken string               `json:"private_app_token"`
	Emails          map[string]*emailObj `json:"emails"`
	// ArchivedEmails and ArchivedLists hold what a DELETE archived: HubSpot
	// keeps archived emails, and deleted lists restorable for 90 days.
	ArchivedEmails map[string]*emailObj         `json:"archived_emails,omitempty"`
	ArchivedLists  map[string]*listObj          `json:"archived_lists,omitempty"`
	Lists          map[string]*listObj          `json:"lists"`
	Contacts       map[string]string            `json:"contacts"` // id -> email
	ContactProps   map[string]map[string]string `json:"contact_props,omitempty"`
	// ContactHistory holds, per contact, the versions of its properties,
	// newest first (propertiesWithHistory).
	ContactHistory  map[string]map[string][]propertyVersion `json:"contact_history,omitempty"`
	EmailEvents     []*emailEvent                           `json:"email_events,omitempty"` // in the order recorded
	Deals           map[string]*dealObj                     `json:"deals,omitempty"`
	CompanyCurrency string                                  `json:"company_currency,omitempty"`
	Flows           map[string]*flowObj                     `json:"flows"`
	Pages           map[string]*pageObj                     `json:"pages"`
	AccessTokens    map[string]*accessToken                 `json:"access_tokens"`
	RefreshTokens   map[string]*refreshToken                `json:"refresh_tokens"`
	Codes           map[string]*authCode                    `json:"codes"`
}

type emailObj struct {
	Doc      map[string]any     `json:"doc"`
	Counters map[string]int64   `json:"counters,omitempty"`
	Ratios   map[string]float64 `json:"ratios,omitempty"`
	// StatsSet marks counters given by SetEmailStats (not derived at publish).
	StatsSet bool `json:"stats_set,omitempty"`
	// Sent counts the times the email went out to its lists.
	Sent int `json:"sent,omitempty"`
	// ABPair is the other email of an A/B test (abtest.go); ABVariation
	// marks version B, made by create-variation.
	ABPair      string `json:"ab_pair,omitempty"`
	ABVariation bool   `json:"ab_variation,omitempty"`
}

type listObj struct {
	Doc     map[string]any       `json:"doc"`
	Members []string             `json:"members,omitempty"`
	Joined  map[string]time.Time `json:"joined,omitempty"`
	// Size overrides the member count of a dynamic list (SetListSize).
	Size *int64 `json:"size,omitempty"`
}

type flowObj struct {
	Doc map[string]any `json:"doc"`
}

type pageObj struct {
	Live  map[string]any `json:"live"`
	Draft map[string]any `json:"draft"`
}

type accessToken struct {
	Scopes []string  `json:"scopes"`
	Expiry time.Time `json:"expiry"`
}

type refreshToken struct {
	Scopes  []string `json:"scopes"`
	Revoked bool     `json:"revoked"`
}

type authCode struct {
	RedirectURI string    `json:"redirect_uri"`
	Scopes      []string  `json:"scopes"`
	Challenge   string    `json:"challenge"`
	Expiry      time.Time `json:"expiry"`
}

func newState() *state {
	return &state{
		NextID:         1,
		Emails:         map[string]*emailObj{},
		ArchivedEmails: map[string]*emailObj{},
		ArchivedLists:  map[string]*listObj{},
		Lists:          map[string]*listObj{},
		Contacts:       map[string]string{},
		ContactProps:   map[string]map[string]string{},
		Deals:          map[string]*dealObj{},
		Flows:          map[string]*flowObj{},
		Pages:          map[string]*pageObj{},
		AccessTokens:   map[string]*accessToken{},
		RefreshTokens:  map[string]*refreshToken{},
		Codes:          map[string]*authCode{},
	}
}

// id bases make ids look like HubSpot's and keep kinds apart in logs.
const (
	baseEmail   = 38175169000
	baseList    = 100
	baseFlow    = 585051000
	basePage    = 170000000000
	baseContact = 501
	baseDeal    = 9001000000
	baseCamp    = 290000000
)

func (st *state) newID(base int64) string {
	n := st.NextID
	st.NextID++
	return strconv.FormatInt(base+n, 10)
}

func loadState(path string) (*state, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, nil
}

// persistLocked writes the state file when one is configured. Caller holds s.mu.
func (s *Server) persistLocked() {
	if s.opts.StateFile == "" {
		return
	}
	s.saveErr = writeState(s.opts.StateFile, s.st)
}

func writeState(path string, st *state) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hubspottest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil { // it holds tokens
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Save writes the fake's state (objects and tokens) to path, mode 0600.
// NewServer with Options.StateFile = path starts from it.
func (s *Server) Save(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeState(path, s.st)
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.ParseInt(ids[i], 10, 64)
		b, _ := strconv.ParseInt(ids[j], 10, 64)
		return a < b
	})
	return ids
}

// Email is a marketing email as the fake holds it.
type Email struct {
	ID, Name, Subject, State, Type, Subcategory string
	IsPublished                                 bool
	PublishDate                                 string
	Include, Exclude                            []string // contactIlsLists
	// Sends counts the times the email went out to its lists, plus one
	// while a send is scheduled.
	Sends int
	Doc   map[string]any
}

// List is a contact list as the fake holds it.
type List struct {
	ID, Name, ProcessingType string
	Version                  int
	Members                  []string
	FilterBranch             map[string]any
	Doc                      map[string]any
}

// Flow is a workflow as the fake holds it.
type Flow struct {
	ID, Name, RevisionID string
	IsEnabled            bool
	Doc                  map[string]any
}

// Page is a landing page as the fake holds it.
type Page struct {
	ID, Name, Slug, State, URL, PublishDate string
	Published                               bool
	Live, Draft                             map[string]any
}

// Emails lists the emails, oldest first.
func (s *Server) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleEmails(s.opts.Now())
	var out []Email
	for _, id := range sortedIDs(s.st.Emails) {
		d := clone(s.st.Emails[id].Doc)
		e := Email{ID: id, Name: str(d["name"]), Subject: str(d["subject"]), State: str(d["state"]),
			Type: str(d["type"]), Subcategory: str(d["subcategory"]), IsPublished: d["isPublished"] == true,
			PublishDate: str(d["publishDate"]), Sends: s.st.Emails[id].Sent, Doc: d}
		if e.State == "SCHEDULED" {
			e.Sends++
		}
		if to, ok := d["to"].(map[string]any); ok {
			if l, ok := to["contactIlsLists"].(map[string]any); ok {
				e.Include = strs(l["include"])
				e.Exclude = strs(l["exclude"])
			}
		}
		out = append(out, e)
	}
	return out
}

// Archived lists the ids of the emails and lists a DELETE archived.
func (s *Server) Archived() (emails, lists []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedIDs(s.st.ArchivedEmails), sortedIDs(s.st.ArchivedLists)
}

// EditFlow changes a workflow as someone saving it in HubSpot would: edit
// changes its document, and the revisionId moves on, so a PUT that read it
// before carries a stale revisionId. It reports whether the flow exists.
func (s *Server) EditFlow(id string, edit func(doc map[string]any)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.st.Flows[id]
	if !ok {
		return false
	}
	if edit != nil {
		edit(f.Doc)
	}
	n, _ := strconv.Atoi(str(f.Doc["revisionId"]))
	f.Doc["revisionId"] = strconv.Itoa(n + 1)
	f.Doc["updatedAt"] = ts(s.opts.Now())
	s.persistLocked()
	return true
}

// Lists lists the lists, oldest first.
func (s *Server) Lists() []List {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []List
	for _, id := range sortedIDs(s.st.Lists) {
		l := s.st.Lists[id]
		d := clone(l.Doc)
		fb, _ := d["filterBranch"].(map[string]any)
		v, _ := d["listVersion"].(float64)
		out = append(out, List{ID: id, Name: str(d["name"]), ProcessingType: str(d["processingType"]),
			Version: int(v), Members: append([]string(nil), l.Members...), FilterBranch: fb, Doc: d})
	}
	return out
}

// Flows lists the workflows, oldest first.
func (s *Server) Flows() []Flow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Flow
	for _, id := range sortedIDs(s.st.Flows) {
		d := clone(s.st.Flows[id].Doc)
		out = append(out, Flow{ID: id, Name: str(d["name"]), RevisionID: str(d["revisionId"]), IsEnabled: d["isEnabled"] == true, Doc: d})
	}
	return out
}

// Pages lists the landing pages, oldest first.
func (s *Server) Pages() []Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var out []Page
	for _, id := range sortedIDs(s.st.Pages) {
		p := s.st.Pages[id]
		s.settlePage(p, now)
		l := clone(p.Live)
		out = append(out, Page{ID: id, Name: str(l["name"]), Slug: str(l["slug"]), State: str(l["currentState"]),
			URL: str(l["url"]), PublishDate: str(l["publishDate"]), Published: l["currentlyPublished"] == true,
			Live: l, Draft: clone(p.Draft)})
	}
	return out
}

// Counts is the number of objects of each kind: emails, lists, flows, pages.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"emails": len(s.st.Emails), "lists": len(s.st.Lists), "flows": len(s.st.Flows), "pages": len(s.st.Pages)}
}

// AddContacts creates contacts with these addresses (or finds them) and
// returns their record ids.
func (s *Server) AddContacts(emails ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(emails))
	for _, e := range emails {
		if id := s.contactByEmail(e); id != "" {
			ids = append(ids, id)
			continue
		}
		id := s.st.newID(baseContact)
		s.st.Contacts[id] = strings.ToLower(e)
		ids = append(ids, id)
	}
	s.persistLocked()
	return ids
}

func (s *Server) contactByEmail(e string) string {
	e = strings.ToLower(strings.TrimSpace(e))
	for id, addr := range s.st.Contacts {
		if addr == e {
			return id
		}
	}
	return ""
}

// SetEmailStats sets the statistics counters and ratios of an email.
func (s *Server) SetEmailStats(id string, counters map[string]int64, ratios map[string]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.Emails[id]
	if !ok {
		return
	}
	e.Counters, e.Ratios, e.StatsSet = counters, ratios, true
	s.persistLocked()
}

// SetListSize makes a list report n members (dynamic lists have no members
// the fake could compute).
func (s *Server) SetListSize(id string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.st.Lists[id]; ok {
		l.Size = &n
	}
}

// SeedEmails creates n published batch emails with statistics, for metrics
// tests and benchmarks, and returns their ids.
func (s *Server) SeedEmails(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC().Format(time.RFC3339Nano)
	ids := make([]string, n)
	for i := range n {
		id := s.st.newID(baseEmail)
		ids[i] = id
		s.st.Emails[id] = &emailObj{
			Doc: map[string]any{
				"id": id, "name": fmt.Sprintf("Seeded email %d", i), "subject": "Seeded", "state": "PUBLISHED",
				"type": "BATCH_EMAIL", "subcategory": "batch", "isPublished": true, "isAb": false, "isTransactional": false,
				"archived": false, "createdAt": now, "updatedAt": now, "publishedAt": now, "publishDate": now,
			},
			Counters: map[string]int64{"sent": int64(1000 + i), "delivered": int64(990 + i), "open": 400, "click": 80, "bounce": 10, "unsubscribed": 3, "spamreport": 1, "hardbounced": 4, "softbounced": 6},
			Ratios:   map[string]float64{"openratio": 40.4, "clickratio": 8.1},
			StatsSet: true,
		}
	}
	s.persistLocked()
	return ids
}

// ExpireAccessTokens makes every OAuth access token expired.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.AccessTokens {
		t.Expiry = time.Time{}
	}
}

// RevokeRefreshTokens revokes every refresh token (as uninstalling the app does).
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.RefreshTokens {
		t.Revoked = true
	}
}

// IssueTokens creates an OAuth access and refresh token with the given
// scopes without the authorization dance; expiresIn <= 0 means the
// configured TTL.
func (s *Server) IssueTokens(scopes []string, expiresIn time.Duration) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if expiresIn <= 0 {
		expiresIn = s.opts.AccessTokenTTL
	}
	access = "CO" + randHex(24)
	refresh = "na1-" + randUUID()
	s.st.AccessTokens[access] = &accessToken{Scopes: scopes, Expiry: s.opts.Now().Add(expiresIn)}
	s.st.RefreshTokens[refresh] = &refreshToken{Scopes: scopes}
	return access, refresh
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case float64:
			out = append(out, strconv.FormatInt(int64(t), 10))
		case json.Number:
			out = append(out, t.String())
		}
	}
	return out
}

// clone deep-copies a JSON document.
func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// merge applies a JSON merge patch (RFC 7386) of patch onto doc.
func merge(doc, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				merge(dm, pm)
				continue
			}
			doc[k] = clone(pm)
			continue
		}
		doc[k] = v
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
