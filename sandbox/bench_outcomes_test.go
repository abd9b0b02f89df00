package sandbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFirstQuestion1M: get_insights on a process just started, over
// 1,000,000 events kept in the store, with the aggregate an earlier
// process kept (outcomes.aggregate) and, in build, without it: every kept
// event read again. The events are synced from events.jsonl first, and
// the first process's question asked, outside the timing.
func BenchmarkFirstQuestion1M(b *testing.B) {
	if testing.Short() {
		b.Skip("keeps 1,000,000 events")
	}
	ctx := context.Background()
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	types := []string{"sent", "delivered", "open", "click"}
	const n = 1_000_000
	for i := range n {
		fmt.Fprintf(w, `{"type":%q,"artifact":"eml_%d","email":"c%d@example.com","at":%q}`+"\n",
			types[i%len(types)], i%2000, (i/4)%200_000, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	e := openEnv(b, dir, envOptions{})
	kept := 0
	for {
		rep, err := e.sb.SyncOutcomes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		news := 0
		for _, r := range rep {
			news += r.New
		}
		if kept += news; news == 0 {
			break
		}
	}
	if kept != n {
		b.Fatalf("kept %d events of %d", kept, n)
	}
	if _, err := e.sb.Insights(ctx); err != nil { // keeps the aggregate
		b.Fatal(err)
	}
	for _, mode := range []string{"kept", "build"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				if mode == "build" {
					os.Remove(filepath.Join(dir, "outcomes.aggregate"))
				}
				e = reopen(b, e, envOptions{})
				b.StartTimer()
				if _, err := e.sb.Insights(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(n, "events")
		})
	}
}
