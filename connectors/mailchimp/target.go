// Package mailchimp is lastmile's Mailchimp connector: the sandbox Target
// for the Mailchimp Marketing API 3.0.
//
// Supported: emails become regular campaigns (settings, HTML and plain-text
// content, the audience as the list plus the segments our audience named,
// send or schedule after the send checklist passes); segments become static
// segments (tags) or saved segments with conditions; reports feed
// fetch_metrics; retirements unschedule a campaign or delete it or a
// segment (Mailchimp archives neither; see retire.go). Not supported, and said so at plan time: workflows
// (Mailchimp has no API to create Customer Journeys) and pages.
//
// Every method of *Target is safe for concurrent use: the promotion engine
// may run independent steps in parallel. All requests of one Mailchimp
// account, from every Target built with the same Limits, share one
// semaphore of 10 (Mailchimp's limit of simultaneous connections), so
// parallel steps never earn a 429 from each other.
package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Platform is the connector's platform name.
const Platform = "mailchimp"

// MaxConnections is Mailchimp's limit of simultaneous connections per account.
const MaxConnections = 10

// Config is the non-secret configuration of one Mailchimp target, decoded
// from its section of the lastmile config file.
type Config struct {
	// ListID is the audience (list) every campaign and segment of this
	// target belongs to. `lastmile connect mailchimp` prints the account's
	// audiences with their ids.
	ListID string `yaml:"list_id"`
	// BaseURL overrides the API base (default: from the stored credentials,
	// https://<dc>.api.mailchimp.com/3.0). Must be https unless it points at
	// the loopback interface (tests, local proxies).
	BaseURL string `yaml:"base_url,omitempty"`
	// MergeFields maps contact properties to the audience's merge tags when
	// they differ from the defaults (email → EMAIL, first_name → FNAME,
	// last_name → LNAME, phone → PHONE, address → ADDRESS, birthday →
	// BIRTHDAY; anything else → its name upper-cased).
	MergeFields map[string]string `yaml:"merge_fields,omitempty"`
	// MaxConnections lowers the simultaneous-request bound below Mailchimp's
	// 10, to leave room for other integrations on the same account.
	MaxConnections int `yaml:"max_connections,omitempty"`
	// Timeout bounds each HTTP request (default 60s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// LandingLag is how long after the timeout a write may still take
	// effect on Mailchimp (default LandingLag); with Timeout it is how long
	// a resumed promotion waits before looking up an interrupted create.
	LandingLag time.Duration `yaml:"landing_lag,omitempty"`
}

// Target is a configured Mailchimp account and audience. Safe for concurrent use.
type Target struct {
	name   string
	cfg    Config
	client *rest.Client
	log    *slog.Logger
	now    func() time.Time
	merge  map[string]string
	// timeout is how long one request may take here; lag how long after
	// that Mailchimp may still apply it (LandWithin is their sum).
	timeout, lag time.Duration
	sleep        func(ctx context.Context, d time.Duration) error
	// account is what list_targets may show of the connection: nothing
	// secret.
	account accountInfo
}

type accountInfo struct {
	kind, dc, name string
	connectedAt    time.Time
}

var _ sandbox.Target = (*Target)(nil)

// Option configures a Target, and the connect functions, which check a new
// connection the way a Target would. Options that only concern connecting
// (WithPrompt, WithBrowser, …) are ignored by New.
type Option func(*options)

type options struct {
	httpClient *http.Client
	baseURL    string
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	log        *slog.Logger
	limits     *Limits
	attempts   int
	baseDelay  time.Duration
	maxDelay   time.Duration
	lag        time.Duration
	connect    connectOptions
}

