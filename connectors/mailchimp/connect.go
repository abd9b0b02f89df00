package mailchimp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

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

type connectSettings struct {
	httpClient  *http.Client
	baseURL     string
	out         io.Writer
	openBrowser func(string) error
	authURL     string
	tokenURL    string
	metadataURL string
	listenAddr  string
	timeout     time.Duration
}

// ConnectOption configures ConnectAPIKey and ConnectOAuth.
type ConnectOption func(*connectSettings)

// WithConnectHTTPClient replaces the HTTP client used while connecting.
func WithConnectHTTPClient(c *http.Client) ConnectOption {
	return func(s *connectSettings) { s.httpClient = c }
}

// WithAPIBaseURL overrides the API base (default https://<dc>.api.mailchimp.com/3.0,
// or the api_endpoint the OAuth metadata names). Tests point it at a fake.
func WithAPIBaseURL(u string) ConnectOption { return func(s *connectSettings) { s.baseURL = u } }

// WithPrompts sets where human-facing messages go (the CLI passes stderr;
// never the MCP stdout). Default: nowhere.
func WithPrompts(w io.Writer) ConnectOption { return func(s *connectSettings) { s.out = w } }

// WithBrowser sets how the authorization URL is opened (default: only printed).
func WithBrowser(open func(url string) error) ConnectOption {
	return func(s *connectSettings) { s.openBrowser = open }
}

// WithOAuthEndpoints overrides login.mailchimp.com's authorize, token and
// metadata URLs (tests).
func WithOAuthEndpoints(authURL, tokenURL, metadataURL string) ConnectOption {
	return func(s *connectSettings) { s.authURL, s.tokenURL, s.metadataURL = authURL, tokenURL, metadataURL }
}

// WithListenAddr sets the loopback address of the OAuth redirect (default
// 127.0.0.1:8765: register http://127.0.0.1:8765/callback as the app's
// redirect URI). Port 0 picks a free port.
func WithListenAddr(addr string) ConnectOption {
	return func(s *connectSettings) { s.listenAddr = addr }
}

// WithConnectTimeout bounds the whole connect (default 5 minutes for OAuth,
// which waits for a human; 30 seconds for an API key).
func WithConnectTimeout(d time.Duration) ConnectOption {
	return func(s *connectSettings) { s.timeout = d }
}

