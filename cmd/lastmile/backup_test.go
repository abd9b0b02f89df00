package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackup: lastmile backup copies a data directory a server is using,
// and the copy is a data directory that works: what was written before
// the backup is there.
func TestBackup(t *testing.T) {
	dir := initDir(t)
	if _, errOut, code := runBin(t, "tokens", "create", "--name", "before-backup", "--scopes", "lastmile:read", "--data-dir", dir); code != 0 {
		t.Fatalf("tokens create: exit %d\n%s", code, errOut)
	}
	startHTTP(t, "--data-dir", dir) // a server using the directory

	to := filepath.Join(t.TempDir(), "copy")
	out, errOut, code := runBin(t, "backup", to, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Backed up ") {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, f := range []string{"lastmile.db", "config.yaml"} {
		if _, err := os.Stat(filepath.Join(to, f)); err != nil {
			t.Errorf("the backup lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(to, "lastmile.lock")); err == nil {
		t.Error("the backup copied the lock file")
	}
	if out, errOut, code := runBin(t, "tokens", "list", "--data-dir", to); code != 0 || !strings.Contains(out, "before-backup") {
		t.Fatalf("tokens list in the backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if audit, _, _ := runBin(t, "audit", "--json", "--data-dir", to); !strings.Contains(audit, "access_token_created") {
		t.Fatalf("the backup's audit log lacks what was done before it:\n%s", audit)
	}

	if _, errOut, code := runBin(t, "backup", to, "--data-dir", dir); code != 2 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("backup into a non-empty directory: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := runBin(t, "backup", filepath.Join(dir, "inside"), "--data-dir", dir); code != 2 || !strings.Contains(errOut, "inside the data directory") {
		t.Fatalf("backup into the data directory: exit %d\n%s", code, errOut)
	}
}
