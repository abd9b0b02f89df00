// Package hubspot is the HubSpot connector: marketing emails (Marketing
// Emails v3), segments as contact lists (Lists v3), workflows (Automation v4
// flows), landing pages (CMS pages v3) and email statistics, behind the
// sandbox's Target port.
//
// Every object lastmile creates carries the artifact's marker, so that after
// an interrupted attempt Find can tell whether the object exists: lists,
// emails and workflows end their name in "[<marker>]" (lists are then looked
// up by that unique name; emails and workflows by paging), pages are found by
// their slug and proven ours by the marker in their internal name.
//
// Requests go through one rate limiter per portal (shared by every Target
// built with the same Limits) that keeps inside HubSpot's rolling 10-second
// window, learns the portal's real limit from the X-HubSpot-RateLimit-*
// headers and waits out the window on a 429 (or stops on a DAILY one).
// Creates that fail ambiguously (timeout, dropped connection, 5xx) are
// reconciled by marker before they are tried again.
package hubspot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Platform is the connector's platform name.
const Platform = "hubspot"

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// Config holds the non-secret settings of one configured HubSpot target.
type Config struct {
	// BaseURL of the API (default https://api.hubapi.com). A base URL given
	// at connect time is used when this is empty.
	BaseURL string `yaml:"base_url"`
	// APIVersions selects each API's path version: "v3" style (the default)
	// or a date version such as "2026-03" (HubSpot's newer paths).
	APIVersions Versions `yaml:"api_versions"`
	// RateLimit is the portal's burst limit per 10 seconds: 100 (Free and
	// Starter, the default) or 190 (Professional, Enterprise). A lower
	// X-HubSpot-RateLimit-Max from HubSpot wins.
	RateLimit int `yaml:"rate_limit"`
	// MaxConcurrency bounds requests in flight for this portal (default 8).
	MaxConcurrency int `yaml:"max_concurrency"`
	// Timeout of one HTTP request (default 30s).
	Timeout time.Duration `yaml:"timeout"`
	// CommitLag is how long after a write commits it may take to show in
	// HubSpot's listings (default DefaultCommitLag). With Timeout it makes
	// LandWithin: how long a resumed promotion waits before it looks for
	// what an interrupted create may still be making.
	CommitLag time.Duration `yaml:"commit_lag"`
	// OfficeLocationID and SubscriptionID go into each email's
	// subscriptionDetails (HubSpot uses the portal's defaults when empty).
	OfficeLocationID string `yaml:"office_location_id"`
	SubscriptionID   string `yaml:"subscription_id"`
	// EmailTemplatePath is the coded email template the HTML goes into
	// (empty: HubSpot's default).
	EmailTemplatePath string `yaml:"email_template_path"`
	// PageTemplatePath is the landing-page template (HubSpot requires one).
	PageTemplatePath string `yaml:"page_template_path"`
	// PageDomain is the domain landing pages are published on (empty: the
	// portal's default landing-page domain).
	PageDomain string `yaml:"page_domain"`
	// PropertyTypes tells the list translator the HubSpot type of contact
	// properties it cannot infer: string, number, bool, enumeration or
	// datetime. Well-known HubSpot properties are built in.
	PropertyTypes map[string]string `yaml:"property_types"`
}

// Versions are the API path versions.
type Versions struct {
	Emails   string `yaml:"emails"`   // v3 → /marketing/v3/emails; 2026-03 → /marketing/emails/2026-03
	Lists    string `yaml:"lists"`    // v3 → /crm/v3/lists
	Flows    string `yaml:"flows"`    // v4 → /automation/v4/flows
	Pages    string `yaml:"pages"`    // v3 → /cms/v3/pages/landing-pages
	Contacts string `yaml:"contacts"` // v3 → /crm/v3/objects/contacts
	OAuth    string `yaml:"oauth"`    // v1 → /oauth/v1/token
}

// DefaultPageTemplatePath is used when the config names no page template.
const DefaultPageTemplatePath = "@hubspot/growth/templates/landing-page.html"

