package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lastmile/lastmile/internal/osfile"
)

// Bolt is the embedded store: one bbolt file in the data directory.
//
// bbolt holds an exclusive file lock for as long as a database is open, and
// several processes (two agent sessions and the approve CLI) must share one
// data directory. So Bolt opens the database for each transaction only,
// under a lock file of its own: shared for reads, exclusive for writes. The
// kernel queues blocked lock callers (flock on unix, LockFileEx on
// Windows), so nobody polls and nobody times out.
//
// Opening costs about 100µs (mmap), too much for every read. The lock file
// also holds a generation counter that every write transaction bumps before
// it commits; a process keeps the values it read and serves them again while
// the generation it reads under the shared lock is unchanged.
//
// A writer keeps the exclusive lock and the open database for a moment
// after a write (a lease), so a burst of writes pays for one open (about
// 0.1 ms of a 0.5 ms commit). A process that finds the lock taken says it
// waits by holding a shared lock on a second file (lastmile.wait) until it
// is granted the first; the holder lets go as soon as its exclusive try
// on that file fails, and after holdIdle otherwise. The kernel drops the
// locks of a process that dies, so a waiter that never comes back cannot
// keep anyone from leasing (a count of waiters in shared memory did). Every
// platform call is in internal/osfile.
type Bolt struct {
	path string
	lock *os.File
	// wait is locked shared by whoever waits for lock (see waiting).
	wait *os.File
	// words are the lock file's first 16 bytes: the generation counter
	// (genWord), then a word no longer used. Mapped, reading one costs no
	// system call.
	words *osfile.Words

	// held is the database kept open, with the exclusive lock, between
	// write transactions; lastUse is when it last served one.
	held    *bolt.DB
	lastUse time.Time
	// zeroed is how far this process has written zeros ahead of the data
	// (zeroAhead); other processes may have written further.
	zeroed  int64
	holding bool // the lease goroutine runs

	// mu serializes this process's transactions: flock is per open file
	// description, and one process holds one.
	mu    sync.Mutex
	cache readCache
	// Hooks for tests.
	afterLock func()
}

const (
	boltFile = "lastmile.db"
	lockFile = "lastmile.lock"
	waitFile = "lastmile.wait"
)

