package hubspot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/oauthflow"
	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"golang.org/x/oauth2"
)

// DefaultAuthURL is HubSpot's authorization page.
const DefaultAuthURL = "https://app.hubspot.com/oauth/authorize"

// RequiredScopes are asked for at connect; the app must have them enabled.
var RequiredScopes = []string{"oauth", "content", "crm.lists.read", "crm.lists.write", "crm.objects.contacts.read"}

// OptionalScopes are asked for as optional_scope: a portal that cannot grant
// them (workflows need Professional, sending email Enterprise) still
// connects, and the probe records what is missing. crm.objects.deals.read
// lets Outcomes report the deals of reached contacts.
var OptionalScopes = []string{"automation", "marketing-email", "marketing.email.read", "marketing.email.write", "crm.objects.deals.read"}

// DefaultListenAddr is where the OAuth redirect comes back to; the app's
// redirect URL in HubSpot must be http://localhost:8977/oauth-callback.
const DefaultListenAddr = "localhost:8977"

// connectOptions are the options only connecting reads.
type connectOptions struct {
	prompt            io.Writer
	openBrowser       func(url string) error
	listenAddr        string
	authURL, tokenURL string
	scopes, optional  []string
	timeout           time.Duration
	cfg               Config
}

// WithPrompt sets where connecting writes what the person reads
// (instructions, what was connected). The CLI passes stderr, never the MCP
// protocol's stdout. Default: nowhere.
func WithPrompt(w io.Writer) Option { return func(o *options) { o.connect.prompt = w } }

// WithBrowser sets how an OAuth connect opens the authorization URL
// (default: it is only printed).
func WithBrowser(open func(url string) error) Option {
	return func(o *options) { o.connect.openBrowser = open }
}

// WithListenAddr sets the loopback host:port the OAuth redirect comes back
// to (default DefaultListenAddr); port 0 picks a free port.
func WithListenAddr(addr string) Option { return func(o *options) { o.connect.listenAddr = addr } }

// WithOAuthEndpoints replaces the platform's OAuth authorization and token
// URLs (tests, fakes).
func WithOAuthEndpoints(authURL, tokenURL string) Option {
	return func(o *options) { o.connect.authURL, o.connect.tokenURL = authURL, tokenURL }
}

// WithConnectTimeout bounds how long an OAuth connect waits for the person
// to approve lastmile in the browser (default 5 minutes).
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connect.timeout = d } }

// WithScopes replaces the scopes an OAuth connect asks for (defaults
// RequiredScopes and OptionalScopes).
func WithScopes(required, optional []string) Option {
	return func(o *options) { o.connect.scopes, o.connect.optional = required, optional }
}

// WithConfig is the target's configuration connecting probes the portal
// with (API versions); New takes its Config as an argument instead.
func WithConfig(cfg Config) Option { return func(o *options) { o.connect.cfg = cfg } }

// ConnectOAuth connects the target called name through HubSpot's OAuth 2
// authorization-code flow with PKCE: the person approves lastmile in the
// browser, HubSpot sends them back to the loopback redirect, the code is
// exchanged for tokens, the portal is probed for what it can do, and the
// tokens are stored under dataDir (mode 0600). The app's client secret is
// read from the environment variable clientSecretEnv (its name, not the
// secret: a secret never goes on a command line). Nothing secret is
// printed or returned.
//
// CLI: lastmile connect hubspot --name NAME --client-id ID --client-secret-env VAR [--redirect-port PORT]
func ConnectOAuth(ctx context.Context, dataDir, name, clientID, clientSecretEnv string, opts ...Option) (Portal, error) {
	if name == "" || dataDir == "" {
		return Portal{}, errors.New("hubspot: connect needs a target name and a data directory")
	}
	if clientID == "" || clientSecretEnv == "" {
		return Portal{}, errors.New("hubspot: connect needs the HubSpot app's client id and client secret (--client-id, --client-secret-env)")
	}
	clientSecret := strings.TrimSpace(os.Getenv(clientSecretEnv))
	if clientSecret == "" {
		return Portal{}, fmt.Errorf("hubspot: the environment variable %s is empty or not set: put the app's client secret in it", clientSecretEnv)
	}
	o := optionsOf(opts)
	co := o.connect
	base := strings.TrimRight(firstNonEmpty(o.baseURL, DefaultBaseURL), "/")
	ps, err := buildPaths(co.cfg.APIVersions)
	if err != nil {
		return Portal{}, err
	}
	scopes, optional := co.scopes, co.optional
	if scopes == nil {
		scopes = RequiredScopes
	}
	if optional == nil {
		optional = OptionalScopes
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	flow := oauthflow.Flow{
		Platform: "HubSpot",
		Config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: firstNonEmpty(co.authURL, DefaultAuthURL), TokenURL: firstNonEmpty(co.tokenURL, base+ps.token), AuthStyle: oauth2.AuthStyleInParams},
			Scopes:       scopes,
		},
		ListenAddr:   firstNonEmpty(co.listenAddr, DefaultListenAddr),
		CallbackPath: "/oauth-callback",
		PKCE:         true,
		AuthParams:   []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("optional_scope", strings.Join(optional, " "))},
		Prompt:       co.prompt,
		OpenBrowser:  co.openBrowser,
		Wait:         co.timeout,
		HTTPClient:   hc,
	}
	tok, err := flow.Run(ctx)
	if xe, ok := errors.AsType[*oauthflow.ExchangeError](err); ok {
		return Portal{}, fmt.Errorf("hubspot: %w", tokenError("exchange the authorization code", name, xe.Err))
	}
	if err != nil {
		return Portal{}, fmt.Errorf("hubspot: %w; run lastmile connect hubspot again", err)
	}
	c := credentials{
		Kind: KindOAuth, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
		Expiry: expiryOf(tok, o.now()), ClientID: clientID, ClientSecret: clientSecret,
	}
	if co.tokenURL != "" {
		c.TokenURL = co.tokenURL
	}
	if base != DefaultBaseURL {
		c.BaseURL = base
	}
	c.Portal.HubID = extraInt(tok.Extra("hub_id"))
	c.Portal.Scopes = extraStrings(tok.Extra("scopes"))
	return finishConnect(ctx, dataDir, name, &c, hc, o, opts)
}

