package outcomes

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// bench10M is a generated history of 1,000 campaigns (2,000 emails and
// 1,000 pages) and about 10,000,000 events over 200,000 contacts.
var bench10M = genConfig{seed: 10, campaigns: 1000, emailsPer: 2, recipients: 2050, contacts: 200_000, lift: 1}

// buildAggregate feeds a generated history to an aggregate in batches,
// as the store would as events arrive, and returns it with the heap it
// holds once the batches are gone.
func buildAggregate(b *testing.B, cfg genConfig) (*Aggregate, Catalog, int, float64) {
	b.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	a := NewAggregate()
	batch := make([]Event, 0, 10_000)
	n := 0
	cat := generate(cfg, func(e Event) {
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			a.Add(batch...)
			n += len(batch)
			clear(batch)
			batch = batch[:0]
		}
	})
	a.Add(batch...)
	n += len(batch)
	batch = nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return a, cat, n, float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
}

// BenchmarkInsights10M answers get_insights' and get_report's questions
// (insights, attribution under each model, a note) from an aggregate of
// 10,000,000 events; the budget is 1 s for each and 200 MB.
func BenchmarkInsights10M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 10,000,000-event history")
	}
	a, cat, n, heap := buildAggregate(b, bench10M)
	conversions := len(a.convs)
	month := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	b.Logf("%d events, %d conversions, %d contacts, %d touches in chunks, aggregate %.0f MB", n, conversions, len(a.names), len(a.touches)*touchChunk, heap)
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"insights", func() error { _, err := a.Insights(cat, Options{}); return err }},
		// A campaign's report: every campaign's totals, its own
		// conversions traced.
		{"report_last_touch", func() error { _, err := a.Attribute(cat, Options{Model: LastTouch, Campaign: "cmp_500"}); return err }},
		{"report_linear", func() error { _, err := a.Attribute(cat, Options{Model: Linear, Campaign: "cmp_500"}); return err }},
		// Every conversion of the workspace traced.
		{"attribute_all_linear", func() error { _, err := a.Attribute(cat, Options{Model: Linear}); return err }},
		{"note", func() error { _, err := a.Note(cat, Options{}, "Customers"); return err }},
		// get_report's rows for a month: engagement and the month's
		// conversions credited, every campaign.
		{"report_month_engagement", func() error { a.Engagement(cat, month, month.AddDate(0, 1, 0)); return nil }},
		{"report_month_results", func() error { _, err := a.PeriodResults(cat, Options{}, month, month.AddDate(0, 1, 0)); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(heap, "aggregate-MB")
			b.ReportMetric(float64(m.HeapSys)/(1<<20), "heap-sys-MB")
			b.ReportMetric(float64(n), "events")
		})
	}
	// A process just started reads the aggregate an earlier one kept.
	path := filepath.Join(b.TempDir(), "aggregate")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	size, err := a.WriteTo(f)
	if err != nil || f.Close() != nil {
		b.Fatal(err)
	}
	b.Run("read_kept", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadAggregate(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		b.ReportMetric(float64(size)/(1<<20), "file-MB")
	})
	runtime.KeepAlive(a)
}

// BenchmarkAdd is the cost of taking events into the aggregate.
func BenchmarkAdd(b *testing.B) {
	_, events := collect(genConfig{seed: 1, campaigns: 20, emailsPer: 2, recipients: 2000, contacts: 50_000, lift: 1})
	b.ReportAllocs()
	for b.Loop() {
		a := NewAggregate()
		a.Add(events...)
	}
	b.ReportMetric(float64(len(events)), "events/op")
}
