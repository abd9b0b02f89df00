// Package webflowtest is a contract fake of the Webflow Data API v2, as an
// httptest.Server, for the parts lastmile uses: the token introspection, a
// site with its custom domains, collections with their fields, CMS items
// with Webflow's staged/live states, item and site publishing, forms and
// form submissions.
//
// It enforces the contract in shared/docs/platform-apis-ads-webflow.md
// section 3 and the OpenAPI spec (webflow/openapi-v2.yml):
//
//   - Bearer auth: no or malformed Authorization → 401 not_authorized; an
//     unknown token → 401 invalid_credentials; a scope the operation needs
//     and the token lacks → 403 missing_scopes.
//   - fieldData validated against the collection's fields: name and slug
//     required on create, the slug's format, each field's type and
//     maxLength, unknown field slugs → 400 validation_error with details
//     {field, message}.
//   - Slug uniqueness per collection. Whether Webflow rejects or suffixes a
//     duplicate is not confirmed in the shared doc; this fake CHOOSES to
//     reject it with 400 validation_error, detail {field:"slug",
//     message:"Unique value is already in database: '<slug>'"}.
//   - 202 on create and publish (publish answers {publishedItemIds, errors});
//     the states Draft (lastPublished null, isDraft true), Queued (null,
//     false: live at the next site publish), Published (set, false), Draft
//     changes (set, true); isDraft:true on a live item does not unpublish
//     it; DELETE …/items/{id}/live unpublishes and sets isDraft true.
//   - offset/limit pagination (limit at most 100) with pagination{limit,
//     offset, total}.
//   - the error envelope {"code","message","externalReference":null,"details":[]}.
//   - RateLimit requests per Window per token (default 60 per minute),
//     X-RateLimit-Limit and X-RateLimit-Remaining on every answer (the v1
//     docs say so; the v2 spec shows them on 429 only), 429
//     too_many_requests with Retry-After; and one successful site publish
//     per SitePublishWindow (default a minute).
//
// A site publish publishes every item that is not a draft, as Webflow does.
// The live site (LivePage) shows an item only once the site has been
// published at least once and the item is live: an item published while the
// site was never published is live in the CMS but has no page yet (a model
// choice: the shared doc does not say what Webflow serves then).
package webflowtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Defaults the fake starts with.
const (
	DefaultToken        = "wf-site-token-0123456789abcdef"
	DefaultSiteID       = "64f0c0ffee0000000000a001"
	DefaultCollectionID = "64f0c0ffee0000000000c001"
	DefaultShortName    = "acme-outdoors"
	DefaultDomain       = "www.acme.example"
	DefaultFormID       = "64f0c0ffee0000000000f001"
	DefaultTemplatePage = "64f0c0ffee0000000000b001"
	// DefaultItemField is the hidden field the default form carries with
	// the item's slug (see AddSubmission).
	DefaultItemField = "lastmile-item"
)

// AllScopes are the scopes a default token has.
var AllScopes = []string{"cms:read", "cms:write", "pages:read", "pages:write", "sites:read", "sites:write", "forms:read"}

// Field is a collection field.
type Field struct {
	ID          string         `json:"id"`
	IsEditable  bool           `json:"isEditable"`
	IsRequired  bool           `json:"isRequired"`
	Type        string         `json:"type"`
	Slug        string         `json:"slug"`
	DisplayName string         `json:"displayName"`
	HelpText    string         `json:"helpText,omitempty"`
	Validations map[string]any `json:"validations,omitempty"`
}

// Item is a CMS item as the fake holds it.
type Item struct {
	ID            string
	CollectionID  string
	CreatedOn     time.Time
	LastUpdated   time.Time
	LastPublished *time.Time
	IsDraft       bool
	IsArchived    bool
	FieldData     map[string]any
	// Live is the published copy of FieldData; nil when not live.
	Live map[string]any
}

// Submission is a form submission.
type Submission struct {
	ID            string            `json:"id"`
	FormID        string            `json:"formId"`
	DisplayName   string            `json:"displayName"`
	SiteID        string            `json:"siteId"`
	WorkspaceID   string            `json:"workspaceId"`
	DateSubmitted time.Time         `json:"dateSubmitted"`
	FormResponse  map[string]string `json:"formResponse"`
	LocaleID      *string           `json:"localeId"`
}