func connectDefaults(opts []ConnectOption) connectSettings {
	s := connectSettings{
		out:         io.Discard,
		authURL:     "https://login.mailchimp.com/oauth2/authorize",
		tokenURL:    "https://login.mailchimp.com/oauth2/token",
		metadataURL: "https://login.mailchimp.com/oauth2/metadata",
		listenAddr:  "127.0.0.1:8765",
	}
	for _, o := range opts {
		o(&s)
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if s.out == nil {
		s.out = io.Discard
	}
	return s
}

// ConnectAPIKey connects the target called name with the API key held in
// the environment variable keyEnv (its name, not the key: a key never goes on
// a command line): it checks the key against the account, then stores it
// under dataDir (0600). The returned Account lists the audiences, whose id
// goes in the target's list_id.
//
// CLI: lastmile connect mailchimp --name NAME --key-env VAR [--list ID] [--base-url URL]
func ConnectAPIKey(dataDir, name, keyEnv string, opts ...ConnectOption) (Account, error) {
	s := connectDefaults(opts)
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
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
	return finishConnect(ctx, dataDir, name, cr, s)
}

// ConnectOAuth connects the target called name through Mailchimp's OAuth 2
// authorization-code flow: it listens on a loopback redirect, prints (and
// optionally opens) the authorization URL, exchanges the code for a token
// (client credentials in the form body, as Mailchimp wants), asks the
// metadata endpoint for the account's data centre and API endpoint, checks
// the token, and stores it under dataDir (0600). Mailchimp tokens do not
// expire and there is no refresh token: a revoked token means connecting
// again.
//
// CLI: lastmile connect mailchimp --name NAME --oauth --client-id ID
// --client-secret-env VAR [--listen 127.0.0.1:8765] [--list ID]
func ConnectOAuth(ctx context.Context, dataDir, name, clientID, clientSecretEnv string, opts ...ConnectOption) (Account, error) {
	s := connectDefaults(opts)
	if s.timeout <= 0 {
		s.timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if clientID == "" {
		return Account{}, errors.New("mailchimp: connect: --client-id is required for OAuth (register an app at https://admin.mailchimp.com/account/oauth2/)")
	}
	clientSecret := strings.TrimSpace(os.Getenv(clientSecretEnv))
	if clientSecret == "" {
		return Account{}, fmt.Errorf("mailchimp: connect: environment variable %q (the OAuth client secret) is empty or unset", clientSecretEnv)
	}
	ln, err := net.Listen("tcp", s.listenAddr)
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: listening for the OAuth redirect on %s: %w", s.listenAddr, err)
	}
	defer ln.Close()
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		return Account{}, fmt.Errorf("mailchimp: connect: the OAuth redirect must listen on the loopback interface, not %s", ln.Addr())
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	conf := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: s.authURL, TokenURL: s.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  redirect,
	}
	var sb [16]byte
	if _, err := rand.Read(sb[:]); err != nil {
		return Account{}, err
	}
	state := hex.EncodeToString(sb[:])

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the OAuth redirect carried the wrong state; start again")
		case q.Get("error") != "":
			res.err = fmt.Errorf("Mailchimp refused the authorization: %s", q.Get("error"))
		case q.Get("code") == "":
			res.err = errors.New("the OAuth redirect carried no code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			fmt.Fprintf(w, "<p>lastmile could not connect Mailchimp: %s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<p>Mailchimp is connected to lastmile. You can close this window.</p>")
		}
		select {
		case done <- res:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	authURL := conf.AuthCodeURL(state)
	fmt.Fprintf(s.out, "Open this address to let lastmile use your Mailchimp account:\n\n  %s\n\nWaiting for Mailchimp to redirect to %s …\n", authURL, redirect)
	if s.openBrowser != nil {
		if err := s.openBrowser(authURL); err != nil {
			fmt.Fprintf(s.out, "(could not open a browser: %v; open the address yourself)\n", err)
		}
	}
	var res result
	select {
	case <-ctx.Done():
		return Account{}, fmt.Errorf("mailchimp: connect: no authorization arrived: %w", ctx.Err())
	case res = <-done:
	}
	if res.err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", res.err)
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, s.httpClient), res.code)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Account{}, fmt.Errorf("mailchimp: connect: exchanging the authorization code failed (%s %s): check the client id and secret: %w",
				re.ErrorCode, re.ErrorDescription, sandbox.ErrAuth)
		}
		return Account{}, fmt.Errorf("mailchimp: connect: exchanging the authorization code: %w", err)
	}
	meta, err := oauthMetadata(ctx, s.httpClient, s.metadataURL, tok.AccessToken)
	if err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	cr := credentials{Kind: authOAuth, AccessToken: tok.AccessToken, DC: meta.DC, APIEndpoint: meta.APIEndpoint, AccountName: meta.AccountName}
	return finishConnect(ctx, dataDir, name, cr, s)
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
		return metadata{}, fmt.Errorf("Mailchimp rejected the new token at the metadata endpoint (HTTP %d): %w", resp.StatusCode, sandbox.ErrAuth)
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
func finishConnect(ctx context.Context, dataDir, name string, cr credentials, s connectSettings) (Account, error) {
	base := s.baseURL
	if base == "" {
		base = cr.apiBase()
	}
	base = strings.TrimRight(base, "/")
	if err := checkBaseURL(base); err != nil {
		return Account{}, fmt.Errorf("mailchimp: connect: %w", err)
	}
	c := &rest.Client{
		HTTP:        s.httpClient,
		BaseURL:     base,
		Authorize:   cr.authorize,
		Sem:         accountSemaphore(accountKey(base, cr), MaxConnections),
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
	fmt.Fprintf(s.out, "Connected Mailchimp account %q (%s) as target %q.\n", acct.AccountName, acct.DC, name)
	if len(acct.Audiences) > 0 {
		fmt.Fprintln(s.out, "Audiences (put one id in the target's list_id):")
		for _, a := range acct.Audiences {
			fmt.Fprintf(s.out, "  %s  %s (%d members)\n", a.ID, a.Name, a.Members)
		}
	}
	return acct, nil
}
