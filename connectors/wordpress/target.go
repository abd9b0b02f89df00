// Package wordpress is lastmile's WordPress connector: landing pages through
// the core REST API (wp/v2/pages), authenticated with an Application Password
// over HTTP Basic.
//
// A page is created as a draft, then published, or scheduled with
// status "future" and date_gmt, as the approved plan says. WordPress has no
// idempotency keys and silently suffixes a slug that is taken (spring-launch
// becomes spring-launch-2), so the connector marks every page it creates
// (see content.go), looks pages up by slug before it acts, and treats a
// suffixed slug as a conflict rather than publishing at a URL nobody planned.
package wordpress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Platform is the connector's platform name.
const Platform = "wordpress"

// Config holds the non-secret settings of one WordPress target.
type Config struct {
	// BaseURL is the site's address, e.g. https://blog.example.com. Empty:
	// the URL given to lastmile connect.
	BaseURL string `yaml:"base_url"`
	// APIRoot is the REST API root. Empty: what lastmile connect found,
	// else BaseURL + "/wp-json". Sites with plain permalinks use
	// BaseURL + "/?rest_route=".
	APIRoot string `yaml:"api_root"`
	// FormAction is the URL page forms post to (a form handler the site or
	// a service provides). WordPress core has no forms: without it, forms
	// are left out of the page and the plan says so.
	FormAction string `yaml:"form_action"`
	// Template is the page template to use (e.g. a theme's full-width
	// template); empty: the theme's default.
	Template string `yaml:"template"`
	// MaxConcurrency bounds concurrent requests to the site (default 4).
	MaxConcurrency int `yaml:"max_concurrency"`
}

// Option configures a Target, and Connect, which checks a new connection
// the way a Target would. Options that only concern connecting
// (WithPrompt) are ignored by New.
type Option func(*options)

type options struct {
	httpClient *http.Client
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	logger     *slog.Logger
	limits     *Limits
	attempts   int
	baseDelay  time.Duration
	maxDelay   time.Duration
	user       string
	password   string
	prompt     io.Writer
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, logger: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithHTTPClient sets the HTTP client requests go through. Its Timeout,
// when set, bounds each request.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

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
// keeps its default (WordPress: 5 attempts, 250ms, 10s).
func WithRetry(attempts int, baseDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.attempts, o.baseDelay, o.maxDelay = attempts, baseDelay, maxDelay }
}

// WithLimits makes the Target share its per-account limits with every
// Target built with the same Limits. Without it a Target has limits of its
// own.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithCredentials uses these credentials instead of the stored ones.
func WithCredentials(user, applicationPassword string) Option {
	return func(o *options) { o.user, o.password = user, applicationPassword }
}

// Target is a WordPress site as a lastmile target. It is safe for
// concurrent use.
type Target struct {
	name, site, apiRoot, user string
	cfg                       Config
	client                    *rest.Client
	now                       func() time.Time
	log                       *slog.Logger
	timeout                   time.Duration // per request; LandWithin

	capsMu sync.Mutex
	caps   map[string]bool // the user's capabilities, read once
}

var _ sandbox.Target = (*Target)(nil)

// New returns the target called name, with the credentials lastmile connect
// stored under dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	o := optionsOf(opts)
	var cr credentials
	if o.user != "" || o.password != "" {
		cr = credentials{User: o.user, Password: o.password}
	} else if err := secret.Load(dataDir, name, &cr); err != nil {
		if errors.Is(err, secret.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, &rest.Error{Platform: Platform, Op: "load credentials", Kinds: []error{sandbox.ErrAuth}, Cause: err,
				Message: fmt.Sprintf("target %q is not connected: run lastmile connect wordpress --name %s --url SITE_URL --user USER --password-env VAR", name, name)}
		}
		return nil, fmt.Errorf("wordpress: target %q: %w", name, err)
	}
	if cr.User == "" || cr.Password == "" {
		return nil, failf("load credentials", []error{sandbox.ErrAuth},
			"the stored credentials of target %q lack a user or password: run lastmile connect wordpress --name %s again", name, name)
	}
	site := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if site == "" {
		site = cr.SiteURL
	}
	if site == "" {
		return nil, fmt.Errorf("wordpress: target %q: set base_url (the site's address) in its config", name)
	}
	if err := checkSiteURL(site); err != nil {
		return nil, fmt.Errorf("wordpress: target %q: base_url: %w", name, err)
	}
	if cr.SiteURL != "" && !sameSite(cr.SiteURL, site) {
		return nil, failf("load credentials", []error{sandbox.ErrAuth},
			"the credentials of target %q were made for %s, but base_url is %s: run lastmile connect wordpress --name %s --url %s again", name, cr.SiteURL, site, name, site)
	}
	api := strings.TrimRight(strings.TrimSpace(cfg.APIRoot), "/")
	if api == "" && sameSite(cr.SiteURL, site) {
		api = cr.APIRoot
	}
	if api == "" {
		api = site + "/wp-json"
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	conc := cfg.MaxConcurrency
	if conc <= 0 {
		conc = 4
	}
	t := &Target{
		name: name, site: site, apiRoot: api, user: cr.User, cfg: cfg,
		now: o.now, log: o.logger, timeout: hc.Timeout,
	}
	t.client = &rest.Client{
		HTTP:        hc,
		BaseURL:     api,
		Authorize:   cr.authorize,
		Sem:         limitsOr(o.limits).semaphore(site, conc),
		MaxAttempts: o.attempts,
		BaseDelay:   o.baseDelay,
		MaxDelay:    o.maxDelay,
		UserAgent:   "lastmile-wordpress/1",
		Sleep:       o.sleep,
	}
	if i := strings.Index(api, "?"); i >= 0 {
		// rest_route style: the route goes into the query string.
		t.client.BaseURL = api[:i]
	}
	return t, nil
}

func checkSiteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.User != nil {
		return errors.New("the URL must not carry a user or password")
	}
	return nil
}

func sameSite(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/")) }
	return norm(a) == norm(b)
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "wordpress".
func (t *Target) Platform() string { return Platform }

// SiteURL is the site's address.
func (t *Target) SiteURL() string { return t.site }

// Capabilities: pages only. WordPress core keeps no page-view statistics.
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Pages: true}
}

// path builds the request path (relative to the client's BaseURL) for a
// REST route and query.
func (t *Target) path(route string, q url.Values) string {
	if i := strings.Index(t.apiRoot, "?"); i >= 0 {
		// …/?rest_route=/wp/v2/pages&slug=…
		p := t.apiRoot[i:] + route
		if len(q) > 0 {
			p += "&" + q.Encode()
		}
		return p
	}
	if len(q) > 0 {
		return route + "?" + q.Encode()
	}
	return route
}

// serverNow is the site's clock from a response's Date header, else ours.
// WordPress decides "future or now" by its own clock.
func (t *Target) serverNow(resp *rest.Response) time.Time {
	if resp != nil {
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return d.UTC()
		}
	}
	return t.now().UTC()
}

func unsupportedKind(target string, k sandbox.Kind) string {
	return fmt.Sprintf("%s: target %q is a WordPress site, which publishes landing pages only; put this %s on %s by setting target on the artifact",
		k, target, k, sandbox.AlternativeTargets(k))
}

// capabilities reads the user's capabilities once.
func (t *Target) capabilities(ctx context.Context) (map[string]bool, error) {
	t.capsMu.Lock()
	defer t.capsMu.Unlock()
	if t.caps != nil {
		return t.caps, nil
	}
	me, err := getMe(ctx, t.client, t.path("/wp/v2/users/me", url.Values{"context": {"edit"}, "_fields": {"id,name,roles,capabilities"}}))
	if err != nil {
		return nil, t.fail("read the user's capabilities", err)
	}
	t.caps = me.Capabilities
	return t.caps, nil
}

type wpUser struct {
	ID           int             `json:"id"`
	Name         string          `json:"name"`
	Roles        []string        `json:"roles"`
	Capabilities map[string]bool `json:"capabilities"`
}

func getMe(ctx context.Context, c *rest.Client, path string) (wpUser, error) {
	resp, err := c.Do(ctx, rest.Request{Method: http.MethodGet, Path: path})
	if err != nil {
		return wpUser{}, err
	}
	var u wpUser
	if err := resp.Decode(&u); err != nil {
		return wpUser{}, fmt.Errorf("the site answered users/me with something that is not a user: %w", err)
	}
	return u, nil
}

// Assess checks an object at planning time: what WordPress cannot express
// (Problems) and what the approver must know (Notes). It only reads.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.Assessment{AudienceSize: -1, Problems: []string{unsupportedKind(t.name, obj.Kind)}}, nil
	}
	return t.assessPage(ctx, obj)
}

// Live reads the live object; found is false when it was deleted or trashed.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if kind != sandbox.KindPage {
		return sandbox.LiveState{}, false, failf("read "+string(kind), []error{sandbox.ErrNotSupported}, "WordPress targets hold pages only")
	}
	return t.livePage(ctx, liveID)
}

// Find looks for the object an interrupted attempt may have created.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, false, nil
	}
	return t.findPage(ctx, obj)
}

// Put creates the object (liveID empty) or updates it.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	op := pageOp("update", obj)
	if liveID == "" {
		op = pageOp("create", obj)
	}
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	return t.putPage(ctx, op, obj, liveID)
}

// Publish publishes a page now (at zero) or schedules it for at.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	op := pageOp("publish", obj)
	if !at.IsZero() {
		op = pageOp("schedule", obj)
	}
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	return t.publishPage(ctx, op, obj, live, at)
}

// Send is not something WordPress does.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, failf(pageOp("send", obj), []error{sandbox.ErrNotSupported}, "WordPress sends no emails; put emails on a mailchimp, hubspot or local target")
}

// Metrics is not supported: WordPress core keeps no page-view statistics.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	return nil, failf("fetch metrics", []error{sandbox.ErrNotSupported},
		"WordPress core keeps no page-view statistics; read them from the site's analytics (Jetpack Stats, Google Analytics, …)")
}
