package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
)

func runMetaConnect(t *testing.T, vars map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), e, append([]string{"connect", "meta"}, args...))
	return out.String(), errOut.String(), code
}

func TestConnectMeta(t *testing.T) {
	srv := metatest.New(t, metatest.WithAppSecret("app-secret-1"))
	dir := t.TempDir()
	vars := map[string]string{"FB_TOKEN": srv.Token, "FB_SECRET": "app-secret-1"}
	out, errOut, code := runMetaConnect(t, vars, "--data-dir", dir, "--name", "fb", "--token-env", "FB_TOKEN", "--app-secret-env", "FB_SECRET",
		"--ad-account", srv.AccountID, "--page-id", srv.PageID, "--base-url", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"act_" + srv.AccountID, "currency USD", "America/Los_Angeles", "ads_management", "created paused"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil || !strings.Contains(string(cfg), "type: meta") || !strings.Contains(string(cfg), "page_id") {
		t.Errorf("config.yaml: %v\n%s", err, cfg)
	}
	cred := filepath.Join(dir, "credentials", "fb.json")
	st, err := os.Stat(cred)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials: %v %v", st, err)
	}
	for _, s := range []string{out, errOut, string(cfg)} {
		if strings.Contains(s, srv.Token) || strings.Contains(s, "app-secret-1") {
			t.Errorf("a secret was printed or configured:\n%s", s)
		}
	}
	// The configured target builds and reaches the fake.
	tg, err := buildTarget("fb", dir, mustTargetConfig(t, dir, "fb"), openOptions{}, newAccountLimits())
	if err != nil {
		t.Fatal(err)
	}
	if tg.Platform() != "meta" || !tg.Capabilities().Ads {
		t.Errorf("built %s %+v", tg.Platform(), tg.Capabilities())
	}

	// A refused token: an auth error naming the fix, without the token.
	vars["FB_TOKEN"] = "EAAnotvalid42"
	out, errOut, code = runMetaConnect(t, vars, "--data-dir", dir, "--name", "fb2", "--token-env", "FB_TOKEN",
		"--ad-account", "act_"+srv.AccountID, "--page-id", srv.PageID, "--base-url", srv.URL)
	if code == 0 || !strings.Contains(errOut, "code 190") || strings.Contains(out+errOut, "EAAnotvalid42") {
		t.Errorf("bad token: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	// Missing flags are a usage error.
	if _, errOut, code := runMetaConnect(t, vars, "--data-dir", dir); code != 2 || !strings.Contains(errOut, "missing --token-env, --ad-account, --page-id") {
		t.Errorf("missing flags: exit %d: %s", code, errOut)
	}
}

func mustTargetConfig(t *testing.T, dir, name string) sandbox.TargetConfig {
	t.Helper()
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := cfg.Targets[name]
	if !ok {
		t.Fatalf("config has no target %q", name)
	}
	return tc
}
