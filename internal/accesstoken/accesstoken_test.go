package accesstoken_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/store"
)

func stores(t *testing.T) map[string]store.Store {
	b, err := store.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return map[string]store.Store{"memory": store.NewMemory(), "bolt": b}
}

// A token is shown once, authenticates as its name and scopes, is kept
// only as a hash, and stops working when revoked.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ts := accesstoken.New(st, func() time.Time { return now })
			secret, tok, err := ts.Create(ctx, "ci-bot", []string{accesstoken.ScopeStage, accesstoken.ScopeRead, accesstoken.ScopeRead}, "ada")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, accesstoken.Prefix) || len(secret) < 40 {
				t.Fatalf("token %q: want lm_ and 32 random bytes", secret)
			}
			if got := strings.Join(tok.Scopes, ","); got != "lastmile:read,lastmile:stage" {
				t.Fatalf("scopes %s", got)
			}
			p, err := ts.Authenticate(ctx, secret)
			if err != nil || p.Name != "ci-bot" || !p.Has(accesstoken.ScopeRead) || p.Has(accesstoken.ScopeConfirm) || p.Actor() != "token:ci-bot" {
				t.Fatalf("Authenticate = %+v, %v", p, err)
			}
			// Nothing the store holds is the token.
			assertNoSecret(t, st, secret)

			for _, bad := range []string{"", "lm_", secret + "x", secret[:len(secret)-1] + "A", strings.TrimPrefix(secret, "lm_"), "Bearer " + secret} {
				if bad == secret {
					continue
				}
				if _, err := ts.Authenticate(ctx, bad); !errors.Is(err, accesstoken.ErrInvalid) {
					t.Errorf("Authenticate(%q) = %v, want ErrInvalid", bad, err)
				}
			}
			if _, _, err := ts.Create(ctx, "ci-bot", []string{accesstoken.ScopeRead}, "ada"); !errors.Is(err, accesstoken.ErrNameTaken) {
				t.Fatalf("second ci-bot: %v", err)
			}
			if err := ts.Revoke(ctx, "ci-bot", "ada"); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Authenticate(ctx, secret); !errors.Is(err, accesstoken.ErrInvalid) {
				t.Fatalf("revoked token authenticates: %v", err)
			}
			if err := ts.Revoke(ctx, "ci-bot", "ada"); err != nil {
				t.Fatalf("revoking twice: %v", err)
			}
			if err := ts.Revoke(ctx, "nobody", "ada"); !errors.Is(err, accesstoken.ErrUnknown) {
				t.Fatalf("revoking an unknown token: %v", err)
			}
			// A revoked name stays taken: token:ci-bot in the audit log is one token.
			if _, _, err := ts.Create(ctx, "ci-bot", []string{accesstoken.ScopeRead}, "ada"); !errors.Is(err, accesstoken.ErrNameTaken) {
				t.Fatalf("reusing a revoked name: %v", err)
			}
			list, err := ts.List(ctx)
			if err != nil || len(list) != 1 || !list[0].Revoked() || list[0].RevokedBy != "ada" || !list[0].CreatedAt.Equal(now) {
				t.Fatalf("List = %+v, %v", list, err)
			}
		})
	}
}

func assertNoSecret(t *testing.T, st store.Store, secret string) {
	t.Helper()
	random := strings.TrimPrefix(secret, accesstoken.Prefix)
	err := st.View(context.Background(), func(tx store.Tx) error {
		for _, b := range []string{"access_tokens", "access_token_hashes"} {
			kvs, err := tx.Scan(b, "", "", 100)
			if err != nil {
				return err
			}
			if len(kvs) == 0 {
				t.Errorf("bucket %s is empty", b)
			}
			for _, kv := range kvs {
				if strings.Contains(kv.Key+string(kv.Value), random) {
					t.Errorf("bucket %s holds the token: %s = %s", b, kv.Key, kv.Value)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTokensDiffer(t *testing.T) {
	ts := accesstoken.New(store.NewMemory(), nil)
	a, _, err := ts.Create(context.Background(), "a", []string{accesstoken.ScopeRead}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ts.Create(context.Background(), "b", []string{accesstoken.ScopeRead}, "")
	if err != nil || a == b {
		t.Fatalf("two tokens %q, %q, %v", a, b, err)
	}
}

func TestValidation(t *testing.T) {
	ts := accesstoken.New(store.NewMemory(), nil)
	for _, c := range []struct {
		name   string
		scopes []string
		err    string
	}{
		{"", []string{"lastmile:read"}, "token name"},
		{"Ada", []string{"lastmile:read"}, "lower-case"},
		{"a b", []string{"lastmile:read"}, "token name"},
		{"x\x1b[2J", []string{"lastmile:read"}, "token name"},
		{strings.Repeat("a", 64), []string{"lastmile:read"}, "token name"},
		{"ok", nil, "at least one scope"},
		{"ok", []string{"lastmile:read", "lastmile:admin", "*"}, `unknown scope "lastmile:admin", "*"; the scopes are lastmile:read, lastmile:stage, lastmile:plan, lastmile:confirm`},
	} {
		if _, _, err := ts.Create(context.Background(), c.name, c.scopes, ""); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Create(%q, %v) = %v, want %q", c.name, c.scopes, err, c.err)
		}
	}
}