type collection struct {
	ID, DisplayName, SingularName, Slug string
	CreatedOn, LastUpdated              time.Time
	Fields                              []Field
}

type form struct {
	ID, DisplayName, PageID, PageName, ElementID string
}

// Options configure a Server.
type Options struct {
	Token     string   // default DefaultToken
	Scopes    []string // default AllScopes
	RateLimit int      // requests per Window, default 60
	Window    time.Duration
	// SitePublishWindow is how often a site publish may succeed (default a minute).
	SitePublishWindow time.Duration
	// SitePublished: the site has been published before (default false:
	// never published).
	SitePublished bool
	// MarkerField, when set, is a PlainText field the collection already has.
	MarkerField string
	// NoItemField: the default form has no hidden DefaultItemField.
	NoItemField bool
	// NoCustomDomain: the site has only its webflow.io subdomain.
	NoCustomDomain bool
	Now            func() time.Time
}

// Server is the fake.
type Server struct {
	*httptest.Server
	opts Options

	mu              sync.Mutex
	siteLastPub     *time.Time
	lastSitePublish time.Time
	collections     map[string]*collection
	items           map[string]*Item // by id
	order           []string         // item ids in creation order
	forms           []form
	submissions     []Submission
	requests        []time.Time
	publishes       map[string]int
	sitePublishes   int
	applying        int
	applied         int
	throttled       int
	faults          faketest.Queue
}

// New starts a fake, closed when the test ends.
func New(t testing.TB, opts ...func(*Options)) *Server {
	o := Options{Token: DefaultToken, Scopes: AllScopes, RateLimit: 60, Window: time.Minute, SitePublishWindow: time.Minute, Now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	s := &Server{opts: o, collections: map[string]*collection{}, items: map[string]*Item{}, publishes: map[string]int{}}
	now := o.Now().UTC()
	if o.SitePublished {
		p := now.Add(-24 * time.Hour)
		s.siteLastPub = &p
	}
	c := &collection{ID: DefaultCollectionID, DisplayName: "Landing Pages", SingularName: "Landing Page", Slug: "lp", CreatedOn: now, LastUpdated: now,
		Fields: []Field{
			{ID: newID(), IsEditable: true, IsRequired: true, Type: "PlainText", Slug: "name", DisplayName: "Name", Validations: map[string]any{"maxLength": 256.0}},
			{ID: newID(), IsEditable: true, IsRequired: true, Type: "PlainText", Slug: "slug", DisplayName: "Slug", Validations: map[string]any{"maxLength": 256.0}},
			{ID: newID(), IsEditable: true, Type: "RichText", Slug: "body", DisplayName: "Body"},
			{ID: newID(), IsEditable: true, Type: "PlainText", Slug: "meta-description", DisplayName: "Meta Description", Validations: map[string]any{"maxLength": 500.0}},
		}}
	if o.MarkerField != "" {
		c.Fields = append(c.Fields, Field{ID: newID(), IsEditable: true, Type: "PlainText", Slug: o.MarkerField, DisplayName: o.MarkerField})
	}
	s.collections[c.ID] = c
	s.forms = []form{{ID: DefaultFormID, DisplayName: "Landing form", PageID: DefaultTemplatePage, PageName: "Landing Pages Template", ElementID: "7a1e0000-0000-4000-8000-000000000001"}}
	s.Server = httptest.NewServer(s.routes())
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the API base (…/v2).
func (s *Server) BaseURL() string { return s.URL + "/v2" }

// Inject queues a fault. Ops are the spec's operationIds (create-item,
// update-item, publish-item, site-publish, delete-item-live, …). Kinds
// supported: RateLimit, Fail, FailAfterApply, DropAfterApply, Latency, SlowApply (on
// create-item: the create commits Delay after it arrived, whatever the
// client does).
func (s *Server) Inject(f faketest.Fault) { s.faults.Inject(f) }

// Applying is how many slow creates have not committed yet.
func (s *Server) Applying() int { s.mu.Lock(); defer s.mu.Unlock(); return s.applying }

// Applied is how many slow creates have committed.
func (s *Server) Applied() int { s.mu.Lock(); defer s.mu.Unlock(); return s.applied }

// Publishes is how many times the item was published (item publishes and
// site publishes that took it live).
func (s *Server) Publishes(itemID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publishes[itemID]
}

// Throttled counts the requests the rate limit refused (429).
func (s *Server) Throttled() int { s.mu.Lock(); defer s.mu.Unlock(); return s.throttled }

// SitePublishes counts successful site publishes.
func (s *Server) SitePublishes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sitePublishes }

// Items returns copies of the collection's items in creation order.
func (s *Server) Items(collectionID string) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for _, id := range s.order {
		it := s.items[id]
		if it.CollectionID == collectionID {
			c := *it
			c.FieldData = maps.Clone(it.FieldData)
			c.Live = maps.Clone(it.Live)
			out = append(out, c)
		}
	}
	return out
}

