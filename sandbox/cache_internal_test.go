package sandbox

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// The governance cache is bounded in bytes: checking thousands of distinct
// documents leaves the heap within the cache's budget of where it was.
// (Bounding the count of reports instead let 4,096 of them grow the heap
// from 60 to 211 MiB.)
func TestChecksCacheBoundsTheHeap(t *testing.T) {
	sb := sampleSandbox(t)
	p, err := sb.Policy()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("<html><body>")
	for i := range 40 {
		fmt.Fprintf(&b, "<p>GUARANTEED results!!! Click <a href=\"https://acme.com/%d\">here</a>, risk-free.</p>\n", i)
	}
	b.WriteString("</body></html>")
	html := b.String()
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	check := func(i int) governance.Report {
		doc := governance.Document{ArtifactID: fmt.Sprintf("eml_%d", i), Channel: "email", Markets: []string{"US"}, Recipients: -1,
			Fields: []governance.Field{{Name: "subject", Value: fmt.Sprint("GUARANTEED ", i)}, {Name: "html", HTML: true, Value: html}}}
		return sb.checkDocs(p, []checkItem{{key: doc.ArtifactID, doc: func() governance.Document { return doc }}})
	}
	if rep := check(0); len(rep.Findings) < 20 {
		t.Fatalf("%d findings: too light a report to weigh the cache", len(rep.Findings))
	}
	before := heap()
	var kept int64
	const n = 1500
	for i := 1; i <= n; i++ {
		rep := check(i)
		if i == 1 {
			kept = weigh(p.Hash()+"|eml_1", rep)
		}
	}
	grew := heap() - before
	if sb.checks.Bytes() > checksBudget {
		t.Fatalf("the cache weighs %d bytes, over its budget of %d", sb.checks.Bytes(), checksBudget)
	}
	if unbounded := kept * n; unbounded < 4*checksBudget {
		t.Fatalf("%d reports weigh only %d bytes: the test proves nothing", n, unbounded)
	}
	if grew > 2*checksBudget {
		t.Fatalf("after %d distinct checks the heap grew by %.1f MiB; the cache's budget is %.1f MiB", n, float64(grew)/(1<<20), float64(checksBudget)/(1<<20))
	}
}
