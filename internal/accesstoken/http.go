package accesstoken

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// realm is the challenge's realm (RFC 6750 §3).
const realm = `Bearer realm="lastmile"`

// Authenticator checks a bearer token that is not a lastmile one: an
// OAuth access token (internal/oauthrs). A token it refuses is an error
// wrapping ErrInvalid; any other error means it could not tell.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*Principal, error)
}

// Bearer authenticates HTTP requests by their Authorization: Bearer token.
// A token starting with Prefix is looked up in Tokens; any other goes to
// OAuth. Log lines name the principal at most, never the token.
type Bearer struct {
	Tokens *Store        // lastmile tokens; nil: none are accepted
	OAuth  Authenticator // OAuth access tokens; nil: none are accepted
	Log    *slog.Logger  // nil: no logs
	// ResourceMetadata is the URL of the Protected Resource Metadata
	// (RFC 9728), named in every challenge; empty: not served.
	ResourceMetadata string
}

// RequireBearer serves next only to requests with a valid lastmile access
// token: Bearer{Tokens: tokens, Log: log}.Wrap(next).
func RequireBearer(tokens *Store, log *slog.Logger, next http.Handler) http.Handler {
	return (&Bearer{Tokens: tokens, Log: log}).Wrap(next)
}

// Wrap serves next only to requests with a valid token; the token's
// principal is in the request's context (mcp-go hands that context to
// tool handlers), and the Authorization header is taken off the request,
// so nothing downstream can echo or log it. Anything else gets 401 with
// WWW-Authenticate.
func (b *Bearer) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := b.Check(w, r)
		if !ok {
			return
		}
		r = r.Clone(WithPrincipal(r.Context(), p))
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r)
	})
}

// Check authenticates r: its principal, or false once it has answered
// w (401, or 500 when the token could not be checked).
func (b *Bearer) Check(w http.ResponseWriter, r *http.Request) (*Principal, bool) {
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secret, ok := bearer(r.Header.Values("Authorization"))
	if !ok {
		log.InfoContext(r.Context(), "http request without an access token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		b.unauthorized(w, "", "this server needs an access token: send Authorization: Bearer TOKEN ("+b.how()+")")
		return nil, false
	}
	var p *Principal
	var err error
	switch {
	case strings.HasPrefix(secret, Prefix) && b.Tokens != nil:
		p, err = b.Tokens.Authenticate(r.Context(), secret)
	case !strings.HasPrefix(secret, Prefix) && b.OAuth != nil:
		p, err = b.OAuth.Authenticate(r.Context(), secret)
	default:
		err = ErrInvalid
	}
	if errors.Is(err, ErrInvalid) {
		// err never holds the token: it says why (expired, audience, ...).
		log.WarnContext(r.Context(), "http request with an invalid access token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
		b.unauthorized(w, `, error="invalid_token"`, "the access token is not valid: it is malformed, unknown, revoked, expired or not for this server")
		return nil, false
	}
	if err != nil {
		log.ErrorContext(r.Context(), "checking an access token", "err", err)
		http.Error(w, "could not check the access token; the server logged why", http.StatusInternalServerError)
		return nil, false
	}
	log.DebugContext(r.Context(), "http request authenticated", "actor", p.Actor(), "method", r.Method, "path", r.URL.Path)
	return p, true
}

func (b *Bearer) how() string {
	switch {
	case b.OAuth != nil && b.Tokens != nil:
		return "from the authorization server in the resource metadata, or a lastmile token a person creates with lastmile tokens create"
	case b.OAuth != nil:
		return "from the authorization server in the resource metadata"
	default:
		return "lm_…; a person creates one with lastmile tokens create"
	}
}

func (b *Bearer) unauthorized(w http.ResponseWriter, extra, msg string) {
	c := realm
	if b.ResourceMetadata != "" {
		c += `, resource_metadata="` + b.ResourceMetadata + `"`
	}
	w.Header().Set("WWW-Authenticate", c+extra)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusUnauthorized)
}

// bearer returns the token of the one Authorization: Bearer header. The
// scheme is case-insensitive (RFC 9110 §11.1); two Authorization headers
// are refused rather than guessed between.
func bearer(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
