package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/sandbox"
)

// connectCommand connects a platform: it runs the platform's sign-in,
// stores the secret under credentials/ (0600) and writes the target's
// section into config.yaml. Secrets are read from environment variables
// named by flags, never from the command line, where other users could
// see them.
func connectCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect hubspot|mailchimp|wordpress|webflow|google-ads|meta [flags]",
		Short: "connect a platform (hubspot, mailchimp, wordpress, webflow, google-ads, meta)",
		Long: "Connect a platform. Secrets come from environment variables named by flags, never from the\n" +
			"command line; they are stored under DATA-DIR/credentials/ with mode 0600, and the target is written\n" +
			"into config.yaml.",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name the platform: lastmile connect hubspot|mailchimp|wordpress|webflow|google-ads|meta")
			}
			return usagef("unknown platform %q: use hubspot, mailchimp, wordpress, webflow, google-ads or meta%s", args[0], suggest(cmd, args[0]))
		},
	}
	cmd.AddCommand(connectHubSpot(e), connectMailchimp(e), connectWordPress(e), connectWebflow(e), connectGoogleAds(e), connectMeta(e))
	return cmd
}

// openBrowser opens a URL for an OAuth sign-in; the URL is also printed.
func openBrowser(url string) error {
	cmd := "xdg-open"
	if runtime.GOOS == "darwin" {
		cmd = "open"
	}
	return exec.Command(cmd, url).Start()
}

func connectMailchimp(e *env) *cobra.Command {
	var c common
	var name, keyEnv, clientID, secretEnv, listen, list, baseURL string
	var oauth, makeDefault bool
	cmd := &cobra.Command{
		Use:   "mailchimp --name NAME (--key-env VAR | --oauth --client-id ID --client-secret-env VAR) [--list ID] [--base-url URL] [--default]",
		Short: "connect a Mailchimp account (API key, or OAuth 2 in the browser)",
		Args:  noArgs,
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&name, "name", "mailchimp", "target `NAME` to configure")
	f.StringVar(&keyEnv, "key-env", "", "environment variable `VAR` holding the API key (key-dc, e.g. …-us21)")
	f.BoolVar(&oauth, "oauth", false, "sign in with OAuth 2 in the browser instead of an API key")
	f.StringVar(&clientID, "client-id", "", "OAuth client `ID` (with --oauth)")
	f.StringVar(&secretEnv, "client-secret-env", "", "environment variable `VAR` holding the OAuth client secret (with --oauth)")
	f.StringVar(&listen, "listen", "127.0.0.1:8765", "loopback `ADDR` for the OAuth redirect")
	f.StringVar(&list, "list", "", "audience (list) `ID`; needed when the account has several")
	f.StringVar(&baseURL, "base-url", "", "API base `URL` (tests and proxies)")
	f.BoolVar(&makeDefault, "default", false, "make it the default target")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runConnectMailchimp(cmd.Context(), e, c, name, keyEnv, clientID, secretEnv, listen, list, baseURL, oauth, makeDefault)
	}
	return cmd
}

func runConnectMailchimp(ctx context.Context, e *env, c common, name, keyEnv, clientID, secretEnv, listen, list, baseURL string, oauth, makeDefault bool) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	opts := []mailchimp.Option{mailchimp.WithPrompt(e.stderr)}
	if baseURL != "" {
		opts = append(opts, mailchimp.WithBaseURL(baseURL))
	}
	var acct mailchimp.Account
	switch {
	case oauth:
		opts = append(opts, mailchimp.WithBrowser(openBrowser), mailchimp.WithListenAddr(listen))
		acct, err = mailchimp.ConnectOAuth(ctx, dir, name, clientID, secretEnv, opts...)
	case keyEnv != "":
		acct, err = mailchimp.ConnectAPIKey(ctx, dir, name, keyEnv, opts...)
	default:
		return usagef("pass --key-env VAR (an API key in that environment variable) or --oauth")
	}
	if err != nil {
		return err
	}
	cfg, err := acct.Config(list)
	if err != nil {
		return err
	}
	if baseURL != "" {
		cfg.BaseURL = baseURL
	}
	if err := sandbox.SaveTarget(dir, name, "mailchimp", cfg, makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected Mailchimp account %q (data centre %s) as target %q, audience %s.\nCampaigns can now name target %q; nothing is sent without an approved plan.\n", acct.AccountName, acct.DC, name, cfg.ListID, name)
	return nil
}

type hubspotOptions struct {
	name, tokenEnv, clientID, secretEnv, baseURL, authURL, tokenURL string
	port                                                            int
	noBrowser, makeDefault                                          bool
}