// AddItem puts an item in the collection directly (someone editing in
// Webflow), staged as a draft; live publishes it too.
func (s *Server) AddItem(collectionID string, fieldData map[string]any, live bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC()
	it := &Item{ID: newID(), CollectionID: collectionID, CreatedOn: now, LastUpdated: now, IsDraft: !live, FieldData: maps.Clone(fieldData)}
	if live {
		it.LastPublished = &now
		it.Live = maps.Clone(fieldData)
	}
	s.items[it.ID] = it
	s.order = append(s.order, it.ID)
	return it.ID
}

// LivePage is what a visitor to https://<domain>/<collection-slug>/<slug>
// sees: the published name and body, or false (404).
func (s *Server) LivePage(collectionID, slug string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.siteLastPub == nil {
		return "", false
	}
	for _, id := range s.order {
		it := s.items[id]
		if it.CollectionID != collectionID || it.Live == nil || it.Live["slug"] != slug {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<h1>%v</h1>\n", it.Live["name"])
		for _, f := range s.collections[collectionID].Fields {
			if f.Type == "RichText" {
				if v, ok := it.Live[f.Slug].(string); ok {
					b.WriteString(v)
				}
			}
		}
		return b.String(), true
	}
	return "", false
}

// AddSubmission records a submission of the default form (on the
// collection template page) and returns its id. fields is the form
// response; a template form that carries the item's slug in a hidden
// DefaultItemField is what lets a submission be tied to one item.
func (s *Server) AddSubmission(fields map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := Submission{ID: newID(), FormID: DefaultFormID, DisplayName: s.forms[0].DisplayName, SiteID: DefaultSiteID, WorkspaceID: "64f0c0ffee00000000000001",
		DateSubmitted: s.opts.Now().UTC().Truncate(time.Millisecond), FormResponse: maps.Clone(fields)}
	s.submissions = append(s.submissions, sub)
	return sub.ID
}

// SitePublished reports whether the site has been published.
func (s *Server) SitePublished() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.siteLastPub != nil }

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Errors.

