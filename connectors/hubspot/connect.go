package hubspot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

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
// connects, and the probe records what is missing.
var OptionalScopes = []string{"automation", "marketing-email", "marketing.email.read", "marketing.email.write"}

// DefaultRedirectPort is the loopback port of the OAuth redirect; the app's
// redirect URL in HubSpot must be http://localhost:8977/oauth-callback.
const DefaultRedirectPort = 8977

// ConnectOptions configure the OAuth 2 connection flow.
type ConnectOptions struct {
	DataDir string
	// Name is the target name the credentials are stored under.
	Name string
	// ClientID and ClientSecret of the HubSpot app (the CLI reads the secret
	// from an environment variable, never a flag).
	ClientID, ClientSecret string
	// BaseURL of the API (default https://api.hubapi.com); stored with the
	// credentials when not the default.
	BaseURL string
	// AuthURL (default https://app.hubspot.com/oauth/authorize) and TokenURL
	// (default BaseURL + /oauth/v1/token).
	AuthURL, TokenURL string
	// Scopes and OptionalScopes (defaults RequiredScopes, OptionalScopes).
	Scopes, OptionalScopes []string
	// RedirectPort of the loopback listener (default 8977; -1 picks a free
	// port, for tests). RedirectHost defaults to localhost.
	RedirectPort int
	RedirectHost string
	// Prompt receives the human-facing lines (the URL to open, progress).
	// The CLI passes stderr: stdout is the MCP protocol.
	Prompt io.Writer
	// OpenBrowser opens the authorization URL; nil only prints it.
	OpenBrowser func(url string) error
	// HTTPClient for the token exchange and the capability probe.
	HTTPClient *http.Client
	// Wait bounds how long to wait for the browser (default 5 minutes).
	Wait time.Duration
	// Config is the target's configuration (API versions for the probe).
	Config Config
}

// Connect runs HubSpot's OAuth 2 authorization-code flow with PKCE on a
// loopback redirect, probes what the portal can do, and stores the tokens
// (mode 0600) for the target. Nothing secret is printed or returned.
func Connect(ctx context.Context, o ConnectOptions) (Portal, error) {
	if o.Name == "" || o.DataDir == "" {
		return Portal{}, errors.New("hubspot: connect needs a target name and a data directory")
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return Portal{}, errors.New("hubspot: connect needs the HubSpot app's client id and client secret (--client-id, --client-secret-env)")
	}
	prompt := o.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	base := strings.TrimRight(firstNonEmpty(o.BaseURL, DefaultBaseURL), "/")
	ps, err := buildPaths(o.Config.APIVersions)
	if err != nil {
		return Portal{}, err
	}
	tokenURL := firstNonEmpty(o.TokenURL, base+ps.token)
	scopes := o.Scopes
	if scopes == nil {
		scopes = RequiredScopes
	}
	optional := o.OptionalScopes
	if optional == nil {
		optional = OptionalScopes
	}
	host := firstNonEmpty(o.RedirectHost, "localhost")
	port := o.RedirectPort
	switch {
	case port == 0:
		port = DefaultRedirectPort
	case port < 0:
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(loopbackIP(host), strconv.Itoa(port)))
	if err != nil {
		return Portal{}, fmt.Errorf("hubspot: cannot listen on the loopback redirect port %d (is another connect running?): %w", port, err)
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port
	redirect := fmt.Sprintf("http://%s/oauth-callback", net.JoinHostPort(host, strconv.Itoa(port)))

	cfg := oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: firstNonEmpty(o.AuthURL, DefaultAuthURL), TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
	verifier := oauth2.GenerateVerifier()
	state := randomState()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("optional_scope", strings.Join(optional, " ")))

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth-callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("hubspot: the authorization answer does not belong to this connect (state mismatch); run lastmile connect hubspot again")
		case q.Get("error") != "":
			res.err = fmt.Errorf("hubspot: HubSpot did not authorize the app: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("hubspot: HubSpot's redirect carried no authorization code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>lastmile</title><p>Connecting HubSpot failed: %s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!doctype html><title>lastmile</title><p>HubSpot is connected to lastmile. You can close this window.</p>")
		}
		select {
		case got <- res:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// The handler hands over the result before its answer is sent: let the
	// browser's page finish (Close would cut it off), but not for long.
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	fmt.Fprintf(prompt, "Open this address in your browser to connect HubSpot, then approve lastmile:\n\n  %s\n\nWaiting for HubSpot to send you back to %s ...\n", authURL, redirect)
	if o.OpenBrowser != nil {
		if err := o.OpenBrowser(authURL); err != nil {
			fmt.Fprintf(prompt, "(could not open a browser: %v; open the address yourself)\n", err)
		}
	}
	wait := o.Wait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var res result
	select {
	case res = <-got:
	case <-timer.C:
		return Portal{}, fmt.Errorf("hubspot: no answer from HubSpot within %s; run lastmile connect hubspot again", wait)
	case <-ctx.Done():
		return Portal{}, ctx.Err()
	}
	if res.err != nil {
		return Portal{}, res.err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, hc), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Portal{}, fmt.Errorf("hubspot: %w", tokenError("exchange the authorization code", o.Name, err))
	}
	c := credentials{
		Kind: KindOAuth, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
		Expiry: expiryOf(tok, time.Now()), ClientID: o.ClientID, ClientSecret: o.ClientSecret,
	}
	if o.TokenURL != "" {
		c.TokenURL = o.TokenURL
	}
	if base != DefaultBaseURL {
		c.BaseURL = base
	}
	c.Portal.HubID = extraInt(tok.Extra("hub_id"))
	c.Portal.Scopes = extraStrings(tok.Extra("scopes"))
	return finishConnect(ctx, o.DataDir, o.Name, o.Config, &c, hc, prompt)
}

