package googleads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/lastmile/lastmile/connectors/internal/oauthflow"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// DefaultAuthURL is Google's OAuth 2 authorization page.
const DefaultAuthURL = "https://accounts.google.com/o/oauth2/v2/auth"

// DefaultListenAddr is where the browser sign-in's redirect comes back to
// (a desktop OAuth client accepts any loopback port).
const DefaultListenAddr = "localhost:0"

// ConnectInput is what lastmile connect google-ads was given. Secrets are
// named by environment variables, never passed themselves.
type ConnectInput struct {
	Name string
	// CustomerID is the account (hyphens allowed); LoginCustomerID the
	// manager account signed in through, if any.
	CustomerID, LoginCustomerID string
	// DeveloperTokenEnv names the variable holding the developer token.
	DeveloperTokenEnv string
	// ClientID and ClientSecretEnv are the OAuth client (a Google Cloud
	// "Desktop app" client).
	ClientID, ClientSecretEnv string
	// RefreshTokenEnv, when set, names a variable holding a refresh token
	// obtained elsewhere (with the adwords scope); else the person signs
	// in in the browser.
	RefreshTokenEnv string
	// BaseURL, TokenURL and AuthURL replace Google's (tests, fakes).
	BaseURL, TokenURL, AuthURL string
	// ListenAddr is the loopback address of the browser sign-in's redirect.
	ListenAddr string
	// Prompt receives what the person reads (never the MCP protocol's stdout).
	Prompt io.Writer
	// OpenBrowser opens the sign-in page; nil prints it only.
	OpenBrowser func(url string) error
	// Getenv reads the environment (default os.Getenv).
	Getenv     func(string) string
	HTTPClient *http.Client
}

// Connection is what connecting found and stored.
type Connection struct {
	Account Account
	// Config is the target's config section (customer, currency, time
	// zone, and the URLs when they are not Google's).
	Config Config
	// Description says what lastmile can do on the account.
	Description sandbox.Description
}

// Connect signs in (with a refresh token from the environment, or in the
// browser), probes the account with one GAQL query (customer id, name,
// currency, time zone), and stores the credentials under dataDir (0600).
// Nothing secret is printed or returned.
func Connect(ctx context.Context, dataDir string, in ConnectInput) (Connection, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(flag, name, what string) (string, error) {
		if name == "" {
			return "", fmt.Errorf("google_ads: %s is required: the name of an environment variable holding %s", flag, what)
		}
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return "", fmt.Errorf("google_ads: the environment variable %s (%s) is empty or not set: put %s in it", name, flag, what)
		}
		return v, nil
	}
	if in.Name == "" || dataDir == "" {
		return Connection{}, errors.New("google_ads: connect needs a target name and a data directory")
	}
	customer, err := normalizeCustomerID(in.CustomerID)
	if err != nil {
		return Connection{}, fmt.Errorf("google_ads: --customer-id: %w", err)
	}
	login := ""
	if in.LoginCustomerID != "" {
		if login, err = normalizeCustomerID(in.LoginCustomerID); err != nil {
			return Connection{}, fmt.Errorf("google_ads: --login-customer-id: %w", err)
		}
	}
	dev, err := env("--developer-token-env", in.DeveloperTokenEnv, "the developer token (Google Ads → Tools → API Center)")
	if err != nil {
		return Connection{}, err
	}
	if in.ClientID == "" {
		return Connection{}, errors.New("google_ads: --client-id is required: the OAuth client id of a Google Cloud project with the Google Ads API enabled")
	}
	clientSecret, err := env("--client-secret-env", in.ClientSecretEnv, "the OAuth client's secret")
	if err != nil {
		return Connection{}, err
	}
	hc := in.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	tokenURL := firstNonEmpty(in.TokenURL, DefaultTokenURL)
	var refresh string
	if in.RefreshTokenEnv != "" {
		if refresh, err = env("--refresh-token-env", in.RefreshTokenEnv, "a refresh token granted the "+Scope+" scope"); err != nil {
			return Connection{}, err
		}
	} else {
		flow := oauthflow.Flow{
			Platform: "Google Ads",
			Config: oauth2.Config{ClientID: in.ClientID, ClientSecret: clientSecret, Scopes: []string{Scope},
				Endpoint: oauth2.Endpoint{AuthURL: firstNonEmpty(in.AuthURL, DefaultAuthURL), TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}},
			ListenAddr: firstNonEmpty(in.ListenAddr, DefaultListenAddr), CallbackPath: "/oauth-callback", PKCE: true,
			// offline + consent: Google returns a refresh token.
			AuthParams: []oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent")},
			Prompt:     in.Prompt, OpenBrowser: in.OpenBrowser, HTTPClient: hc,
		}
		tok, err := flow.Run(ctx)
		if err != nil {
			return Connection{}, fmt.Errorf("google_ads: sign-in failed: %w; run lastmile connect google-ads again", err)
		}
		if tok.RefreshToken == "" {
			return Connection{}, errors.New("google_ads: Google granted no refresh token; remove lastmile's access at myaccount.google.com/permissions and connect again")
		}
		refresh = tok.RefreshToken
	}
	cfg := Config{CustomerID: customer, LoginCustomerID: login}
	if in.BaseURL != "" && strings.TrimRight(in.BaseURL, "/") != DefaultBaseURL {
		cfg.BaseURL = strings.TrimRight(in.BaseURL, "/")
	}
	if in.TokenURL != "" && in.TokenURL != DefaultTokenURL {
		cfg.TokenURL = in.TokenURL
	}
	cr := credentials{ClientID: in.ClientID, ClientSecret: clientSecret, RefreshToken: refresh, DeveloperToken: dev}
	t, err := New(in.Name, dataDir, cfg, WithHTTPClient(hc), WithCredentials(cr.ClientID, cr.ClientSecret, cr.RefreshToken, cr.DeveloperToken))
	if err != nil {
		return Connection{}, err
	}
	acct, err := t.probe(ctx)
	if err != nil {
		return Connection{}, err
	}
	if acct.Manager {
		return Connection{}, fmt.Errorf("google_ads: customer %s is a manager account, which holds no campaigns: connect the client account (--customer-id) and pass the manager as --login-customer-id", dashed(customer))
	}
	cfg.Currency, cfg.TimeZone, cfg.AccountName = acct.Currency, acct.TimeZone, acct.Name
	if err := secret.Save(dataDir, in.Name, cr); err != nil {
		return Connection{}, fmt.Errorf("google_ads: store the credentials: %w", err)
	}
	t.cfg = cfg
	d := t.Describe()
	d.ConnectedAt, d.ProbedAt = time.Now().UTC(), time.Now().UTC()
	if acct.Test {
		d.Tier = "test account"
	}
	return Connection{Account: acct, Config: cfg, Description: d}, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
