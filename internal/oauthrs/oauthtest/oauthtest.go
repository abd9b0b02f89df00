// Package oauthtest runs a real OpenID provider (zitadel/oidc's op, with
// its example in-memory storage) on loopback for tests: it issues JWT
// access tokens by the client_credentials grant, for the audience and
// scopes a test chooses, and publishes one more key of the test's own in
// its key set, so a test can also sign the tokens a provider would not
// issue on demand (expired ones, say).
package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Provider is a running OpenID provider.
type Provider struct {
	Issuer string // http://127.0.0.1:PORT
	st     *store
	own    *rsa.PrivateKey
}

// The client a resource server introspects tokens as.
const (
	IntrospectionClientID = "lastmile-rs"
	IntrospectionSecret   = "rs-secret"
)

var registerOnce sync.Once

// OwnKeyID is the id of the test's key in the provider's key set.
const OwnKeyID = "test-key"

// Start runs a provider until the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	own, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	registerOnce.Do(func() { storage.RegisterClients(storage.WebClient(IntrospectionClientID, IntrospectionSecret)) })
	st := &store{Storage: storage.NewStorage(storage.NewUserStore(issuer)), clients: map[string]client{}, own: own, issued: map[string]issued{}}
	cfg := &op.Config{CryptoKey: [32]byte{1, 2, 3}, CodeMethodS256: true, GrantTypeRefreshToken: false}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &Provider{Issuer: issuer, st: st, own: own}
}

// AddClient registers a service client whose tokens have audience aud.
func (p *Provider) AddClient(id, secret string, aud ...string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.clients[id] = client{secret: secret, aud: aud}
}

// Token gets an access token by the client_credentials grant from the
// provider's token endpoint.
func (p *Provider) Token(t testing.TB, id, secret string, scopes ...string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("token endpoint: %s %s %s", resp.Status, out.Error, out.Description)
	}
	return out.AccessToken
}

// Sign signs claims with the test's key, the one the provider publishes
// as OwnKeyID.
func (p *Provider) Sign(t testing.TB, claims map[string]any) string {
	return SignWith(t, p.own, OwnKeyID, claims)
}

// SignWith signs claims with key, naming kid.
func SignWith(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type client struct {
	secret string
	aud    []string
}

// store is the example storage with service clients of the test's own,
// issuing JWT access tokens with a scope claim, and the test's key too.
type store struct {
	*storage.Storage
	mu      sync.Mutex
	clients map[string]client
	own     *rsa.PrivateKey
	issued  map[string]issued // access token id → what it grants
}

type issued struct {
	sub, client string
	aud, scopes []string
	exp         time.Time
}

func (s *store) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, req)
	if err == nil {
		s.mu.Lock()
		s.issued[id] = issued{sub: req.GetSubject(), client: req.GetSubject(), aud: req.GetAudience(), scopes: req.GetScopes(), exp: exp}
		s.mu.Unlock()
	}
	return id, exp, err
}

// SetIntrospectionFromToken answers the introspection endpoint (RFC 7662)
// about the tokens this provider issued, to IntrospectionClientID only.
func (s *store) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	tok, ok := s.issued[tokenID]
	s.mu.Unlock()
	if !ok || clientID != IntrospectionClientID || time.Now().After(tok.exp) {
		return oidc.ErrInvalidRequest()
	}
	in.Subject, in.ClientID, in.Audience, in.Scope, in.Expiration = tok.sub, tok.client, tok.aud, tok.scopes, oidc.FromTime(tok.exp)
	return nil
}

func (s *store) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || c.secret != secret {
		return nil, oidc.ErrInvalidClient()
	}
	return &serviceClient{Client: storage.WebClient(id, secret)}, nil
}

func (s *store) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok {
		return nil, oidc.ErrInvalidClient()
	}
	return &oidc.JWTTokenRequest{Subject: id, Audience: c.aud, Scopes: scopes}, nil
}

func (s *store) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

func (s *store) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.Storage.KeySet(ctx)
	return append(keys, ownKey{&s.own.PublicKey}), err
}

type ownKey struct{ pub *rsa.PublicKey }

func (k ownKey) ID() string                         { return OwnKeyID }
func (k ownKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k ownKey) Use() string                        { return "sig" }
func (k ownKey) Key() any                           { return k.pub }

// serviceClient is a client of the client_credentials grant with JWT
// access tokens.
type serviceClient struct{ op.Client }

func (serviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (serviceClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
