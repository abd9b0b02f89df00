package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// serverMemoryLimit is the soft memory limit of the long-running commands
// (serve, run, site) unless GOMEMLIMIT sets one. With a million contacts
// loaded (about 50 MB live), the runtime's default pacing lets the heap
// grow to twice that; the limit keeps the process under 100 MB for a
// quarter more collection (docs/benchmarks.md, the local target). Below
// it, as when serving an MCP client alone, nothing changes.
const serverMemoryLimit = 80 << 20

// limitMemory sets the soft limit, and raises it while the live heap
// needs more (a large outcomes history): a limit below what is live would
// have the collector run without end, at half the CPU.
func limitMemory(ctx context.Context, getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(serverMemoryLimit)
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			live := int64(sample[0].Value.Uint64())
			debug.SetMemoryLimit(max(serverMemoryLimit, live*3/2))
		}
	}()
}
