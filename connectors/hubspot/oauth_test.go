package hubspot

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// browser follows the authorization URL as a user's browser would: the fake
// approves at once and redirects to the loopback callback.
func browser(t *testing.T) func(string) error {
	return func(u string) error {
		go func() {
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
}

// oauthOpts point an OAuth connect at the fake, on a free loopback port, with
// a browser that approves at once.
func oauthOpts(t *testing.T, srv *hubspottest.Server, more ...Option) []Option {
	return append([]Option{WithBaseURL(srv.URL), WithOAuthEndpoints(srv.AuthURL(), ""), WithListenAddr("localhost:0"),
		WithBrowser(browser(t)), WithConnectTimeout(10 * time.Second)}, more...)
}

func TestConnectOAuth(t *testing.T) {
	srv := hubspottest.New(t, hubspottest.Options{Tier: hubspottest.TierProfessional})
	dir := t.TempDir()
	var prompt bytes.Buffer
	t.Setenv("LASTMILE_TEST_HUBSPOT_SECRET", srv.ClientSecret())
	p, err := ConnectOAuth(ctx(), dir, "hubspot", srv.ClientID(), "LASTMILE_TEST_HUBSPOT_SECRET", oauthOpts(t, srv, WithPrompt(&prompt))...)
	if err != nil {
		t.Fatal(err)
	}
	if p.HubID != srv.HubID() || p.CanPublishEmail || !p.Capabilities.Workflows || len(p.Scopes) == 0 {
		t.Errorf("portal = %+v", p)
	}
	if st := srv.Stats(); st.Exchanges != 1 {
		t.Errorf("%d code exchanges, want 1", st.Exchanges)
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials", "hubspot.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials: %v %v", err, fi)
	}
	var c credentials
	if err := secret.Load(dir, "hubspot", &c); err != nil || c.Kind != KindOAuth || c.RefreshToken == "" || c.ClientSecret != srv.ClientSecret() {
		t.Fatalf("stored credentials: %v kind=%s", err, c.Kind)
	}
	out := prompt.String()
	if !strings.Contains(out, "code_challenge=") || !strings.Contains(out, "code_challenge_method=S256") || !strings.Contains(out, "Send email:        no") {
		t.Errorf("prompt:\n%s", out)
	}
	for _, s := range []string{c.AccessToken, c.RefreshToken, c.ClientSecret} {
		if strings.Contains(out, s) {
			t.Errorf("a secret is in the prompt:\n%s", out)
		}
	}
	// The stored connection works.
	tgt, err := New("hubspot", dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tgt.Live(ctx(), sandbox.KindEmail, "1"); err != nil {
		t.Fatal(err)
	}
}

func TestConnectOAuthRefused(t *testing.T) {
	srv := hubspottest.New(t, hubspottest.Options{Scopes: []string{"oauth", "content"}})
	t.Setenv("LASTMILE_TEST_HUBSPOT_SECRET", srv.ClientSecret())
	_, err := ConnectOAuth(ctx(), t.TempDir(), "hubspot", srv.ClientID(), "LASTMILE_TEST_HUBSPOT_SECRET", oauthOpts(t, srv)...)
	if err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("connect with scopes the portal lacks: %v", err)
	}
	t.Setenv("LASTMILE_TEST_HUBSPOT_SECRET", "wrong-secret")
	_, err = ConnectOAuth(ctx(), t.TempDir(), "hubspot", srv.ClientID(), "LASTMILE_TEST_HUBSPOT_SECRET", oauthOpts(t, srv, WithScopes([]string{"content"}, nil))...)
	if !errors.Is(err, sandbox.ErrAuth) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("connect with a wrong client secret: %v", err)
	}
}

// oauthTarget stores OAuth credentials for the fake directly: an access
// token that expires in expiresIn and a refresh token.
func oauthTarget(t *testing.T, srv *hubspottest.Server, expiresIn time.Duration, logs *logBuffer) (*Target, string, credentials) {
	t.Helper()
	dir := t.TempDir()
	access, refresh := srv.IssueTokens(hubspottest.AllScopes, expiresIn)
	c := credentials{Kind: KindOAuth, AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(expiresIn),
		ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), BaseURL: srv.URL}
	c.Portal.HubID = srv.HubID()
	if err := secret.Save(dir, "hubspot", &c); err != nil {
		t.Fatal(err)
	}
	tgt, err := New("hubspot", dir, Config{}, fastOpts(logs)...)
	if err != nil {
		t.Fatal(err)
	}
	return tgt, dir, c
}

func TestRefreshOnceUnderConcurrency(t *testing.T) {
	srv := hubspottest.New(t, hubspottest.Options{Window: time.Second})
	logs := &logBuffer{}
	// The token is within the renewal margin: every call needs a new one.
	tgt, dir, old := oauthTarget(t, srv, time.Minute, logs)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := tgt.Live(ctx(), sandbox.KindEmail, "1"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Stats().Refreshes; n != 1 {
		t.Errorf("%d refresh requests, want exactly 1", n)
	}
	var c credentials
	if err := secret.Load(dir, "hubspot", &c); err != nil {
		t.Fatal(err)
	}
	if c.AccessToken == old.AccessToken || !c.Expiry.After(time.Now().Add(20*time.Minute)) {
		t.Errorf("the refreshed token was not persisted: expiry %v", c.Expiry)
	}
	// A second target on the same data directory uses the persisted token.
	tgt2, err := New("hubspot", dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tgt2.Live(ctx(), sandbox.KindEmail, "1"); err != nil || srv.Stats().Refreshes != 1 {
		t.Errorf("second target: %v, refreshes %d", err, srv.Stats().Refreshes)
	}
	assertClean(t, logs.String(), nil, old.AccessToken, old.RefreshToken, old.ClientSecret, c.AccessToken)
}

// HubSpot answering 401 EXPIRED_AUTHENTICATION (clock skew, early expiry):
// the token is refreshed and the call repeated once.
func TestExpiredTokenRefreshedOn401(t *testing.T) {
	srv := hubspottest.New(t)
	logs := &logBuffer{}
	tgt, _, _ := oauthTarget(t, srv, time.Hour, logs)
	srv.ExpireAccessTokens()
	if _, _, err := tgt.Live(ctx(), sandbox.KindEmail, "1"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestRevokedRefreshToken(t *testing.T) {
	srv := hubspottest.New(t)
	logs := &logBuffer{}
	tgt, _, c := oauthTarget(t, srv, time.Second, logs)
	srv.RevokeRefreshTokens()
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tgt.Put(ctx(), segmentObj("seg_1", "x", sandbox.Segment{StaticEmails: []string{"a@b.test"}}), "")
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "reconnect with lastmile connect hubspot") || !strings.Contains(err.Error(), "BAD_REFRESH_TOKEN") {
			t.Errorf("error = %v", err)
		}
	}
	if n := srv.Stats().Refreshes; n != 1 {
		t.Errorf("%d refresh attempts with a dead refresh token, want 1", n)
	}
	if n := srv.Counts()["lists"]; n != 0 {
		t.Errorf("%d lists created without a token", n)
	}
	assertClean(t, logs.String(), errs, c.AccessToken, c.RefreshToken, c.ClientSecret)
}

func assertClean(t *testing.T, logs string, errs []error, secrets ...string) {
	t.Helper()
	hay := logs
	for _, err := range errs {
		if err != nil {
			hay += "\n" + err.Error()
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(hay, s) {
			t.Errorf("secret %q… found in logs/errors:\n%s", s[:6], hay)
		}
	}
}
