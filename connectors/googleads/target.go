// Package googleads is lastmile's Google Ads connector: search campaigns
// (budget, campaign, ad groups, responsive search ads, keywords, and the
// locations and languages they target) through the Google Ads API v25 REST
// interface, authenticated with OAuth 2 (a refresh token) and a developer
// token.
//
// A campaign is created in ONE atomic googleAds:mutate request, with
// temporary resource names (negative ids) linking budget → campaign → its
// location and language criteria (CampaignCriterion: Google applies
// location targeting to campaigns) → ad groups → ads and keywords,
// everything PAUSED and every name carrying the
// artifact's marker ("Spring sale [lm-ad_…]"). Google applies such a request
// all or nothing, so a campaign found by its marker (GAQL over
// googleAds:searchStream) is a campaign with all its children, and campaign
// names are unique among campaigns not removed, so a create repeated after a
// crash fails with DUPLICATE_CAMPAIGN_NAME instead of making a second
// campaign: the connector then adopts the one that landed. Planning sends the
// same request with validateOnly: one dry run per ad campaign.
//
// The plan's enable step (Publish) sets the campaign, its ad groups, ads and
// keywords ENABLED in one mutate; pause, resume and remove are status
// updates too. Metrics are GAQL over the campaign resource with
// segments.date.
//
// Locations (countries, as geoTargetConstants/{2000+ISO numeric}) and
// languages (languageConstants/{id}) are campaign criteria
// (campaignCriterionOperation in the same mutate; campaign_criterion in
// GAQL), diffed on update; keywords are ad group criteria. Campaign
// criteria have no status lastmile sets: enabling the campaign is enough.
// Customer Match lists (UserListService,
// OfflineUserDataJobService) are not in the stored protos either: ad
// campaigns that name audience segments are refused at planning.
package googleads

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Platform is the connector's platform name.
const Platform = sandbox.PlatformGoogleAds

// DefaultBaseURL is the Google Ads API.
const DefaultBaseURL = "https://googleads.googleapis.com"

// DefaultTokenURL is Google's OAuth 2 token endpoint.
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// DefaultRate is the request rate lastmile keeps to per developer token
// when the config does not say. Google documents no per-second figure (it
// throttles with QuotaError.RESOURCE_TEMPORARILY_EXHAUSTED and a retry
// delay); 10 requests a second stays well clear of it in practice.
const DefaultRate = 10

// Config holds the non-secret settings of one Google Ads target.
type Config struct {
	// CustomerID is the Google Ads account (ten digits; hyphens are
	// dropped).
	CustomerID string `yaml:"customer_id"`
	// LoginCustomerID is the manager account lastmile signs in through,
	// when the account is reached through one; empty: none.
	LoginCustomerID string `yaml:"login_customer_id"`
	// Currency and TimeZone are the account's, as lastmile connect read
	// them. Budgets must be in Currency; dates are days in TimeZone.
	Currency string `yaml:"currency"`
	TimeZone string `yaml:"time_zone"`
	// Name is the account's descriptive name, as read at connect.
	AccountName string `yaml:"account_name"`
	// BaseURL is the API's address (default https://googleads.googleapis.com).
	BaseURL string `yaml:"base_url"`
	// TokenURL is the OAuth 2 token endpoint (default Google's).
	TokenURL string `yaml:"token_url"`
	// RequestsPerSecond bounds the request rate of every target sharing
	// the developer token (default 10).
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// MaxRetryWait is the longest lastmile waits out a throttle before it
	// gives up and reports it (default 60s).
	MaxRetryWait time.Duration `yaml:"max_retry_wait"`
	// Timeout bounds each request (default 60s: a large atomic mutate
	// takes a while).
	Timeout time.Duration `yaml:"timeout"`
}

// Option configures a Target.
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
	creds      *credentials
	landingLag time.Duration
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, logger: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithHTTPClient sets the HTTP client requests go through.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock sets the clock the connector reads (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the connector waits between attempts.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRetry bounds the attempts per request and the backoff between them
// (default 5 attempts, 250ms doubling to 10s).
func WithRetry(attempts int, baseDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.attempts, o.baseDelay, o.maxDelay = attempts, baseDelay, maxDelay }
}

// WithLimits makes the Target share its rate limiter with every Target
// built with the same Limits and developer token.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithCredentials uses these credentials instead of the stored ones.
func WithCredentials(clientID, clientSecret, refreshToken, developerToken string) Option {
	return func(o *options) {
		o.creds = &credentials{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: refreshToken, DeveloperToken: developerToken}
	}
}

// WithLandingLag sets how long after a request's timeout Google may still
// apply it (LandWithin; default 30 seconds).
func WithLandingLag(d time.Duration) Option { return func(o *options) { o.landingLag = d } }

// Target is a Google Ads account as a lastmile target. It is safe for
// concurrent use.
type Target struct {
	name     string
	cfg      Config
	customer string
	client   *rest.Client
	auth     *authorizer
	now      func() time.Time
	log      *slog.Logger
	timeout  time.Duration
	lag      time.Duration
}

var _ sandbox.Target = (*Target)(nil)

