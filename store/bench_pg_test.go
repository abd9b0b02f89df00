package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkStoreWriteTx is a typical write transaction (a Put of a 2 KB
// value, a NextSeq and a Get) from 60 goroutines: 3 store handles (3
// processes on one data directory for bolt, 3 replicas on one database for
// postgres) × 20 goroutines. It reports throughput (tx/s) and latency
// percentiles; nothing asserts timing.
func BenchmarkStoreWriteTx(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		dir := b.TempDir()
		var hs []Store
		for range 3 {
			s, err := OpenBolt(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			hs = append(hs, s)
		}
		benchWriteTx(b, hs)
	})
	b.Run("postgres", func(b *testing.B) {
		u := newPostgresSchema(b)
		var hs []Store
		for range 3 {
			hs = append(hs, openPostgresTest(b, u))
		}
		benchWriteTx(b, hs)
	})
}

func benchWriteTx(b *testing.B, handles []Store) {
	const perHandle = 20
	ctx := context.Background()
	value := make([]byte, 2048)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for h, s := range handles {
		for g := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(b.N) {
						return
					}
					key := fmt.Sprintf("%d-%d-%d", h, g, i)
					t0 := time.Now()
					err := s.Update(ctx, func(tx Tx) error {
						if err := tx.Put("bench", key, value); err != nil {
							return err
						}
						if _, err := tx.NextSeq("bench"); err != nil {
							return err
						}
						v, err := tx.Get("bench", key)
						if err == nil && len(v) != len(value) {
							err = fmt.Errorf("read %d bytes back, want %d", len(v), len(value))
						}
						return err
					})
					lat[i] = time.Since(t0)
					if err != nil {
						failed.Store(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tx/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
