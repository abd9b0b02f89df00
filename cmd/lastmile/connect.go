package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/sandbox"
)

// cmdConnect connects a platform: it runs the platform's sign-in, stores the
// secret under credentials/ (0600) and writes the target's section into
// config.yaml. Secrets are read from environment variables named by flags,
// never from the command line, where other users could see them.
func cmdConnect(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "Usage: lastmile connect hubspot|mailchimp|wordpress [flags]   (lastmile connect PLATFORM -h for the flags)")
		return errUsage
	}
	switch args[0] {
	case "mailchimp":
		return connectMailchimp(ctx, e, args[1:])
	case "hubspot":
		return connectHubSpot(ctx, e, args[1:])
	case "wordpress":
		return connectWordPress(ctx, e, args[1:])
	}
	return fmt.Errorf("unknown platform %q: use hubspot, mailchimp or wordpress", args[0])
}

// openBrowser opens a URL for an OAuth sign-in; the URL is also printed.
func openBrowser(url string) error {
	cmd := "xdg-open"
	if runtime.GOOS == "darwin" {
		cmd = "open"
	}
	return exec.Command(cmd, url).Start()
}

func connectMailchimp(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "connect mailchimp", "connect mailchimp --name NAME (--key-env VAR | --oauth --client-id ID --client-secret-env VAR) [--list ID] [--base-url URL] [--default]")
	c.register(fs)
	name := fs.String("name", "mailchimp", "target name to configure")
	keyEnv := fs.String("key-env", "", "environment variable holding the API key (key-dc, e.g. …-us21)")
	oauth := fs.Bool("oauth", false, "sign in with OAuth 2 in the browser instead of an API key")
	clientID := fs.String("client-id", "", "OAuth client id (with --oauth)")
	secretEnv := fs.String("client-secret-env", "", "environment variable holding the OAuth client secret (with --oauth)")
	listen := fs.String("listen", "127.0.0.1:8765", "loopback address for the OAuth redirect")
	list := fs.String("list", "", "audience (list) id; needed when the account has several")
	baseURL := fs.String("base-url", "", "API base URL (tests and proxies)")
	makeDefault := fs.Bool("default", false, "make it the default target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	var opts []mailchimp.ConnectOption
	if *baseURL != "" {
		opts = append(opts, mailchimp.WithAPIBaseURL(*baseURL))
	}
	var acct mailchimp.Account
	switch {
	case *oauth:
		opts = append(opts, mailchimp.WithPrompts(e.stderr), mailchimp.WithBrowser(openBrowser), mailchimp.WithListenAddr(*listen))
		acct, err = mailchimp.ConnectOAuth(ctx, dir, *name, *clientID, *secretEnv, opts...)
	case *keyEnv != "":
		acct, err = mailchimp.ConnectAPIKey(dir, *name, *keyEnv, opts...)
	default:
		return fmt.Errorf("pass --key-env VAR (an API key in that environment variable) or --oauth")
	}
	if err != nil {
		return err
	}
	cfg, err := acct.Config(*list)
	if err != nil {
		return err
	}
	if *baseURL != "" {
		cfg.BaseURL = *baseURL
	}
	if err := sandbox.SaveTarget(dir, *name, "mailchimp", cfg, *makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected Mailchimp account %q (data centre %s) as target %q, audience %s.\nCampaigns can now name target %q; nothing is sent without an approved plan.\n", acct.AccountName, acct.DC, *name, cfg.ListID, *name)
	return nil
}

func connectHubSpot(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "connect hubspot", "connect hubspot --name NAME (--token-env VAR | --client-id ID --client-secret-env VAR) [--base-url URL] [--default]")
	c.register(fs)
	name := fs.String("name", "hubspot", "target name to configure")
	tokenEnv := fs.String("token-env", "", "environment variable holding a private-app access token (non-interactive)")
	clientID := fs.String("client-id", "", "OAuth app client id (browser sign-in with PKCE)")
	secretEnv := fs.String("client-secret-env", "", "environment variable holding the OAuth app's client secret")
	baseURL := fs.String("base-url", "", "API base URL (default https://api.hubapi.com)")
	authURL := fs.String("auth-url", "", "OAuth authorization URL (tests)")
	tokenURL := fs.String("token-url", "", "OAuth token URL (tests)")
	port := fs.Int("redirect-port", 8977, "loopback port for the OAuth redirect (must match the app's redirect URL)")
	noBrowser := fs.Bool("no-browser", false, "print the sign-in URL instead of opening a browser")
	makeDefault := fs.Bool("default", false, "make it the default target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	var portal hubspot.Portal
	switch {
	case *tokenEnv != "":
		portal, err = hubspot.ConnectPrivateAppWith(ctx, hubspot.PrivateAppOptions{DataDir: dir, Name: *name, TokenEnv: *tokenEnv, BaseURL: *baseURL, Prompt: e.stderr})
	case *clientID != "":
		secret := ""
		if *secretEnv != "" {
			if secret = e.getenv(*secretEnv); secret == "" {
				return fmt.Errorf("environment variable %s is empty: put the app's client secret in it", *secretEnv)
			}
		}
		o := hubspot.ConnectOptions{DataDir: dir, Name: *name, ClientID: *clientID, ClientSecret: secret, BaseURL: *baseURL,
			AuthURL: *authURL, TokenURL: *tokenURL, RedirectPort: *port, Prompt: e.stderr}
		if !*noBrowser {
			o.OpenBrowser = openBrowser
		}
		portal, err = hubspot.Connect(ctx, o)
	default:
		return fmt.Errorf("pass --token-env VAR (a private-app token in that environment variable) or --client-id ID --client-secret-env VAR (browser sign-in)")
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

func connectWordPress(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "connect wordpress", "connect wordpress --name NAME --url URL --user USER --password-env VAR [--form-action URL] [--default]")
	c.register(fs)
	name := fs.String("name", "wordpress", "target name to configure")
	url := fs.String("url", "", "site URL, e.g. https://blog.acme.com")
	user := fs.String("user", "", "WordPress user the application password belongs to")
	passEnv := fs.String("password-env", "", "environment variable holding the application password (Users → Profile → Application Passwords)")
	formAction := fs.String("form-action", "", "where page forms post (WordPress core has no forms; empty: forms are left out)")
	makeDefault := fs.Bool("default", false, "make it the default target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *user == "" || *passEnv == "" {
		fs.Usage()
		return errUsage
	}
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	if err := wordpress.Connect(ctx, dir, *name, *url, *user, *passEnv, e.stderr); err != nil {
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
