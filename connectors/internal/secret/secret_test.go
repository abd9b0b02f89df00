package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	type creds struct{ Token string }
	if err := Save(dir, "hubspot", creds{Token: "pat-na1-secret"}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "credentials", "hubspot.json")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if dst, _ := os.Stat(filepath.Dir(p)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, want 0700", dst.Mode().Perm())
	}
	var got creds
	if err := Load(dir, "hubspot", &got); err != nil || got.Token != "pat-na1-secret" {
		t.Fatalf("Load: %+v %v", got, err)
	}
	// A file others can read is refused, and the error names no secret.
	os.Chmod(p, 0o644)
	err = Load(dir, "hubspot", &got)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "pat-na1") {
		t.Fatalf("world-readable credentials: err = %v", err)
	}
	if err := Load(dir, "mailchimp", &got); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing credentials: err = %v", err)
	}
	for _, bad := range []string{"../x", "Hub", "", "a/b"} {
		if err := Save(dir, bad, creds{}); err == nil {
			t.Errorf("Save accepted the name %q", bad)
		}
	}
}