func optionsOf(opts []Option) options {
	o := options{now: time.Now, log: slog.Default(), attempts: 6, baseDelay: 250 * time.Millisecond, maxDelay: 8 * time.Second, lag: -1}
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
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRetry bounds the attempts per request and the backoff between them:
// baseDelay, doubled per attempt with jitter, at most maxDelay. A zero
// keeps its default (Mailchimp: 6 attempts, 250ms, 8s).
func WithRetry(attempts int, baseDelay, maxDelay time.Duration) Option {
	return func(o *options) {
		if attempts > 0 {
			o.attempts = attempts
		}
		if baseDelay > 0 {
			o.baseDelay = baseDelay
		}
		if maxDelay > 0 {
			o.maxDelay = maxDelay
		}
	}
}

// WithLimits makes the Target share its per-account limits with every
// Target built with the same Limits. Without it a Target has limits of its
// own.
func WithLimits(l *Limits) Option { return func(o *options) { o.limits = l } }

// WithLandingLag sets how long after lastmile's request timeout a write may
// still take effect on Mailchimp (default: the config's landing_lag, else
// LandingLag). Tests shorten it.
func WithLandingLag(d time.Duration) Option { return func(o *options) { o.lag = d } }

// New returns the Mailchimp target called name, with credentials stored by
// ConnectAPIKey or ConnectOAuth under dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	st := optionsOf(opts)
	if st.lag < 0 {
		st.lag = LandingLag
		if cfg.LandingLag > 0 {
			st.lag = cfg.LandingLag
		}
	}
	if strings.TrimSpace(cfg.ListID) == "" {
		return nil, fmt.Errorf("mailchimp: target %q: list_id is not set: put the audience id in the target's config (lastmile connect mailchimp lists your audiences)", name)
	}
	var cr credentials
	if err := secret.Load(dataDir, name, &cr); err != nil {
		if errors.Is(err, secret.ErrNotFound) {
			return nil, fmt.Errorf("mailchimp: target %q is not connected: run lastmile connect mailchimp --name %s: %w", name, name, sandbox.ErrAuth)
		}
		return nil, fmt.Errorf("mailchimp: target %q: reading credentials: %w", name, err)
	}
	if err := cr.valid(); err != nil {
		return nil, fmt.Errorf("mailchimp: target %q: stored credentials are incomplete (%v): run lastmile connect mailchimp --name %s again: %w", name, err, name, sandbox.ErrAuth)
	}
	base := strings.TrimRight(firstNonEmpty(st.baseURL, cfg.BaseURL, cr.apiBase()), "/")
	if err := checkBaseURL(base); err != nil {
		return nil, fmt.Errorf("mailchimp: target %q: base_url: %w", name, err)
	}
	n := cfg.MaxConnections
	if n <= 0 || n > MaxConnections {
		n = MaxConnections
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	hc := st.httpClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = n
		tr.MaxConnsPerHost = n
		hc = &http.Client{Transport: tr, Timeout: timeout}
	}
	if hc.Timeout > 0 && hc.Timeout < timeout {
		timeout = hc.Timeout // a client of the caller's bounds requests more tightly
	}
	merge := map[string]string{}
	for k, v := range cfg.MergeFields {
		merge[strings.ToLower(strings.TrimSpace(k))] = strings.ToUpper(strings.TrimSpace(v))
	}
	t := &Target{
		name:    name,
		cfg:     cfg,
		log:     st.log,
		now:     st.now,
		merge:   merge,
		timeout: timeout,
		lag:     max(st.lag, 0),
		sleep:   st.sleep,
		account: accountInfo{kind: cr.Kind, dc: cr.DC, name: cr.AccountName, connectedAt: cr.ConnectedAt},
		client: &rest.Client{
			HTTP:        hc,
			BaseURL:     base,
			Authorize:   cr.authorize,
			Sem:         limitsOr(st.limits).semaphore(base, cr, n),
			MaxAttempts: st.attempts,
			BaseDelay:   st.baseDelay,
			MaxDelay:    st.maxDelay,
			UserAgent:   "lastmile-mailchimp/1",
			Sleep:       st.sleep,
		},
	}
	return t, nil
}

// Name is the configured target name.
func (t *Target) Name() string { return t.name }

// Platform is "mailchimp".
func (t *Target) Platform() string { return Platform }

// Capabilities: emails, segments and metrics. Mailchimp cannot create
// Customer Journeys through its API, and landing pages are out of scope.
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Emails: true, Segments: true, Metrics: true}
}

// checkBaseURL refuses to send credentials in clear text off the machine.
func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", base)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only on the loopback interface; use https", base)
	}
	return fmt.Errorf("%q: scheme must be https", base)
}

var (
	problemWorkflow = "Mailchimp cannot create Customer Journeys (automations) through its API, so lastmile cannot promote this workflow there; target this workflow at local or hubspot instead"
	problemPage     = "lastmile's Mailchimp connector does not publish landing pages (Mailchimp landing pages are out of scope); target this page at wordpress, local or hubspot instead"
)

func notSupported(kind sandbox.Kind) error {
	switch kind {
	case sandbox.KindWorkflow:
		return fmt.Errorf("mailchimp: %s: %w", problemWorkflow, sandbox.ErrNotSupported)
	case sandbox.KindPage:
		return fmt.Errorf("mailchimp: %s: %w", problemPage, sandbox.ErrNotSupported)
	}
	return fmt.Errorf("mailchimp: artifacts of kind %q: %w", kind, sandbox.ErrNotSupported)
}

// Assess checks an object at planning time, before anything is written:
// what Mailchimp cannot express becomes a Problem, what the approver should
// know a Note. It reads (never writes) the audience to size it.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	switch obj.Kind {
	case sandbox.KindWorkflow:
		a.Problems = append(a.Problems, problemWorkflow)
		return a, nil
	case sandbox.KindPage:
		a.Problems = append(a.Problems, problemPage)
		return a, nil
	case sandbox.KindEmail:
		if obj.Email == nil {
			return a, fmt.Errorf("mailchimp: assess %s: the object has no email", obj.ArtifactID)
		}
		return t.assessEmail(ctx, obj)
	case sandbox.KindSegment:
		if obj.Segment == nil {
			return a, fmt.Errorf("mailchimp: assess %s: the object has no segment", obj.ArtifactID)
		}
		return t.assessSegment(ctx, obj)
	}
	if obj.Kind == sandbox.KindAd {
		a.Problems = append(a.Problems, sandbox.NoAds("Mailchimp"))
		return a, nil
	}
	a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp cannot take artifacts of kind %q", obj.Kind))
	return a, nil
}

