package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
)

// lastmile connect webflow against the contract fake: the token from the
// named variable is introspected and stored (0600), the marker field is
// created, config.yaml gets a webflow target that builds and authenticates,
// and the token appears nowhere else.
func TestConnectWebflow(t *testing.T) {
	srv := webflowtest.New(t)
	dir := t.TempDir()
	out, errOut := runBinEnv(t, []string{"WF_TOKEN=" + webflowtest.DefaultToken}, "connect", "webflow", "--name", "site", "--token-env", "WF_TOKEN",
		"--site", webflowtest.DefaultSiteID, "--collection-name", "Landing Pages", "--base-url", srv.BaseURL(), "--data-dir", dir)
	if !strings.Contains(out, `Connected Webflow site Acme Outdoors, collection "Landing Pages", as target "site"`) || !strings.Contains(out, "cannot schedule") {
		t.Errorf("stdout:\n%s", out)
	}
	for _, want := range []string{`Created the PlainText field "lastmile-marker"`, "can: create landing pages", "never been published"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	cfgText, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{out, errOut, string(cfgText)} {
		if strings.Contains(s, webflowtest.DefaultToken) {
			t.Errorf("the token is shown or written outside credentials/:\n%s", s)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "credentials", "site.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials: %v %v", st, err)
	}
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := cfg.Targets["site"]
	if !ok || tc.Type != "webflow" {
		t.Fatalf("config targets %+v", cfg.Targets)
	}
	tg, err := buildTarget("site", dir, tc, openOptions{}, newAccountLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.(sandbox.Describer).CheckAuth(context.Background()); err != nil {
		t.Errorf("the stored token does not work: %v", err)
	}
	if !tg.Capabilities().Pages || !tg.Capabilities().Metrics {
		t.Errorf("capabilities %+v", tg.Capabilities())
	}
	if _, ok := tg.(*webflow.Target); !ok {
		t.Errorf("built %T", tg)
	}
}
