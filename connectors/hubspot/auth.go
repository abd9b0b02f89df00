package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
	"golang.org/x/oauth2"
)

// Credential kinds.
const (
	KindOAuth      = "oauth"
	KindPrivateApp = "private_app"
)

// credentials is what secret stores for a HubSpot target (mode 0600). The
// tokens and the client secret never leave this struct except in the
// Authorization header and the token endpoint's form body.
type credentials struct {
	Kind         string    `json:"kind"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ClientID     string    `json:"client_id,omitempty"`
	ClientSecret string    `json:"client_secret,omitempty"`
	TokenURL     string    `json:"token_url,omitempty"`
	BaseURL      string    `json:"base_url,omitempty"`
	Portal       Portal    `json:"portal"`
}

// Portal is what lastmile knows about a connected portal; it holds nothing
// secret and can be shown to people.
type Portal struct {
	HubID  int64    `json:"hub_id,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	// CanPublishEmail is false when the portal's tier (or a missing
	// marketing-email scope) does not let the API send or schedule email.
	CanPublishEmail bool `json:"can_publish_email"`
	// PublishBlocked says why CanPublishEmail is false.
	PublishBlocked string `json:"publish_blocked,omitempty"`
	// Capabilities found at connect: an API the token cannot use is off.
	Capabilities sandbox.Capabilities `json:"capabilities"`
	// MissingScopes lists, per capability (emails, segments, workflows,
	// pages, publish), the scopes HubSpot said were missing.
	MissingScopes map[string][]string `json:"missing_scopes,omitempty"`
	ProbedAt      time.Time           `json:"probed_at,omitzero"`
}

// authorizer adds the bearer token to requests and, for OAuth, refreshes it:
// exactly once when many requests find it expired at the same moment, and
// the refreshed token is saved before anyone uses it.
type authorizer struct {
	mu       sync.Mutex
	c        credentials
	dataDir  string
	name     string
	tokenURL string
	hc       *http.Client
	now      func() time.Time
	dead     error // a refresh token HubSpot rejected: no more tries
	log      *slog.Logger
}

func newAuthorizer(c *credentials, dataDir, name, tokenURL string, hc *http.Client, now func() time.Time, log *slog.Logger) *authorizer {
	return &authorizer{c: *c, dataDir: dataDir, name: name, tokenURL: tokenURL, hc: hc, now: now, log: log}
}

// expiryMargin renews a token this long before HubSpot's expiry, so a token
// never expires in flight.
const expiryMargin = 2 * time.Minute

func (a *authorizer) kind() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c.Kind
}

// staticToken is a private app's token, for the token-info call only.
func (a *authorizer) staticToken() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.c.Kind != KindPrivateApp {
		return ""
	}
	return a.c.AccessToken
}

func (a *authorizer) canRefresh() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c.Kind == KindOAuth && a.c.RefreshToken != ""
}

func (a *authorizer) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (a *authorizer) valid() bool {
	if a.c.AccessToken == "" {
		return false
	}
	if a.c.Kind != KindOAuth || a.c.Expiry.IsZero() {
		return true
	}
	return a.now().Add(expiryMargin).Before(a.c.Expiry)
}

// token returns a usable access token. The lock is held across the refresh,
// so concurrent callers wait for the one refresh rather than starting theirs.
func (a *authorizer) token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.valid() {
		return a.c.AccessToken, nil
	}
	if a.dead != nil {
		return "", a.dead
	}
	if a.c.Kind != KindOAuth || a.c.RefreshToken == "" {
		return "", authFailure("the stored HubSpot token has expired and cannot be refreshed: reconnect with lastmile connect hubspot --name "+a.name, false)
	}
	// Another lastmile process sharing the data directory may have refreshed.
	var disk credentials
	if err := secret.Load(a.dataDir, a.name, &disk); err == nil && disk.Kind == KindOAuth && disk.AccessToken != a.c.AccessToken {
		prev := a.c
		a.c = disk
		if a.valid() {
			return a.c.AccessToken, nil
		}
		a.c = prev
	}
	cfg := oauth2.Config{
		ClientID:     a.c.ClientID,
		ClientSecret: a.c.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: a.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	rctx := context.WithValue(ctx, oauth2.HTTPClient, a.hc)
	tok, err := cfg.TokenSource(rctx, &oauth2.Token{RefreshToken: a.c.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		err = tokenError("refresh the access token", a.name, err)
		if errors.Is(err, errRevoked) {
			a.dead = err
		}
		return "", err
	}
	a.c.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		a.c.RefreshToken = tok.RefreshToken
	}
	a.c.TokenType = tok.TokenType
	a.c.Expiry = expiryOf(tok, a.now())
	if err := secret.Save(a.dataDir, a.name, &a.c); err != nil && a.log != nil {
		// The new token works for this process; the next one refreshes again.
		a.log.Warn("hubspot: could not save the refreshed token", "target", a.name, "error", err.Error())
	}
	return a.c.AccessToken, nil
}

// invalidate forgets the access token so the next request refreshes it.
func (a *authorizer) invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.c.Kind == KindOAuth {
		a.c.Expiry = time.Unix(1, 0)
	}
}

func expiryOf(tok *oauth2.Token, now time.Time) time.Time {
	if tok.ExpiresIn > 0 {
		return now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if !tok.Expiry.IsZero() {
		return tok.Expiry
	}
	return now.Add(30 * time.Minute)
}

var errRevoked = errors.New("refresh token revoked")

// authFailure is a credentials problem whose text says how to fix it. It
// belongs to sandbox.ErrAuth, and to errRevoked for a dead refresh token,
// without repeating their words.
func authFailure(text string, revoked bool) error {
	kinds := []error{sandbox.ErrAuth}
	if revoked {
		kinds = append(kinds, errRevoked)
	}
	return &rest.Error{Platform: Platform, Message: text, Kinds: kinds}
}

// tokenError explains a token-endpoint failure without echoing anything the
// endpoint was sent.
func tokenError(what, name string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return fmt.Errorf("could not %s: HubSpot's token endpoint timed out; try again", what)
		}
		return fmt.Errorf("could not %s: HubSpot's token endpoint could not be reached: %v", what, err)
	}
	var body struct {
		Status      string `json:"status"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Message     string `json:"message"`
	}
	_ = json.Unmarshal(re.Body, &body)
	code := firstNonEmpty(body.Status, body.Error, re.ErrorCode)
	desc := firstNonEmpty(body.Description, body.Message, re.ErrorDescription)
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case body.Status == "BAD_REFRESH_TOKEN" || (body.Error == "invalid_grant" && what == "refresh the access token"):
		return authFailure(fmt.Sprintf("HubSpot rejected the stored refresh token (%s: %s); the app was probably uninstalled or the token revoked: reconnect with lastmile connect hubspot --name %s",
			firstNonEmpty(body.Status, "BAD_REFRESH_TOKEN"), firstNonEmpty(desc, "invalid, expired or revoked"), name), true)
	case body.Status == "BAD_CLIENT_ID" || body.Status == "BAD_CLIENT_SECRET" || body.Error == "invalid_client":
		return authFailure(fmt.Sprintf("could not %s: HubSpot does not accept the app's client id or secret (%s): check them and reconnect with lastmile connect hubspot --name %s", what, code, name), false)
	case status >= 500:
		return fmt.Errorf("could not %s: HubSpot's token endpoint had an internal error (HTTP %d); try again", what, status)
	}
	return authFailure(fmt.Sprintf("could not %s: HubSpot answered HTTP %d %s: %s; reconnect with lastmile connect hubspot --name %s", what, status, code, desc, name), false)
}
