package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/store/pgtest"
)

func pgTestURL() string { return pgtest.URL() }

func needPostgres(t testing.TB) string { t.Helper(); return pgtest.Need(t) }

func newPostgresSchema(t testing.TB) string { t.Helper(); return pgtest.Schema(t) }

func openPostgresTest(t testing.TB, u string) *Postgres {
	t.Helper()
	p, err := OpenPostgres(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPostgresRequired(t *testing.T) {
	needPostgres(t)
}

// Two replicas increment one counter 500 times between them, read-modify-
// write: no update is lost.
func TestPostgresNoLostUpdates(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ctx := context.Background()
	const each = 250
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, s := range []*Postgres{a, b} {
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each / 5 {
					errs <- s.Update(ctx, func(tx Tx) error {
						v, err := tx.Get("c", "n")
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(string(v))
						return tx.Put("c", "n", []byte(strconv.Itoa(n+1)))
					})
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := get(a, "c", "n"); got != strconv.Itoa(2*each) {
		t.Fatalf("counter = %s, want %d", got, 2*each)
	}
}

func TestPostgresGenerationAcrossReplicas(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ctx := context.Background()
	g0, err := b.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	g1, _ := b.Generation(ctx)
	ga, _ := a.Generation(ctx)
	if g1 != g0+1 || ga != g1 {
		t.Fatalf("generation on b %d → %d, on a %d; want one more, the same on both", g0, g1, ga)
	}
	// A failed update does not count.
	a.Update(ctx, func(tx Tx) error { return errors.New("boom") })
	if g, _ := b.Generation(ctx); g != g1 {
		t.Fatalf("generation after a failed update = %d, want %d", g, g1)
	}
}

func TestPostgresNotificationWakesOtherReplica(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ctx := context.Background()
	// Wait for b's LISTEN connection, so the wake-up is the notification's
	// and not the poll's.
	for deadline := time.Now().Add(5 * time.Second); ; {
		b.mu.Lock()
		ok := b.listening
		b.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the LISTEN connection never came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	g0, _ := b.Generation(ctx)
	woke := make(chan uint64, 1)
	go func() {
		g, err := b.WaitChange(ctx, g0)
		if err != nil {
			t.Error(err)
		}
		woke <- g
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case g := <-woke:
		t.Fatalf("WaitChange returned %d before any write", g)
	default:
	}
	start := time.Now()
	a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("v")) })
	select {
	case g := <-woke:
		if g != g0+1 {
			t.Fatalf("woke at generation %d, want %d", g, g0+1)
		}
		// The safety-net poll is 5 s: a wake-up this soon came from NOTIFY.
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("woke after %v: not by the notification", d)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("WaitChange did not wake on another replica's write")
	}
	// A cancelled wait returns the context's error.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := b.WaitChange(cctx, g0+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: err = %v", err)
	}
}

// Three processes opening a new database at once: the tables are created
// once, and all three work.
func TestPostgresConcurrentMigrations(t *testing.T) {
	u := newPostgresSchema(t)
	var wg sync.WaitGroup
	stores := make([]*Postgres, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(context.Background(), u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ctx := context.Background()
	var n int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM lastmile_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(pgMigrations) {
		t.Fatalf("%d migrations recorded, want %d", n, len(pgMigrations))
	}
	for i, s := range stores {
		if err := s.Update(ctx, func(tx Tx) error { return tx.Put("b", strconv.Itoa(i), []byte("x")) }); err != nil {
			t.Fatal(err)
		}
	}
	var c int
	stores[2].View(ctx, func(tx Tx) error { c, _ = tx.Count("b", "", 0); return nil })
	if c != 3 {
		t.Fatalf("count = %d, want 3", c)
	}
	if v := get(stores[1], metaB, versionKey); v != strconv.Itoa(SchemaVersion) {
		t.Fatalf("schema version %q", v)
	}
}

// A wrong password: the error names the user, host and database, never the
// password.
func TestPostgresErrorHidesPassword(t *testing.T) {
	base := needPostgres(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-Wrong-Passw0rd"
	u.User = url.UserPassword(u.User.Username(), secret)
	_, err = OpenPostgres(context.Background(), u.String())
	if err == nil {
		t.Fatal("opened with a wrong password")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("the error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), u.Hostname()) || !strings.Contains(err.Error(), strings.TrimPrefix(u.Path, "/")) {
		t.Fatalf("the error does not name the host and database: %v", err)
	}
	// Nobody listening: connection refused, same rules.
	u.Host = "127.0.0.1:1"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = OpenPostgres(ctx, u.String())
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("connection refused: err = %v", err)
	}
	t.Log(err)
}

// Keys are bytes: order is byte order (as bolt's), NUL and 0xff included.
func TestPostgresByteOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		keys := []string{"a\x00", "a", "A", "a\xff", "a\xffb", "b", "é", "Z", "a-", "a_"}
		s.Update(ctx, func(tx Tx) error {
			for _, k := range keys {
				tx.Put("o", k, nil)
			}
			return nil
		})
		var got []KV
		s.View(ctx, func(tx Tx) error { got, _ = tx.Scan("o", "", "", 0); return nil })
		var ks []string
		for _, kv := range got {
			ks = append(ks, kv.Key)
			if kv.Value == nil {
				t.Errorf("empty value of %q came back nil", kv.Key)
			}
		}
		want := fmt.Sprintf("%q", []string{"A", "Z", "a", "a\x00", "a-", "a_", "a\xff", "a\xffb", "b", "é"})
		if fmt.Sprintf("%q", ks) != want {
			t.Fatalf("order %q, want %s", ks, want)
		}
		s.View(ctx, func(tx Tx) error { got, _ = tx.Scan("o", "a\xff", "", 0); return nil })
		if len(got) != 2 {
			t.Fatalf("prefix a\\xff: %v", got)
		}
	})
}

// waitListening waits until s's LISTEN connection is up (want) or down.
func waitListening(t *testing.T, s *Postgres, want bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.mu.Lock()
		ok := s.listening
		s.mu.Unlock()
		if ok == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("listening never became %v", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The LISTEN connection dropped (the server ended it): waiters fall back to
// polling, and the store reconnects and listens again.
func TestPostgresListenReconnects(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ctx := context.Background()
	waitListening(t, b, true)
	var killed int
	if err := a.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = 'LISTEN '||$1::text`, b.channel).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 { // a's and b's: one schema, one channel
		t.Fatalf("terminated %d listening backends, want 2", killed)
	}
	g0, _ := b.Generation(ctx)
	woke := make(chan error, 1)
	go func() { _, err := b.WaitChange(ctx, g0); woke <- err }()
	a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("1")) })
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("WaitChange did not wake while the LISTEN connection was down")
	}
	waitListening(t, b, true)
	g1, _ := b.Generation(ctx)
	go func() { _, err := b.WaitChange(ctx, g1); woke <- err }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("2")) })
	select {
	case <-woke:
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("woke after %v: not by the notification after reconnecting", d)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("WaitChange did not wake after the reconnect")
	}
}

// A writer waiting for another replica's write lock gives up when its
// context ends, and its store works afterwards.
func TestPostgresCancelledWhileWaitingForLock(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	holding, releaseA := make(chan struct{}), make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.Update(context.Background(), func(tx Tx) error {
			close(holding)
			<-releaseA
			return tx.Put("b", "a", []byte("1"))
		})
	}()
	<-holding
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := b.Update(ctx, func(tx Tx) error { return tx.Put("b", "b", []byte("1")) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	close(releaseA)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if err := b.Update(context.Background(), func(tx Tx) error { return tx.Put("b", "b", []byte("2")) }); err != nil {
		t.Fatal(err)
	}
	if get(b, "b", "a") != "1" || get(a, "b", "b") != "2" {
		t.Fatal("writes missing after the cancelled wait")
	}
}

// A View reads one snapshot: a write committed by another replica while it
// runs is not seen until the next View.
func TestPostgresViewIsOneSnapshot(t *testing.T) {
	u := newPostgresSchema(t)
	a, b := openPostgresTest(t, u), openPostgresTest(t, u)
	ctx := context.Background()
	a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("old")) })
	var first, second []byte
	err := b.View(ctx, func(tx Tx) error {
		first, _ = tx.Get("b", "k")
		if err := a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("new")) }); err != nil {
			return err
		}
		second, _ = tx.Get("b", "k")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != "old" || string(second) != "old" {
		t.Fatalf("within one View: %q then %q, want old both times", first, second)
	}
	if v := get(b, "b", "k"); v != "new" {
		t.Fatalf("the next View read %q, want new", v)
	}
}

// TestPostgresBufferedWriteFailure: Puts go to the database in one batch
// before the next read or with the commit; one that fails there fails the
// transaction, even when fn never sees the error, and nothing commits.
func TestPostgresBufferedWriteFailure(t *testing.T) {
	ctx := context.Background()
	p := openPostgresTest(t, newPostgresSchema(t))
	if _, err := p.pool.Exec(ctx, `ALTER TABLE lastmile_kv ADD CONSTRAINT test_small CHECK (length(value) < 10)`); err != nil {
		t.Fatal(err)
	}
	for _, readAfter := range []bool{false, true} {
		err := p.Update(ctx, func(tx Tx) error {
			tx.Put("b", "ok", []byte("small"))
			tx.Put("b", "big", []byte("far too large a value"))
			if readAfter {
				tx.Get("b", "ok") // the batch fails here; fn ignores it
				tx.Put("b", "later", []byte("x"))
			}
			return nil
		})
		if err == nil {
			t.Fatalf("readAfter=%v: an Update whose write failed committed", readAfter)
		}
		var got []byte
		p.View(ctx, func(tx Tx) error { got, _ = tx.Get("b", "ok"); return nil })
		if got != nil {
			t.Fatalf("readAfter=%v: a failed Update left %q behind", readAfter, got)
		}
	}
	// Reads inside the transaction see its own writes.
	if err := p.Update(ctx, func(tx Tx) error {
		tx.Put("b", "k1", []byte("v1"))
		tx.Put("b", "k2", []byte("v2"))
		tx.Delete("b", "k1")
		kvs, err := tx.Scan("b", "k", "", 0)
		if err != nil || len(kvs) != 1 || kvs[0].Key != "k2" {
			return fmt.Errorf("scan inside the transaction: %v %v", kvs, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
