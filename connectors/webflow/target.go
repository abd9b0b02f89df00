// Package webflow is lastmile's Webflow connector: landing pages as CMS
// items of one collection, through the Data API v2
// (https://api.webflow.com/v2), authenticated with a site token (Bearer).
//
// The Data API cannot create static pages, so a lastmile page is an item of
// a collection whose template page the site's designer has laid out: its
// name is the page title, its slug the URL path under the collection's
// (https://<domain>/<collection-slug>/<item-slug>), the body goes into a
// RichText field and the meta description into a PlainText field, both
// found at connect time. A PlainText marker field (lastmile-marker, which
// lastmile connect creates when the collection lacks it) carries the
// artifact's marker.
//
// Safe creation and reconciliation. Webflow offers no idempotency keys. An
// item is created with isDraft:true, so nothing is live before the approved
// plan's publish step. Slugs are unique in a collection, so Find looks the
// item up by its exact slug (GET …/items?slug=) and takes it as lastmile's
// only when it carries the marker; an item with the slug that does not is a
// conflict, reported at planning (Assess) before anything is written. A
// create whose answer was lost, or that fails because the slug is taken,
// adopts the item when it carries the marker.
//
// Publishing publishes the item (POST …/items/publish). When the site has
// never been published (GET /sites/{id} says lastPublished null) the
// collection template page has no live page either, so an item publish is
// not enough: lastmile then publishes the site once, to every custom domain
// and the webflow.io subdomain, honouring Webflow's one site publish per
// minute, and the plan says so at planning. Webflow cannot schedule a
// publish through the API: a publish_at is a Problem at planning.
//
// Updates keep what the human approved live: an update of a live item
// PATCHes the staged item and publishes it again at once, so the live page
// is the approved revision (Assess says so); a draft stays a draft.
package webflow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Platform is the connector's platform name.
const Platform = "webflow"

// DefaultBaseURL is the Data API v2.
const DefaultBaseURL = "https://api.webflow.com/v2"

// DefaultMarkerField is the marker field's slug lastmile connect creates.
const DefaultMarkerField = "lastmile-marker"

// Config holds the non-secret settings of one Webflow target, as lastmile
// connect webflow writes them into config.yaml.
type Config struct {
	// SiteID is the Webflow site.
	SiteID string `yaml:"site_id"`
	// CollectionID is the CMS collection landing pages are items of.
	CollectionID string `yaml:"collection_id"`
	// CollectionSlug is the collection's slug, the path under which its
	// items are published.
	CollectionSlug string `yaml:"collection_slug"`
	// BodyField is the slug of the RichText field the page body goes into.
	BodyField string `yaml:"body_field"`
	// MetaField is the slug of the PlainText field for the meta
	// description; empty: the collection has none, and it is left out.
	MetaField string `yaml:"meta_field"`
	// MarkerField is the slug of the PlainText field that carries
	// lastmile's marker. Empty: none, and an item is taken as lastmile's by
	// its slug alone (an item already holding the slug at planning is then a
	// conflict).
	MarkerField string `yaml:"marker_field"`
	// URLPrefix is where the collection's items are published:
	// https://<domain>/<collection-slug>.
	URLPrefix string `yaml:"url_prefix"`
	// RateLimit is the token's requests per minute: 60 (Starter, Basic) or
	// 120 (CMS, eCommerce, Business). Default 60.
	RateLimit int `yaml:"rate_limit"`
	// FormItemField is the name of a hidden field the collection template's
	// form posts with the item's slug: it is how a submission is tied to one
	// page. Empty: submissions are not read (no outcomes, no metrics).
	FormItemField string `yaml:"form_item_field"`
	// BaseURL is the API base (default https://api.webflow.com/v2); tests
	// and proxies set it.
	BaseURL string `yaml:"base_url"`
	// Timeout bounds each request (default 30s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// LandingLag is how long after its request's timeout a create may still
	// land (default 5s); with Timeout it makes LandWithin.
	LandingLag time.Duration `yaml:"landing_lag,omitempty"`
}

