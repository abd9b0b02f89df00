// Package meta is lastmile's Meta Ads connector: ad campaigns (sandbox.KindAd)
// on one ad account through the Marketing API (Graph API v25.0), as link ads
// that run as one Facebook page. It holds nothing else: emails, segments,
// workflows and pages belong on other targets.
//
// Promotion creates, in dependency order and everything PAUSED: the
// campaign (POST /act_{id}/campaigns: objective OUTCOME_* from the lastmile
// objective, special_ad_categories [], a campaign budget (CBO) in the
// currency's minor units, bid_strategy LOWEST_COST_WITH_BID_CAP when the ad
// groups give a max CPC, else LOWEST_COST_WITHOUT_CAP), one ad set per ad
// group (targeting countries and locales, billing IMPRESSIONS, an
// optimization goal by objective, bid_amount from max_cpc, start_time and
// end_time at the ends of StartDate and EndDate in the account's time
// zone), one creative per ad (object_story_spec.link_data as the page of
// Config.PageID) and one ad per creative. Publish (the plan's enable step)
// sets ads, ad sets and then the campaign ACTIVE, writing only what is not
// ACTIVE yet.
//
// Markers. Meta has no idempotency keys and no name uniqueness, so every
// name carries the marker: "Spring sale [lm-ad_01…]" for the campaign,
// "Tents [lm-ad_01… g0]" for the first ad set, "… [lm-ad_01… g0 a1]" for
// its second ad, and "… [lm-ad_01… g0 a1 c<hash>]" for a creative (the
// hash is of its content, as creatives are immutable). Find lists the
// account's campaigns (GET /act_{id}/campaigns, paged) and matches the
// marker client-side; children are found under the campaign (GET
// /{campaign_id}/adsets|ads) and creatives in the account. Ad labels would
// make the lookups cheaper, but the element format of adlabels is not
// confirmed and a label is one more object that can leak; names are
// visible to the customer in Ads Manager and need nothing else.
//
// An update (Put with a live id) reads the campaign's ad sets and ads,
// matches them to the ad groups and ads by their tags, and changes what
// differs: the campaign's name and budget (a campaign budget, so Meta's
// rule of 4 budget changes per ad set per hour does not apply), each ad
// set's name, bid, end time and targeting; a changed ad gets a new
// creative and is pointed at it; ad groups and ads that were added are
// created (with the campaign's status), those removed are deleted. A
// resumed Put (obj.Resumed: an earlier attempt was interrupted) goes the
// same way, and on a create it looks for creatives by marker first, so
// nothing an earlier attempt made is made twice.
//
// The dry run (Assess). After the local checks (lengths, enums, counts,
// currency, dates, each Problem naming its position such as
// ad_groups[0].ads[1].headline), Assess sends the campaign and every
// distinct creative with execution_options=["validate_only"]: 1 + (number
// of distinct ads) requests, nothing created. Ad sets and ads are not
// dry-run on the platform: they need the live id of a campaign or ad set
// and a creative, which a dry run cannot have; their parameters are checked
// locally against the contract instead (required fields, enums, bid with
// a bid-cap strategy, lifetime budget with an end date).
//
// Customer lists. Each audience segment (a static segment: lastmile knows
// addresses for those only; one that selects by conditions is a Problem)
// becomes a custom audience (POST /act_{id}/customaudiences, subtype
// CUSTOM, customer_file_source USER_PROVIDED_ONLY) named with the marker,
// the segment's position and a hash of its members; the addresses are
// trimmed, lower-cased and SHA-256 hashed before they leave lastmile and
// are added with POST /{audience_id}/users (payload schema EMAIL_SHA256,
// 10,000 a call, one session for more). The ad sets then target
// custom_audiences. Members cannot be read back, so a changed member list
// makes a new audience (its name carries the new hash); the old one is
// deleted once no ad set targets it, and removing the campaign deletes its
// audiences. Audiences are not dry-run (the edge takes no validate_only).
//
// Rate limits. Every answer's X-Business-Use-Case-Usage, X-Ad-Account-Usage
// and X-App-Usage are read; above 80% of any, requests are spaced out, and
// a throttle (HTTP 400 with code 80004, 17, 613, 4 or 32) is waited out
// when Meta says it lifts within Config.MaxThrottleWait (default 60 s),
// else returned as an error carrying the wait (Retry-After), which the
// sandbox classifies as rate_limited.
//
// Metrics come from GET /{campaign_id}/insights (impressions, clicks,
// spend in major units → cost_micros, and conversions: the sum of actions
// whose type starts with "offsite_conversion." — the website conversions
// of Meta's pixel and Conversions API, where lastmile's ads send people —
// × 1000).
package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
const Platform = sandbox.PlatformMeta

