package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the shared store for several `serve --http` replicas: the
// buckets are rows of one table, (bucket, key) → value, in the database
// (and schema: the first of search_path) the URL names.
//
// It behaves like Bolt. Update takes one transaction-scoped advisory lock
// first, so write transactions run one at a time across every process and
// replica, as they do on one machine under bolt's file lock; fn therefore
// never runs twice, and the 32 callers written for bolt stay correct. View
// runs in a REPEATABLE READ READ ONLY transaction: one consistent snapshot.
// Keys are bytea, so Scan's order is byte order, bolt's order.
//
// Every Update bumps a generation row and, in the same transaction,
// notifies lastmile_changes with the new generation; one LISTEN
// connection per store wakes WaitChange (polling while it reconnects).
type Postgres struct {
	pool  *pgxpool.Pool
	where string // user@host:port/db, for errors (never the password)
	pw    string // redacted from every error

	writeLock int64 // pg_advisory_xact_lock key of this schema's writers
	// leaseFor is how long a lock outlives its holder's last renewal
	// (DefaultLease, or the URL's lastmile_lease).
	leaseFor time.Duration
	channel  string

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every notification
	listening bool
	stop      context.CancelFunc
	done      chan struct{}
}

// pgMigrations create the store's own tables; versions only grow, and a
// step never changes once released. (The data layout inside the buckets has
// its own version, SchemaVersion, migrated by Migrate as with Bolt.)
var pgMigrations = []struct {
	version int
	sql     string
}{
	{1, `
CREATE TABLE lastmile_kv (
	bucket text NOT NULL,
	key bytea NOT NULL,
	value bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);
CREATE TABLE lastmile_seq (
	bucket text PRIMARY KEY,
	n bigint NOT NULL
);
CREATE TABLE lastmile_generation (
	id int PRIMARY KEY CHECK (id = 1),
	n bigint NOT NULL
);
INSERT INTO lastmile_generation VALUES (1, 0);
`},
	{2, `
CREATE TABLE lastmile_lease (
	name text PRIMARY KEY,
	holder text NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE TABLE lastmile_journal (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	record bytea NOT NULL
);
CREATE INDEX lastmile_journal_name ON lastmile_journal (name, id);
`},
}

// OpenPostgres connects to the database rawURL names (a postgres:// URL or
// a libpq key=value string; pool_max_conns and search_path are honoured),
// creates or migrates the store's tables, stamps a new store with the
// schema version and refuses data from a newer lastmile. Errors name the
// user, host and database, never the password.
func OpenPostgres(ctx context.Context, rawURL string) (*Postgres, error) {
	pw := urlPassword(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, redact(fmt.Errorf("store: postgres URL: %w", err), pw)
	}
	if cfg.ConnConfig.Password != "" {
		pw = cfg.ConnConfig.Password
	}
	lease := DefaultLease
	if v, ok := cfg.ConnConfig.RuntimeParams[leaseParam]; ok {
		// lastmile's own parameter: not one for the server.
		delete(cfg.ConnConfig.RuntimeParams, leaseParam)
		if lease, err = time.ParseDuration(v); err != nil || lease < time.Second {
			return nil, fmt.Errorf("store: postgres URL: %s=%q: a duration of at least 1s, e.g. 15s", leaseParam, v)
		}
	}
	if !strings.Contains(rawURL, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, 16)
	}
	p := &Postgres{
		leaseFor: lease,
		where:    where(cfg.ConnConfig),
		pw:       pw,
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	if p.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, p.fail("connect", err)
	}
	var schema string
	if err := p.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		p.pool.Close()
		return nil, p.fail("connect", err)
	}
	if schema == "" {
		p.pool.Close()
		return nil, fmt.Errorf("store: postgres %s: no schema to create tables in: the schemas of search_path do not exist", p.where)
	}
	p.writeLock = lockKey("lastmile write " + schema)
	p.channel = "lastmile_changes"
	if schema != "public" {
		h := fnv.New32a()
		h.Write([]byte(schema))
		p.channel = fmt.Sprintf("lastmile_changes_%08x", h.Sum32())
	}
	if err := p.migrateTables(ctx, schema); err != nil {
		p.pool.Close()
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	go p.listen(lctx, cfg.ConnConfig)
	if err := stamp(ctx, p); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func where(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// DescribePostgres names the database a PostgreSQL URL points at, as
// user@host:port/database: never the password.
func DescribePostgres(rawURL string) string {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return "(an unreadable PostgreSQL URL)"
	}
	return where(cfg)
}

// urlPassword is the password of a postgres:// URL, if it has one.
func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// redact removes pw from err's text (pgx already leaves it out; this is a
// second line of defence).
func redact(err error, pw string) error {
	if err == nil || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}

func (p *Postgres) fail(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return redact(fmt.Errorf("store: postgres %s: %s: %w", p.where, what, err), p.pw)
}

func lockKey(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64())
}

