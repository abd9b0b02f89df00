package oauthrs_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/internal/oauthrs"
	"github.com/lastmile/lastmile/internal/oauthrs/oauthtest"
)

const resource = "https://lastmile.example.com/mcp"

func TestMetadataDiscovery(t *testing.T) {
	op := oauthtest.Start(t)
	v, err := oauthrs.New(oauthrs.Config{Issuer: op.Issuer, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	m, err := v.Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != op.Issuer || m.JWKSURI != op.Issuer+"/keys" || m.IntrospectionEndpoint == "" {
		t.Fatalf("metadata %+v", m)
	}
	if got := oauthrs.MetadataURL(resource); got != "https://lastmile.example.com/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("MetadataURL: %s", got)
	}
	if got := oauthrs.MetadataURL("https://lastmile.example.com/"); got != "https://lastmile.example.com/.well-known/oauth-protected-resource" {
		t.Errorf("MetadataURL of a bare host: %s", got)
	}
}

func TestConfigRefusals(t *testing.T) {
	for _, c := range [][2]string{
		{"", resource},
		{"http://idp.example.com", resource},
		{"https://idp.example.com", "lastmile.example.com/mcp"},
		{"https://idp.example.com", "https://lastmile.example.com/mcp#x"},
	} {
		if _, err := oauthrs.New(oauthrs.Config{Issuer: c[0], Resource: c[1]}); err == nil {
			t.Errorf("issuer %q resource %q accepted", c[0], c[1])
		}
	}
}

// Tokens from the provider's token endpoint, and tokens the test signs
// with the key the provider publishes (for what it will not issue).
func TestJWTAccessTokens(t *testing.T) {
	ctx := context.Background()
	op := oauthtest.Start(t)
	op.AddClient("agent", "s3cret", resource)
	op.AddClient("elsewhere", "s3cret", "https://other.example.com/mcp")
	v, err := oauthrs.New(oauthrs.Config{Issuer: op.Issuer, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(ctx, op.Token(t, "agent", "s3cret", "lastmile:read", "lastmile:stage", "openid"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Actor() != "oauth:agent" || !p.OAuth || strings.Join(p.Scopes, " ") != "lastmile:read lastmile:stage" {
		t.Fatalf("principal %+v actor %s", p, p.Actor())
	}
	if _, err := v.Authenticate(ctx, op.Token(t, "elsewhere", "s3cret", "lastmile:read")); !errors.Is(err, accesstoken.ErrInvalid) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("another resource's token: %v", err)
	}

	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": op.Issuer, "aud": []string{resource}, "sub": "ada", "client_id": "cli",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scp": []string{"lastmile:plan"}}
	}
	good := base()
	p, err = v.Authenticate(ctx, op.Sign(t, good))
	if err != nil || p.Actor() != "oauth:cli/ada" || strings.Join(p.Scopes, " ") != "lastmile:plan" {
		t.Fatalf("a token signed with the published key: %+v %v", p, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		name  string
		token string
		want  string
	}{
		{"expired", op.Sign(t, with(base(), "exp", now.Add(-time.Hour).Unix())), "expired"},
		{"expired within the leeway is fine", "", ""},
		{"not yet valid", op.Sign(t, with(base(), "nbf", now.Add(time.Hour).Unix())), "not valid yet"},
		{"wrong audience", op.Sign(t, with(base(), "aud", "https://other.example.com/mcp")), "audience"},
		{"wrong issuer", op.Sign(t, with(base(), "iss", "https://evil.example")), "issued by"},
		{"no exp", op.Sign(t, with(base(), "exp", nil)), "exp"},
		{"another key, the published kid", oauthtest.SignWith(t, other, oauthtest.OwnKeyID, base()), "signature"},
		{"another key, an unknown kid", oauthtest.SignWith(t, other, "nope", base()), "no key"},
		{"alg none", "eyJhbGciOiJub25lIn0." + strings.Split(op.Sign(t, base()), ".")[1] + ".", "not a JWT"},
		{"HMAC", "eyJhbGciOiJIUzI1NiJ9." + strings.Split(op.Sign(t, base()), ".")[1] + ".c2ln", "not a JWT"},
		{"garbage", "hello", "not a JWT"},
	} {
		if c.token == "" {
			continue
		}
		p, err := v.Authenticate(ctx, c.token)
		if !errors.Is(err, accesstoken.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %+v %v, want invalid: %s", c.name, p, err, c.want)
		}
	}
	if _, err := v.Authenticate(ctx, op.Sign(t, with(base(), "exp", now.Add(-10*time.Second).Unix()))); err != nil {
		t.Errorf("expired 10 s ago, within the leeway: %v", err)
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
	return m
}

// With introspection configured, the provider's introspection endpoint
// decides (RFC 7662): active, audience, scopes.
func TestIntrospection(t *testing.T) {
	ctx := context.Background()
	op := oauthtest.Start(t)
	op.AddClient("agent", "s3cret", resource)
	op.AddClient("elsewhere", "s3cret", "https://other.example.com/mcp")
	v, err := oauthrs.New(oauthrs.Config{Issuer: op.Issuer, Resource: resource,
		Introspection: &oauthrs.Introspection{ClientID: oauthtest.IntrospectionClientID, ClientSecret: oauthtest.IntrospectionSecret}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(ctx, op.Token(t, "agent", "s3cret", "lastmile:read"))
	if err != nil || p.Actor() != "oauth:agent" || strings.Join(p.Scopes, " ") != "lastmile:read" {
		t.Fatalf("introspected token: %+v %v", p, err)
	}
	if _, err := v.Authenticate(ctx, op.Token(t, "elsewhere", "s3cret", "lastmile:read")); !errors.Is(err, accesstoken.ErrInvalid) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("another resource's token: %v", err)
	}
	// A token the provider never issued is not active.
	forged := op.Sign(t, map[string]any{"iss": op.Issuer, "aud": resource, "sub": "x", "exp": time.Now().Add(time.Hour).Unix(), "jti": "nope"})
	if _, err := v.Authenticate(ctx, forged); !errors.Is(err, accesstoken.ErrInvalid) || !strings.Contains(err.Error(), "not active") {
		t.Errorf("a token the provider did not issue: %v", err)
	}
	bad, _ := oauthrs.New(oauthrs.Config{Issuer: op.Issuer, Resource: resource,
		Introspection: &oauthrs.Introspection{ClientID: oauthtest.IntrospectionClientID, ClientSecret: "wrong"}})
	if _, err := bad.Authenticate(ctx, op.Token(t, "agent", "s3cret", "lastmile:read")); err == nil || errors.Is(err, accesstoken.ErrInvalid) {
		t.Errorf("introspection with a wrong secret should fail as an error of the server, not the token: %v", err)
	}
}
