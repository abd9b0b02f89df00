package main

import (
	"strings"
	"testing"
)

// lastmile tokens create prints the token once, to stdout alone; list and
// the audit log name it and its scopes but never hold it; revoke marks it.
func TestTokensCommands(t *testing.T) {
	dir := initDir(t)
	out, errOut, code := runBin(t, "tokens", "create", "--name", "ci-bot", "--scopes", "lastmile:stage, lastmile:read", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("tokens create: exit %d\n%s", code, errOut)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, "lm_") || strings.Contains(secret, "\n") || len(secret) != 46 {
		t.Fatalf("stdout should be the token alone, got %q", out)
	}
	if !strings.Contains(errOut, "shown once") || strings.Contains(errOut, secret) {
		t.Fatalf("stderr should warn that the token is shown once, without it:\n%s", errOut)
	}

	out, errOut, code = runBin(t, "tokens", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "ci-bot  lastmile:read,lastmile:stage; created ") || !strings.Contains(out, "; active") {
		t.Fatalf("tokens list: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runBin(t, "tokens", "create", "--name", "ci-bot", "--scopes", "lastmile:read", "--data-dir", dir); code != 2 || !strings.Contains(errOut, "an access token has that name") {
		t.Fatalf("a second ci-bot: exit %d\n%s", code, errOut)
	}
	if out, _, code := runBin(t, "tokens", "revoke", "ci-bot", "--data-dir", dir); code != 0 || !strings.Contains(out, "Revoked ci-bot") {
		t.Fatalf("tokens revoke: exit %d\n%s", code, out)
	}
	if out, _, _ := runBin(t, "tokens", "list", "--data-dir", dir); !strings.Contains(out, "ci-bot  lastmile:read,lastmile:stage") || !strings.Contains(out, "; revoked ") {
		t.Fatalf("tokens list after revoking:\n%s", out)
	}
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	if !strings.Contains(audit, "access_token_created") || !strings.Contains(audit, "access_token_revoked") {
		t.Fatalf("the audit log lacks the token's creation and revocation:\n%s", audit)
	}
	if strings.Contains(audit, secret) || strings.Contains(audit, strings.TrimPrefix(secret, "lm_")) {
		t.Fatalf("the audit log holds the token")
	}
}

func TestTokensRefusals(t *testing.T) {
	dir := initDir(t)
	if _, errOut, code := runBin(t, "tokens", "create", "--name", "seed", "--scopes", "lastmile:read", "--data-dir", dir); code != 0 {
		t.Fatalf("tokens create: exit %d\n%s", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--scopes", "lastmile:read"}, "give the token a --name"},
		{[]string{"create", "--name", "Bad Name", "--scopes", "lastmile:read"}, "--name: token name"},
		{[]string{"create", "--name", "ok"}, "--scopes: give at least one scope"},
		{[]string{"create", "--name", "ok", "--scopes", "lastmile:admin"}, `--scopes: unknown scope "lastmile:admin"`},
		{[]string{"revoke", "nobody"}, "there is no access token nobody"},
	} {
		args := append(append([]string{"tokens"}, c.args...), "--data-dir", dir)
		if out, errOut, code := runBin(t, args...); code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("lastmile %s: exit %d, stdout %q, stderr %s; want exit 2 and %q", strings.Join(args, " "), code, out, errOut, c.want)
		}
	}
	if out, _, _ := runBin(t, "tokens", "list", "--data-dir", dir); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "seed ") {
		t.Fatalf("a refused create made a token:\n%s", out)
	}
}
