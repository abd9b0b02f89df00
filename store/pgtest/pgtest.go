// Package pgtest gives tests a PostgreSQL schema of their own in the
// database store/pgtest/start.sh runs (LASTMILE_TEST_POSTGRES), skipping
// them when there is none, or failing them under LASTMILE_REQUIRE_POSTGRES=1.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL is the test database's URL, or "" when none is configured.
func URL() string { return os.Getenv("LASTMILE_TEST_POSTGRES") }

// Need returns the test database's URL; without one it skips t, or fails it
// under LASTMILE_REQUIRE_POSTGRES=1 (what .ci/run sets).
func Need(t testing.TB) string {
	t.Helper()
	u := URL()
	if u == "" {
		if os.Getenv("LASTMILE_REQUIRE_POSTGRES") == "1" {
			t.Fatal("LASTMILE_REQUIRE_POSTGRES=1 but LASTMILE_TEST_POSTGRES is not set: eval \"$(store/pgtest/start.sh)\"")
		}
		t.Skip("postgres store: LASTMILE_TEST_POSTGRES not set (eval \"$(store/pgtest/start.sh)\", needs root)")
	}
	return u
}

// SchemaFor returns the test database's URL with search_path set to a
// schema named after key (a data directory, say), creating it when it does
// not exist yet; the process that created it drops it when t ends. Child
// processes given the same key share it.
func SchemaFor(t testing.TB, key string) string {
	t.Helper()
	base := Need(t)
	h := sha256.Sum256([]byte(key))
	schema := "lm_test_" + hex.EncodeToString(h[:8])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop(t, base, schema) })
	}
	return withSearchPath(base, schema)
}

func drop(t testing.TB, base, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		t.Error(err)
	}
}

func withSearchPath(base, schema string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// Schema creates a schema of its own for t (dropped when t ends) and
// returns the test database's URL with search_path set to it.
func Schema(t testing.TB) string {
	t.Helper()
	base := Need(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "lm_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop(t, base, schema) })
	return withSearchPath(base, schema)
}