type detail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeErr(w http.ResponseWriter, status int, code, msg string, details ...any) {
	if details == nil {
		details = []any{}
	}
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "externalReference": nil, "details": details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handler is one operation: its operationId, the scope it needs, whether
// it writes.
type handler struct {
	op    string
	scope string
	write bool
	fn    func(w http.ResponseWriter, r *http.Request, f *faketest.Fault)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern, op, scope string, write bool, fn func(http.ResponseWriter, *http.Request, *faketest.Fault)) {
		h := handler{op: op, scope: scope, write: write, fn: fn}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h) })
	}
	add("GET /v2/token/introspect", "introspect", "", false, s.introspect)
	add("GET /v2/sites/{site}", "get-site", "sites:read", false, s.getSite)
	add("GET /v2/sites/{site}/custom_domains", "get-custom-domains", "sites:read", false, s.customDomains)
	add("GET /v2/sites/{site}/collections", "list-collections", "cms:read", false, s.listCollections)
	add("POST /v2/sites/{site}/publish", "site-publish", "sites:write", true, s.sitePublish)
	add("GET /v2/sites/{site}/forms", "list-forms", "forms:read", false, s.listForms)
	add("GET /v2/sites/{site}/form_submissions", "list-submissions-by-site", "forms:read", false, s.siteSubmissions)
	add("GET /v2/forms/{form}/submissions", "list-submissions", "forms:read", false, s.formSubmissions)
	add("GET /v2/collections/{coll}", "collection-details", "cms:read", false, s.collectionDetails)
	add("POST /v2/collections/{coll}/fields", "create-field", "cms:write", true, s.createField)
	add("GET /v2/collections/{coll}/items", "list-collection-items", "cms:read", false, s.listItems)
	add("POST /v2/collections/{coll}/items", "create-item", "cms:write", true, s.createItem)
	add("POST /v2/collections/{coll}/items/publish", "publish-item", "cms:write", true, s.publishItems)
	add("GET /v2/collections/{coll}/items/{item}", "get-item", "cms:read", false, s.getItem)
	add("PATCH /v2/collections/{coll}/items/{item}", "update-item", "cms:write", true, s.updateItem)
	add("DELETE /v2/collections/{coll}/items/{item}", "delete-item", "cms:write", true, s.deleteItem)
	add("GET /v2/collections/{coll}/items/{item}/live", "get-item-live", "cms:read", false, s.getItemLive)
	add("DELETE /v2/collections/{coll}/items/{item}/live", "delete-item-live", "cms:write", true, s.deleteItemLive)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "route_not_found", "Requested route not found: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, h handler) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		writeErr(w, http.StatusUnauthorized, "not_authorized", "Request is not authorized: send Authorization: Bearer <token>")
		return
	}
	if token != s.opts.Token {
		writeErr(w, http.StatusUnauthorized, "invalid_credentials", "Invalid credentials: the token is not valid or has been revoked")
		return
	}
	// Rate limit: a sliding window per token.
	s.mu.Lock()
	now := s.opts.Now()
	cut := now.Add(-s.opts.Window)
	i := 0
	for i < len(s.requests) && !s.requests[i].After(cut) {
		i++
	}
	s.requests = s.requests[i:]
	limit := s.opts.RateLimit
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	if len(s.requests) >= limit {
		wait := s.requests[0].Add(s.opts.Window).Sub(now)
		s.mu.Unlock()
		s.mu.Lock()
		s.throttled++
		s.mu.Unlock()
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeErr(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests")
		return
	}
	s.requests = append(s.requests, now)
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(limit-len(s.requests)))
	s.mu.Unlock()

	if h.scope != "" && !slices.Contains(s.opts.Scopes, h.scope) {
		writeErr(w, http.StatusForbidden, "missing_scopes", "OAuthForbidden: You are missing the following scopes - "+h.scope)
		return
	}
	var fault *faketest.Fault
	if f, ok := s.faults.Take(h.op, h.write); ok {
		switch f.Kind {
		case faketest.RateLimit:
			if ra := f.RetryAfterSeconds(); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			w.Header().Set("X-RateLimit-Remaining", "0")
			writeErr(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests")
			return
		case faketest.Fail:
			if ra := f.RetryAfterSeconds(); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			writeErr(w, f.StatusOr(500), orStr(f.Code, "internal_error"), "Internal error")
			return
		case faketest.Latency:
			select {
			case <-time.After(f.Wait()):
			case <-r.Context().Done():
				return
			}
		default:
			fault = &f
		}
	}
	if fault != nil && (fault.Kind == faketest.FailAfterApply || fault.Kind == faketest.DropAfterApply) {
		rec := httptest.NewRecorder()
		h.fn(rec, r, nil)
		if fault.Kind == faketest.DropAfterApply {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
		writeErr(w, fault.StatusOr(500), orStr(fault.Code, "internal_error"), "Internal error")
		return
	}
	h.fn(w, r, fault)
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "Bad request: the body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// page reads offset and limit (default limit def, at most 100).
func page(w http.ResponseWriter, r *http.Request, def int) (offset, limit int, ok bool) {
	q := r.URL.Query()
	limit = def
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "limit", Message: "must be an integer from 1 to 100"})
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "offset", Message: "must be a non-negative integer"})
			return 0, 0, false
		}
		offset = n
	}
	return offset, limit, true
}