// migrateTables runs the steps of pgMigrations not yet recorded in
// lastmile_migrations, under an advisory lock, so that of several
// processes opening at once one migrates and the others find it done.
func (p *Postgres) migrateTables(ctx context.Context, schema string) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return p.fail("migrate tables", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("lastmile migrate "+schema)); err != nil {
		return p.fail("migrate tables", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS lastmile_migrations (
	version int PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return p.fail("migrate tables", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM lastmile_migrations`).Scan(&have); err != nil {
		return p.fail("migrate tables", err)
	}
	latest := pgMigrations[len(pgMigrations)-1].version
	if have > latest {
		return fmt.Errorf("%w (postgres tables version %d; this build knows up to %d): upgrade lastmile", ErrNewerSchema, have, latest)
	}
	for _, m := range pgMigrations {
		if m.version <= have {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return p.fail(fmt.Sprintf("migrate tables to version %d", m.version), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lastmile_migrations (version) VALUES ($1)`, m.version); err != nil {
			return p.fail("migrate tables", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return p.fail("migrate tables", err)
	}
	return nil
}

// Close stops listening and closes the connections.
func (p *Postgres) Close() error {
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	<-p.done
	p.pool.Close()
	return nil
}

// View runs fn in a read-only transaction on one snapshot.
func (p *Postgres) View(ctx context.Context, fn func(Tx) error) error {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return p.fail("begin", err)
	}
	defer tx.Rollback(context.Background())
	t := &pgTx{p: p, ctx: ctx, tx: tx}
	if err := fn(t); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	if err := tx.Commit(ctx); err != nil {
		return p.fail("commit", err)
	}
	return nil
}

// Update runs fn in a write transaction, one at a time across every
// process using the database: all of its writes commit, or none do. A
// statement that failed fails the transaction even if fn ignored its error.
func (p *Postgres) Update(ctx context.Context, fn func(Tx) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return p.fail("begin", err)
	}
	defer tx.Rollback(context.Background())
	// One round trip: wait for the write lock, then bump the generation and
	// queue the notification (sent when, and only if, the transaction
	// commits).
	var b pgx.Batch
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, p.writeLock)
	var gen int64
	b.Queue(`WITH g AS (UPDATE lastmile_generation SET n = n + 1 WHERE id = 1 RETURNING n)
SELECT n, pg_notify($1, n::text) FROM g`, p.channel).QueryRow(func(r pgx.Row) error {
		var discard string
		return r.Scan(&gen, &discard)
	})
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return p.fail("lock", err)
	}
	t := &pgTx{p: p, ctx: ctx, tx: tx, writable: true}
	if err := fn(t); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	if err := tx.Commit(ctx); err != nil {
		return p.fail("commit", err)
	}
	return nil
}

