package lru

import (
	"strings"
	"testing"
)

type doc struct {
	Title string
	Body  *string
	Tags  []string
	Meta  map[string]any
	next  *doc
}

func TestSizeOf(t *testing.T) {
	body := strings.Repeat("x", 10000)
	d := &doc{Title: "hello", Body: &body, Tags: []string{"a", "bb"}, Meta: map[string]any{"n": 1, "s": strings.Repeat("y", 500)}}
	n := SizeOf(d)
	// At least every byte of text, and not wildly more.
	if min := int64(10000 + 500 + 5 + 3); n < min || n > min+2000 {
		t.Fatalf("SizeOf = %d, want a little over %d", n, min)
	}
	// Shared memory is counted once; a cycle ends.
	d.next = d
	shared := &struct{ A, B *doc }{d, d}
	if m := SizeOf(shared); m > n+64 {
		t.Fatalf("SizeOf of two pointers to one doc = %d, one doc = %d", m, n)
	}
	if SizeOf(nil) != 0 {
		t.Fatal("SizeOf(nil) != 0")
	}
	if got := SizeOf("abc"); got != 16+3 {
		t.Fatalf("SizeOf(string) = %d", got)
	}
}
