package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/internal/oauthrs"
	"github.com/lastmile/lastmile/sandbox"
)

// httpAuth decides whether serve --http needs a bearer token, and checks
// it. The rule: a token is needed on every request to /mcp (but a CORS
// preflight) once an OAuth authorization server is configured (auth: in
// config.yaml) or the data directory has a lastmile token that is not
// revoked, from the moment the first is created; it stays needed until
// the server stops, so revoking the last token never opens a running
// server. With neither, loopback is served without authentication (one
// person's laptop), and any other address is refused.
type httpAuth struct {
	bearer   *accesstoken.Bearer
	tokens   *accesstoken.Store
	oauth    bool
	required atomic.Bool
	log      *slog.Logger
	// prm serves the Protected Resource Metadata at prmPaths (OAuth only).
	prm      http.Handler
	prmPaths []string
	resource string
}

func newHTTPAuth(ctx context.Context, e *env, a *app) (*httpAuth, error) {
	h := &httpAuth{tokens: accesstoken.New(a.st, nil), log: a.log}
	h.bearer = &accesstoken.Bearer{Tokens: h.tokens, Log: a.log}
	if cfg := a.cfg.Auth; cfg.Enabled() {
		v, err := oauthValidator(e, cfg, a.log)
		if err != nil {
			return nil, err
		}
		h.oauth, h.resource = true, cfg.Resource
		h.bearer.OAuth = v
		h.bearer.ResourceMetadata = oauthrs.MetadataURL(cfg.Resource)
		h.required.Store(true)
		h.prm = server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
			Resource:               cfg.Resource,
			AuthorizationServers:   []string{cfg.Issuer},
			ScopesSupported:        accesstoken.Scopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "lastmile",
		})
		h.prmPaths = []string{server.WellKnownProtectedResourcePath, server.WellKnownProtectedResourcePath + mcpPath, server.ProtectedResourceMetadataPath(cfg.Resource)}
		slices.Sort(h.prmPaths)
		h.prmPaths = slices.Compact(h.prmPaths)
	}
	if !h.required.Load() {
		h.need(ctx)
	}
	return h, nil
}

func oauthValidator(e *env, cfg sandbox.AuthConfig, log *slog.Logger) (*oauthrs.Validator, error) {
	if err := oauthrs.CheckConfig(cfg.Issuer, cfg.Resource); err != nil {
		return nil, usagef("%s: %v", sandbox.ConfigFile, err)
	}
	oc := oauthrs.Config{Issuer: cfg.Issuer, Resource: cfg.Resource, Log: log}
	if in := cfg.Introspection; in != nil {
		secret := e.getenv(in.ClientSecretEnv)
		if secret == "" {
			return nil, usagef("%s: auth.introspection.client_secret_env names %s, which is not set: set it to lastmile's client secret at the authorization server", sandbox.ConfigFile, in.ClientSecretEnv)
		}
		oc.Introspection = &oauthrs.Introspection{ClientID: in.ClientID, ClientSecret: secret}
	}
	return oauthrs.New(oc)
}

// need reports whether requests must carry a token now. A store error
// fails closed.
func (h *httpAuth) need(ctx context.Context) bool {
	if h.required.Load() {
		return true
	}
	any, err := h.tokens.AnyActive(ctx)
	if err != nil {
		h.log.Error("reading the access tokens; requiring one on every request", "err", err)
		any = true
	}
	if any && !h.required.Swap(true) {
		h.log.Info("serve --http: an access token exists, so every request needs one from now on")
	}
	return any
}

// authenticate returns r with its principal, or false once it has
// answered w. A request needs none while no authentication is configured.
func (h *httpAuth) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if !h.need(r.Context()) {
		return r, true
	}
	p, ok := h.bearer.Check(w, r)
	if !ok {
		return nil, false
	}
	r = r.Clone(accesstoken.WithPrincipal(r.Context(), p))
	r.Header.Del("Authorization")
	return r, true
}

// servesMetadata reports whether path is one the metadata is served at.
func (h *httpAuth) servesMetadata(path string) bool {
	return h != nil && h.prm != nil && slices.Contains(h.prmPaths, path)
}

// checkAuthForAddr refuses a non-loopback --http without authentication.
func checkAuthForAddr(addr string, h *httpAuth) error {
	if h.required.Load() {
		return nil
	}
	return usagef("--http %q: serving MCP on a non-loopback address needs authentication, and none is configured: anyone who reaches it could stage and promote campaigns. "+
		"Create an access token (lastmile tokens create --name NAME --scopes …) or configure an OAuth authorization server (auth: issuer and resource in %s), "+
		"or bind a loopback address (e.g. --http 127.0.0.1:8765)", addr, sandbox.ConfigFile)
}

// describe says for the log what authentication is in force.
func (h *httpAuth) describe() string {
	switch {
	case h.oauth:
		return "oauth and lastmile tokens"
	case h.required.Load():
		return "lastmile tokens"
	default:
		return "none (loopback, no access token yet)"
	}
}
