package corpus

import (
	"testing"
)

// TestShape pins what the benchmark corpus is: 200 table-layout emails of
// 5–20 KB, about 13 KB on average, every kind present, same bytes on every
// run.
func TestShape(t *testing.T) {
	emails := Generate(200, Seed)
	total, lo, hi := 0, 1<<30, 0
	kinds := map[string]int{}
	for _, e := range emails {
		n := len(e.HTML)
		total += n
		lo, hi = min(lo, n), max(hi, n)
		kinds[e.Kind]++
	}
	avg := total / len(emails)
	t.Logf("%d emails, %d bytes, avg %d, min %d, max %d, kinds %v", len(emails), total, avg, lo, hi, kinds)
	if lo < 5*1024 || hi > 21*1024 || avg < 11*1024 || avg > 15*1024 {
		t.Errorf("sizes out of shape: min %d max %d avg %d", lo, hi, avg)
	}
	if len(kinds) < 5 {
		t.Errorf("kinds: %v", kinds)
	}
	again := Generate(200, Seed)
	for i := range emails {
		if emails[i].HTML != again[i].HTML || emails[i].Subject != again[i].Subject {
			t.Fatalf("email %d differs between runs", i)
		}
	}
	if e := One(7, "finserv", 20*1024); len(e.HTML) < 19*1024 || len(e.HTML) > 23*1024 {
		t.Errorf("One(20 KB) is %d bytes", len(e.HTML))
	}
}
