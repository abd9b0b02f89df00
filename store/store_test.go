package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

// stores returns a fresh instance of every implementation; each test in the
// table below runs against all of them.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	b, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m := map[string]Store{"memory": NewMemory(), "bolt": b}
	if pgTestURL() != "" {
		m["postgres"] = openPostgresTest(t, newPostgresSchema(t))
	}
	return m
}

func forEachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) { fn(t, s) })
	}
}

func TestGetPutDelete(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s Store) {
		if err := s.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("v1")) }); err != nil {
			t.Fatal(err)
		}
		var got []byte
		s.View(ctx, func(tx Tx) error { got, _ = tx.Get("b", "k"); return nil })
		if string(got) != "v1" {
			t.Fatalf("got %q, want v1", got)
		}
		s.View(ctx, func(tx Tx) error { got, _ = tx.Get("nobucket", "k"); return nil })
		if got != nil {
			t.Fatalf("absent bucket: got %q", got)
		}
		s.Update(ctx, func(tx Tx) error { return tx.Delete("b", "k") })
		s.View(ctx, func(tx Tx) error { got, _ = tx.Get("b", "k"); return nil })
		if got != nil {
			t.Fatalf("after delete: got %q", got)
		}
	})
}

func TestFailedUpdateLeavesNothing(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	forEachStore(t, func(t *testing.T, s Store) {
		err := s.Update(ctx, func(tx Tx) error {
			tx.Put("b", "k", []byte("half"))
			tx.NextSeq("b")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		var got []byte
		s.View(ctx, func(tx Tx) error { got, _ = tx.Get("b", "k"); return nil })
		if got != nil {
			t.Fatalf("a failed transaction left %q behind", got)
		}
		var seq uint64
		s.Update(ctx, func(tx Tx) error { seq, _ = tx.NextSeq("b"); return nil })
		if seq != 1 {
			t.Fatalf("sequence after rollback = %d, want 1", seq)
		}
	})
}

func TestViewIsReadOnly(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		err := s.View(context.Background(), func(tx Tx) error { return tx.Put("b", "k", []byte("x")) })
		if !errors.Is(err, ErrReadOnly) {
			t.Fatalf("Put in View: err = %v, want ErrReadOnly", err)
		}
	})
}

func TestScan(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s Store) {
		s.Update(ctx, func(tx Tx) error {
			for _, k := range []string{"a/1", "a/2", "a/3", "b/1", "a0"} {
				tx.Put("b", k, []byte(k))
			}
			return nil
		})
		cases := []struct {
			prefix, after string
			limit         int
			want          []string
		}{
			{"a/", "", 0, []string{"a/1", "a/2", "a/3"}},
			{"a/", "a/1", 0, []string{"a/2", "a/3"}},
			{"a/", "", 2, []string{"a/1", "a/2"}},
			{"a/", "a/3", 0, nil},
			{"", "a0", 0, []string{"b/1"}},
			{"c/", "", 0, nil},
		}
		for _, c := range cases {
			var got []KV
			s.View(ctx, func(tx Tx) error { got, _ = tx.Scan("b", c.prefix, c.after, c.limit); return nil })
			var keys []string
			for _, kv := range got {
				keys = append(keys, kv.Key)
				if kv.Key != string(kv.Value) {
					t.Errorf("value of %s = %s", kv.Key, kv.Value)
				}
			}
			if fmt.Sprint(keys) != fmt.Sprint(c.want) {
				t.Errorf("Scan(%q, %q, %d) = %v, want %v", c.prefix, c.after, c.limit, keys, c.want)
			}
			if c.after != "" {
				continue
			}
			var n int
			s.View(ctx, func(tx Tx) error { n, _ = tx.Count("b", c.prefix, c.limit); return nil })
			if n != len(c.want) {
				t.Errorf("Count(%q, %d) = %d, want %d", c.prefix, c.limit, n, len(c.want))
			}
			s.Update(ctx, func(tx Tx) error { n, _ = tx.Count("b", c.prefix, c.limit); return nil })
			if n != len(c.want) {
				t.Errorf("Count(%q, %d) in a write = %d, want %d", c.prefix, c.limit, n, len(c.want))
			}
		}
	})
}

