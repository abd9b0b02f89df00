package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/sandbox"
)

type googleAdsOptions struct {
	name, customerID, loginCustomerID   string
	devTokenEnv, clientID, secretEnv    string
	refreshEnv, baseURL, tokenURL, auth string
	port                                int
	noBrowser, makeDefault              bool
}

func connectGoogleAds(e *env) *cobra.Command {
	var c common
	var o googleAdsOptions
	cmd := &cobra.Command{
		Use:   "google-ads --name NAME --customer-id ID --developer-token-env VAR --client-id ID --client-secret-env VAR [--refresh-token-env VAR] [--login-customer-id ID] [--base-url URL] [--default]",
		Short: "connect a Google Ads account (OAuth 2: a refresh token, or sign-in in the browser; and a developer token)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			for _, f := range []struct{ flag, v string }{{"--customer-id", o.customerID}, {"--developer-token-env", o.devTokenEnv}, {"--client-id", o.clientID}, {"--client-secret-env", o.secretEnv}} {
				if f.v == "" {
					missing = append(missing, f.flag)
				}
			}
			if len(missing) > 0 {
				return usagef("missing %s", strings.Join(missing, ", "))
			}
			return runConnectGoogleAds(cmd.Context(), e, c, o)
		},
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "google-ads", "target `NAME` to configure")
	f.StringVar(&o.customerID, "customer-id", "", "Google Ads customer `ID` (123-456-7890; hyphens are dropped)")
	f.StringVar(&o.loginCustomerID, "login-customer-id", "", "manager account `ID` to sign in through, when the account is reached through one")
	f.StringVar(&o.devTokenEnv, "developer-token-env", "", "environment variable `VAR` holding the developer token (Google Ads → Tools → API Center)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client `ID` (a Google Cloud Desktop-app client)")
	f.StringVar(&o.secretEnv, "client-secret-env", "", "environment variable `VAR` holding the OAuth client's secret")
	f.StringVar(&o.refreshEnv, "refresh-token-env", "", "environment variable `VAR` holding a refresh token obtained elsewhere (non-interactive; else sign in in the browser)")
	f.StringVar(&o.baseURL, "base-url", "", "API base `URL` (default https://googleads.googleapis.com)")
	f.StringVar(&o.tokenURL, "token-url", "", "OAuth token `URL` (tests)")
	f.StringVar(&o.auth, "auth-url", "", "OAuth authorization `URL` (tests)")
	f.IntVar(&o.port, "redirect-port", 0, "loopback `PORT` for the OAuth redirect (0: any free port)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.BoolVar(&o.makeDefault, "default", false, "make it the default target")
	return cmd
}

func runConnectGoogleAds(ctx context.Context, e *env, c common, o googleAdsOptions) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	in := googleads.ConnectInput{Name: o.name, CustomerID: o.customerID, LoginCustomerID: o.loginCustomerID,
		DeveloperTokenEnv: o.devTokenEnv, ClientID: o.clientID, ClientSecretEnv: o.secretEnv, RefreshTokenEnv: o.refreshEnv,
		BaseURL: o.baseURL, TokenURL: o.tokenURL, AuthURL: o.auth, ListenAddr: net.JoinHostPort("localhost", strconv.Itoa(o.port)),
		Prompt: e.stderr, Getenv: e.getenv}
	if !o.noBrowser {
		in.OpenBrowser = openBrowser
	}
	conn, err := googleads.Connect(ctx, dir, in)
	if err != nil {
		return err
	}
	cfg := map[string]any{"customer_id": conn.Config.CustomerID, "currency": conn.Config.Currency, "time_zone": conn.Config.TimeZone}
	for k, v := range map[string]string{"login_customer_id": conn.Config.LoginCustomerID, "account_name": conn.Config.AccountName,
		"base_url": conn.Config.BaseURL, "token_url": conn.Config.TokenURL} {
		if v != "" {
			cfg[k] = v
		}
	}
	if err := sandbox.SaveTarget(dir, o.name, "google_ads", cfg, o.makeDefault); err != nil {
		return err
	}
	a := conn.Account
	fmt.Fprintf(e.stdout, "Connected Google Ads customer %s (%s) as target %q: currency %s, time zone %s.\n", a.CustomerID, a.Name, o.name, a.Currency, a.TimeZone)
	fmt.Fprintf(e.stdout, "lastmile can stage search campaigns there (budget, ad groups, responsive search ads, keywords, locations, languages); promotion creates them paused, and only an approved plan's enable step makes them spend. Budgets must be in %s.\n", a.Currency)
	for _, l := range conn.Description.Limits {
		fmt.Fprintf(e.stdout, "Note: %s.\n", l)
	}
	return nil
}