var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(v[0-9]+|[0-9]{4}-[0-9]{2})$`) })

type paths struct {
	emails, lists, flows, pages, contacts, token string
}

func buildPaths(v Versions) (paths, error) {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	v.Emails, v.Lists, v.Flows = def(v.Emails, "v3"), def(v.Lists, "v3"), def(v.Flows, "v4")
	v.Pages, v.Contacts, v.OAuth = def(v.Pages, "v3"), def(v.Contacts, "v3"), def(v.OAuth, "v1")
	for name, s := range map[string]string{"emails": v.Emails, "lists": v.Lists, "flows": v.Flows, "pages": v.Pages, "contacts": v.Contacts, "oauth": v.OAuth} {
		if !versionRE().MatchString(s) {
			return paths{}, fmt.Errorf("hubspot: api_versions.%s %q: use a version like v3 or a date version like 2026-03", name, s)
		}
	}
	// v3 style puts the version after the product; date versions after the API name.
	p := func(product, api, ver string) string {
		if strings.HasPrefix(ver, "v") {
			return "/" + product + "/" + ver + "/" + api
		}
		return "/" + product + "/" + strings.SplitN(api, "/", 2)[0] + "/" + ver + suffix(api)
	}
	return paths{
		emails:   p("marketing", "emails", v.Emails),
		lists:    p("crm", "lists", v.Lists),
		flows:    p("automation", "flows", v.Flows),
		pages:    p("cms", "pages/landing-pages", v.Pages),
		contacts: p("crm", "objects/contacts", v.Contacts),
		token:    "/oauth/" + v.OAuth + "/token",
	}, nil
}

func suffix(api string) string {
	if i := strings.IndexByte(api, '/'); i >= 0 {
		return api[i:]
	}
	return ""
}

// Option configures a Target, and the connect functions, which build one to
// check a new connection. Options that only concern connecting (WithPrompt,
// WithBrowser, …) are ignored by New.
type Option func(*options)

type options struct {
	httpClient *http.Client
	baseURL    string
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	logger     *slog.Logger
	limits     *Limits
	attempts   int
	baseDelay  time.Duration
	maxDelay   time.Duration
	window     time.Duration
	margin     time.Duration
	connect    connectOptions
	eventPages int // pages of one email campaign's events an Outcomes call reads
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, logger: slog.Default(), eventPages: defaultEventPages}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithHTTPClient sets the HTTP client requests go through. Its Timeout,
// when set, bounds each request.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithBaseURL sends requests to another base URL (a proxy, a fake) instead
// of the configured or stored one; connecting stores it with the
// credentials.
func WithBaseURL(u string) Option { return func(o *options) { o.baseURL = u } }

// WithClock sets the clock the connector reads (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the connector waits out a delay (between attempts,
// and wherever else it waits on the clock); sleep returns ctx's error when
// ctx ends first. Tests pass one that returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is
// logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRetry bounds the attempts per request and the backoff between them:
// baseDelay, doubled per attempt with jitter, at most maxDelay. A zero
// keeps its default (HubSpot: 5 attempts, 250ms, 10s).
func WithRetry(attempts int, baseDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.attempts, o.baseDelay, o.maxDelay = attempts, baseDelay, maxDelay }
}

// WithLimits makes the Target share its per-account limits with every
// Target built with the same Limits. Without it a Target has limits of its
// own.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithRateWindow scales HubSpot's 10-second window (tests and benchmarks run
// a fake with a shorter one). HubSpot's X-HubSpot-RateLimit-Interval-
// Milliseconds header overrides it once seen.
func WithRateWindow(d time.Duration) Option { return func(o *options) { o.window = d } }

// WithRateMargin is the safety margin added to the window (default 1% of it,
// at least 5ms), covering the gap between send and arrival times.
func WithRateMargin(d time.Duration) Option { return func(o *options) { o.margin = d } }

// Target is a HubSpot portal as a sandbox.Target.
type Target struct {
	name    string
	dataDir string
	cfg     Config
	o       options
	paths   paths
	baseURL string
	client  *rest.Client
	limits  *Limits
	lim     *limiter
	auth    *authorizer
	log     *slog.Logger

	mu     sync.Mutex
	portal Portal
	// copies remembers the automated copies of dual emails by the email's
	// marker (see dual.go): a hint, checked before use.
	copies map[string]string
}

var _ sandbox.Target = (*Target)(nil)

// New returns the target named name, using the credentials stored for it in
// dataDir by Connect or ConnectPrivateApp.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	var c credentials
	if err := secret.Load(dataDir, name, &c); err != nil {
		if errors.Is(err, secret.ErrNotFound) {
			return nil, fmt.Errorf("hubspot: target %q is not connected: run lastmile connect hubspot --name %s: %w", name, name, errors.Join(sandbox.ErrAuth, err))
		}
		return nil, fmt.Errorf("hubspot: target %q: %w", name, err)
	}
	if c.AccessToken == "" {
		return nil, fmt.Errorf("hubspot: target %q has no stored token: run lastmile connect hubspot --name %s: %w", name, name, sandbox.ErrAuth)
	}
	return build(name, dataDir, cfg, &c, opts...)
}

func build(name, dataDir string, cfg Config, c *credentials, opts ...Option) (*Target, error) {
	o := optionsOf(opts)
	ps, err := buildPaths(cfg.APIVersions)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(firstNonEmpty(o.baseURL, cfg.BaseURL, c.BaseURL, DefaultBaseURL), "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("hubspot: base_url %q is not an http(s) URL", base)
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 100
	}
	if cfg.RateLimit < 1 {
		return nil, fmt.Errorf("hubspot: rate_limit %d: use the portal's limit per 10 seconds (100 or 190)", cfg.RateLimit)
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.CommitLag <= 0 {
		cfg.CommitLag = DefaultCommitLag
	}
	if cfg.PageTemplatePath == "" {
		cfg.PageTemplatePath = DefaultPageTemplatePath
	}
	for p, ty := range cfg.PropertyTypes {
		if _, ok := propertyKinds[ty]; !ok {
			return nil, fmt.Errorf("hubspot: property_types.%s %q: use string, number, bool, enumeration or datetime", p, ty)
		}
	}
	plain := o.httpClient
	if plain == nil {
		plain = &http.Client{Timeout: cfg.Timeout}
	}
	t := &Target{name: name, dataDir: dataDir, cfg: cfg, o: o, paths: ps, baseURL: base, log: o.logger, portal: c.Portal, limits: o.limits}
	if t.limits == nil {
		t.limits = NewLimits()
	}
	window := o.window
	if window <= 0 {
		window = 10 * time.Second
	}
	t.lim = t.limits.limiterFor(base, c.Portal.HubID, c.AccessToken, func() *limiter {
		return newLimiter(cfg.RateLimit, window, o.margin, o.now, o.sleep)
	})
	// API requests are paced in the transport; the token endpoint is not.
	t.auth = newAuthorizer(c, dataDir, name, firstNonEmpty(c.TokenURL, base+ps.token), plain, o.now, o.logger)
	paced := *plain
	rt := plain.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	paced.Transport = &pacedTransport{base: rt, lim: t.lim}
	hc := &paced
	t.client = &rest.Client{
		HTTP:        hc,
		BaseURL:     base,
		Authorize:   t.auth.authorize,
		Sem:         make(chan struct{}, cfg.MaxConcurrency),
		Limiter:     t.lim,
		MaxAttempts: o.attempts,
		BaseDelay:   o.baseDelay,
		MaxDelay:    o.maxDelay,
		UserAgent:   "lastmile-hubspot/1",
		Sleep:       o.sleep,
	}
	return t, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "hubspot".
func (t *Target) Platform() string { return Platform }

// Capabilities are what the portal allowed at connect time (all five when
// it was not probed).
func (t *Target) Capabilities() sandbox.Capabilities {
	p := t.portalInfo()
	if p.ProbedAt.IsZero() {
		return sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true, Metrics: true}
	}
	return p.Capabilities
}

func (t *Target) portalInfo() Portal {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.portal
}

// Assess checks an object at planning time: what HubSpot cannot express
// (Problems), what the approver must know (Notes), and the audience size
// when HubSpot can tell. It only reads.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	if obj.Kind == sandbox.KindAd {
		a.Problems = append(a.Problems, sandbox.NoAds("HubSpot"))
		return a, nil
	}
	if !t.Capabilities().Supports(obj.Kind) {
		a.Problems = append(a.Problems, t.capabilityProblem(obj.Kind))
		return a, nil
	}
	var err error
	switch obj.Kind {
	case sandbox.KindEmail:
		err = t.assessEmail(ctx, obj, &a)
		if err == nil {
			err = t.assessEmailForms(ctx, obj, &a)
		}
	case sandbox.KindSegment:
		err = t.assessSegment(ctx, obj, &a)
	case sandbox.KindWorkflow:
		err = t.assessFlow(ctx, obj, &a)
	case sandbox.KindPage:
		err = t.assessPage(ctx, obj, &a)
	default:
		a.Problems = append(a.Problems, fmt.Sprintf("HubSpot has nothing for artifacts of kind %q", obj.Kind))
	}
	return a, err
}

func (t *Target) capabilityProblem(k sandbox.Kind) string { return t.capabilityProblemTo("create", k) }

// capabilityProblemTo says why this connection cannot verb objects of kind k.
func (t *Target) capabilityProblemTo(verb string, k sandbox.Kind) string {
	key := map[sandbox.Kind]string{sandbox.KindEmail: "emails", sandbox.KindSegment: "segments", sandbox.KindWorkflow: "workflows", sandbox.KindPage: "pages"}[k]
	what := map[sandbox.Kind]string{sandbox.KindEmail: "marketing emails", sandbox.KindSegment: "contact lists", sandbox.KindWorkflow: "workflows", sandbox.KindPage: "landing pages"}[k]
	msg := fmt.Sprintf("this HubSpot connection cannot %s %s", verb, what)
	if m := t.portalInfo().MissingScopes[key]; len(m) > 0 {
		msg += fmt.Sprintf(": it lacks the scope(s) %s; reconnect with lastmile connect hubspot --name %s and grant them", strings.Join(m, ", "), t.name)
	} else if k == sandbox.KindWorkflow {
		msg += ": HubSpot's workflows API needs a Professional or Enterprise portal; use the local target for this workflow, or upgrade and run lastmile connect hubspot again"
	}
	return msg
}

func wrongKind(obj sandbox.Object) error {
	return fmt.Errorf("hubspot: %s %s has no %s content", obj.Kind, obj.ArtifactID, obj.Kind)
}

// Live reads the live object.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if liveID == "" {
		return sandbox.LiveState{}, false, nil
	}
	switch kind {
	case sandbox.KindEmail:
		return t.liveEmail(ctx, liveID)
	case sandbox.KindSegment:
		return t.liveList(ctx, liveID)
	case sandbox.KindWorkflow:
		return t.liveFlowForms(ctx, liveID)
	case sandbox.KindPage:
		return t.livePage(ctx, liveID)
	}
	return sandbox.LiveState{}, false, fmt.Errorf("hubspot: no live objects of kind %q: %w", kind, sandbox.ErrNotSupported)
}

// Find looks for the object an interrupted attempt may have created.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		return t.findEmail(ctx, obj)
	case sandbox.KindSegment:
		return t.findList(ctx, obj)
	case sandbox.KindWorkflow:
		return t.findFlow(ctx, obj)
	case sandbox.KindPage:
		return t.findPage(ctx, obj)
	}
	return sandbox.LiveState{}, false, fmt.Errorf("hubspot: cannot look for objects of kind %q: %w", obj.Kind, sandbox.ErrNotSupported)
}

// Put creates the object (liveID empty) or updates it.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		return t.putEmailForms(ctx, obj, liveID)
	case sandbox.KindSegment:
		return t.putList(ctx, obj, liveID)
	case sandbox.KindWorkflow:
		return t.putFlow(ctx, obj, liveID)
	case sandbox.KindPage:
		return t.putPage(ctx, obj, liveID)
	}
	return sandbox.LiveState{}, fmt.Errorf("hubspot: cannot create objects of kind %q: %w", obj.Kind, sandbox.ErrNotSupported)
}

// Send sends or schedules an email. See sendEmail.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindEmail {
		return live, fmt.Errorf("hubspot: only emails are sent, not a %s: %w", obj.Kind, sandbox.ErrNotSupported)
	}
	return t.sendEmail(ctx, obj, live, at)
}

// Publish publishes a page (now or at a time) or turns a workflow on.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindPage:
		return t.publishPage(ctx, obj, live, at)
	case sandbox.KindWorkflow:
		return t.enableFlow(ctx, obj, live)
	}
	return live, fmt.Errorf("hubspot: a %s is not published: %w", obj.Kind, sandbox.ErrNotSupported)
}

// maxCreates bounds how often an ambiguous create is looked up and tried again.
const maxCreates = 5

// create performs a create that HubSpot cannot make idempotent. When it
// fails ambiguously (timeout, dropped connection, 5xx) the object is looked
// up by its marker first and only created again when it is not there; when
// HubSpot answers that the name or slug exists (conflict), the lookup tells
// whether it is ours from an earlier attempt.
//
// An ambiguous create may still be applied after HubSpot failed to answer
// it, and a lookup before then finds nothing: the lookup waits until kind's
// landing window (LandWithin) since the request was sent has passed.
func (t *Target) create(ctx context.Context, op string, kind sandbox.Kind,
	post func() (sandbox.LiveState, error),
	find func() (sandbox.LiveState, bool, error),
	exists func(error) bool,
) (sandbox.LiveState, error) {
	for attempt := 1; ; attempt++ {
		sent := t.now()
		st, err := post()
		if err == nil {
			return st, nil
		}
		ambiguous := errors.Is(err, rest.ErrAmbiguous)
		clash := exists != nil && exists(err)
		if !ambiguous && !clash {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		if ambiguous {
			if wait := sent.Add(t.LandWithin(kind)).Sub(t.now()); wait > 0 {
				t.log.Info("hubspot: a create failed ambiguously; waiting out its landing window before looking it up", "target", t.name, "op", op, "wait", wait)
				if err := t.pause(ctx, wait); err != nil {
					return sandbox.LiveState{}, t.fail(op, err)
				}
			}
		}
		found, ok, ferr := find()
		if ferr != nil {
			return sandbox.LiveState{}, t.fail(op+" (looking for an earlier attempt's object)", ferr)
		}
		if ok {
			t.log.Info("hubspot: found the object an earlier attempt created", "target", t.name, "op", op, "id", found.ID)
			return found, nil
		}
		if !ambiguous || attempt >= maxCreates {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		t.log.Warn("hubspot: create failed ambiguously and nothing was created; trying again", "target", t.name, "op", op, "attempt", attempt)
		if err := t.backoff(ctx, attempt); err != nil {
			return sandbox.LiveState{}, t.fail(op, err)
		}
	}
}

func (t *Target) backoff(ctx context.Context, attempt int) error {
	d := t.o.baseDelay
	if d <= 0 {
		d = 250 * time.Millisecond
	}
	d <<= attempt - 1
	if limit := max(t.o.maxDelay, 10*time.Second); d > limit {
		d = limit
	}
	return t.pause(ctx, d)
}

func (t *Target) pause(ctx context.Context, d time.Duration) error {
	if t.o.sleep != nil {
		return t.o.sleep(ctx, d)
	}
	return rest.Sleep(ctx, d)
}

// pageThrough reads every page of a cursor-paged listing until visit says
// stop. basePath may already carry a query string.
func (t *Target) pageThrough(ctx context.Context, basePath string, visit func(raw []byte) (next string, stop bool, err error)) error {
	after := ""
	for range 10000 {
		p := basePath
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if after != "" {
			p += sep + "after=" + url.QueryEscape(after)
		}
		resp, err := t.do(ctx, call{method: "GET", path: p}, nil)
		if err != nil {
			return err
		}
		next, stop, err := visit(resp.Body)
		if err != nil || stop || next == "" {
			return err
		}
		after = next
	}
	return errors.New("HubSpot's listing did not end after 10000 pages")
}

type paging struct {
	Next *struct {
		After string `json:"after"`
	} `json:"next"`
}

func (p *paging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}

// call is one API request.
type call struct {
	method string
	path   string
	body   any
	// idempotent marks a POST/PATCH safe to repeat (reads, or writes that
	// set state absolutely).
	idempotent bool
}

// do sends a request and decodes the JSON answer into out (when not nil).
// An expired OAuth token (401 EXPIRED_AUTHENTICATION) is refreshed and the
// request sent once more: a 401 was not applied.
func (t *Target) do(ctx context.Context, c call, out any) (*rest.Response, error) {
	req := rest.Request{Method: c.method, Path: c.path, Body: c.body, Idempotent: c.idempotent}
	resp, err := t.client.Do(ctx, req)
	var he *rest.HTTPError
	if err != nil && errors.As(err, &he) && he.Status == http.StatusUnauthorized && t.auth.canRefresh() {
		if env := parseEnvelope(he.Body); env.Category == "EXPIRED_AUTHENTICATION" {
			t.auth.invalidate()
			resp, err = t.client.Do(ctx, req)
		}
	}
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			return nil, fmt.Errorf("HubSpot answered %s %s with a body lastmile cannot read: %v", c.method, pathOnly(c.path), err)
		}
	}
	return resp, nil
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// markedName is the name lastmile gives an object: the artifact's name
// followed by its marker, so Find can recognise it.
func markedName(name, marker string) string {
	if marker == "" {
		return name
	}
	return name + " [" + marker + "]"
}

func hasMarker(name, marker string) bool {
	return marker != "" && strings.Contains(name, "["+marker+"]")
}

func (t *Target) now() time.Time { return t.o.now() }
