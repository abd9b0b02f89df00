package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/sandbox"
)

// connectMeta is lastmile connect meta: a Meta ad account and the page its
// ads run as, with a system-user or long-lived user token read from the
// environment variable --token-env names.
func connectMeta(e *env) *cobra.Command {
	var c common
	var name, tokenEnv, secretEnv, account, page, baseURL string
	var makeDefault bool
	cmd := &cobra.Command{
		Use:   "meta --name NAME --token-env VAR --ad-account act_ID --page-id PAGE [--app-secret-env VAR] [--base-url URL] [--default]",
		Short: "connect a Meta ad account (a system-user or long-lived user token)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			for _, f := range []struct{ flag, v string }{{"--token-env", tokenEnv}, {"--ad-account", account}, {"--page-id", page}} {
				if f.v == "" {
					missing = append(missing, f.flag)
				}
			}
			if len(missing) > 0 {
				return usagef("missing %s", strings.Join(missing, ", "))
			}
			return runConnectMeta(cmd.Context(), e, c, name, tokenEnv, secretEnv, account, page, baseURL, makeDefault)
		},
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&name, "name", "meta", "target `NAME` to configure")
	f.StringVar(&tokenEnv, "token-env", "", "environment variable `VAR` holding the access token (a system user's, or a long-lived user token, with ads_management and ads_read)")
	f.StringVar(&secretEnv, "app-secret-env", "", "environment variable `VAR` holding the app secret, when the app requires appsecret_proof")
	f.StringVar(&account, "ad-account", "", "ad account `ID` (act_123… or the digits)")
	f.StringVar(&page, "page-id", "", "`ID` of the Facebook page the ads run as")
	f.StringVar(&baseURL, "base-url", "", "Graph API base `URL` (default "+meta.DefaultBaseURL+"; for tests)")
	f.BoolVar(&makeDefault, "default", false, "make it the default target")
	return cmd
}

func runConnectMeta(ctx context.Context, e *env, c common, name, tokenEnv, secretEnv, account, page, baseURL string, makeDefault bool) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	token := e.getenv(tokenEnv)
	if strings.TrimSpace(token) == "" {
		return fmt.Errorf("the environment variable %s is empty or unset: put the Meta access token in it (Business Settings → Users → System users → Generate new token, with ads_management and ads_read)", tokenEnv)
	}
	appSecret := ""
	if secretEnv != "" {
		if appSecret = e.getenv(secretEnv); strings.TrimSpace(appSecret) == "" {
			return fmt.Errorf("the environment variable %s is empty or unset: put the app secret in it, or leave out --app-secret-env", secretEnv)
		}
	}
	got, err := meta.Connect(ctx, dir, meta.ConnectInput{Name: name, Token: token, AppSecret: appSecret, AdAccount: account, PageID: page, BaseURL: baseURL, Prompt: e.stderr})
	if err != nil {
		return err
	}
	cfg := map[string]any{"ad_account": got.AdAccount, "page_id": page}
	if baseURL != "" {
		cfg["base_url"] = baseURL
	}
	if err := sandbox.SaveTarget(dir, name, "meta", cfg, makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected Meta ad account %s (%s) as target %q: currency %s, time zone %s, ads run as page %s.\n",
		got.AdAccount, got.AccountName, name, got.Currency, got.TimeZone, page)
	if got.Tier != "" {
		fmt.Fprintf(e.stdout, "Marketing API access tier: %s.\n", got.Tier)
	}
	if len(got.Permissions) > 0 {
		fmt.Fprintf(e.stdout, "The token grants: %s.\n", strings.Join(got.Permissions, ", "))
	}
	fmt.Fprintf(e.stdout, "lastmile can stage ad campaigns (link ads) there, created paused; nothing spends without an approved plan that enables it.\n")
	for _, l := range got.Description.Limits {
		fmt.Fprintf(e.stdout, "  limit: %s\n", l)
	}
	return nil
}