// Generation is the count of write transactions committed, read from the
// database: exact, whichever replica wrote.
func (p *Postgres) Generation(ctx context.Context) (uint64, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT n FROM lastmile_generation WHERE id = 1`).Scan(&n); err != nil {
		return 0, p.fail("generation", err)
	}
	return uint64(n), nil
}

// pollEvery is how often WaitChange reads the generation while the LISTEN
// connection is down; pollListening is its safety net while it is up.
const (
	pollEvery     = 250 * time.Millisecond
	pollListening = 5 * time.Second
)

// WaitChange returns the generation once it is greater than since: at
// once if it already is, else when a notification arrives from any
// replica (or polling finds it, while the LISTEN connection is down).
func (p *Postgres) WaitChange(ctx context.Context, since uint64) (uint64, error) {
	for {
		p.mu.Lock()
		ch, listening := p.changed, p.listening
		p.mu.Unlock()
		g, err := p.Generation(ctx)
		if err != nil || g > since {
			return g, err
		}
		wait := pollEvery
		if listening {
			wait = pollListening
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// wake tells every waiter to look again.
func (p *Postgres) wake(listening bool) {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.listening = listening
	p.mu.Unlock()
}

// listen keeps one connection LISTENing on the store's channel, and
// reconnects (backing off up to 5 s) when it drops.
func (p *Postgres) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(p.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+p.channel)
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			p.wake(true) // a change may have come while we were away
			for err == nil {
				_, err = conn.WaitForNotification(ctx)
				if err == nil {
					p.wake(true)
				}
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		p.wake(false)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// pgTx is a transaction of Postgres. The first statement that fails is
// kept: PostgreSQL aborts the transaction there, and so does the store.
type pgTx struct {
	p        *Postgres
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	err      error
}

func (t *pgTx) failed(err error) error {
	if err != nil && t.err == nil {
		t.err = t.p.fail("query", err)
	}
	if err != nil {
		return t.err
	}
	return nil
}

func (t *pgTx) Get(bucket, key string) ([]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, `SELECT value FROM lastmile_kv WHERE bucket = $1 AND key = $2`, bucket, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.failed(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *pgTx) Put(bucket, key string, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO lastmile_kv (bucket, key, value) VALUES ($1, $2, $3)
ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, bucket, []byte(key), value)
	return t.failed(err)
}

func (t *pgTx) Delete(bucket, key string) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	_, err := t.tx.Exec(t.ctx, `DELETE FROM lastmile_kv WHERE bucket = $1 AND key = $2`, bucket, []byte(key))
	return t.failed(err)
}

// prefixEnd is the least key greater than every key starting with prefix,
// or nil when there is none (an empty prefix, or all 0xff).
func prefixEnd(prefix string) []byte {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil
	}
	b[len(b)-1]++
	return b
}

// keyRange is the WHERE clause of Scan and Count: the keys starting with
// prefix that sort after after; args continue from $1 = bucket.
func keyRange(bucket, prefix, after string) (string, []any) {
	where := `bucket = $1 AND key >= $2 AND key > $3`
	args := []any{bucket, []byte(prefix), []byte(after)}
	if end := prefixEnd(prefix); end != nil {
		where += ` AND key < $4`
		args = append(args, end)
	}
	return where, args
}

func limitArg(limit int) any {
	if limit > 0 {
		return int64(limit)
	}
	return nil // LIMIT NULL: all rows
}

func (t *pgTx) Scan(bucket, prefix, after string, limit int) ([]KV, error) {
	if t.err != nil {
		return nil, t.err
	}
	where, args := keyRange(bucket, prefix, after)
	args = append(args, limitArg(limit))
	rows, err := t.tx.Query(t.ctx, `SELECT key, value FROM lastmile_kv WHERE `+where+` ORDER BY key LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, t.failed(err)
	}
	var out []KV
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, t.failed(err)
		}
		if v == nil {
			v = []byte{}
		}
		out = append(out, KV{Key: string(k), Value: v})
	}
	if err := rows.Err(); err != nil {
		return nil, t.failed(err)
	}
	return out, nil
}

func (t *pgTx) Count(bucket, prefix string, limit int) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	where, args := keyRange(bucket, prefix, "")
	args = append(args, limitArg(limit))
	var n int64
	err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM (SELECT 1 FROM lastmile_kv WHERE `+where+` LIMIT $`+strconv.Itoa(len(args))+`) s`, args...).Scan(&n)
	if err != nil {
		return 0, t.failed(err)
	}
	return int(n), nil
}

func (t *pgTx) NextSeq(bucket string) (uint64, error) {
	if !t.writable {
		return 0, ErrReadOnly
	}
	if t.err != nil {
		return 0, t.err
	}
	var n int64
	err := t.tx.QueryRow(t.ctx, `INSERT INTO lastmile_seq (bucket, n) VALUES ($1, 1)
ON CONFLICT (bucket) DO UPDATE SET n = lastmile_seq.n + 1 RETURNING n`, bucket).Scan(&n)
	if err != nil {
		return 0, t.failed(err)
	}
	return uint64(n), nil
}