// OpenBolt opens (creating if needed) the store in dir, stamps a new one
// with the schema version and refuses data from a newer lastmile.
func OpenBolt(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	wf, err := os.OpenFile(filepath.Join(dir, waitFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	b := &Bolt{path: filepath.Join(dir, boltFile), lock: lf, wait: wf}
	b.cache.reset(^uint64(0))
	if err := b.openWords(); err != nil {
		lf.Close()
		wf.Close()
		return nil, err
	}
	if err := stamp(context.Background(), b); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openWords makes the lock file at least osfile.WordsSize bytes long (under
// the exclusive lock; reading past the end of a mapped file is a SIGBUS)
// and opens its words, so every process sees every write.
func (b *Bolt) openWords() error {
	if err := b.acquire(context.Background(), osfile.Exclusive); err != nil {
		return err
	}
	st, err := b.lock.Stat()
	if err == nil && st.Size() < osfile.WordsSize {
		var buf [osfile.WordsSize]byte
		b.lock.ReadAt(buf[:], 0)           // a short read leaves zeros
		_, err = b.lock.WriteAt(buf[:], 0) // keep a generation already there
	}
	b.release()
	if err != nil {
		return fmt.Errorf("store: lock file: %w", err)
	}
	w, err := osfile.OpenWords(b.lock)
	if err != nil {
		return fmt.Errorf("store: lock file: %w", err)
	}
	b.words = w
	return nil
}

// genWord is the lock file's word holding the generation.
const genWord = 0

// waiting reports whether another process waits for the lock: it holds
// wait shared, so an exclusive try fails. When the answer is unclear, it
// is yes: let go.
func (b *Bolt) waiting() bool {
	if err := osfile.TryLock(b.wait, osfile.Exclusive); err != nil {
		return true
	}
	osfile.Unlock(b.wait)
	return false
}

// holdIdle is how long a writer keeps the lease without writing.
const holdIdle = 10 * time.Millisecond

// dropLease closes the held database and releases the lock (b.mu held).
func (b *Bolt) dropLease() {
	if b.held == nil {
		return
	}
	b.held.Close()
	b.held = nil
	osfile.Unlock(b.lock)
}

// keepLease lets the lease go when another process waits or nothing was
// written for holdIdle.
func (b *Bolt) keepLease() {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for range t.C {
		// A transaction running now keeps the lease busy: skip the tick
		// rather than queue on mu, which would make the transaction's
		// release wake this goroutine on its way out.
		if !b.mu.TryLock() {
			continue
		}
		if b.held == nil || b.words == nil {
			b.holding = false
			b.mu.Unlock()
			return
		}
		if b.waiting() || time.Since(b.lastUse) > holdIdle {
			b.dropLease()
			b.holding = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// Close releases the lock file. Transactions already finished are durable.
func (b *Bolt) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil {
		return nil
	}
	b.dropLease()
	var err error
	if b.words != nil {
		err = b.words.Close()
		b.words = nil
	}
	err = errors.Join(err, b.lock.Close(), b.wait.Close())
	b.lock, b.wait = nil, nil
	return err
}

var errClosed = errors.New("store: closed")

// acquire takes the in-process mutex and the file lock. On success the caller
// must call release. If ctx ends while the kernel still queues us, the
// mutex stays held until the lock is granted and dropped again, so no other
// transaction of this process can run under a lock it does not own.
func (b *Bolt) acquire(ctx context.Context, mode osfile.LockMode) error {
	b.mu.Lock()
	if b.lock == nil {
		b.mu.Unlock()
		return errClosed
	}
	if b.held != nil {
		return nil // our lease: we hold the exclusive lock already
	}
	lf := b.lock
	err := osfile.TryLock(lf, mode)
	if err == nil {
		return nil
	}
	if !errors.Is(err, osfile.ErrLocked) {
		b.mu.Unlock()
		return fmt.Errorf("store: lock: %w", err)
	}
	// Tell a lease holder we wait, so it lets go now rather than when idle.
	// Its exclusive try on wait lasts an instant, so this blocks no longer;
	// without it (an error) the holder lets go when idle.
	wf := b.wait
	announced := osfile.Lock(wf, osfile.Shared) == nil
	done := make(chan error, 1)
	go func() {
		err := osfile.Lock(lf, mode)
		if announced {
			osfile.Unlock(wf)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			b.mu.Unlock()
			return fmt.Errorf("store: lock: %w", err)
		}
		return nil
	case <-ctx.Done():
		go func() {
			if <-done == nil {
				osfile.Unlock(lf)
			}
			b.mu.Unlock()
		}()
		return ctx.Err()
	}
}

func (b *Bolt) release() {
	if b.held == nil {
		osfile.Unlock(b.lock)
	}
	b.mu.Unlock()
}

func (b *Bolt) generation() (uint64, error) {
	if b.words == nil {
		return 0, errClosed
	}
	g, err := b.words.Load(genWord)
	if err != nil {
		return 0, fmt.Errorf("store: generation: %w", err)
	}
	return g, nil
}

// setGeneration writes the generation (under the exclusive lock).
func (b *Bolt) setGeneration(g uint64) error {
	if b.words == nil {
		return errClosed
	}
	return b.words.Store(genWord, g)
}

func (b *Bolt) open(readOnly bool) (*bolt.DB, error) {
	// Our lock file already excludes other lastmile processes; the timeout
	// only guards against a foreign process holding the database itself.
	db, err := bolt.Open(b.path, 0o600, &bolt.Options{ReadOnly: readOnly, Timeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", b.path, err)
	}
	return db, nil
}

// View runs fn in a read transaction.
func (b *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	if err := b.acquire(ctx, osfile.Shared); err != nil {
		return err
	}
	defer b.release()
	if b.afterLock != nil {
		b.afterLock()
	}
	gen, err := b.generation()
	if err != nil {
		return err
	}
	if b.cache.gen != gen {
		b.cache.reset(gen)
	}
	tx := &boltView{b: b}
	defer tx.close()
	return fn(tx)
}

// Generation returns the store's write generation without a file lock (and,
// mapped, without a system call). A writer bumps it before committing, so a caller that sees
// the old value read before the write, and one that sees the new value
// rereads under the lock, after the commit.
func (b *Bolt) Generation(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.generation()
}

// Update runs fn in a write transaction and commits it durably (fsync).
func (b *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	if err := b.acquire(ctx, osfile.Exclusive); err != nil {
		return err
	}
	defer b.release()
	if b.afterLock != nil {
		b.afterLock()
	}
	gen, err := b.generation()
	if err != nil {
		return err
	}
	// Bump first: if we crash after committing, readers must not keep
	// serving what they cached before our write.
	if err := b.setGeneration(gen + 1); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	b.cache.reset(gen + 1)
	db := b.held
	if db == nil {
		if db, err = b.open(false); err != nil {
			return err
		}
	}
	err = db.Update(func(btx *bolt.Tx) error { return fn(&boltTx{tx: btx}) })
	if err == nil {
		b.zeroAhead(db)
	}
	if err != nil || b.waiting() {
		// Someone waits (or the write failed): let go now. release then
		// unlocks the file, since nothing is held.
		if b.held != nil {
			b.held.Close()
			b.held = nil
		} else {
			db.Close()
		}
		return err
	}
	// Keep the lease: the file lock stays ours, release only drops mu.
	b.held, b.lastUse = db, time.Now()
	if !b.holding {
		b.holding = true
		go b.keepLease()
	}
	return nil
}

// The space just past the data is written with zeros before bbolt needs
// it. bbolt grows its file by truncating it longer, which leaves a hole,
// and a commit that writes into a hole makes the file system allocate
// blocks: fdatasync then waits for a journal commit as well as for the
// data, about a tenth of a small commit on ext4 (and bbolt's own growth
// adds a truncate and a full fsync). Staging keeps adding pages, so most
// commits wrote into fresh space. With a few MB ahead already written, a
// commit allocates nothing; the zeros are written a chunk at a time, in
// about one commit in a hundred.
const (
	zeroLow   = 1 << 20 // write more when less than this is ready
	zeroChunk = 4 << 20 // how far ahead of the data to write
)

var zeros = make([]byte, 256<<10)

// zeroAhead writes zeros from the end of the data to zeroChunk past it,
// when less than zeroLow is ready. The caller holds the exclusive lock, so
// no other process is writing; pages past the end of the data are not in
// use, so nothing in them is lost. It is best effort: a failure (a full
// disk) only leaves the next commits as slow as without it.
func (b *Bolt) zeroAhead(db *bolt.DB) {
	var end int64
	db.View(func(tx *bolt.Tx) error { end = tx.Size(); return nil })
	if b.zeroed >= end+zeroLow {
		return
	}
	f, err := os.OpenFile(b.path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	from := max(end, b.zeroed)
	to := end + zeroChunk
	for off := from; off < to; {
		n, err := f.WriteAt(zeros[:min(int64(len(zeros)), to-off)], off)
		if err != nil {
			return
		}
		off += int64(n)
	}
	if f.Sync() == nil {
		b.zeroed = to
	}
}

// boltView serves reads from the cache, opening the database read-only on
// the first miss.
type boltView struct {
	b  *Bolt
	db *bolt.DB
	tx *bolt.Tx
}

func (v *boltView) ensure() (*bolt.Tx, error) {
	if v.tx != nil {
		return v.tx, nil
	}
	if held := v.b.held; held != nil {
		tx, err := held.Begin(false)
		if err != nil {
			return nil, err
		}
		v.tx = tx
		return tx, nil
	}
	db, err := v.b.open(true)
	if err != nil {
		return nil, err
	}
	tx, err := db.Begin(false)
	if err != nil {
		db.Close()
		return nil, err
	}
	v.db, v.tx = db, tx
	return tx, nil
}

func (v *boltView) close() {
	if v.tx != nil {
		v.tx.Rollback()
	}
	if v.db != nil {
		v.db.Close()
	}
}

func (v *boltView) Get(bucket, key string) ([]byte, error) {
	ck := bucket + "\x00" + key
	if val, ok := v.b.cache.get(ck); ok {
		return bytes.Clone(val), nil
	}
	tx, err := v.ensure()
	if err != nil {
		return nil, err
	}
	val := (&boltTx{tx: tx}).get(bucket, key)
	v.b.cache.put(ck, val)
	return bytes.Clone(val), nil
}

func (v *boltView) Scan(bucket, prefix, after string, limit int) ([]KV, error) {
	ck := "\x01" + bucket + "\x00" + prefix + "\x00" + after + "\x00" + strconv.Itoa(limit)
	if kvs, ok := v.b.cache.getScan(ck); ok {
		return cloneKVs(kvs), nil
	}
	tx, err := v.ensure()
	if err != nil {
		return nil, err
	}
	kvs, err := (&boltTx{tx: tx}).Scan(bucket, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	v.b.cache.putScan(ck, kvs)
	return cloneKVs(kvs), nil
}

func (v *boltView) Count(bucket, prefix string, limit int) (int, error) {
	ck := "\x02" + bucket + "\x00" + prefix + "\x00" + strconv.Itoa(limit)
	if val, ok := v.b.cache.get(ck); ok {
		return strconv.Atoi(string(val))
	}
	tx, err := v.ensure()
	if err != nil {
		return 0, err
	}
	n, err := (&boltTx{tx: tx}).Count(bucket, prefix, limit)
	if err == nil {
		v.b.cache.put(ck, []byte(strconv.Itoa(n)))
	}
	return n, err
}

func (v *boltView) Put(string, string, []byte) error { return ErrReadOnly }
func (v *boltView) Delete(string, string) error      { return ErrReadOnly }
func (v *boltView) NextSeq(string) (uint64, error)   { return 0, ErrReadOnly }
func cloneKVs(kvs []KV) []KV {
	out := make([]KV, len(kvs))
	for i, kv := range kvs {
		out[i] = KV{Key: kv.Key, Value: bytes.Clone(kv.Value)}
	}
	return out
}

type boltTx struct{ tx *bolt.Tx }

// lookup returns the bucket a name denotes, or nil: "parent/child" is the
// sub-bucket child of the top-level bucket parent (see the package comment).
func (t *boltTx) lookup(name string) *bolt.Bucket {
	parent, child, nested := strings.Cut(name, "/")
	bk := t.tx.Bucket([]byte(parent))
	if bk == nil || !nested {
		return bk
	}
	return bk.Bucket([]byte(child))
}

// bucket is lookup that creates what is missing.
func (t *boltTx) bucket(name string) (*bolt.Bucket, error) {
	parent, child, nested := strings.Cut(name, "/")
	bk, err := t.tx.CreateBucketIfNotExists([]byte(parent))
	if err != nil || !nested {
		return bk, err
	}
	return bk.CreateBucketIfNotExists([]byte(child))
}

func (t *boltTx) get(bucket, key string) []byte {
	bk := t.lookup(bucket)
	if bk == nil {
		return nil
	}
	return bytes.Clone(bk.Get([]byte(key)))
}

func (t *boltTx) Get(bucket, key string) ([]byte, error) { return t.get(bucket, key), nil }

func (t *boltTx) Put(bucket, key string, value []byte) error {
	bk, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return bk.Put([]byte(key), value)
}

func (t *boltTx) Delete(bucket, key string) error {
	bk := t.lookup(bucket)
	if bk == nil {
		return nil
	}
	return bk.Delete([]byte(key))
}

func (t *boltTx) Scan(bucket, prefix, after string, limit int) ([]KV, error) {
	bk := t.lookup(bucket)
	if bk == nil {
		return nil, nil
	}
	c := bk.Cursor()
	start := []byte(prefix)
	if after > prefix {
		start = []byte(after)
	}
	var out []KV
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
		if string(k) <= after {
			continue
		}
		out = append(out, KV{Key: string(k), Value: bytes.Clone(v)})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// Count walks the keys in place: nothing is copied.
func (t *boltTx) Count(bucket, prefix string, limit int) (int, error) {
	bk := t.lookup(bucket)
	if bk == nil {
		return 0, nil
	}
	c := bk.Cursor()
	p := []byte(prefix)
	n := 0
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		n++
		if n == limit {
			break
		}
	}
	return n, nil
}

func (t *boltTx) NextSeq(bucket string) (uint64, error) {
	bk, err := t.bucket(bucket)
	if err != nil {
		return 0, err
	}
	return bk.NextSequence()
}

// readCache keeps values read at one generation. It is bounded so that a
// long-running server's memory stays flat.
type readCache struct {
	gen   uint64
	vals  map[string][]byte
	scans map[string][]KV
	size  int
}

const maxCacheBytes = 16 << 20

func (c *readCache) reset(gen uint64) {
	c.gen, c.vals, c.scans, c.size = gen, map[string][]byte{}, map[string][]KV{}, 0
}

func (c *readCache) get(k string) ([]byte, bool) {
	v, ok := c.vals[k]
	return v, ok
}

func (c *readCache) put(k string, v []byte) {
	c.make(len(k) + len(v))
	c.vals[k] = v
}

func (c *readCache) getScan(k string) ([]KV, bool) {
	v, ok := c.scans[k]
	return v, ok
}

func (c *readCache) putScan(k string, kvs []KV) {
	n := len(k)
	for _, kv := range kvs {
		n += len(kv.Key) + len(kv.Value)
	}
	c.make(n)
	c.scans[k] = kvs
}

func (c *readCache) make(n int) {
	if c.size+n > maxCacheBytes {
		c.reset(c.gen)
	}
	c.size += n
}

// Backup writes a consistent copy of the database to w while other
// processes go on reading and writing (a read transaction's snapshot), and
// returns how many bytes it wrote.
func (b *Bolt) Backup(ctx context.Context, w io.Writer) (n int64, err error) {
	err = b.View(ctx, func(t Tx) error {
		tx, err := t.(*boltView).ensure()
		if err != nil {
			return err
		}
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