// DefaultBaseURL is the Graph API base with its version.
const DefaultBaseURL = "https://graph.facebook.com/v25.0"

// Config holds the non-secret settings of one Meta target.
type Config struct {
	// AdAccount is the ad account, "act_123…" or its digits. Empty: the
	// account given to lastmile connect.
	AdAccount string `yaml:"ad_account,omitempty"`
	// PageID is the Facebook page the ads run as. Empty: the page given
	// to lastmile connect.
	PageID string `yaml:"page_id,omitempty"`
	// BaseURL is the Graph API base (default DefaultBaseURL); tests point
	// it at metatest.
	BaseURL string `yaml:"base_url,omitempty"`
	// Timeout bounds each HTTP request (default 60 s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// MaxThrottleWait is the longest lastmile waits out a throttle before
	// it gives up with a rate_limited error (default 60 s).
	MaxThrottleWait time.Duration `yaml:"max_throttle_wait,omitempty"`
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
	appSecret  string
	lag        time.Duration
	lagSet     bool
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, logger: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithHTTPClient sets the HTTP client (its Timeout, when set, bounds each request).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the connector waits (throttles, pacing, backoff);
// tests pass one that returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLimits shares per-account pacing with every Target built with the same Limits.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithCredentials uses this token (and app secret, "" for none) instead of the stored ones.
func WithCredentials(token, appSecret string) Option {
	return func(o *options) { o.token, o.appSecret = token, appSecret }
}

// WithLandingLag sets how long after the request timeout a write may still
// land (default LandingLag). Tests shorten it.
func WithLandingLag(d time.Duration) Option { return func(o *options) { o.lag, o.lagSet = d, true } }

// credentials is what lastmile connect meta stores (0600).
type credentials struct {
	Token       string    `json:"token"`
	AppSecret   string    `json:"app_secret,omitempty"`
	AdAccount   string    `json:"ad_account"`
	PageID      string    `json:"page_id"`
	BaseURL     string    `json:"base_url,omitempty"`
	AccountName string    `json:"account_name,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	TimeZone    string    `json:"timezone,omitempty"`
	Permissions []string  `json:"permissions,omitempty"`
	Tier        string    `json:"tier,omitempty"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
}

// Target is one Meta ad account as a lastmile target. Safe for concurrent use.
type Target struct {
	name, account, pageID, base string
	cred                        credentials
	client                      *rest.Client
	limiter                     *targetLimiter
	now                         func() time.Time
	sleep                       func(context.Context, time.Duration) error
	log                         *slog.Logger
	timeout, lag, maxThrottle   time.Duration

	acctMu sync.Mutex
	acct   *accountInfo
}

var _ sandbox.Target = (*Target)(nil)

// normAccount is "act_<digits>" for "act_<digits>" or "<digits>".
func normAccount(s string) (string, error) {
	s = strings.TrimSpace(s)
	d := strings.TrimPrefix(s, "act_")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return "", fmt.Errorf("%q is not an ad account id: give act_ followed by digits (Ads Manager shows the account id in the account menu)", s)
	}
	return "act_" + d, nil
}

// New returns the target called name, with the credentials lastmile
// connect meta stored under dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	o := optionsOf(opts)
	var cr credentials
	if o.token != "" {
		cr = credentials{Token: o.token, AppSecret: o.appSecret}
	} else if err := secret.Load(dataDir, name, &cr); err != nil {
		if errors.Is(err, secret.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, failf("load credentials", []error{sandbox.ErrAuth},
				"target %q is not connected: run lastmile connect meta --name %s --token-env VAR --ad-account act_… --page-id PAGE", name, name)
		}
		return nil, fmt.Errorf("meta: target %q: %w", name, err)
	}
	if cr.Token == "" {
		return nil, failf("load credentials", []error{sandbox.ErrAuth}, "the stored credentials of target %q hold no token: run lastmile connect meta --name %s again", name, name)
	}
	acct := cfg.AdAccount
	if acct == "" {
		acct = cr.AdAccount
	}
	account, err := normAccount(acct)
	if err != nil {
		return nil, fmt.Errorf("meta: target %q: ad_account: %w", name, err)
	}
	page := cfg.PageID
	if page == "" {
		page = cr.PageID
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = strings.TrimRight(cr.BaseURL, "/")
	}
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
	}
	if hc.Timeout > 0 && hc.Timeout < timeout {
		timeout = hc.Timeout
	}
	lag := LandingLag
	if o.lagSet {
		lag = o.lag
	}
	maxThrottle := cfg.MaxThrottleWait
	if maxThrottle <= 0 {
		maxThrottle = 60 * time.Second
	}
	sleep := o.sleep
	if sleep == nil {
		sleep = rest.Sleep
	}
	t := &Target{
		name: name, account: account, pageID: page, base: base, cred: cr,
		now: o.now, sleep: sleep, log: o.logger, timeout: timeout, lag: lag, maxThrottle: maxThrottle,
	}
	t.limiter = &targetLimiter{p: limitsOr(o.limits).pacer(account), sleep: sleep}
	t.client = &rest.Client{
		HTTP: hc, BaseURL: base, Authorize: t.authorize, Limiter: t.limiter,
		UserAgent: "lastmile-meta/1", Sleep: o.sleep,
	}
	if cr.Currency != "" {
		t.acct = &accountInfo{Currency: cr.Currency, TimeZone: cr.TimeZone, Name: cr.AccountName}
	}
	return t, nil
}

