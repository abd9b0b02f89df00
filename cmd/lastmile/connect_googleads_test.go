package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/sandbox"
)

// lastmile connect google-ads against the contract fake: the refresh
// token, client secret and developer token come from environment
// variables; the account's currency and time zone land in config.yaml;
// the target built from it works and reports the currency.
func TestConnectGoogleAds(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithCurrency("EUR", "Europe/Berlin"))
	vars := map[string]string{"GADS_DEV": googleadstest.DefaultDeveloperToken, "GADS_SECRET": googleadstest.DefaultClientSecret,
		"GADS_REFRESH": googleadstest.DefaultRefreshToken, "GADS_BAD": "1//revoked"}
	secrets := []string{googleadstest.DefaultDeveloperToken, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, "1//revoked"}
	connect := func(dir, refreshVar string, extra ...string) (string, string, int) {
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		args := append([]string{"connect", "google-ads", "--name", "gads", "--customer-id", "123-456-7890", "--developer-token-env", "GADS_DEV",
			"--client-id", googleadstest.DefaultClientID, "--client-secret-env", "GADS_SECRET", "--refresh-token-env", refreshVar,
			"--base-url", srv.BaseURL(), "--token-url", srv.TokenURL(), "--data-dir", dir}, extra...)
		code := run(context.Background(), e, args)
		for _, s := range secrets {
			if strings.Contains(out.String()+errb.String(), s) {
				t.Errorf("connect printed a secret")
			}
		}
		return out.String(), errb.String(), code
	}

	dir := t.TempDir()
	out, errOut, code := connect(dir, "GADS_REFRESH", "--default")
	if code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"Connected Google Ads customer 1234567890", "currency EUR", "time zone Europe/Berlin", "creates them paused", "customer lists"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := cfg.Targets["gads"]
	if !ok || tc.Type != "google_ads" {
		t.Fatalf("config targets %+v", cfg.Targets)
	}
	tg, err := buildTarget("gads", dir, tc, openOptions{}, newAccountLimits())
	if err != nil {
		t.Fatal(err)
	}
	ga, ok := tg.(*googleads.Target)
	if !ok || ga.Currency() != "EUR" || ga.CustomerID() != "1234567890" {
		t.Fatalf("built %T, currency %q", tg, ga.Currency())
	}
	if err := ga.CheckAuth(context.Background()); err != nil {
		t.Errorf("CheckAuth with the stored credentials: %v", err)
	}
	if d := ga.Describe(); !strings.Contains(d.Account, "123-456-7890") || !strings.Contains(d.Account, "EUR") {
		t.Errorf("Describe().Account = %q", d.Account)
	}

	// A revoked refresh token: refused, with what to do, and nothing stored.
	dir2 := t.TempDir()
	_, errOut, code = connect(dir2, "GADS_BAD")
	if code == 0 || !strings.Contains(errOut, "invalid_grant") || !strings.Contains(errOut, "lastmile connect google-ads") {
		t.Errorf("connect with a revoked token: exit %d, stderr %q", code, errOut)
	}
	if cfg, err := sandbox.LoadConfig(dir2); err == nil && len(cfg.Targets) > 0 {
		if _, ok := cfg.Targets["gads"]; ok {
			t.Errorf("a failed connect wrote the target")
		}
	}
	// Missing flags are a usage error.
	var o, e bytes.Buffer
	if code := run(context.Background(), &env{stdout: &o, stderr: &e, getenv: func(string) string { return "" }}, []string{"connect", "google-ads", "--data-dir", dir2}); code != 2 ||
		!strings.Contains(e.String(), "missing --customer-id, --developer-token-env, --client-id, --client-secret-env") {
		t.Errorf("connect without flags: exit %d, stderr %q", code, e.String())
	}
}