// Option configures a Target and Connect.
type Option func(*options)

type options struct {
	httpClient *http.Client
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	logger     *slog.Logger
	limits     *Limits
	token      string
	attempts   int
	window     time.Duration
	maxWait    time.Duration
	lag        time.Duration
	lagSet     bool
	prompt     interface{ Write([]byte) (int, error) }
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, logger: slog.Default(), window: time.Minute, maxWait: 65 * time.Second, lag: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if o.sleep == nil {
		o.sleep = rest.Sleep
	}
	return o
}

// WithHTTPClient sets the HTTP client (its Timeout, when set, bounds each request).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the connector waits (rate limits, retries, the site
// publish gate); it returns ctx's error when ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLimits shares per-token rate limits and the per-site publish gate with
// every Target built with the same Limits.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithToken uses this token instead of the stored one.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithRetry bounds the attempts per request (default 5).
func WithRetry(attempts int) Option { return func(o *options) { o.attempts = attempts } }

// WithRateWindow sets the window the rate limit counts in (default a
// minute; tests shorten it).
func WithRateWindow(d time.Duration) Option { return func(o *options) { o.window = d } }

// WithMaxWait bounds how long the connector waits when Webflow answers 429
// (default 65s: Webflow's Retry-After is typically 60s). A longer wait is
// returned as an error carrying the Retry-After.
func WithMaxWait(d time.Duration) Option { return func(o *options) { o.maxWait = d } }

// WithLandingLag sets how long after its request a create may still land
// (default 5s), added to the request timeout in LandWithin.
func WithLandingLag(d time.Duration) Option { return func(o *options) { o.lag, o.lagSet = d, true } }

// Target is a Webflow CMS collection as a lastmile target. It is safe for
// concurrent use.
type Target struct {
	name    string
	cfg     Config
	base    string
	client  *rest.Client
	lim     *limiter
	gate    *publishGate
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	log     *slog.Logger
	timeout time.Duration
	lag     time.Duration
	cr      credentials

	slugsMu sync.Mutex
	slugs   map[string]string // item id → slug, for outcomes
}

var _ sandbox.Target = (*Target)(nil)

// New returns the target called name, with the token lastmile connect stored
// under dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	o := optionsOf(opts)
	var cr credentials
	if o.token != "" {
		cr = credentials{Token: o.token, SiteID: cfg.SiteID}
	} else if err := secret.Load(dataDir, name, &cr); err != nil {
		if errors.Is(err, secret.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, &rest.Error{Platform: Platform, Op: "load credentials", Kinds: []error{sandbox.ErrAuth}, Cause: err,
				Message: fmt.Sprintf("target %q is not connected: run lastmile connect webflow --name %s --token-env VAR --site SITE_ID --collection COLLECTION_ID", name, name)}
		}
		return nil, fmt.Errorf("webflow: target %q: %w", name, err)
	}
	if cr.Token == "" {
		return nil, failf("load credentials", []error{sandbox.ErrAuth}, "the stored credentials of target %q hold no token: run lastmile connect webflow --name %s again", name, name)
	}
	if cfg.SiteID == "" || cfg.CollectionID == "" {
		return nil, fmt.Errorf("webflow: target %q: set site_id and collection_id in its config (lastmile connect webflow writes them)", name)
	}
	if cr.SiteID != "" && cr.SiteID != cfg.SiteID {
		return nil, failf("load credentials", []error{sandbox.ErrAuth},
			"the token of target %q was stored for site %s, but site_id is %s: run lastmile connect webflow --name %s --site %s again", name, cr.SiteID, cfg.SiteID, name, cfg.SiteID)
	}
	if cfg.BodyField == "" {
		return nil, fmt.Errorf("webflow: target %q: set body_field (the collection's RichText field for the page body) in its config", name)
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := o.httpClient
	if hc == nil {
		to := cfg.Timeout
		if to <= 0 {
			to = 30 * time.Second
		}
		hc = &http.Client{Timeout: to}
	}
	rpm := cfg.RateLimit
	if rpm <= 0 {
		rpm = 60
	}
	if cfg.LandingLag > 0 && !o.lagSet {
		o.lag = cfg.LandingLag
	}
	ls := limitsOr(o.limits)
	lim := ls.limiter(base, cr.Token, func() *limiter { return newLimiter(rpm, o.window, o.maxWait, o.now, o.sleep) })
	t := &Target{
		name: name, cfg: cfg, base: base, lim: lim, gate: ls.gate(base, cfg.SiteID),
		now: o.now, sleep: o.sleep, log: o.logger, timeout: hc.Timeout, lag: o.lag, cr: cr,
		slugs: map[string]string{},
	}
	t.client = &rest.Client{
		HTTP:        hc,
		BaseURL:     base,
		Authorize:   cr.authorize,
		Limiter:     lim,
		MaxAttempts: o.attempts,
		UserAgent:   "lastmile-webflow/1",
		Sleep:       o.sleep,
	}
	return t, nil
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "webflow".
func (t *Target) Platform() string { return Platform }

// Capabilities: pages; metrics (form submissions per page) only when the
// template's form carries the item's slug (form_item_field). Webflow's Data
// API has no page analytics.
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Pages: true, Metrics: t.cfg.FormItemField != ""}
}

