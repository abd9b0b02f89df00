package outcomes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/memlimit"
)

const envRSSChild = "LASTMILE_OUTCOMES_RSS_CHILD"

// TestRSSChild builds the 10,000,000-event aggregate and answers
// get_insights' and get_report's questions in a process of its own, under
// the memory limit lastmile serve sets for itself (memlimit.For, followed
// here after each million events and each round of questions as serve
// follows it every 10 seconds), and prints its peak resident
// memory, for BenchmarkInsightsRSS10M.
func TestRSSChild(t *testing.T) {
	if os.Getenv(envRSSChild) == "" {
		t.Skip("runs only as BenchmarkInsightsRSS10M's child")
	}
	limit := func() {
		live, _ := memlimit.Live()
		debug.SetMemoryLimit(memlimit.For(live))
	}
	debug.SetMemoryLimit(memlimit.Floor)
	a := NewAggregate()
	batch := make([]Event, 0, 1000)
	n := 0
	take := func(e Event) {
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			a.Add(batch...)
			batch = batch[:0]
			if n++; n%1000 == 0 { // as serve's ticker would, every so often
				limit()
			}
		}
	}
	if kept := os.Getenv(envRSSChild); kept != "build" {
		// As a process just started: the aggregate an earlier one kept.
		f, err := os.Open(kept)
		if err != nil {
			t.Fatal(err)
		}
		if a, err = ReadAggregate(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		take = func(Event) {} // the history again, for its catalog only
	}
	cat := generate(bench10M, take)
	a.Add(batch...)
	limit()
	month := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		if _, err := a.Insights(cat, Options{}); err != nil {
			t.Fatal(err)
		}
		a.Engagement(cat, month, month.AddDate(0, 1, 0))
		if _, err := a.PeriodResults(cat, Options{}, month, month.AddDate(0, 1, 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Note(cat, Options{}, "Customers"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Attribute(cat, Options{Model: LastTouch, Campaign: "cmp_500"}); err != nil {
			t.Fatal(err)
		}
		limit()
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc on this system")
	}
	live, _ := memlimit.Live()
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Printf("RSS %s LIVE %d\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), live)
		}
	}
	runtime.KeepAlive(a)
}

// BenchmarkInsightsRSS10M: the peak resident memory of a process that
// takes 10,000,000 events into the aggregate (build) or reads the
// aggregate an earlier process kept (kept), and answers insights, a
// month's report, a note and a campaign's attribution, three times over,
// under the memory limit serve sets. Budget: ≤ 200 MB.
func BenchmarkInsightsRSS10M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 10,000,000-event history")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("peak memory is read from /proc")
	}
	kept := filepath.Join(b.TempDir(), "aggregate")
	for _, mode := range []string{"build", "kept"} {
		b.Run(mode, func(b *testing.B) {
			env := "build"
			if mode == "kept" {
				env = kept
				if _, err := os.Stat(kept); err != nil {
					writeKept(b, kept)
				}
			}
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
				cmd.Env = append(os.Environ(), envRSSChild+"="+env, "GOMEMLIMIT=")
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				for _, l := range strings.Split(string(out), "\n") {
					if f := strings.Fields(l); len(f) == 4 && f[0] == "RSS" {
						kb, _ := strconv.ParseFloat(f[1], 64)
						live, _ := strconv.ParseFloat(f[3], 64)
						b.ReportMetric(kb/1024, "peak-RSS-MB")
						b.ReportMetric(live/(1<<20), "live-MB")
					}
				}
			}
		})
	}
}

// writeKept writes the 10,000,000-event aggregate to path, as a process
// that took them in keeps it.
func writeKept(b *testing.B, path string) {
	a := NewAggregate()
	generate(bench10M, func(e Event) { a.Add(e) })
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.WriteTo(f); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