func loopbackIP(host string) string {
	if host == "localhost" {
		return "127.0.0.1"
	}
	return host
}

// ConnectPrivateApp registers a HubSpot private-app token read from the
// environment variable tokenEnv (so it never appears on a command line),
// probes the portal and stores the token (mode 0600) for the target.
// baseURL may be empty (https://api.hubapi.com).
func ConnectPrivateApp(ctx context.Context, dataDir, name, tokenEnv, baseURL string) (Portal, error) {
	return ConnectPrivateAppWith(ctx, PrivateAppOptions{DataDir: dataDir, Name: name, TokenEnv: tokenEnv, BaseURL: baseURL})
}

// PrivateAppOptions are ConnectPrivateApp's arguments plus test hooks.
type PrivateAppOptions struct {
	DataDir, Name, TokenEnv, BaseURL string
	Config                           Config
	HTTPClient                       *http.Client
	Prompt                           io.Writer
}

// ConnectPrivateAppWith is ConnectPrivateApp with options.
func ConnectPrivateAppWith(ctx context.Context, o PrivateAppOptions) (Portal, error) {
	if o.Name == "" || o.DataDir == "" {
		return Portal{}, errors.New("hubspot: connect needs a target name and a data directory")
	}
	if o.TokenEnv == "" {
		return Portal{}, errors.New("hubspot: name the environment variable holding the private app token (--token-env VAR)")
	}
	tok := strings.TrimSpace(os.Getenv(o.TokenEnv))
	if tok == "" {
		return Portal{}, fmt.Errorf("hubspot: the environment variable %s is empty or not set: export the private app's access token in it", o.TokenEnv)
	}
	c := credentials{Kind: KindPrivateApp, AccessToken: tok}
	if b := strings.TrimRight(o.BaseURL, "/"); b != "" && b != DefaultBaseURL {
		c.BaseURL = b
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	prompt := o.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	return finishConnect(ctx, o.DataDir, o.Name, o.Config, &c, hc, prompt)
}

func finishConnect(ctx context.Context, dataDir, name string, cfg Config, c *credentials, hc *http.Client, prompt io.Writer) (Portal, error) {
	t, err := build(name, dataDir, cfg, c, WithHTTPClient(hc))
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

func randomState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

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
