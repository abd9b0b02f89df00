// Package oauthrs makes lastmile an OAuth 2.1 resource server (the MCP
// authorization spec): it checks access tokens issued by one authorization
// server for this server alone (RFC 8707's resource as the audience),
// either as JWTs against the server's published keys or, when configured,
// by asking its introspection endpoint (RFC 7662). It never logs a token.
package oauthrs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/lastmile/lastmile/internal/accesstoken"
)

// Config says which authorization server to trust and who this server is.
type Config struct {
	// Issuer is the authorization server's issuer identifier; its metadata
	// is discovered under /.well-known.
	Issuer string
	// Resource is this server's canonical URI, the audience every token
	// must name.
	Resource string
	// Introspection, when set, checks tokens at the authorization server's
	// introspection endpoint instead of as JWTs.
	Introspection *Introspection
	// Client makes the requests to the authorization server (nil: one with
	// a 10 s timeout).
	Client *http.Client
	// Leeway is the clock skew allowed on exp and nbf (0: 30 s).
	Leeway time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Introspection is the resource server's own credentials at the
// authorization server's introspection endpoint.
type Introspection struct {
	ClientID     string
	ClientSecret string
}

// Metadata is what lastmile reads of an authorization server's metadata
// (RFC 8414, or OpenID Connect Discovery).
type Metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
}

// algorithms are the signatures accepted: never "none", never HMAC (a
// shared secret would let anyone holding it mint tokens).
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// refreshEvery bounds how often an unknown key id fetches the key set
// again, so a flood of forged kids cannot hammer the authorization server.
const refreshEvery = 30 * time.Second

// Validator checks access tokens. It is safe for concurrent use.
type Validator struct {
	cfg Config

	mu        sync.Mutex
	meta      *Metadata
	metaTried time.Time
	keys      *jose.JSONWebKeySet
	keysAt    time.Time
}

