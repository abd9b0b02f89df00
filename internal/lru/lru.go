// Package lru is a least-recently-used cache bounded in bytes.
//
// The caller says what an entry weighs (a size function, usually the
// lengths of its strings); the cache evicts the entries used longest ago
// until the total fits its budget. Bounding the count of entries instead
// leaves memory to chance: 4,096 governance reports can hold 4 KB or
// 40 MB.
package lru

import "sync"

// EntryOverhead is what every entry weighs on top of its size: the map
// slot and list links. It keeps a cache of tiny (or zero-sized) entries
// bounded too.
const EntryOverhead = 64

// Cache is safe for concurrent use. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int64
	size  func(K, V) int64
	items map[K]*entry[K, V]
	// root is the sentinel of a circular list: root.next is the most
	// recently used entry, root.prev the least.
	root  entry[K, V]
	bytes int64
}

type entry[K comparable, V any] struct {
	prev, next *entry[K, V]
	key        K
	val        V
	size       int64
}

// New returns a cache holding at most maxBytes, as size weighs its entries
// (plus EntryOverhead each). size must not depend on anything that changes
// while the entry is cached.
func New[K comparable, V any](maxBytes int64, size func(K, V) int64) *Cache[K, V] {
	c := &Cache[K, V]{max: maxBytes, size: size, items: map[K]*entry[K, V]{}}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Get returns the value cached under k and marks it most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.val, true
}

// Put caches v under k as the most recently used entry, replacing what k
// held, and evicts the least recently used entries until the cache fits.
// A value heavier than the whole budget is not cached (and k is dropped).
func (c *Cache[K, V]) Put(k K, v V) {
	n := c.size(k, v) + EntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[k]; ok {
		c.drop(old)
	}
	if n > c.max {
		return
	}
	e := &entry[K, V]{key: k, val: v, size: n}
	c.items[k] = e
	c.pushFront(e)
	c.bytes += n
	for c.bytes > c.max {
		c.drop(c.root.prev)
	}
}

// Remove drops k's entry and reports whether there was one.
func (c *Cache[K, V]) Remove(k K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if ok {
		c.drop(e)
	}
	return ok
}

// Len is the number of entries cached.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Bytes is what the cached entries weigh, overhead included; never more
// than the budget.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *Cache[K, V]) drop(e *entry[K, V]) {
	c.unlink(e)
	delete(c.items, e.key)
	c.bytes -= e.size
}

func (c *Cache[K, V]) unlink(e *entry[K, V]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *Cache[K, V]) pushFront(e *entry[K, V]) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}