func connectHubSpot(e *env) *cobra.Command {
	var c common
	var o hubspotOptions
	cmd := &cobra.Command{
		Use:   "hubspot --name NAME (--token-env VAR | --client-id ID --client-secret-env VAR) [--base-url URL] [--default]",
		Short: "connect a HubSpot portal (private-app token, or OAuth 2 with PKCE in the browser)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runConnectHubSpot(cmd.Context(), e, c, o) },
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "hubspot", "target `NAME` to configure")
	f.StringVar(&o.tokenEnv, "token-env", "", "environment variable `VAR` holding a private-app access token (non-interactive)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth app client `ID` (browser sign-in with PKCE)")
	f.StringVar(&o.secretEnv, "client-secret-env", "", "environment variable `VAR` holding the OAuth app's client secret")
	f.StringVar(&o.baseURL, "base-url", "", "API base `URL` (default https://api.hubapi.com)")
	f.StringVar(&o.authURL, "auth-url", "", "OAuth authorization `URL` (tests)")
	f.StringVar(&o.tokenURL, "token-url", "", "OAuth token `URL` (tests)")
	f.IntVar(&o.port, "redirect-port", 8977, "loopback `PORT` for the OAuth redirect (must match the app's redirect URL)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.BoolVar(&o.makeDefault, "default", false, "make it the default target")
	return cmd
}

func runConnectHubSpot(ctx context.Context, e *env, c common, o hubspotOptions) error {
	name, tokenEnv, clientID, secretEnv, baseURL, authURL, tokenURL, port, noBrowser, makeDefault := &o.name, &o.tokenEnv, &o.clientID, &o.secretEnv, &o.baseURL, &o.authURL, &o.tokenURL, &o.port, &o.noBrowser, &o.makeDefault
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	opts := []hubspot.Option{hubspot.WithPrompt(e.stderr)}
	if *baseURL != "" {
		opts = append(opts, hubspot.WithBaseURL(*baseURL))
	}
	var portal hubspot.Portal
	switch {
	case *tokenEnv != "":
		portal, err = hubspot.ConnectPrivateApp(ctx, dir, *name, *tokenEnv, opts...)
	case *clientID != "":
		opts = append(opts, hubspot.WithOAuthEndpoints(*authURL, *tokenURL), hubspot.WithListenAddr(net.JoinHostPort("localhost", strconv.Itoa(*port))))
		if !*noBrowser {
			opts = append(opts, hubspot.WithBrowser(openBrowser))
		}
		portal, err = hubspot.ConnectOAuth(ctx, dir, *name, *clientID, *secretEnv, opts...)
	default:
		return usagef("pass --token-env VAR (a private-app token in that environment variable) or --client-id ID --client-secret-env VAR (browser sign-in)")
	}
	if err != nil {
		return err
	}
	cfg := map[string]any{}
	if *baseURL != "" {
		cfg["base_url"] = *baseURL
	}
	if err := sandbox.SaveTarget(dir, *name, "hubspot", cfg, *makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected HubSpot portal %d as target %q.\n", portal.HubID, *name)
	if !portal.CanPublishEmail {
		fmt.Fprintf(e.stdout, "Note: this portal cannot send email through the API (%s); plans will say emails stay drafts.\n", portal.PublishBlocked)
	}
	return nil
}

func connectWordPress(e *env) *cobra.Command {
	var c common
	var name, url, user, passEnv, formAction string
	var makeDefault bool
	cmd := &cobra.Command{
		Use:   "wordpress --name NAME --url URL --user USER --password-env VAR [--form-action URL] [--default]",
		Short: "connect a WordPress site (an application password)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			for _, f := range []struct{ flag, v string }{{"--url", url}, {"--user", user}, {"--password-env", passEnv}} {
				if f.v == "" {
					missing = append(missing, f.flag)
				}
			}
			if len(missing) > 0 {
				return usagef("missing %s", strings.Join(missing, ", "))
			}
			return runConnectWordPress(cmd.Context(), e, c, &name, &url, &user, &passEnv, &formAction, &makeDefault)
		},
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&name, "name", "wordpress", "target `NAME` to configure")
	f.StringVar(&url, "url", "", "site `URL`, e.g. https://blog.acme.com")
	f.StringVar(&user, "user", "", "WordPress `USER` the application password belongs to")
	f.StringVar(&passEnv, "password-env", "", "environment variable `VAR` holding the application password (Users → Profile → Application Passwords)")
	f.StringVar(&formAction, "form-action", "", "`URL` where page forms post (WordPress core has no forms; empty: forms are left out)")
	f.BoolVar(&makeDefault, "default", false, "make it the default target")
	return cmd
}

func runConnectWordPress(ctx context.Context, e *env, c common, name, url, user, passEnv, formAction *string, makeDefault *bool) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	if err := wordpress.Connect(ctx, dir, *name, *url, *user, *passEnv, wordpress.WithPrompt(e.stderr)); err != nil {
		return err
	}
	cfg := map[string]any{}
	if *formAction != "" {
		cfg["form_action"] = *formAction
	}
	if err := sandbox.SaveTarget(dir, *name, "wordpress", cfg, *makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected WordPress %s as target %q. Pages can now name target %q; nothing is published without an approved plan.\n", *url, *name, *name)
	return nil
}
