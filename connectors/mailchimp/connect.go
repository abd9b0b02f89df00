package mailchimp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/lastmile/lastmile/connectors/internal/oauthflow"
	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

var dcRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,4}[0-9]{1,3}$`) })

// dcFromKey returns the data centre an API key belongs to: the part after
// its last '-' (…-us21 → us21). Errors never quote the key.
func dcFromKey(key string) (string, error) {
	i := strings.LastIndexByte(key, '-')
	if i < 0 || !dcRE().MatchString(key[i+1:]) {
		return "", errors.New("the API key has no data-centre suffix (it should end like -us21); copy the whole key from Mailchimp: Profile → Extras → API keys")
	}
	return key[i+1:], nil
}

// looksLikeKey catches a key passed where an environment variable's name was expected.
var looksLikeKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{16,}-[a-z]{2,4}[0-9]{1,3}$`) })

// Account describes a connected account: nothing secret.
type Account struct {
	Target      string     `json:"target"`
	Method      string     `json:"method"` // api_key | oauth
	DC          string     `json:"dc"`
	APIEndpoint string     `json:"api_endpoint"`
	AccountName string     `json:"account_name,omitempty"`
	Audiences   []Audience `json:"audiences"`
}

// Audience is one list of the account, to choose the target's list_id.
type Audience struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// Config returns the target configuration for one of the account's
// audiences: listID when given (it must be one of them), else the account's
// only audience. With several audiences and no choice, the error lists them.
func (a Account) Config(listID string) (Config, error) {
	if listID != "" {
		for _, au := range a.Audiences {
			if au.ID == listID {
				return Config{ListID: listID}, nil
			}
		}
		return Config{}, fmt.Errorf("mailchimp: the account has no audience %q; choose one of: %s", listID, a.audienceList())
	}
	switch len(a.Audiences) {
	case 0:
		return Config{}, errors.New("mailchimp: the account has no audience yet: create one in Mailchimp, then connect again")
	case 1:
		return Config{ListID: a.Audiences[0].ID}, nil
	}
	return Config{}, fmt.Errorf("mailchimp: the account has %d audiences; choose one with --list: %s", len(a.Audiences), a.audienceList())
}

func (a Account) audienceList() string {
	var parts []string
	for _, au := range a.Audiences {
		parts = append(parts, fmt.Sprintf("%s (%s, %d members)", au.ID, au.Name, au.Members))
	}
	return strings.Join(parts, ", ")
}

// DefaultListenAddr is where the OAuth redirect comes back to; the app must
// have http://127.0.0.1:8765/callback as its redirect URI.
const DefaultListenAddr = "127.0.0.1:8765"

// Mailchimp's OAuth endpoints.
const (
	DefaultAuthURL     = "https://login.mailchimp.com/oauth2/authorize"
	DefaultTokenURL    = "https://login.mailchimp.com/oauth2/token"
	DefaultMetadataURL = "https://login.mailchimp.com/oauth2/metadata"
)

// connectOptions are the options only connecting reads.
type connectOptions struct {
	prompt                         io.Writer
	openBrowser                    func(url string) error
	listenAddr                     string
	authURL, tokenURL, metadataURL string
	timeout                        time.Duration
}

// WithPrompt sets where connecting writes what the person reads
// (instructions, what was connected). The CLI passes stderr, never the MCP
// protocol's stdout. Default: nowhere.
func WithPrompt(w io.Writer) Option { return func(o *options) { o.connect.prompt = w } }

// WithBrowser sets how an OAuth connect opens the authorization URL
// (default: it is only printed).
func WithBrowser(open func(url string) error) Option {
	return func(o *options) { o.connect.openBrowser = open }
}

// WithListenAddr sets the loopback host:port the OAuth redirect comes back
// to (default DefaultListenAddr); port 0 picks a free port.
func WithListenAddr(addr string) Option { return func(o *options) { o.connect.listenAddr = addr } }

// WithOAuthEndpoints replaces the platform's OAuth authorization and token
// URLs (tests, fakes).
func WithOAuthEndpoints(authURL, tokenURL string) Option {
	return func(o *options) { o.connect.authURL, o.connect.tokenURL = authURL, tokenURL }
}

// WithConnectTimeout bounds how long an OAuth connect waits for the person
// to approve lastmile in the browser (default 5 minutes).
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connect.timeout = d } }