// New returns the target called name, with the credentials lastmile connect
// stored under dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	o := optionsOf(opts)
	var cr credentials
	if o.creds != nil {
		cr = *o.creds
	} else if err := secret.Load(dataDir, name, &cr); err != nil {
		if errors.Is(err, secret.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, &rest.Error{Platform: Platform, Op: "load credentials", Kinds: []error{sandbox.ErrAuth}, Cause: err,
				Message: fmt.Sprintf("target %q is not connected: run lastmile connect google-ads --name %s --customer-id ID --developer-token-env VAR (--refresh-token-env VAR | --client-id ID --client-secret-env VAR)", name, name)}
		}
		return nil, fmt.Errorf("google_ads: target %q: %w", name, err)
	}
	if cr.RefreshToken == "" || cr.DeveloperToken == "" || cr.ClientID == "" {
		return nil, failf("load credentials", []error{sandbox.ErrAuth},
			"the stored credentials of target %q lack a refresh token, client id or developer token: run lastmile connect google-ads --name %s again", name, name)
	}
	customer, err := normalizeCustomerID(cfg.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("google_ads: target %q: customer_id: %w", name, err)
	}
	login := ""
	if cfg.LoginCustomerID != "" {
		if login, err = normalizeCustomerID(cfg.LoginCustomerID); err != nil {
			return nil, fmt.Errorf("google_ads: target %q: login_customer_id: %w", name, err)
		}
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	} else if hc.Timeout > 0 {
		timeout = hc.Timeout
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	rps := cfg.RequestsPerSecond
	if rps <= 0 {
		rps = DefaultRate
	}
	maxWait := cfg.MaxRetryWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	lag := o.landingLag
	if lag <= 0 {
		lag = 30 * time.Second
	}
	t := &Target{name: name, cfg: cfg, customer: customer, now: o.now, log: o.logger, timeout: timeout, lag: lag}
	t.auth = newAuthorizer(name, cr, tokenURL, login, hc)
	t.client = &rest.Client{
		HTTP:        hc,
		BaseURL:     base,
		Authorize:   t.auth.authorize,
		Limiter:     limitsOr(o.limits).limiter(cr.DeveloperToken, rps, maxWait),
		MaxAttempts: o.attempts,
		BaseDelay:   o.baseDelay,
		MaxDelay:    o.maxDelay,
		UserAgent:   "lastmile-googleads/1",
		Sleep:       o.sleep,
	}
	return t, nil
}

// normalizeCustomerID drops hyphens and checks for ten digits.
func normalizeCustomerID(s string) (string, error) {
	id := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(id) != 10 || strings.Trim(id, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a Google Ads customer id (ten digits, as 123-456-7890)", s)
	}
	return id, nil
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "google_ads".
func (t *Target) Platform() string { return Platform }

// Currency is the account's currency (ISO 4217), as read at connect; empty
// when unknown. Budgets and bids are in it.
func (t *Target) Currency() string { return t.cfg.Currency }

// CustomerID is the account's id (ten digits).
func (t *Target) CustomerID() string { return t.customer }

// Capabilities: ad campaigns and their metrics.
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Ads: true, Metrics: true}
}

func unsupportedKind(target string, k sandbox.Kind) string {
	alt := "a target that has them"
	switch k {
	case sandbox.KindEmail:
		alt = "a mailchimp, hubspot or local target"
	case sandbox.KindSegment:
		alt = "a mailchimp, hubspot or local target (Google Ads customer lists are not supported by this connector)"
	case sandbox.KindWorkflow:
		alt = "a hubspot or local target"
	case sandbox.KindPage:
		alt = "a wordpress, hubspot or local target, and point the ads' final URLs at it"
	}
	return fmt.Sprintf("%s: target %q is a Google Ads account (google_ads), which runs ad campaigns only; put this %s on %s by setting target on the artifact",
		k, target, k, alt)
}

// Assess checks an ad campaign against Google's limits locally, then with
// one validate-only googleAds:mutate: what Google would refuse becomes a
// Problem naming its position. Nothing is created.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.Assessment{AudienceSize: -1, Problems: []string{unsupportedKind(t.name, obj.Kind)}}, nil
	}
	return t.assessAd(ctx, obj)
}

// Live reads the campaign; found is false when Google has no campaign by
// that id. A removed campaign is found, with Status "removed".
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if kind != sandbox.KindAd {
		return sandbox.LiveState{}, false, failf("read "+string(kind), []error{sandbox.ErrNotSupported}, "Google Ads targets hold ad campaigns only")
	}
	lc, found, err := t.readLive(ctx, "read ad campaign "+liveID, liveID)
	if err != nil || !found {
		return sandbox.LiveState{}, found, err
	}
	return t.state(lc), true, nil
}

// Find looks for a campaign not removed whose name carries obj's marker.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Kind != sandbox.KindAd {
		return sandbox.LiveState{}, false, nil
	}
	id, found, err := t.findByMarker(ctx, obj.Marker)
	if err != nil || !found {
		return sandbox.LiveState{}, false, err
	}
	return t.Live(ctx, sandbox.KindAd, id)
}

// Put creates the campaign, paused (liveID empty), or updates it.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.LiveState{}, failf("put "+string(obj.Kind), []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	if liveID == "" {
		return t.createAd(ctx, obj)
	}
	return t.updateAd(ctx, obj, liveID)
}

// Send is not something Google Ads does.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, failf("send", []error{sandbox.ErrNotSupported}, "Google Ads sends no emails; put emails on a mailchimp, hubspot or local target")
}

// Publish is the plan's enable step: the campaign, its ad groups, ads and
// keywords become ENABLED in one mutate. A campaign enabled already is left
// alone. Google has no scheduled enable: a time is refused.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindAd {
		return sandbox.LiveState{}, failf("publish "+string(obj.Kind), []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	if !at.IsZero() {
		return sandbox.LiveState{}, failf("enable ad campaign", []error{sandbox.ErrNotSupported},
			"Google Ads enables a campaign now; it starts spending on its start date (start_date), so set that instead of a time")
	}
	return t.enable(ctx, "enable ad campaign "+live.ID, live.ID)
}