func window[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(len(all), offset+limit)]
}

func pagination(limit, offset, total int) map[string]int {
	return map[string]int{"limit": limit, "offset": offset, "total": total}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// Handlers.

func (s *Server) introspect(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	writeJSON(w, http.StatusOK, map[string]any{
		"authorization": map[string]any{
			"id": "64f0c0ffee00000000000a11", "createdOn": "2026-01-01T00:00:00.000Z", "lastUsed": ts(s.opts.Now()),
			"grantType": "site_token", "rateLimit": s.opts.RateLimit, "scope": strings.Join(s.opts.Scopes, ","),
			"authorizedTo": map[string]any{"siteIds": []string{DefaultSiteID}, "workspaceIds": []string{"64f0c0ffee00000000000001"}, "userIds": []string{}},
		},
		"application": map[string]any{"id": "", "displayName": "Site token"},
	})
}

func (s *Server) site(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("site") != DefaultSiteID {
		writeErr(w, http.StatusNotFound, "resource_not_found", "Requested resource not found: The site cannot be found")
		return false
	}
	return true
}

func (s *Server) domainsLocked() []map[string]any {
	if s.opts.NoCustomDomain {
		return []map[string]any{}
	}
	return []map[string]any{{"id": "64f0c0ffee0000000000d001", "url": DefaultDomain, "lastPublished": tsp(s.siteLastPub)}}
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": DefaultSiteID, "workspaceId": "64f0c0ffee00000000000001", "displayName": "Acme Outdoors", "shortName": DefaultShortName,
		"timeZone": "Europe/Berlin", "createdOn": "2026-01-01T00:00:00.000Z", "lastUpdated": ts(s.opts.Now()), "lastPublished": tsp(s.siteLastPub),
		"customDomains": s.domainsLocked(),
	})
}

func (s *Server) customDomains(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"customDomains": s.domainsLocked()})
}