func unsupportedKind(target string, k sandbox.Kind) string {
	return fmt.Sprintf("%s: target %q is a Webflow site, which publishes landing pages (CMS items) only; put this %s on %s by setting target on the artifact",
		k, target, k, sandbox.AlternativeTargets(k))
}

// Assess checks an object at planning time; it only reads.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.Assessment{AudienceSize: -1, Problems: []string{unsupportedKind(t.name, obj.Kind)}}, nil
	}
	return t.assessPage(ctx, obj)
}

// Live reads the item; found is false when it was deleted.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if kind != sandbox.KindPage {
		return sandbox.LiveState{}, false, failf("read "+string(kind), []error{sandbox.ErrNotSupported}, "Webflow targets hold pages only")
	}
	st, found, err := t.itemState(ctx, "read page "+liveID, liveID)
	if err != nil || !found {
		return sandbox.LiveState{}, false, err
	}
	return st.state(t), true, nil
}

// Find looks the item up by its exact slug and returns it when it carries
// obj's marker.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, false, nil
	}
	st, found, err := t.findItem(ctx, pageOp("find", obj), obj)
	if err != nil || !found {
		return sandbox.LiveState{}, false, err
	}
	return st.state(t), true, nil
}

// Put creates the item as a draft (liveID empty) or updates it.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	op := pageOp("update", obj)
	if liveID == "" {
		op = pageOp("create", obj)
	}
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	if liveID == "" {
		return t.createItem(ctx, op, obj)
	}
	return t.updateItem(ctx, op, obj, liveID)
}

// Publish publishes the item now. Webflow cannot schedule (at must be zero;
// Assess reports a publish_at as a Problem).
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	op := pageOp("publish", obj)
	if obj.Kind != sandbox.KindPage || obj.Page == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	if !at.IsZero() {
		return sandbox.LiveState{}, failf(pageOp("schedule", obj), []error{sandbox.ErrNotSupported}, "%s", scheduleProblem(*obj.Page))
	}
	return t.publishItem(ctx, op, obj, live)
}

// Send is not something Webflow does.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, failf(pageOp("send", obj), []error{sandbox.ErrNotSupported}, "Webflow sends no emails; put emails on a mailchimp, hubspot or local target")
}

func pageOp(verb string, obj sandbox.Object) string {
	if obj.Page != nil && obj.Page.Title != "" {
		return fmt.Sprintf("%s page %q", verb, obj.Page.Title)
	}
	return fmt.Sprintf("%s page %s", verb, obj.ArtifactID)
}