// New returns a validator for cfg. Nothing is fetched until a token needs
// it, so lastmile starts while the authorization server is down.
func New(cfg Config) (*Validator, error) {
	if err := checkURL("issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	if err := checkURL("resource", cfg.Resource); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Validator{cfg: cfg}, nil
}

// checkURL wants an absolute https URL without a fragment; http only for
// loopback hosts (tests, and a proxy on the same machine).
func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.RawQuery != "" {
		return fmt.Errorf("auth.%s %q: write an absolute https URL without query or fragment", what, s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return fmt.Errorf("auth.%s %q: must be https (http only for localhost)", what, s)
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// CheckConfig reports what is wrong with an issuer and resource pair.
func CheckConfig(issuer, resource string) error {
	if err := checkURL("issuer", issuer); err != nil {
		return err
	}
	return checkURL("resource", resource)
}

// MetadataURL is where Protected Resource Metadata for resource is served
// (RFC 9728 §3.1: the well-known segment inserted before the path).
func MetadataURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	p := strings.TrimSuffix(u.Path, "/")
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + p
}

// Metadata returns the authorization server's metadata, discovered once
// (a failure is retried after refreshEvery).
func (v *Validator) Metadata(ctx context.Context) (*Metadata, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.metadataLocked(ctx)
}

func (v *Validator) metadataLocked(ctx context.Context) (*Metadata, error) {
	if v.meta != nil {
		return v.meta, nil
	}
	if now := v.cfg.Now(); now.Sub(v.metaTried) < refreshEvery && !v.metaTried.IsZero() {
		return nil, fmt.Errorf("the authorization server's metadata could not be read lately; retrying after %s", refreshEvery)
	}
	v.metaTried = v.cfg.Now()
	var errs []error
	for _, u := range discoveryURLs(v.cfg.Issuer) {
		var m Metadata
		if err := v.getJSON(ctx, u, &m); err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Issuer != v.cfg.Issuer {
			errs = append(errs, fmt.Errorf("%s names issuer %q, not %q", u, m.Issuer, v.cfg.Issuer))
			continue
		}
		if m.JWKSURI == "" && v.cfg.Introspection == nil {
			errs = append(errs, fmt.Errorf("%s has no jwks_uri", u))
			continue
		}
		if v.cfg.Introspection != nil && m.IntrospectionEndpoint == "" {
			errs = append(errs, fmt.Errorf("%s has no introspection_endpoint", u))
			continue
		}
		v.meta = &m
		v.cfg.Log.Info("oauth: discovered the authorization server", "issuer", m.Issuer, "metadata", u, "jwks_uri", m.JWKSURI)
		return v.meta, nil
	}
	return nil, fmt.Errorf("discovering the authorization server %s: %w", v.cfg.Issuer, errors.Join(errs...))
}

// discoveryURLs are the places the MCP authorization spec says to look,
// in its order: RFC 8414 with the path inserted, OpenID Connect with the
// path inserted, OpenID Connect with the path appended.
func discoveryURLs(issuer string) []string {
	u, _ := url.Parse(issuer)
	base := u.Scheme + "://" + u.Host
	p := strings.TrimSuffix(u.Path, "/")
	if p == "" {
		return []string{base + "/.well-known/oauth-authorization-server", base + "/.well-known/openid-configuration"}
	}
	return []string{base + "/.well-known/oauth-authorization-server" + p, base + "/.well-known/openid-configuration" + p, base + p + "/.well-known/openid-configuration"}
}

func (v *Validator) getJSON(ctx context.Context, u string, out any) error {
	// Not cut short by the request that needed it: a client hanging up
	// must not leave every other request without keys until the next
	// refresh (the client's timeout bounds it).
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// invalid is a refused token, saying why (never the token).
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", accesstoken.ErrInvalid, fmt.Sprintf(format, args...))
}

// Authenticate returns the principal an access token stands for; a token
// refused is an error wrapping accesstoken.ErrInvalid.
func (v *Validator) Authenticate(ctx context.Context, token string) (*accesstoken.Principal, error) {
	if v.cfg.Introspection != nil {
		return v.introspect(ctx, token)
	}
	return v.verifyJWT(ctx, token)
}

// claims are the access token's claims lastmile reads (RFC 9068).
type claims struct {
	Scope    string   `json:"scope"`
	Scp      []string `json:"scp"`
	ClientID string   `json:"client_id"`
	Azp      string   `json:"azp"`
}

func (v *Validator) verifyJWT(ctx context.Context, token string) (*accesstoken.Principal, error) {
	tok, err := jwt.ParseSigned(token, algorithms)
	if err != nil {
		return nil, invalid("not a JWT signed with %v", algorithms)
	}
	if len(tok.Headers) != 1 {
		return nil, invalid("a JWT needs exactly one signature")
	}
	h := tok.Headers[0]
	key, err := v.key(ctx, h.KeyID, h.Algorithm)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var own claims
	if err := tok.Claims(key, &std, &own); err != nil {
		return nil, invalid("the signature does not verify with the authorization server's key %q", h.KeyID)
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{v.cfg.Resource}, Time: v.cfg.Now()}, v.cfg.Leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, invalid("expired")
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, invalid("not valid yet")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, invalid("issued by %q, not %q", clean(std.Issuer), v.cfg.Issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, invalid("its audience %q does not include %s", clean(strings.Join(std.Audience, " ")), v.cfg.Resource)
	case err != nil:
		return nil, invalid("%v", err)
	}
	if std.Expiry == nil {
		return nil, invalid("it has no exp")
	}
	scopes := own.Scp
	if own.Scope != "" {
		scopes = strings.Fields(own.Scope)
	}
	return principal(std.Subject, cmpOr(own.ClientID, own.Azp), scopes)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// key finds the verification key by id (any key of the algorithm when the
// token names none), fetching the key set again, at most every
// refreshEvery, when the id is unknown: the authorization server rotated.
func (v *Validator) key(ctx context.Context, kid, alg string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := findKey(v.keys, kid, alg); k != nil {
		return k, nil
	}
	if !v.keysAt.IsZero() && v.cfg.Now().Sub(v.keysAt) < refreshEvery {
		return nil, invalid("no key %q in the authorization server's key set", clean(kid))
	}
	m, err := v.metadataLocked(ctx)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	v.keysAt = v.cfg.Now()
	if err := v.getJSON(ctx, m.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("reading the authorization server's keys: %w", err)
	}
	v.keys = &set
	v.cfg.Log.Info("oauth: read the authorization server's keys", "jwks_uri", m.JWKSURI, "keys", len(set.Keys))
	if k := findKey(v.keys, kid, alg); k != nil {
		return k, nil
	}
	return nil, invalid("no key %q in the authorization server's key set", clean(kid))
}

func findKey(set *jose.JSONWebKeySet, kid, alg string) any {
	if set == nil {
		return nil
	}
	for _, k := range set.Keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == alg) && k.Use != "enc" && k.IsPublic() {
			return k.Key
		}
	}
	return nil
}

// principal makes the principal of a subject and client, keeping only
// lastmile's scopes (an IdP's openid, profile ... mean nothing here).
func principal(sub, client string, scopes []string) (*accesstoken.Principal, error) {
	sub, client = clean(sub), clean(client)
	if sub == "" && client == "" {
		return nil, invalid("it names no subject")
	}
	name := sub
	switch {
	case sub == "":
		name = client
	case client != "" && client != sub:
		name = client + "/" + sub
	}
	var own []string
	for _, s := range scopes {
		if slices.Contains(accesstoken.Scopes, s) {
			own = append(own, s)
		}
	}
	slices.Sort(own)
	return &accesstoken.Principal{Name: name, Scopes: slices.Compact(own), OAuth: true}, nil
}

// clean keeps a claim safe for the audit log and a terminal: printable,
// no spaces, at most 128 characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return r
		}
		return '_'
	}, s)
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
