package googleads

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"golang.org/x/oauth2"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// Scope is the OAuth 2 scope of every Google Ads API method.
const Scope = "https://www.googleapis.com/auth/adwords"

// credentials are what lastmile connect stores (0600) for a target: the
// OAuth client, the refresh token it was granted, and the developer token.
// None of them is ever logged or put in an error.
type credentials struct {
	ClientID       string `json:"client_id"`
	ClientSecret   string `json:"client_secret,omitempty"`
	RefreshToken   string `json:"refresh_token"`
	DeveloperToken string `json:"developer_token"`
}

// authorizer adds the access token (refreshed as needed), the developer
// token and login-customer-id to each request.
type authorizer struct {
	target string
	devTok string
	login  string
	mu     sync.Mutex
	src    oauth2.TokenSource
}

func newAuthorizer(target string, cr credentials, tokenURL, login string, hc *http.Client) *authorizer {
	conf := &oauth2.Config{ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, Scopes: []string{Scope},
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	return &authorizer{target: target, devTok: cr.DeveloperToken, login: login,
		src: oauth2.ReuseTokenSource(nil, conf.TokenSource(ctx, &oauth2.Token{RefreshToken: cr.RefreshToken}))}
}

func (a *authorizer) authorize(ctx context.Context, req *http.Request) error {
	a.mu.Lock()
	tok, err := a.src.Token()
	a.mu.Unlock()
	if err != nil {
		return a.tokenError(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("developer-token", a.devTok)
	if a.login != "" {
		req.Header.Set("login-customer-id", a.login)
	}
	return nil
}

// tokenError explains a failed refresh without repeating what Google sent
// back beyond its error code (the body never holds the secret, but the
// request did).
func (a *authorizer) tokenError(err error) error {
	e := &rest.Error{Platform: Platform, Op: "refresh the access token"}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e.Status, e.Code = re.Response.StatusCode, re.ErrorCode
		e.Kinds = []error{sandbox.ErrAuth}
		switch re.ErrorCode {
		case "invalid_grant":
			e.Message = "Google refused the refresh token (invalid_grant: revoked, expired, or issued to another OAuth client); run lastmile connect google-ads --name " + a.target + " again"
		case "invalid_client", "unauthorized_client":
			e.Message = "Google refused the OAuth client (" + re.ErrorCode + "): check the client id and secret, then run lastmile connect google-ads --name " + a.target + " again"
		default:
			e.Message = "Google refused to refresh the access token (" + re.ErrorCode + "); run lastmile connect google-ads --name " + a.target + " again"
		}
		return e
	}
	e.Message = "cannot get an access token from Google's token endpoint (" + rest.Clip(err.Error(), 200) + "); check the network and try again"
	e.Cause = err
	return e
}
