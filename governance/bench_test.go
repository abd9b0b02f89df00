package governance_test

import (
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/governance/internal/corpus"
)

const samplePolicy = "../testdata/policy/acme.yaml"

// corpusDocs turns generated emails into the documents the sandbox would
// pass: subject, preview text and HTML body with campaign metadata.
func corpusDocs(emails []corpus.Email) ([]governance.Document, int) {
	docs := make([]governance.Document, len(emails))
	total := 0
	for i, e := range emails {
		total += len(e.HTML)
		docs[i] = emailDoc(e)
	}
	return docs, total
}

func emailDoc(e corpus.Email) governance.Document {
	return governance.Document{
		ArtifactID: e.ID, Channel: governance.ChannelEmail, Markets: e.Markets, Industry: e.Industry,
		Recipients: e.Recipients, Platform: e.Platform, Headers: e.Headers,
		Fields: []governance.Field{
			{Name: "subject", Value: e.Subject},
			{Name: "preview_text", Value: e.Preview},
			{Name: "html", HTML: true, Value: e.HTML},
		},
	}
}

func loadSample(tb testing.TB) *governance.Policy {
	tb.Helper()
	p, err := governance.Load(samplePolicy)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkCorpus checks the 200-email corpus per iteration; compare ns/op
// (run with -cpu 1) with Vale's ~3 s wall time for a comparable style.
func BenchmarkCorpus(b *testing.B) {
	p := loadSample(b)
	docs, total := corpusDocs(corpus.Generate(200, corpus.Seed))
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		p.Check(docs)
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/corpus")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/corpus")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() { p.Check(docs) }))/float64(len(docs)), "allocs/email")
}

// BenchmarkEmail20KB checks one 20 KB email per iteration.
func BenchmarkEmail20KB(b *testing.B) {
	p := loadSample(b)
	e := corpusEmail20KB()
	docs := []governance.Document{emailDoc(e)}
	b.SetBytes(int64(len(e.HTML)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		p.Check(docs)
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkParsePolicy measures loading the sample policy (done once per
// server start and per policy change).
func BenchmarkParsePolicy(b *testing.B) {
	data := readFile(b, samplePolicy)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := governance.Parse(samplePolicy, data); err != nil {
			b.Fatal(err)
		}
	}
}

func corpusEmail20KB() corpus.Email { return corpus.One(7, "finserv", 20*1024) }
