// Package pgtest gives tests a PostgreSQL schema of their own in the
// database store/pgtest/start.sh runs (LASTMILE_TEST_POSTGRES), skipping
// them when there is none, or failing them under LASTMILE_REQUIRE_POSTGRES=1.
package pgtest

import (
	"context"
	"crypto/rand"
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
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