// "parent/child" buckets behave as buckets of their own, whether a store
// nests them (bolt) or not (memory).
func TestChildBuckets(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s Store) {
		err := s.Update(ctx, func(tx Tx) error {
			for _, b := range []string{"p/x", "p/y"} {
				for _, k := range []string{"1", "2", "head"} {
					if err := tx.Put(b, k, []byte(b+"="+k)); err != nil {
						return err
					}
				}
			}
			if _, err := tx.NextSeq("p/x"); err != nil {
				return err
			}
			return tx.Delete("p/y", "2")
		})
		if err != nil {
			t.Fatal(err)
		}
		s.View(ctx, func(tx Tx) error {
			if v, _ := tx.Get("p/x", "head"); string(v) != "p/x=head" {
				t.Errorf("Get(p/x, head) = %q", v)
			}
			if v, _ := tx.Get("p/z", "head"); v != nil {
				t.Errorf("absent child bucket: Get = %q", v)
			}
			kvs, _ := tx.Scan("p/y", "", "", 0)
			if len(kvs) != 2 || kvs[0].Key != "1" || kvs[1].Key != "head" {
				t.Errorf("Scan(p/y) = %v", kvs)
			}
			if n, _ := tx.Count("p/x", "", 0); n != 3 {
				t.Errorf("Count(p/x) = %d", n)
			}
			return nil
		})
		var seq uint64
		s.Update(ctx, func(tx Tx) error { seq, _ = tx.NextSeq("p/x"); return nil })
		if seq != 2 {
			t.Errorf("NextSeq(p/x) = %d, want 2", seq)
		}
	})
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	version := func(s Store) string {
		var v []byte
		s.View(ctx, func(tx Tx) error { v, _ = tx.Get(metaB, versionKey); return nil })
		return string(v)
	}
	forEachStore(t, func(t *testing.T, s Store) {
		var ran []int
		steps := []Migration{{To: SchemaVersion, Name: "last", Apply: func(tx Tx) error {
			ran = append(ran, SchemaVersion)
			return tx.Put("b", "moved", []byte("1"))
		}}}
		// A new store is stamped; there is nothing to move.
		if err := Migrate(ctx, s, steps); err != nil {
			t.Fatal(err)
		}
		if version(s) != strconv.Itoa(SchemaVersion) || len(ran) != 0 {
			t.Fatalf("new store: version %q, steps run %v", version(s), ran)
		}
		// Data one version behind gets the step, once.
		s.Update(ctx, func(tx Tx) error { return tx.Put(metaB, versionKey, []byte(strconv.Itoa(SchemaVersion-1))) })
		for range 2 {
			if err := Migrate(ctx, s, steps); err != nil {
				t.Fatal(err)
			}
		}
		if version(s) != strconv.Itoa(SchemaVersion) || fmt.Sprint(ran) != fmt.Sprint([]int{SchemaVersion}) {
			t.Fatalf("old store: version %q, steps run %v", version(s), ran)
		}
		// A failing step leaves the data as it was.
		s.Update(ctx, func(tx Tx) error { return tx.Put(metaB, versionKey, []byte(strconv.Itoa(SchemaVersion-1))) })
		boom := errors.New("boom")
		err := Migrate(ctx, s, []Migration{{To: SchemaVersion, Name: "failing", Apply: func(tx Tx) error {
			tx.Put("b", "half", []byte("1"))
			return boom
		}}})
		if !errors.Is(err, boom) {
			t.Fatalf("failing step: err = %v", err)
		}
		var half []byte
		s.View(ctx, func(tx Tx) error { half, _ = tx.Get("b", "half"); return nil })
		if version(s) != strconv.Itoa(SchemaVersion-1) || half != nil {
			t.Fatalf("after a failed step: version %q, half-written %q", version(s), half)
		}
		// A missing step is an error, not a silent stamp.
		if err := Migrate(ctx, s, nil); err == nil || version(s) != strconv.Itoa(SchemaVersion-1) {
			t.Fatalf("missing step: err = %v, version %q", err, version(s))
		}
		// Newer data is refused.
		s.Update(ctx, func(tx Tx) error { return tx.Put(metaB, versionKey, []byte("99")) })
		if err := Migrate(ctx, s, steps); !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("newer data: err = %v", err)
		}
	})
}

func TestNextSeq(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		var got []uint64
		for range 3 {
			s.Update(context.Background(), func(tx Tx) error {
				n, err := tx.NextSeq("audit")
				got = append(got, n)
				return err
			})
		}
		if fmt.Sprint(got) != "[1 2 3]" {
			t.Fatalf("sequence = %v", got)
		}
	})
}

func TestValuesAreCopies(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s Store) {
		s.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("abc")) })
		var v []byte
		s.View(ctx, func(tx Tx) error { v, _ = tx.Get("b", "k"); return nil })
		v[0] = 'X'
		s.View(ctx, func(tx Tx) error { v, _ = tx.Get("b", "k"); return nil })
		if string(v) != "abc" {
			t.Fatalf("mutating a returned value changed the store: %q", v)
		}
	})
}

