package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuthConfig(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want string // "" = accepted
	}{
		{"auth:\n  issuer: https://idp.example.com\n  resource: https://lastmile.example.com/mcp\n", ""},
		{"auth:\n  issuer: https://idp.example.com\n  resource: https://lastmile.example.com/mcp\n  introspection: {client_id: lastmile, client_secret_env: LASTMILE_INTROSPECTION_SECRET}\n", ""},
		{"auth:\n  issuer: https://idp.example.com\n", "auth.resource"},
		{"auth:\n  resource: https://lastmile.example.com/mcp\n", "issuer"},
		{"auth:\n  issuer: https://idp.example.com\n  resource: https://lastmile.example.com/mcp\n  introspection: {client_id: lastmile, client_secret_env: \"hunter2 is the secret\"}\n", "client_secret_env"},
		{"auth:\n  issuer: https://idp.example.com\n  resource: https://lastmile.example.com/mcp\n  introspection: {client_id: lastmile, client_secret: hunter2}\n", "client_secret"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(dir)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.yaml, err)
		case c.want == "" && !cfg.Auth.Enabled():
			t.Errorf("%s: auth not enabled", c.yaml)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error about %s", c.yaml, err, c.want)
		}
	}
}