// authorize sends the token as "Authorization: Bearer" (as Meta's Postman
// collection does), so it is in no URL a proxy or an error could show, and,
// with an app secret, appsecret_proof in the query (useless without the
// token; rest reports paths without the query all the same).
func (t *Target) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+t.cred.Token)
	if t.cred.AppSecret != "" {
		q := req.URL.Query()
		q.Set("appsecret_proof", appSecretProof(t.cred.AppSecret, t.cred.Token))
		req.URL.RawQuery = q.Encode()
	}
	return nil
}

func appSecretProof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "meta".
func (t *Target) Platform() string { return Platform }

// Capabilities: ad campaigns and their metrics.
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Ads: true, Metrics: true}
}

// AdAccount is the ad account id, act_….
func (t *Target) AdAccount() string { return t.account }

// Currency is the ad account's currency (ISO 4217), as recorded at connect
// or read from the account (within 10 s); "" when it could not be read.
func (t *Target) Currency() string {
	t.acctMu.Lock()
	defer t.acctMu.Unlock()
	if t.acct != nil {
		return t.acct.Currency
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := t.readAccount(ctx)
	if err != nil {
		return ""
	}
	t.acct = &a
	return a.Currency
}

func unsupportedKind(target string, k sandbox.Kind) string {
	alt := "a target that has them"
	switch k {
	case sandbox.KindEmail, sandbox.KindSegment:
		alt = "a mailchimp, hubspot or local target"
	case sandbox.KindWorkflow:
		alt = "a hubspot or local target"
	case sandbox.KindPage:
		alt = "a wordpress, hubspot or local target (an ad can link to it with page_id)"
	}
	return fmt.Sprintf("%s: target %q is a Meta ad account, which holds ad campaigns only; put this %s on %s by setting target on the artifact", k, target, k, alt)
}

// Assess checks an ad campaign locally and with Meta's dry run.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.Assessment{AudienceSize: -1, Problems: []string{unsupportedKind(t.name, obj.Kind)}}, nil
	}
	return t.assessAd(ctx, obj)
}

// Live reads a campaign; found is false when Meta does not know the id.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if kind != sandbox.KindAd {
		return sandbox.LiveState{}, false, failf("read "+string(kind), []error{sandbox.ErrNotSupported}, "Meta targets hold ad campaigns only")
	}
	return t.liveCampaign(ctx, liveID)
}

// Find looks for the campaign an interrupted attempt may have created.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.LiveState{}, false, nil
	}
	return t.findCampaign(ctx, obj)
}

// Put creates the campaign with everything in it, paused (liveID empty),
// or updates the live one to the revision.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	op := adOp("update", obj)
	if liveID == "" {
		op = adOp("create", obj)
	}
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	return t.putAd(ctx, op, obj, liveID)
}

// Publish enables the campaign (the plan's enable step).
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	op := adOp("enable", obj)
	if obj.Kind != sandbox.KindAd || obj.Ad == nil {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "%s", unsupportedKind(t.name, obj.Kind))
	}
	if !at.IsZero() {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrNotSupported}, "Meta campaigns are enabled now; their start date (start_time of each ad set) says when they begin to spend")
	}
	return t.setStatus(ctx, op, live.ID, "ACTIVE")
}

// Send is not something an ad account does.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, failf(adOp("send", obj), []error{sandbox.ErrNotSupported}, "Meta ad accounts send no emails; put emails on a mailchimp, hubspot or local target")
}

func adOp(verb string, obj sandbox.Object) string {
	if obj.Ad != nil && obj.Ad.Name != "" {
		return fmt.Sprintf("%s ad campaign %q", verb, obj.Ad.Name)
	}
	return verb + " " + string(obj.Kind) + " " + obj.ArtifactID
}
