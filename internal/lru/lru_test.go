package lru

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func byLen(k string, v string) int64 { return int64(len(k) + len(v)) }

// keys lists the cache from most to least recently used.
func keys[K comparable, V any](c *Cache[K, V]) []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []K
	for e := c.root.next; e != &c.root; e = e.next {
		out = append(out, e.key)
	}
	return out
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	// Room for three entries of 1+9 bytes.
	c := New[string, string](3*(10+EntryOverhead), byLen)
	for _, k := range []string{"a", "b", "c"} {
		c.Put(k, "123456789")
	}
	if _, ok := c.Get("a"); !ok { // a is now the most recent; b the least
		t.Fatal("a missing")
	}
	c.Put("d", "123456789")
	if _, ok := c.Get("b"); ok {
		t.Error("b was used longest ago but was kept")
	}
	if got, want := keys(c), []string{"d", "a", "c"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	// A heavy entry evicts as many as it needs, oldest first.
	c.Put("e", string(make([]byte, 2*(10+EntryOverhead))))
	if got, want := keys(c), []string{"e"}; !slices.Equal(got, want) {
		t.Errorf("after a heavy put: %v, want %v", got, want)
	}
	if c.Bytes() > 3*(10+EntryOverhead) {
		t.Errorf("Bytes %d over the budget", c.Bytes())
	}
}

func TestReplaceAndRemove(t *testing.T) {
	c := New[string, string](1000, byLen)
	c.Put("k", "short")
	c.Put("k", "a longer value")
	if v, _ := c.Get("k"); v != "a longer value" {
		t.Fatalf("Get after replace = %q", v)
	}
	if c.Len() != 1 || c.Bytes() != int64(len("k")+len("a longer value")+EntryOverhead) {
		t.Fatalf("Len %d Bytes %d after replace", c.Len(), c.Bytes())
	}
	if !c.Remove("k") || c.Remove("k") {
		t.Fatal("Remove should report the entry once")
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("Len %d Bytes %d after remove", c.Len(), c.Bytes())
	}
}

func TestTooHeavyIsNotCached(t *testing.T) {
	c := New[string, string](100, byLen)
	c.Put("k", "small")
	c.Put("k", string(make([]byte, 100)))
	if _, ok := c.Get("k"); ok {
		t.Fatal("an entry over the whole budget was cached")
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("Len %d Bytes %d", c.Len(), c.Bytes())
	}
}

// The budget holds whatever is put, however many and however small.
func TestByteBound(t *testing.T) {
	const budget = 10 << 10
	c := New[int, []byte](budget, func(_ int, v []byte) int64 { return int64(len(v)) })
	for i := range 10000 {
		c.Put(i, make([]byte, i%300))
		if b := c.Bytes(); b > budget {
			t.Fatalf("after %d puts: %d bytes, budget %d", i+1, b, budget)
		}
	}
	var sum int64
	for _, k := range keys(c) {
		v, _ := c.Get(k)
		sum += int64(len(v)) + EntryOverhead
	}
	if sum != c.Bytes() {
		t.Fatalf("entries weigh %d, Bytes says %d", sum, c.Bytes())
	}
	// The newest entries are the ones kept.
	if _, ok := c.Get(9999); !ok {
		t.Fatal("the last entry put is gone")
	}
	if _, ok := c.Get(0); ok {
		t.Fatal("the first entry put is still there")
	}
}

func TestConcurrent(t *testing.T) {
	c := New[string, string](4<<10, byLen)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint(g, "/", i%50)
				c.Put(k, k)
				c.Get(fmt.Sprint((g+1)%8, "/", i%50))
				if i%7 == 0 {
					c.Remove(k)
				}
			}
		})
	}
	wg.Wait()
	if c.Bytes() > 4<<10 || c.Len() != len(keys(c)) {
		t.Fatalf("Bytes %d, Len %d, listed %d", c.Bytes(), c.Len(), len(keys(c)))
	}
}

func BenchmarkGetPut(b *testing.B) {
	c := New[string, string](1<<20, byLen)
	ks := make([]string, 4096)
	for i := range ks {
		ks[i] = fmt.Sprint("key-", i)
	}
	for i := 0; b.Loop(); i++ {
		k := ks[i%len(ks)]
		if _, ok := c.Get(k); !ok {
			c.Put(k, k)
		}
	}
}