// Two handles on one directory behave like two processes: flock locks belong
// to open file descriptions. A read through one must see the other's write
// even though the first cached the old value.
func TestCacheSeesOtherWriters(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("old")) })
	read := func(s Store) string {
		var v []byte
		s.View(ctx, func(tx Tx) error { v, _ = tx.Get("b", "k"); return nil })
		return string(v)
	}
	if got := read(b); got != "old" {
		t.Fatalf("b read %q", got)
	}
	b.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte("new")) })
	if got := read(a); got != "new" {
		t.Fatalf("a read %q after b wrote, want new (stale cache)", got)
	}
}

// putAndReopen writes one value into a new store, closes it and opens the
// directory again.
func putAndReopen(t *testing.T, bucket, key, value string) (*Bolt, error) {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx Tx) error { return tx.Put(bucket, key, []byte(value)) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenBolt(dir)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func get(s Store, bucket, key string) string {
	var v []byte
	s.View(context.Background(), func(tx Tx) error { v, _ = tx.Get(bucket, key); return nil })
	return string(v)
}

func TestReopenKeepsData(t *testing.T) {
	s, err := putAndReopen(t, "b", "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	if v := get(s, "b", "k"); v != "v" {
		t.Fatalf("after reopen: %q", v)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	if _, err := putAndReopen(t, metaB, versionKey, "99"); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("err = %v, want ErrNewerSchema", err)
	}
}

// Opening never stamps old data as current: its migration has not run.
func TestOpenLeavesOldDataForMigrate(t *testing.T) {
	s, err := putAndReopen(t, metaB, versionKey, "1")
	if err != nil {
		t.Fatal(err)
	}
	if v := get(s, metaB, versionKey); v != "1" {
		t.Fatalf("schema version after open = %q, want 1", v)
	}
}

func TestCancelledWhileWaitingForLock(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenBolt(dir)
	defer a.Close()
	b, _ := OpenBolt(dir)
	defer b.Close()
	holding := make(chan struct{})
	releaseA := make(chan struct{})
	go a.Update(context.Background(), func(tx Tx) error {
		close(holding)
		<-releaseA
		return tx.Put("b", "a", []byte("1"))
	})
	<-holding
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		errc <- b.Update(ctx, func(tx Tx) error { return tx.Put("b", "b", []byte("1")) })
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(releaseA)
	// b must work again once the abandoned lock request has been undone.
	if err := b.Update(context.Background(), func(tx Tx) error { return tx.Put("b", "b", []byte("2")) }); err != nil {
		t.Fatal(err)
	}
}

// TestManyProcesses is the check: three processes each write 200
// records to one data directory at once; all 600 are there, none failed.
func TestManyProcesses(t *testing.T) {
	if os.Getenv("LASTMILE_STORE_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	const procs, writes = 3, 200
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), "LASTMILE_STORE_CHILD="+dir, "LASTMILE_STORE_CHILD_ID="+strconv.Itoa(p), "LASTMILE_STORE_CHILD_N="+strconv.Itoa(writes))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("child %d: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var kvs []KV
	s.View(context.Background(), func(tx Tx) error { kvs, err = tx.Scan("writes", "", "", 0); return err })
	if len(kvs) != procs*writes {
		t.Fatalf("%d records present, want %d", len(kvs), procs*writes)
	}
}

func TestChildWriter(t *testing.T) {
	dir := os.Getenv("LASTMILE_STORE_CHILD")
	if dir == "" {
		t.Skip("runs only as TestManyProcesses' child")
	}
	id := os.Getenv("LASTMILE_STORE_CHILD_ID")
	n, _ := strconv.Atoi(os.Getenv("LASTMILE_STORE_CHILD_N"))
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		err := s.Update(context.Background(), func(tx Tx) error {
			// Read-modify-write, so lost updates would show as a wrong count.
			seq, err := tx.NextSeq("counter")
			if err != nil {
				return err
			}
			return tx.Put("writes", fmt.Sprintf("%s-%04d-%d", id, i, seq), []byte("x"))
		})
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		// Interleave reads as a server would.
		if err := s.View(context.Background(), func(tx Tx) error { _, err := tx.Get("writes", "x"); return err }); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
}

func BenchmarkBoltUpdate20KB(b *testing.B) {
	s, err := OpenBolt(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := make([]byte, 20<<10)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		s.Update(ctx, func(tx Tx) error { return tx.Put("b", strconv.Itoa(i), v) })
	}
}

func BenchmarkBoltCachedGet(b *testing.B) {
	s, _ := OpenBolt(b.TempDir())
	defer s.Close()
	ctx := context.Background()
	s.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", make([]byte, 2048)) })
	for b.Loop() {
		s.View(ctx, func(tx Tx) error { _, err := tx.Get("b", "k"); return err })
	}
}
