// Package secret stores connector credentials: one JSON file per configured
// target under <data-dir>/credentials, readable by the owner only. Nothing in
// it is ever logged or returned to an agent.
package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// ErrNotFound means no credentials are stored under that name.
var ErrNotFound = errors.New("no stored credentials")

var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

func path(dataDir, name string) (string, error) {
	if !validName().MatchString(name) {
		return "", fmt.Errorf("target name %q: use lower-case letters, digits, - and _", name)
	}
	return filepath.Join(dataDir, "credentials", name+".json"), nil
}

// Save writes v for the named target atomically with mode 0600 (directory 0700).
func Save(dataDir, name string, v any) error {
	p, err := path(dataDir, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// Load reads the named target's credentials into v. It refuses a file others
// can read, since that means the secret may already have leaked.
func Load(dataDir, name string, v any) error {
	p, err := path(dataDir, name)
	if err != nil {
		return err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w for target %q", ErrNotFound, name)
	}
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("credentials for target %q (%s) are readable by others (mode %v): run chmod 600 on it", name, p, st.Mode().Perm())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("credentials for target %q are not valid JSON", name)
	}
	return nil
}