// WithMetadataURL replaces login.mailchimp.com's metadata endpoint, which
// names an OAuth token's data centre (tests, fakes).
func WithMetadataURL(u string) Option { return func(o *options) { o.connect.metadataURL = u } }

// apiKeyTimeout bounds a connect with an API key, which waits for nobody.
const apiKeyTimeout = 30 * time.Second

// ConnectAPIKey connects the target called name with the API key held in
// the environment variable keyEnv (its name, not the key: a key never goes on
// a command line): it checks the key against the account, then stores it
// under dataDir (0600). The returned Account lists the audiences, whose id
// goes in the target's list_id.
//
// CLI: lastmile connect mailchimp --name NAME --key-env VAR [--list ID] [--base-url URL]
func ConnectAPIKey(ctx context.Context, dataDir, name, keyEnv string, opts ...Option) (Account, error) {
	ctx, cancel := context.WithTimeout(ctx, apiKeyTimeout)
	defer cancel()
	if looksLikeKey().MatchString(keyEnv) {
		return Account{}, errors.New("mailchimp: connect: pass the name of the environment variable that holds the API key (--key-env MAILCHIMP_API_KEY), not the key itself")
	}
	if strings.TrimSpace(keyEnv) == "" {
		return Account{}, errors.New("mailchimp: connect: name the environment variable that holds the API key (--key-env MAILCHIMP_API_KEY)")
	}
	key := strings.TrimSpace(os.Getenv(keyEnv))
	if key == "" {
		return Account{}, fmt.Errorf("mailchimp: connect: environment variable %s is empty or unset: export your Mailchimp API key in it", keyEnv)
	}
	dc, err := dcFromKey(key)
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	cr := credentials{Kind: authAPIKey, APIKey: key, DC: dc, APIEndpoint: "https://" + dc + ".api.mailchimp.com"}
	return finishConnect(ctx, dataDir, name, cr, optionsOf(opts))
}

// ConnectOAuth connects the target called name through Mailchimp's OAuth 2
// authorization-code flow: the person approves lastmile in the browser,
// Mailchimp sends them back to the loopback redirect, the code is exchanged
// for a token (client credentials in the form body, as Mailchimp wants),
// the metadata endpoint names the account's data centre and API endpoint,
// the token is checked and stored under dataDir (0600). The client secret is
// read from the environment variable clientSecretEnv. Mailchimp tokens do
// not expire and there is no refresh token: a revoked token means
// connecting again.
//
// CLI: lastmile connect mailchimp --name NAME --oauth --client-id ID
// --client-secret-env VAR [--listen 127.0.0.1:8765] [--list ID]
func ConnectOAuth(ctx context.Context, dataDir, name, clientID, clientSecretEnv string, opts ...Option) (Account, error) {
	if clientID == "" {
		return Account{}, errors.New("mailchimp: connect: --client-id is required for OAuth (register an app at https://admin.mailchimp.com/account/oauth2/)")
	}
	clientSecret := strings.TrimSpace(os.Getenv(clientSecretEnv))
	if clientSecret == "" {
		return Account{}, fmt.Errorf("mailchimp: connect: environment variable %q (the OAuth client secret) is empty or unset", clientSecretEnv)
	}
	o := optionsOf(opts)
	co := o.connect
	hc := connectClient(o)
	flow := oauthflow.Flow{
		Platform: "Mailchimp",
		Config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: firstNonEmpty(co.authURL, DefaultAuthURL), TokenURL: firstNonEmpty(co.tokenURL, DefaultTokenURL), AuthStyle: oauth2.AuthStyleInParams},
		},
		ListenAddr:   firstNonEmpty(co.listenAddr, DefaultListenAddr),
		CallbackPath: "/callback",
		Prompt:       co.prompt,
		OpenBrowser:  co.openBrowser,
		Wait:         co.timeout,
		HTTPClient:   hc,
	}
	tok, err := flow.Run(ctx)
	if xe, ok := errors.AsType[*oauthflow.ExchangeError](err); ok {
		if re, ok := errors.AsType[*oauth2.RetrieveError](xe); ok {
			return Account{}, fmt.Errorf("mailchimp: connect: exchanging the authorization code failed (%s %s): check the client id and secret: %w",
				re.ErrorCode, re.ErrorDescription, sandbox.ErrAuth)
		}
		return Account{}, fmt.Errorf("mailchimp: connect: exchanging the authorization code: %w", xe.Err)
	}
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	meta, err := oauthMetadata(ctx, hc, firstNonEmpty(co.metadataURL, DefaultMetadataURL), tok.AccessToken)
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	cr := credentials{Kind: authOAuth, AccessToken: tok.AccessToken, DC: meta.DC, APIEndpoint: meta.APIEndpoint, AccountName: meta.AccountName}
	return finishConnect(ctx, dataDir, name, cr, o)
}

