package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/internal/oauthrs/oauthtest"
)

func createToken(t *testing.T, dir, name, scopes string) string {
	t.Helper()
	out, errOut, code := runBin(t, "tokens", "create", "--name", name, "--scopes", scopes, "--data-dir", dir)
	if code != 0 {
		t.Fatalf("tokens create: exit %d\n%s", code, errOut)
	}
	return strings.TrimSpace(out)
}

func bearerHdr(token string, more ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + token}
	for i := 0; i+1 < len(more); i += 2 {
		h[more[i]] = more[i+1]
	}
	return h
}

// With a lastmile token in the data directory, serve --http needs one on
// every request but a CORS preflight; Origin is checked first; a revoked
// token is refused; no token reaches the log.
func TestServeHTTPNeedsTokenOnceOneExists(t *testing.T) {
	dir := initDir(t)
	good := createToken(t, dir, "agent", "lastmile:read")
	old := createToken(t, dir, "old", "lastmile:read")
	if _, errOut, code := runBin(t, "tokens", "revoke", "old", "--data-dir", dir); code != 0 {
		t.Fatalf("tokens revoke: %s", errOut)
	}
	s := startHTTP(t, "--data-dir", dir, "--allow-origin", "https://agent.example.com")
	resp, body := s.req(http.MethodPost, "/mcp", initBody, nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="lastmile"` {
		t.Errorf("no token: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	resp, body = s.req(http.MethodPost, "/mcp", initBody, bearerHdr(old))
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="lastmile", error="invalid_token"` {
		t.Errorf("revoked token: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, bearerHdr(good)); resp.StatusCode != 200 || resp.Header.Get("Mcp-Session-Id") == "" {
		t.Errorf("valid token: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != 403 {
		t.Errorf("foreign Origin without a token: %d, want 403 before 401: %s", resp.StatusCode, body)
	}
	pre := map[string]string{"Origin": "https://agent.example.com", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,content-type,mcp-session-id,mcp-protocol-version"}
	if resp, body := s.req(http.MethodOptions, "/mcp", nil, pre); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://agent.example.com" {
		t.Errorf("preflight without a token: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := s.req(http.MethodGet, "/.well-known/oauth-protected-resource", nil, nil); resp.StatusCode != 404 {
		t.Errorf("metadata without OAuth: %d, want 404", resp.StatusCode)
	}
	time.Sleep(100 * time.Millisecond)
	for _, tok := range []string{good, old} {
		if strings.Contains(s.stderr.String(), tok) || strings.Contains(s.stderr.String(), strings.TrimPrefix(tok, "lm_")) {
			t.Errorf("the log holds a token:\n%s", s.stderr.String())
		}
	}
}

// A token created while the server runs turns authentication on.
func TestServeHTTPTokenCreatedWhileServing(t *testing.T) {
	dir := initDir(t)
	s := startHTTP(t, "--data-dir", dir)
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, nil); resp.StatusCode != 200 {
		t.Fatalf("no token yet: %d %s", resp.StatusCode, body)
	}
	createToken(t, dir, "late", "lastmile:read")
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, nil); resp.StatusCode != 401 {
		t.Errorf("after a token was created: %d, want 401: %s", resp.StatusCode, body)
	}
}

// A non-loopback address is served once a token exists.
func TestServeHTTPNonLoopbackWithToken(t *testing.T) {
	dir := initDir(t)
	tok := createToken(t, dir, "remote", "lastmile:read")
	s := startHTTPAt(t, "0.0.0.0:0", nil, "--data-dir", dir)
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, nil); resp.StatusCode != 401 {
		t.Errorf("no token: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.req(http.MethodPost, "/mcp", initBody, bearerHdr(tok)); resp.StatusCode != 200 {
		t.Errorf("token: %d %s", resp.StatusCode, body)
	}
}

const testResource = "https://lastmile.example.com/mcp"

// serve --http as an OAuth resource server of a real OpenID provider
// (zitadel/oidc's, run by the test): the metadata, tokens from its token
// endpoint, the audit actor, scopes per tool, and the tokens it refuses.
func TestServeHTTPOAuth(t *testing.T) {
	op := oauthtest.Start(t)
	op.AddClient("agent", "s3cret", testResource)
	op.AddClient("elsewhere", "s3cret", "https://other.example.com/mcp")
	dir := initDir(t)
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nauth:\n  issuer: " + op.Issuer + "\n  resource: " + testResource + "\n")
	f.Close()
	s := startHTTPAt(t, "0.0.0.0:0", nil, "--data-dir", dir)

	for _, p := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, body := s.req(http.MethodGet, p, nil, nil)
		var m struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			Scopes               []string `json:"scopes_supported"`
			Bearer               []string `json:"bearer_methods_supported"`
		}
		json.Unmarshal([]byte(body), &m)
		if resp.StatusCode != 200 || m.Resource != testResource || len(m.AuthorizationServers) != 1 || m.AuthorizationServers[0] != op.Issuer ||
			strings.Join(m.Scopes, " ") != "lastmile:read lastmile:stage lastmile:plan lastmile:confirm" || strings.Join(m.Bearer, " ") != "header" {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	prm := `resource_metadata="https://lastmile.example.com/.well-known/oauth-protected-resource/mcp"`
	resp, body := s.req(http.MethodPost, "/mcp", initBody, nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="lastmile", `+prm {
		t.Errorf("no token: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}

	now := time.Now()
	claims := func(k string, v any) map[string]any {
		m := map[string]any{"iss": op.Issuer, "aud": testResource, "sub": "ada", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "lastmile:read"}
		m[k] = v
		return m
	}
	refused := map[string]string{
		"expired (signed with the key the provider publishes)": op.Sign(t, claims("exp", now.Add(-time.Hour).Unix())),
		"wrong audience (crafted)":                             op.Sign(t, claims("aud", "https://other.example.com/mcp")),
		"wrong audience (from the provider)":                   op.Token(t, "elsewhere", "s3cret", "lastmile:read"),
		"signed by another key":                                otherKeyToken(t, claims("sub", "ada")),
	}
	for name, tok := range refused {
		resp, body := s.req(http.MethodPost, "/mcp", initBody, bearerHdr(tok))
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="lastmile", `+prm+`, error="invalid_token"` {
			t.Errorf("%s: %d %q %s", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	connect := func(token string) *client.Client {
		c, err := client.NewStreamableHttpClient(s.url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		req := mcp.InitializeRequest{}
		req.Params.ClientInfo = mcp.Implementation{Name: "oauth-agent", Version: "0"}
		req.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		if _, err := c.Initialize(ctx, req); err != nil {
			t.Fatal(err)
		}
		return c
	}
	call := func(c *client.Client, name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	builderTok := op.Token(t, "agent", "s3cret", "lastmile:read", "lastmile:stage")
	readerTok := op.Token(t, "agent", "s3cret", "lastmile:read")
	if res := call(connect(builderTok), "create_campaign", map[string]any{"name": "By OAuth"}); res.IsError {
		t.Fatalf("create_campaign with lastmile:stage: %+v", res.Content)
	}
	res := call(connect(readerTok), "create_campaign", map[string]any{"name": "Refused"})
	if text := toolText(res); !res.IsError || !strings.Contains(text, "create_campaign needs the access token scope lastmile:stage; the OAuth token of oauth:agent has lastmile:read") {
		t.Errorf("create_campaign with lastmile:read only: %v %s", res.IsError, text)
	}

	time.Sleep(100 * time.Millisecond)
	logs := s.stderr.String()
	for _, tok := range append([]string{builderTok, readerTok}, mapValues(refused)...) {
		if strings.Contains(logs, tok) || strings.Contains(logs, strings.Split(tok, ".")[2]) {
			t.Errorf("the log holds a token:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "discovered the authorization server") {
		t.Errorf("the log does not say the authorization server was discovered:\n%s", logs)
	}
	s.cmd.Process.Kill()
	<-s.exited
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	if !strings.Contains(audit, `"oauth:agent"`) || strings.Contains(audit, "Refused") {
		t.Errorf("the audit log should have create_campaign by oauth:agent, and not the refused one:\n%s", audit)
	}
}

func toolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func otherKeyToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return oauthtest.SignWith(t, key, oauthtest.OwnKeyID, claims)
}

// Introspection's secret comes from the environment variable config.yaml
// names; serve --http refuses to start without it.
func TestServeHTTPIntrospectionSecretFromEnv(t *testing.T) {
	dir := initDir(t)
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nauth:\n  issuer: https://idp.example.com\n  resource: " + testResource + "\n  introspection: {client_id: lastmile, client_secret_env: LM_TEST_INTROSPECTION_SECRET}\n")
	f.Close()
	_, errOut, code := runBin(t, "serve", "--http", "127.0.0.1:0", "--data-dir", dir)
	if code != 2 || !strings.Contains(errOut, "LM_TEST_INTROSPECTION_SECRET, which is not set") {
		t.Errorf("without the secret: exit %d\n%s", code, errOut)
	}
	s := startHTTPAt(t, "127.0.0.1:0", []string{"LM_TEST_INTROSPECTION_SECRET=hunter2-secret"}, "--data-dir", dir)
	if resp, _ := s.req(http.MethodPost, "/mcp", initBody, nil); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if strings.Contains(s.stderr.String(), "hunter2-secret") {
		t.Errorf("the log holds the secret:\n%s", s.stderr.String())
	}
}

// A session belongs to the token that began it: another token holding
// its id is told there is no such session, and cannot end it.
func TestServeHTTPSessionBoundToToken(t *testing.T) {
	dir := initDir(t)
	alice := createToken(t, dir, "alice", "lastmile:read")
	mallory := createToken(t, dir, "mallory", "lastmile:read")
	s := startHTTP(t, "--data-dir", dir)
	resp, body := s.req(http.MethodPost, "/mcp", initBody, bearerHdr(alice))
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize as alice: %d %s", resp.StatusCode, body)
	}
	with := func(tok string) map[string]string {
		h := bearerHdr(tok)
		h["Mcp-Session-Id"], h["Mcp-Protocol-Version"] = sid, "2025-11-25"
		return h
	}
	list := rpcBody(2, "tools/list", map[string]any{})
	if resp, body := s.req(http.MethodPost, "/mcp", list, with(mallory)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice's session with mallory's token: %d %.200s, want 404", resp.StatusCode, body)
	}
	if resp, _ := s.req(http.MethodDelete, "/mcp", nil, with(mallory)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("mallory ending alice's session: %d, want 404", resp.StatusCode)
	}
	if resp, body := s.req(http.MethodPost, "/mcp", list, with(alice)); resp.StatusCode != 200 {
		t.Errorf("alice's session with her token, after mallory tried: %d %.200s", resp.StatusCode, body)
	}
}