// audienceInfo reads the target's audience: its name and subscribed count,
// or found=false.
func (t *Target) audienceInfo(ctx context.Context) (name string, members int, found bool, err error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
		Path: "/lists/" + url.PathEscape(t.cfg.ListID) + "?fields=id,name,stats.member_count"})
	if err != nil {
		if rest.StatusOf(err) == http.StatusNotFound {
			return "", 0, false, nil
		}
		return "", 0, false, fmt.Errorf("mailchimp: reading audience %s: %w", t.cfg.ListID, mapErr(err, t.name))
	}
	var l struct {
		Name  string `json:"name"`
		Stats struct {
			MemberCount int `json:"member_count"`
		} `json:"stats"`
	}
	if err := resp.Decode(&l); err != nil {
		return "", 0, false, fmt.Errorf("mailchimp: reading audience %s: %w", t.cfg.ListID, err)
	}
	return l.Name, l.Stats.MemberCount, true, nil
}

func (t *Target) missingAudience() string {
	return fmt.Sprintf("the audience %q (list_id in target %q's config) does not exist in this Mailchimp account; run lastmile connect mailchimp --name %s to list the audiences and fix list_id", t.cfg.ListID, t.name, t.name)
}

// Live reads a campaign (with its content) or a segment; found is false
// when it no longer exists.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	switch kind {
	case sandbox.KindEmail:
		st, found, err := t.liveCampaign(ctx, liveID)
		if err != nil {
			return st, false, fmt.Errorf("mailchimp: read campaign %s: %w", liveID, err)
		}
		return st, found, nil
	case sandbox.KindSegment:
		s, found, err := t.getSegment(ctx, liveID)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: read segment %s: %w", liveID, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		return t.segmentState(s), true, nil
	}
	return sandbox.LiveState{}, false, notSupported(kind)
}

// Find looks for the object an interrupted attempt may have created: a
// campaign whose title carries the marker, a segment whose name does.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Marker == "" {
		return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find %s: the object has no marker", obj.ArtifactID)
	}
	switch obj.Kind {
	case sandbox.KindEmail:
		id, found, err := t.findCampaignID(ctx, obj.Marker)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find campaign %s: %w", obj.Marker, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		st, found, err := t.liveCampaign(ctx, id)
		if err != nil {
			return st, false, fmt.Errorf("mailchimp: find campaign %s: %w", obj.Marker, err)
		}
		return st, found, nil
	case sandbox.KindSegment:
		s, found, err := t.findSegment(ctx, obj.Marker)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find segment %s: %w", obj.Marker, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		return t.segmentState(s), true, nil
	}
	return sandbox.LiveState{}, false, notSupported(obj.Kind)
}

// Put creates the campaign or segment when liveID is empty, else updates it.
// A create that fails ambiguously (timeout, dropped connection, 5xx) is
// reconciled by marker before it is tried again.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		if obj.Email == nil {
			return sandbox.LiveState{}, fmt.Errorf("mailchimp: put %s: the object has no email", obj.ArtifactID)
		}
		return t.putEmail(ctx, obj, liveID)
	case sandbox.KindSegment:
		if obj.Segment == nil {
			return sandbox.LiveState{}, fmt.Errorf("mailchimp: put %s: the object has no segment", obj.ArtifactID)
		}
		return t.putSegment(ctx, obj, liveID)
	}
	return sandbox.LiveState{}, notSupported(obj.Kind)
}

// Send sends the campaign now (at zero) or schedules it at the next quarter
// hour at or after at, once the send checklist passes. A campaign already
// sending, sent or scheduled is left alone.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindEmail || obj.Email == nil {
		return sandbox.LiveState{}, notSupported(obj.Kind)
	}
	return t.sendEmail(ctx, obj, live, at)
}

// Publish is not supported: Mailchimp pages and journeys are out of reach.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, notSupported(obj.Kind)
}

// getOne reads the object at path; found is false when Mailchimp answers
// 404 (it was deleted, or never made).
func getOne[T any](ctx context.Context, t *Target, path, what string) (v T, found bool, err error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: path})
	if err != nil {
		if rest.StatusOf(err) == http.StatusNotFound {
			return v, false, nil
		}
		return v, false, mapErr(err, t.name)
	}
	if err := resp.Decode(&v); err != nil {
		return v, false, fmt.Errorf("decoding the %s: %w", what, err)
	}
	return v, true, nil
}