// connectClient is the HTTP client connecting uses: the caller's, else one
// with a 30-second timeout.
func connectClient(o options) *http.Client {
	if o.httpClient != nil {
		return o.httpClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

type metadata struct {
	DC          string `json:"dc"`
	APIEndpoint string `json:"api_endpoint"`
	AccountName string `json:"accountname"`
}

// oauthMetadata asks login.mailchimp.com which data centre a token belongs to.
func oauthMetadata(ctx context.Context, hc *http.Client, metadataURL, token string) (metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return metadata{}, err
	}
	req.Header.Set("Authorization", "OAuth "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return metadata{}, fmt.Errorf("reading the OAuth metadata: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return metadata{}, fmt.Errorf("the new token was refused by Mailchimp's metadata endpoint (HTTP %d): %w", resp.StatusCode, sandbox.ErrAuth)
	}
	if resp.StatusCode != http.StatusOK {
		return metadata{}, fmt.Errorf("reading the OAuth metadata: HTTP %d", resp.StatusCode)
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return metadata{}, fmt.Errorf("reading the OAuth metadata: %w", err)
	}
	if m.APIEndpoint == "" && m.DC == "" {
		return metadata{}, errors.New("the OAuth metadata named no data centre")
	}
	if m.APIEndpoint == "" {
		m.APIEndpoint = "https://" + m.DC + ".api.mailchimp.com"
	}
	return m, nil
}

// finishConnect checks the credential against the API, reads the account's
// name and audiences, and stores the credential.
func finishConnect(ctx context.Context, dataDir, name string, cr credentials, o options) (Account, error) {
	base := strings.TrimRight(firstNonEmpty(o.baseURL, cr.apiBase()), "/")
	if err := checkBaseURL(base); err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	c := &rest.Client{
		HTTP:        connectClient(o),
		BaseURL:     base,
		Authorize:   cr.authorize,
		Sem:         limitsOr(o.limits).semaphore(base, cr, MaxConnections),
		MaxAttempts: 4,
		UserAgent:   "lastmile-mailchimp/1",
	}
	var root struct {
		AccountName string `json:"account_name"`
	}
	resp, err := c.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/?fields=account_name"})
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: checking the credentials: %w", mapErr(err, name))
	}
	_ = resp.Decode(&root)
	if root.AccountName != "" {
		cr.AccountName = root.AccountName
	}
	var lists struct {
		Lists []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Stats struct {
				MemberCount int `json:"member_count"`
			} `json:"stats"`
		} `json:"lists"`
	}
	resp, err = c.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/lists?count=1000&fields=lists.id,lists.name,lists.stats.member_count"})
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: listing audiences: %w", mapErr(err, name))
	}
	_ = resp.Decode(&lists)
	cr.ConnectedAt = time.Now().UTC()
	if err := secret.Save(dataDir, name, cr); err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: storing the credentials: %w", err)
	}
	acct := Account{Target: name, Method: cr.Kind, DC: cr.DC, APIEndpoint: strings.TrimSuffix(base, "/3.0"), AccountName: cr.AccountName, Audiences: []Audience{}}
	for _, l := range lists.Lists {
		acct.Audiences = append(acct.Audiences, Audience{ID: l.ID, Name: l.Name, Members: l.Stats.MemberCount})
	}
	out := o.connect.prompt
	if out == nil {
		out = io.Discard
	}
	fmt.Fprintf(out, "Connected Mailchimp account %q (%s) as target %q.\n", acct.AccountName, acct.DC, name)
	if len(acct.Audiences) > 0 {
		fmt.Fprintln(out, "Audiences (put one id in the target's list_id):")
		for _, a := range acct.Audiences {
			fmt.Fprintf(out, "  %s  %s (%d members)\n", a.ID, a.Name, a.Members)
		}
	}
	return acct, nil
}
