package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/sandbox"
)

// writeBenchContacts writes n contacts to path: unique addresses, names and
// cities from small pools (as real lists repeat them), every second contact
// a customer with consent, so a customers segment holds n/2.
func writeBenchContacts(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	first := []string{"Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Hedy", "Dennis", "Barbara", "Ken", "Frances"}
	last := []string{"Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Berners-Lee", "Lamarr", "Ritchie", "Liskov"}
	cities := []string{"London", "New York", "Boston", "Berlin", "Toronto", "Helsinki", "Vienna", "Oxford"}
	countries := []string{"GB", "US", "US", "DE", "CA", "FI", "AT", "GB"}
	plans := []string{"pro", "enterprise", "starter", ""}
	fmt.Fprintln(w, "email,firstname,lastname,country,lifecycle_stage,plan,signup_date,marketing_consent,city")
	for i := range n {
		stage, consent := "customer", "true"
		if i%2 == 1 {
			stage = []string{"lead", "churned"}[i/2%2]
			if i%10 == 1 {
				consent = "false"
			}
		}
		day := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%1500).Format("2006-01-02")
		fmt.Fprintf(w, "user%07d@example.com,%s,%s,%s,%s,%s,%s,%s,%s\n", i, first[i%len(first)], last[i/7%len(last)], countries[i%8], stage, plans[i/3%4], day, consent, cities[i%8])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// benchSizes are the contacts counts of the budgets; 1,000,000 only
// without -short.
func benchSizes() []int {
	if testing.Short() {
		return []int{10_000, 100_000}
	}
	return []int{10_000, 100_000, 1_000_000}
}

func benchName(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// customers is a segment of half the contacts, with a second condition on a
// column of distinct values so both kinds of column are evaluated.
var customers = map[string]*sandbox.Segment{"seg_cust": {Name: "Customers", Group: sandbox.Group{Match: "all", Conditions: []sandbox.Condition{
	{Property: "lifecycle_stage", Operator: "eq", Value: "customer"},
	{Property: "email", Operator: "contains", Value: "@example.com"},
}}}}

// BenchmarkCount: counting a segment (what build_segment asks local), on
// the first call after a start (contacts.csv read) and on later ones.
func BenchmarkCount(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes() {
		dir := b.TempDir()
		writeBenchContacts(b, filepath.Join(dir, "contacts.csv"), n)
		for _, mode := range []string{"cold", "warm"} {
			b.Run(fmt.Sprintf("%s/%s", benchName(n), mode), func(b *testing.B) {
				lt, err := New("local", dir, Config{})
				if err != nil {
					b.Fatal(err)
				}
				if mode == "warm" {
					if _, err := lt.Count(ctx, []string{"seg_cust"}, nil, customers); err != nil {
						b.Fatal(err)
					}
				}
				for b.Loop() {
					if mode == "cold" {
						lt.book = &contactBook{path: lt.book.path, forms: lt.book.forms}
					}
					got, err := lt.Count(ctx, []string{"seg_cust"}, nil, customers)
					if err != nil || got != n/2 {
						b.Fatalf("Count = %d, %v; want %d", got, err, n/2)
					}
				}
			})
		}
	}
}

// BenchmarkSend50k: a send to 50,000 of 100,000 contacts, 8 KB messages,
// against a bare loop that writes and fdatasyncs 50,000 files of the same
// size into a fresh directory, in the same iteration. Budget: ratio ≤ 1.5.
func BenchmarkSend50k(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	writeBenchContacts(b, filepath.Join(dir, "contacts.csv"), 100_000)
	lt, err := New("local", dir, Config{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := lt.Put(ctx, sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: "seg_cust", Segment: customers["seg_cust"], Segments: customers}, ""); err != nil {
		b.Fatal(err)
	}
	para := "<p>Hello {{ firstname | default: \"there\" }}, our spring range is here: lighter fabrics, brighter colours and the same fair prices.</p>\n"
	html := "<html><body>" + strings.Repeat(para, 8192/len(para)) + "</body></html>"
	email := &sandbox.Email{Name: "Spring", Subject: "Spring, {{ firstname }}", FromEmail: "news@acme.com", HTML: html, Text: "Spring is here.",
		Audience: sandbox.Audience{Include: []string{"seg_cust"}}}
	size := len(message(email, "eml_bench0", sandbox.Contact{"email": "user0000000@example.com", "firstname": "Ada"}, time.Now(), "acme.com", lt.oneClick("eml_bench0", "user0000000@example.com"), ""))
	body := []byte(strings.Repeat("x", size))
	var send, bare time.Duration
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("eml_bench%d", i)
		obj := sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: id, Email: email, Segments: customers}
		if _, err := lt.Put(ctx, obj, ""); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		start := time.Now()
		if _, err := lt.Send(ctx, obj, sandbox.LiveState{}, time.Time{}); err != nil {
			b.Fatal(err)
		}
		send += time.Since(start)
		if rec := liveRecordB(b, lt, id); rec.Recipients != 50_000 {
			b.Fatalf("mailed %d, want 50000", rec.Recipients)
		}
		start = time.Now()
		bareLoop(b, filepath.Join(dir, "bare", id), 50_000, body)
		bare += time.Since(start)
		os.RemoveAll(filepath.Join(dir, "outbox", id))
		os.RemoveAll(filepath.Join(dir, "bare", id))
	}
	b.ReportMetric(send.Seconds()/float64(i), "send-s")
	b.ReportMetric(bare.Seconds()/float64(i), "bare-s")
	b.ReportMetric(float64(send)/float64(bare), "ratio")
}

// bareLoop is the floor of a send: n files written and fdatasynced, then
// the directory synced.
func bareLoop(tb testing.TB, dir string, n int, body []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for j := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("user%07d@example.com.eml", j)))
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := f.Write(body); err != nil {
			tb.Fatal(err)
		}
		if err := osfile.DataSync(f); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	if err := osfile.SyncDir(dir); err != nil {
		tb.Fatal(err)
	}
}

func liveRecordB(tb testing.TB, lt *Target, id string) liveEmail {
	var rec liveEmail
	if found, err := readJSON(lt.recordPath(sandbox.KindEmail, id), &rec); err != nil || !found {
		tb.Fatalf("live record of %s: found=%v err=%v", id, found, err)
	}
	return rec
}

// BenchmarkReadTable: reading 100,000 contacts into a table, from memory
// (the first call's share of a cold build_segment without the disk).
func BenchmarkReadTable(b *testing.B) {
	path := filepath.Join(b.TempDir(), "contacts.csv")
	writeBenchContacts(b, path, 100_000)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := readTable(bytes.NewReader(data), "contacts.csv", true, bytes.Count(data, []byte{10}), nil); err != nil {
			b.Fatal(err)
		}
	}
}