func (c *collection) json() map[string]any {
	return map[string]any{"id": c.ID, "displayName": c.DisplayName, "singularName": c.SingularName, "slug": c.Slug,
		"createdOn": ts(c.CreatedOn), "lastUpdated": ts(c.LastUpdated), "fields": c.Fields}
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, c := range s.collections {
		m := c.json()
		delete(m, "fields")
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": out})
}

func (s *Server) coll(w http.ResponseWriter, r *http.Request) *collection {
	c := s.collections[r.PathValue("coll")]
	if c == nil {
		writeErr(w, http.StatusNotFound, "collection_not_found", "Requested resource not found: The collection cannot be found")
	}
	return c
}

func (s *Server) collectionDetails(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.coll(w, r); c != nil {
		writeJSON(w, http.StatusOK, c.json())
	}
}

var fieldTypes = []string{"Color", "DateTime", "Email", "File", "Image", "Link", "MultiImage", "Number", "Phone", "PlainText", "RichText", "Switch", "VideoLink"}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func (s *Server) createField(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	var body struct {
		Type        string `json:"type"`
		DisplayName string `json:"displayName"`
		IsRequired  bool   `json:"isRequired"`
		HelpText    string `json:"helpText"`
	}
	if !decode(w, r, &body) {
		return
	}
	var ds []any
	if !slices.Contains(fieldTypes, body.Type) {
		ds = append(ds, detail{Field: "type", Message: "must be one of " + strings.Join(fieldTypes, ", ")})
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		ds = append(ds, detail{Field: "displayName", Message: "is required"})
	}
	if ds != nil {
		writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", ds...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(w, r)
	if c == nil {
		return
	}
	slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(body.DisplayName), "-"), "-")
	for _, f := range c.Fields {
		if f.Slug == slug || strings.EqualFold(f.DisplayName, body.DisplayName) {
			writeErr(w, http.StatusConflict, "conflict", "Conflict: a field with this name already exists")
			return
		}
	}
	f := Field{ID: newID(), IsEditable: true, IsRequired: body.IsRequired, Type: body.Type, Slug: slug, DisplayName: body.DisplayName, HelpText: body.HelpText}
	c.Fields = append(c.Fields, f)
	c.LastUpdated = s.opts.Now().UTC()
	writeJSON(w, http.StatusOK, f)
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// validateLocked checks fieldData against the collection's fields; self is
// the item being updated ("" on create).
func (s *Server) validateLocked(c *collection, fd map[string]any, create bool, self string) []any {
	var ds []any
	byslug := map[string]Field{}
	for _, f := range c.Fields {
		byslug[f.Slug] = f
	}
	for k, v := range fd {
		f, ok := byslug[k]
		if !ok {
			ds = append(ds, detail{Field: k, Message: "Field not described in schema"})
			continue
		}
		if v == nil {
			if f.IsRequired {
				ds = append(ds, detail{Field: k, Message: "Field is required"})
			}
			continue
		}
		switch f.Type {
		case "PlainText", "RichText", "Link", "Email", "Phone", "Color", "VideoLink", "DateTime":
			str, ok := v.(string)
			if !ok {
				ds = append(ds, detail{Field: k, Message: "Field must be a string"})
				continue
			}
			if max, ok := f.Validations["maxLength"].(float64); ok && len([]rune(str)) > int(max) {
				ds = append(ds, detail{Field: k, Message: fmt.Sprintf("Field must be at most %d characters", int(max))})
			}
		case "Number":
			if _, ok := v.(float64); !ok {
				ds = append(ds, detail{Field: k, Message: "Field must be a number"})
			}
		case "Switch":
			if _, ok := v.(bool); !ok {
				ds = append(ds, detail{Field: k, Message: "Field must be a boolean"})
			}
		}
	}
	if create {
		for _, f := range c.Fields {
			if _, ok := fd[f.Slug]; f.IsRequired && !ok {
				ds = append(ds, detail{Field: f.Slug, Message: "Field is required"})
			}
		}
	}
	if slug, ok := fd["slug"].(string); ok {
		switch {
		case !slugRE.MatchString(slug):
			ds = append(ds, detail{Field: "slug", Message: "Slug must contain only lowercase letters, numbers and single hyphens"})
		case s.slugTakenLocked(c.ID, slug, self):
			ds = append(ds, detail{Field: "slug", Message: fmt.Sprintf("Unique value is already in database: '%s'", slug)})
		}
	}
	return ds
}

func (s *Server) slugTakenLocked(coll, slug, self string) bool {
	for _, it := range s.items {
		if it.CollectionID == coll && it.ID != self && it.FieldData["slug"] == slug {
			return true
		}
	}
	return false
}

func (it *Item) json(live bool) map[string]any {
	fd := it.FieldData
	if live {
		fd = it.Live
	}
	return map[string]any{"id": it.ID, "cmsLocaleId": "653ad57de882f528b32e810e", "lastPublished": tsp(it.LastPublished),
		"lastUpdated": ts(it.LastUpdated), "createdOn": ts(it.CreatedOn), "isArchived": it.IsArchived, "isDraft": it.IsDraft, "fieldData": fd}
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	offset, limit, ok := page(w, r, 100)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(w, r)
	if c == nil {
		return
	}
	q := r.URL.Query()
	var all []map[string]any
	for _, id := range s.order {
		it := s.items[id]
		if it.CollectionID != c.ID {
			continue
		}
		if v := q.Get("slug"); v != "" && it.FieldData["slug"] != v {
			continue
		}
		if v := q.Get("name"); v != "" && it.FieldData["name"] != v {
			continue
		}
		all = append(all, it.json(false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": window(all, offset, limit), "pagination": pagination(limit, offset, len(all))})
}

type itemBody struct {
	IsDraft    *bool          `json:"isDraft"`
	IsArchived *bool          `json:"isArchived"`
	FieldData  map[string]any `json:"fieldData"`
}

// flags sets the draft and archived flags the body gives. isDraft:true on
// a live item stages the change: it stays live.
func (b itemBody) flags(it *Item) {
	if b.IsDraft != nil {
		it.IsDraft = *b.IsDraft
	}
	if b.IsArchived != nil {
		it.IsArchived = *b.IsArchived
	}
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request, fault *faketest.Fault) {
	var body itemBody
	if !decode(w, r, &body) {
		return
	}
	if body.FieldData == nil {
		writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "fieldData", Message: "is required"})
		return
	}
	commit := func() (map[string]any, []any, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.collections[r.PathValue("coll")]
		if c == nil {
			return nil, nil, false
		}
		if ds := s.validateLocked(c, body.FieldData, true, ""); ds != nil {
			return nil, ds, true
		}
		now := s.opts.Now().UTC()
		it := &Item{ID: newID(), CollectionID: c.ID, CreatedOn: now, LastUpdated: now, IsDraft: true, FieldData: body.FieldData}
		body.flags(it)
		s.items[it.ID] = it
		s.order = append(s.order, it.ID)
		return it.json(false), nil, true
	}
	reply := func(out map[string]any, ds []any, found bool) {
		switch {
		case !found:
			writeErr(w, http.StatusNotFound, "collection_not_found", "Requested resource not found: The collection cannot be found")
		case ds != nil:
			writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", ds...)
		default:
			writeJSON(w, http.StatusAccepted, out)
		}
	}
	if fault != nil && fault.Kind == faketest.SlowApply {
		s.mu.Lock()
		s.applying++
		s.mu.Unlock()
		type res struct {
			out   map[string]any
			ds    []any
			found bool
		}
		done := make(chan res, 1)
		go func() {
			time.Sleep(fault.Wait())
			out, ds, found := commit()
			s.mu.Lock()
			s.applying--
			if ds == nil && found {
				s.applied++
			}
			s.mu.Unlock()
			done <- res{out, ds, found}
		}()
		select {
		case x := <-done:
			reply(x.out, x.ds, x.found)
		case <-r.Context().Done():
		}
		return
	}
	reply(commit())
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) (*collection, *Item) {
	c := s.coll(w, r)
	if c == nil {
		return nil, nil
	}
	it := s.items[r.PathValue("item")]
	if it == nil || it.CollectionID != c.ID {
		writeErr(w, http.StatusNotFound, "item_not_found", "Requested resource not found: The item cannot be found")
		return nil, nil
	}
	return c, it
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, it := s.item(w, r); it != nil {
		writeJSON(w, http.StatusOK, it.json(false))
	}
}

// liveItem is item for the live (published) copy: nil, with a 404
// written, when the item has none.
func (s *Server) liveItem(w http.ResponseWriter, r *http.Request) *Item {
	_, it := s.item(w, r)
	if it == nil {
		return nil
	}
	if it.Live == nil {
		writeErr(w, http.StatusNotFound, "item_not_found", "Requested resource not found: The live item cannot be found")
		return nil
	}
	return it
}

func (s *Server) getItemLive(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.liveItem(w, r); it != nil {
		writeJSON(w, http.StatusOK, it.json(true))
	}
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	var body itemBody
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, it := s.item(w, r)
	if it == nil {
		return
	}
	if ds := s.validateLocked(c, body.FieldData, false, it.ID); ds != nil {
		writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", ds...)
		return
	}
	fd := maps.Clone(it.FieldData)
	maps.Copy(fd, body.FieldData)
	it.FieldData = fd
	body.flags(it)
	it.LastUpdated = s.opts.Now().UTC()
	writeJSON(w, http.StatusOK, it.json(false))
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, it := s.item(w, r)
	if it == nil {
		return
	}
	delete(s.items, it.ID)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == it.ID })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteItemLive(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.liveItem(w, r)
	if it == nil {
		return
	}
	it.Live = nil
	it.IsDraft = true
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) publishLocked(it *Item, now time.Time) {
	it.Live = maps.Clone(it.FieldData)
	it.IsDraft = false
	it.LastPublished = &now
	s.publishes[it.ID]++
}

func (s *Server) publishItems(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	var body struct {
		ItemIDs []string `json:"itemIds"`
	}
	if !decode(w, r, &body) {
		return
	}
	if len(body.ItemIDs) == 0 || len(body.ItemIDs) > 100 {
		writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "itemIds", Message: "must hold 1 to 100 item ids"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(w, r)
	if c == nil {
		return
	}
	now := s.opts.Now().UTC()
	ok, errs := []string{}, []string{}
	for _, id := range body.ItemIDs {
		it := s.items[id]
		if it == nil || it.CollectionID != c.ID {
			errs = append(errs, fmt.Sprintf("Staging item ID %s not found.", id))
			continue
		}
		s.publishLocked(it, now)
		ok = append(ok, id)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"publishedItemIds": ok, "errors": errs})
}

func (s *Server) sitePublish(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	var body struct {
		CustomDomains             []string `json:"customDomains"`
		PublishToWebflowSubdomain *bool    `json:"publishToWebflowSubdomain"`
	}
	if !decode(w, r, &body) {
		return
	}
	sub := body.PublishToWebflowSubdomain != nil && *body.PublishToWebflowSubdomain
	if len(body.CustomDomains) == 0 && !sub {
		writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "customDomains", Message: "give customDomains or publishToWebflowSubdomain:true"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC()
	for _, d := range body.CustomDomains {
		if s.opts.NoCustomDomain || d != "64f0c0ffee0000000000d001" {
			writeErr(w, http.StatusBadRequest, "validation_error", "Validation Error", detail{Field: "customDomains", Message: "unknown domain id " + d})
			return
		}
	}
	if !s.lastSitePublish.IsZero() && now.Sub(s.lastSitePublish) < s.opts.SitePublishWindow {
		wait := s.lastSitePublish.Add(s.opts.SitePublishWindow).Sub(now)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeErr(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests: a site can be published once per minute")
		return
	}
	s.lastSitePublish = now
	s.siteLastPub = &now
	s.sitePublishes++
	for _, id := range s.order {
		if it := s.items[id]; !it.IsDraft && !it.IsArchived {
			s.publishLocked(it, now)
		}
	}
	var ds []map[string]any
	for _, d := range s.domainsLocked() {
		if slices.Contains(body.CustomDomains, d["id"].(string)) {
			ds = append(ds, d)
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"customDomains": ds, "publishToWebflowSubdomain": sub, "publishScope": "site"})
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	offset, limit, ok := page(w, r, 25)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, f := range s.forms {
		all = append(all, map[string]any{"id": f.ID, "displayName": f.DisplayName, "siteId": DefaultSiteID, "pageId": f.PageID, "pageName": f.PageName,
			"formElementId": f.ElementID, "workspaceId": "64f0c0ffee00000000000001", "createdOn": "2026-01-01T00:00:00.000Z", "lastUpdated": "2026-01-01T00:00:00.000Z",
			"fields": s.formFields(), "responseSettings": map[string]any{"redirectUrl": nil, "redirectMethod": nil, "redirectAction": nil, "sendEmailConfirmation": false}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"forms": window(all, offset, limit), "pagination": pagination(limit, offset, len(all))})
}

func (s *Server) formFields() map[string]any {
	f := map[string]any{
		"660d5bcc9c0772150459df01": map[string]any{"displayName": "Email", "type": "Email", "placeholder": "you@example.com", "userVisible": true},
	}
	if !s.opts.NoItemField {
		f["660d5bcc9c0772150459df02"] = map[string]any{"displayName": DefaultItemField, "type": "Plain", "placeholder": nil, "userVisible": false}
	}
	return f
}

func (s *Server) submissionsPage(w http.ResponseWriter, r *http.Request, keep func(Submission) bool) {
	offset, limit, ok := page(w, r, 25)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []Submission
	for _, sub := range s.submissions {
		if keep(sub) {
			all = append(all, sub)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"formSubmissions": window(all, offset, limit), "pagination": pagination(limit, offset, len(all))})
}

func (s *Server) siteSubmissions(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	if !s.site(w, r) {
		return
	}
	el := r.URL.Query().Get("elementId")
	s.submissionsPage(w, r, func(sub Submission) bool {
		if el == "" {
			return true
		}
		for _, f := range s.forms {
			if f.ID == sub.FormID {
				return f.ElementID == el
			}
		}
		return false
	})
}

func (s *Server) formSubmissions(w http.ResponseWriter, r *http.Request, _ *faketest.Fault) {
	id := r.PathValue("form")
	s.submissionsPage(w, r, func(sub Submission) bool { return sub.FormID == id })
}