// ConnectPrivateApp connects the target called name with a HubSpot
// private-app token read from the environment variable tokenEnv (its name,
// not the token: a token never goes on a command line): it probes the
// portal and stores the token (mode 0600) under dataDir.
//
// CLI: lastmile connect hubspot --name NAME --token-env VAR [--base-url URL]
func ConnectPrivateApp(ctx context.Context, dataDir, name, tokenEnv string, opts ...Option) (Portal, error) {
	if name == "" || dataDir == "" {
		return Portal{}, errors.New("hubspot: connect needs a target name and a data directory")
	}
	if tokenEnv == "" {
		return Portal{}, errors.New("hubspot: name the environment variable holding the private app token (--token-env VAR)")
	}
	tok := strings.TrimSpace(os.Getenv(tokenEnv))
	if tok == "" {
		return Portal{}, fmt.Errorf("hubspot: the environment variable %s is empty or not set: export the private app's access token in it", tokenEnv)
	}
	o := optionsOf(opts)
	c := credentials{Kind: KindPrivateApp, AccessToken: tok}
	if b := strings.TrimRight(o.baseURL, "/"); b != "" && b != DefaultBaseURL {
		c.BaseURL = b
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return finishConnect(ctx, dataDir, name, &c, hc, o, opts)
}

// finishConnect probes the portal with a Target built from the new
// credentials (and the caller's options), then stores them.
func finishConnect(ctx context.Context, dataDir, name string, c *credentials, hc *http.Client, o options, opts []Option) (Portal, error) {
	t, err := build(name, dataDir, o.connect.cfg, c, append(slices.Clip(opts), WithHTTPClient(hc))...)
	if err != nil {
		return Portal{}, err
	}
	p, err := t.probe(ctx)
	if err != nil {
		return Portal{}, err
	}
	c.Portal = p
	if err := secret.Save(dataDir, name, c); err != nil {
		return Portal{}, fmt.Errorf("hubspot: storing the credentials for %q: %w", name, err)
	}
	prompt := o.connect.prompt
	if prompt == nil {
		prompt = io.Discard
	}
	fmt.Fprint(prompt, describePortal(name, p))
	return p, nil
}

func describePortal(name string, p Portal) string {
	var b strings.Builder
	if p.HubID != 0 {
		fmt.Fprintf(&b, "Connected HubSpot portal %d as target %q.\n", p.HubID, name)
	} else {
		fmt.Fprintf(&b, "Connected HubSpot as target %q.\n", name)
	}
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	caps := p.Capabilities
	for _, c := range []struct {
		label, key string
		ok         bool
	}{{"Emails", "emails", caps.Emails}, {"Segments (lists)", "segments", caps.Segments}, {"Workflows", "workflows", caps.Workflows}, {"Landing pages", "pages", caps.Pages}} {
		fmt.Fprintf(&b, "  %-18s %s", c.label+":", yes(c.ok))
		if m := p.MissingScopes[c.key]; len(m) > 0 {
			fmt.Fprintf(&b, " (missing scope %s)", strings.Join(m, ", "))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "  %-18s %s", "Send email:", yes(p.CanPublishEmail))
	if !p.CanPublishEmail && p.PublishBlocked != "" {
		fmt.Fprintf(&b, " (%s)", p.PublishBlocked)
	}
	b.WriteByte('\n')
	return b.String()
}

// probe asks the portal what this token may do. Read calls show which APIs
// are usable; publishing email is probed by publishing an id that cannot
// exist ("0"): a portal that may publish answers 404, one whose tier or
// scopes forbid it answers 403 before looking. Nothing is changed.
func (t *Target) probe(ctx context.Context) (Portal, error) {
	p := t.portalInfo()
	p.MissingScopes = map[string][]string{}
	check := func(key string, c call) (bool, error) {
		_, err := t.do(ctx, c, nil)
		if err == nil {
			return true, nil
		}
		env := envelopeOf(err)
		switch st := rest.StatusOf(err); {
		case st == http.StatusForbidden && env.Category == "MISSING_SCOPES":
			p.MissingScopes[key] = env.missingScopes()
			return false, nil
		case st == http.StatusForbidden:
			return false, nil
		case st == http.StatusUnauthorized:
			return false, t.fail("check the connection", err)
		case st != 0 && st < 500:
			return true, nil // the API answered: it is usable
		}
		return false, t.fail("check what the portal can do", err)
	}
	if t.auth.kind() == KindPrivateApp && len(p.Scopes) == 0 {
		t.privateAppInfo(ctx, &p)
	}
	var err error
	caps := &p.Capabilities
	if caps.Emails, err = check("emails", call{method: http.MethodGet, path: t.paths.emails + "?limit=1"}); err != nil {
		return Portal{}, err
	}
	caps.Metrics = caps.Emails
	if caps.Segments, err = check("segments", call{method: http.MethodPost, path: t.paths.lists + "/search", idempotent: true,
		body: map[string]any{"query": "", "count": 1, "offset": 0, "additionalProperties": []string{}}}); err != nil {
		return Portal{}, err
	}
	if caps.Workflows, err = check("workflows", call{method: http.MethodGet, path: t.paths.flows + "?limit=1"}); err != nil {
		return Portal{}, err
	}
	if caps.Pages, err = check("pages", call{method: http.MethodGet, path: t.paths.pages + "?limit=1"}); err != nil {
		return Portal{}, err
	}
	// Write scopes the read probes cannot see, when HubSpot told us the scopes.
	if len(p.Scopes) > 0 {
		has := map[string]bool{}
		for _, s := range p.Scopes {
			has[s] = true
		}
		if caps.Segments && !has["crm.lists.write"] {
			caps.Segments = false
			p.MissingScopes["segments"] = []string{"crm.lists.write"}
		}
		if caps.Emails && !has["content"] && !has["marketing.email.write"] {
			caps.Emails = false
			p.MissingScopes["emails"] = []string{"marketing.email.write"}
		}
	}
	_, err = t.do(ctx, call{method: http.MethodPost, path: t.paths.emails + "/0/publish", idempotent: true}, nil)
	env := envelopeOf(err)
	switch st := rest.StatusOf(err); {
	case err == nil || st == http.StatusNotFound || st == http.StatusBadRequest:
		p.CanPublishEmail, p.PublishBlocked = true, ""
	case st == http.StatusForbidden && env.Category == "MISSING_SCOPES":
		p.CanPublishEmail = false
		p.MissingScopes["publish"] = env.missingScopes()
		p.PublishBlocked = "the connection lacks the scope " + strings.Join(env.missingScopes(), ", ") + ", which HubSpot grants to Marketing Hub Enterprise portals"
	case st == http.StatusForbidden:
		p.CanPublishEmail = false
		p.PublishBlocked = firstNonEmpty(env.Message, "HubSpot refuses to publish email through the API on this portal's tier")
	default:
		return Portal{}, t.fail("check whether the portal can send email", err)
	}
	p.ProbedAt = t.now().UTC()
	t.adoptHubID(p.HubID)
	if len(p.MissingScopes) == 0 {
		p.MissingScopes = nil
	}
	t.mu.Lock()
	t.portal = p
	t.mu.Unlock()
	return p, nil
}

// privateAppInfo asks HubSpot which portal and scopes a private-app token
// has (POST /oauth/v2/private-apps/get/access-token-info; the token travels
// in the body, never in a URL). Failure only means we probe without them.
func (t *Target) privateAppInfo(ctx context.Context, p *Portal) {
	var info struct {
		HubID  int64    `json:"hubId"`
		Scopes []string `json:"scopes"`
	}
	tok := t.auth.staticToken()
	_, err := t.do(ctx, call{method: http.MethodPost, path: "/oauth/v2/private-apps/get/access-token-info", body: map[string]string{"tokenKey": tok}, idempotent: true}, &info)
	if err != nil {
		t.log.Debug("hubspot: private app token info unavailable", "target", t.name, "status", rest.StatusOf(err))
		return
	}
	p.HubID, p.Scopes = info.HubID, info.Scopes
}

// Probe asks the portal again what it can do and stores the answer with the
// target's credentials (after an upgrade or a change of scopes).
func (t *Target) Probe(ctx context.Context) (Portal, error) {
	p, err := t.probe(ctx)
	if err != nil {
		return Portal{}, err
	}
	var c credentials
	if err := secret.Load(t.dataDir, t.name, &c); err != nil {
		return Portal{}, fmt.Errorf("hubspot: %w", err)
	}
	c.Portal = p
	if err := secret.Save(t.dataDir, t.name, &c); err != nil {
		return Portal{}, fmt.Errorf("hubspot: storing what the portal can do: %w", err)
	}
	return p, nil
}

// Portal is what lastmile knows about the connected portal.
func (t *Target) Portal() Portal { return t.portalInfo() }

func extraInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}

func extraStrings(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
