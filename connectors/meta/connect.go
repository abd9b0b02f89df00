package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

// ConnectInput is what lastmile connect meta was given. Token and AppSecret
// are the values (the CLI reads them from the environment variables its
// flags name, never from the command line).
type ConnectInput struct {
	Name, Token, AppSecret, AdAccount, PageID, BaseURL string
	// Prompt is where what the person reads goes (stderr); nil: nowhere.
	Prompt io.Writer
}

// Connected is what connecting found.
type Connected struct {
	AdAccount, AccountName, Currency, TimeZone string
	AccountStatus                              int
	// Tier is the Marketing API access tier Meta reported
	// (ads_api_access_tier: development_access, standard_access…).
	Tier        string
	Permissions []string
	Description sandbox.Description
}

// Connect checks the token against the ad account (GET
// /act_{id}?fields=name,currency,timezone_name,account_status) and its
// permissions (GET /me/permissions: ads_management and ads_read), then
// stores the credentials under dataDir (0600).
func Connect(ctx context.Context, dataDir string, in ConnectInput, opts ...Option) (Connected, error) {
	op := "connect"
	w := in.Prompt
	if w == nil {
		w = io.Discard
	}
	if !validName().MatchString(in.Name) {
		return Connected{}, failf(op, nil, "--name %q: use lower-case letters, digits, - and _", in.Name)
	}
	token := strings.TrimSpace(in.Token)
	if token == "" {
		return Connected{}, failf(op, []error{sandbox.ErrAuth}, "the token is empty: put a system-user or long-lived user token (Business Settings → Users → System users → Generate new token, with ads_management and ads_read) in the environment variable --token-env names")
	}
	account, err := normAccount(in.AdAccount)
	if err != nil {
		return Connected{}, failf(op, nil, "--ad-account: %v", err)
	}
	if strings.TrimSpace(in.PageID) == "" || strings.Trim(in.PageID, "0123456789") != "" {
		return Connected{}, failf(op, nil, "--page-id %q: give the numeric id of the Facebook page the ads run as (Page → About → Page transparency)", in.PageID)
	}
	base := strings.TrimRight(in.BaseURL, "/")
	if base != "" {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Connected{}, failf(op, nil, "--base-url %q is not an http(s) URL", in.BaseURL)
		}
	}
	opts = append(slices.Clip(opts), WithCredentials(token, strings.TrimSpace(in.AppSecret)))
	t, err := New(in.Name, dataDir, Config{AdAccount: account, PageID: in.PageID, BaseURL: base}, opts...)
	if err != nil {
		return Connected{}, err
	}
	resp, err := t.call(ctx, http.MethodGet, "/"+account, url.Values{"fields": {"name,currency,timezone_name,account_status"}})
	if err != nil {
		return Connected{}, t.fail("read ad account "+account, err)
	}
	var a accountInfo
	if err := resp.Decode(&a); err != nil || a.Currency == "" {
		return Connected{}, failf(op, nil, "Meta answered the ad account read without a currency; check --ad-account and --base-url")
	}
	tier := accessTier(resp.Header)
	var perms struct {
		Data []struct {
			Permission string `json:"permission"`
			Status     string `json:"status"`
		} `json:"data"`
	}
	var granted []string
	if err := t.get(ctx, "/me/permissions", nil, &perms); err != nil {
		// A system-user token may not read /me/permissions; the account
		// read above proved the token works.
		fmt.Fprintf(w, "note: could not read the token's permissions (%v); lastmile needs ads_management and ads_read\n", t.fail("read permissions", err))
	} else {
		for _, p := range perms.Data {
			if p.Status == "granted" {
				granted = append(granted, p.Permission)
			}
		}
		var missing []string
		for _, need := range []string{"ads_management", "ads_read"} {
			if !slices.Contains(granted, need) {
				missing = append(missing, need)
			}
		}
		if len(missing) > 0 {
			return Connected{}, failf(op, []error{sandbox.ErrAuth}, "the token lacks %s: lastmile could not create ad campaigns or read their insights; generate a token with them and connect again", strings.Join(missing, ", "))
		}
	}
	if a.Status != 0 && a.Status != 1 {
		fmt.Fprintf(w, "warning: ad account %s has account_status %d (not ACTIVE): Meta may refuse to deliver its ads until it is settled in Ads Manager\n", account, a.Status)
	}
	cr := credentials{Token: token, AppSecret: strings.TrimSpace(in.AppSecret), AdAccount: account, PageID: in.PageID, BaseURL: base,
		AccountName: a.Name, Currency: a.Currency, TimeZone: a.TimeZone, Permissions: granted, Tier: tier, ConnectedAt: t.now().UTC()}
	if err := secret.Save(dataDir, in.Name, cr); err != nil {
		return Connected{}, fmt.Errorf("meta: connect: store the credentials of target %q: %w", in.Name, err)
	}
	t.cred = cr
	return Connected{AdAccount: account, AccountName: a.Name, Currency: a.Currency, TimeZone: a.TimeZone, AccountStatus: a.Status,
		Permissions: granted, Tier: tier, Description: t.Describe()}, nil
}

// accessTier reads ads_api_access_tier from the usage headers.
func accessTier(h http.Header) string {
	var acc struct {
		Tier string `json:"ads_api_access_tier"`
	}
	if json.Unmarshal([]byte(h.Get("X-Ad-Account-Usage")), &acc) == nil && acc.Tier != "" {
		return acc.Tier
	}
	var buc map[string][]struct {
		Tier string `json:"ads_api_access_tier"`
	}
	if json.Unmarshal([]byte(h.Get("X-Business-Use-Case-Usage")), &buc) == nil {
		for _, es := range buc {
			for _, e := range es {
				if e.Tier != "" {
					return e.Tier
				}
			}
		}
	}
	return ""
}
