package store

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Memory is an in-memory Store for tests and throwaway servers.
type Memory struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
	seqs    map[string]uint64
	gen     uint64
}

// Generation counts write transactions.
func (m *Memory) Generation(ctx context.Context) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen, ctx.Err()
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{buckets: map[string]map[string][]byte{}, seqs: map[string]uint64{}}
}

func (m *Memory) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{m: m})
}

func (m *Memory) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	tx := &memTx{m: m, writable: true, puts: map[string]map[string][]byte{}, seqs: map[string]uint64{}}
	if err := fn(tx); err != nil {
		return err
	}
	for b, kvs := range tx.puts {
		if m.buckets[b] == nil {
			m.buckets[b] = map[string][]byte{}
		}
		for k, v := range kvs {
			if v == nil {
				delete(m.buckets[b], k)
			} else {
				m.buckets[b][k] = v
			}
		}
	}
	for b, s := range tx.seqs {
		m.seqs[b] = s
	}
	return nil
}

func (m *Memory) Close() error { return nil }

// memTx buffers writes so a failed Update leaves nothing behind.
type memTx struct {
	m        *Memory
	writable bool
	puts     map[string]map[string][]byte // nil value = deleted
	seqs     map[string]uint64
}

func (t *memTx) Get(bucket, key string) ([]byte, error) {
	if kvs, ok := t.puts[bucket]; ok {
		if v, ok := kvs[key]; ok {
			return slices.Clone(v), nil
		}
	}
	return slices.Clone(t.m.buckets[bucket][key]), nil
}

func (t *memTx) Put(bucket, key string, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.puts[bucket] == nil {
		t.puts[bucket] = map[string][]byte{}
	}
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	t.puts[bucket][key] = v
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.puts[bucket] == nil {
		t.puts[bucket] = map[string][]byte{}
	}
	t.puts[bucket][key] = nil
	return nil
}

func (t *memTx) Scan(bucket, prefix, after string, limit int) ([]KV, error) {
	merged := map[string][]byte{}
	for k, v := range t.m.buckets[bucket] {
		merged[k] = v
	}
	for k, v := range t.puts[bucket] {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]KV, len(keys))
	for i, k := range keys {
		out[i] = KV{Key: k, Value: slices.Clone(merged[k])}
	}
	return out, nil
}

func (t *memTx) Count(bucket, prefix string, limit int) (int, error) {
	kvs, err := t.Scan(bucket, prefix, "", limit)
	return len(kvs), err
}

func (t *memTx) NextSeq(bucket string) (uint64, error) {
	if !t.writable {
		return 0, ErrReadOnly
	}
	s, ok := t.seqs[bucket]
	if !ok {
		s = t.m.seqs[bucket]
	}
	s++
	t.seqs[bucket] = s
	return s, nil
}
