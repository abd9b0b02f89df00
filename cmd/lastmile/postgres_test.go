package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/store/pgtest"
)

// Two data directories whose config.yaml names one PostgreSQL store are
// two replicas of one server: a token made through one is listed through
// the other, neither directory gets a lastmile.db, and status names the
// database without its password.
func TestPostgresStoreDataDirs(t *testing.T) {
	u := pgtest.Schema(t)
	var dirs []string
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(t.TempDir(), name)
		if _, errOut, code := runBin(t, "init", "--data-dir", dir); code != 0 {
			t.Fatalf("init: exit %d\n%s", code, errOut)
		}
		f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("store: " + u + "\n")
		f.Close()
		dirs = append(dirs, dir)
	}
	if _, errOut, code := runBin(t, "tokens", "create", "--name", "replica-bot", "--scopes", "lastmile:read", "--data-dir", dirs[0]); code != 0 {
		t.Fatalf("tokens create: exit %d\n%s", code, errOut)
	}
	out, errOut, code := runBin(t, "tokens", "list", "--data-dir", dirs[1])
	if code != 0 || !strings.Contains(out, "replica-bot") {
		t.Fatalf("tokens list through the other directory: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runBin(t, "status", "--data-dir", dirs[1])
	if code != 0 || !strings.Contains(out, "Store           PostgreSQL") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	parsed, _ := url.Parse(u)
	if pw, ok := parsed.User.Password(); ok && strings.Contains(out+errOut, pw) {
		t.Fatalf("status shows the password:\n%s", out)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "lastmile.db")); err == nil {
			t.Errorf("%s has a lastmile.db although its store is PostgreSQL", dir)
		}
	}
	// A store that is neither bolt nor a postgres URL is refused, without
	// echoing the value (it may hold a password).
	bad := filepath.Join(t.TempDir(), "bad")
	runBin(t, "init", "--data-dir", bad)
	f, _ := os.OpenFile(filepath.Join(bad, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("store: mysql://root:hunter2@db/x\n")
	f.Close()
	_, errOut, code = runBin(t, "status", "--data-dir", bad)
	if code == 0 || !strings.Contains(errOut, "store must be bolt or a postgres://") || strings.Contains(errOut, "hunter2") {
		t.Fatalf("a bad store: exit %d\n%s", code, errOut)
	}
}

// pgDataDir is a data directory whose config.yaml names the PostgreSQL
// store u: one replica.
func pgDataDir(t *testing.T, u string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "replica")
	if _, errOut, code := runBin(t, "init", "--data-dir", dir); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("store: " + u + "\n"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Of two serve processes on one PostgreSQL store, one runs the scheduler;
// when it is killed, the other takes over once its lease has ended.
func TestSchedulerFailsOverBetweenReplicas(t *testing.T) {
	u := pgtest.Schema(t) + "&lastmile_lease=1s"
	const leads = "this replica runs the scheduler"
	one := startHTTP(t, "--data-dir", pgDataDir(t, u))
	waitFor(t, func() bool { return strings.Contains(one.stderr.String(), leads) }, "the first replica to run the scheduler")
	two := startHTTP(t, "--data-dir", pgDataDir(t, u))
	waitFor(t, func() bool { return strings.Contains(two.stderr.String(), "another replica runs the scheduler") }, "the second replica to wait for the scheduler")
	if strings.Contains(two.stderr.String(), leads) {
		t.Fatalf("both replicas run the scheduler:\n%s", two.stderr.String())
	}
	one.cmd.Process.Kill()
	<-one.exited
	waitFor(t, func() bool { return strings.Contains(two.stderr.String(), leads) }, "the second replica to take the scheduler over")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
