// Package memlimit is the soft memory limit of lastmile's long-running
// commands (serve, run, site), so that the benchmarks that hold them to
// their memory budgets measure under the same rule.
package memlimit

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Floor is the limit while little is live. With a million contacts loaded
// (about 50 MB live) the runtime's default pacing lets the heap grow to
// twice that; the floor keeps the process under 100 MB for a quarter more
// collection (docs/benchmarks.md, the local target). Below it, as when
// serving an MCP client alone, nothing changes.
const Floor = 80 << 20

// For is the limit for a live heap of live bytes: the floor, or a quarter
// above what is live. A limit below the live heap would have the collector
// run without end, at half the CPU; twice it (the runtime's default) put a
// 10,000,000-event outcomes history past its 200 MB budget.
func For(live int64) int64 { return max(Floor, live+live/4) }

// Keep sets the limit unless GOMEMLIMIT sets one, and follows the live heap
// every interval until ctx ends.
func Keep(ctx context.Context, getenv func(string) string, interval time.Duration) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(Floor)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			live, ok := Live()
			if !ok {
				return
			}
			debug.SetMemoryLimit(For(live))
		}
	}()
}

// Live is the heap the last collection found live.
func Live() (int64, bool) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return int64(sample[0].Value.Uint64()), true
}
