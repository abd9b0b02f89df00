package content

import (
	"strings"
	"testing"
)

func BenchmarkRenderEmail(b *testing.B) {
	blocks := tenBlocks()
	opts := EmailOptions{Title: "Spring sale", PreviewText: "30% off", Footer: true}
	b.ReportAllocs()
	for b.Loop() {
		RenderEmail(blocks, brandTheme, opts)
	}
}

func BenchmarkRenderPage(b *testing.B) {
	blocks := tenBlocks()
	b.ReportAllocs()
	for b.Loop() {
		RenderPage(blocks, brandTheme, PageOptions{Title: "Spring sale", Form: testForm})
	}
}

// bench20KB is an email of about 20 KB.
func bench20KB() string {
	var blocks []Block
	for len(blocks) < 200 {
		blocks = append(blocks, tenBlocks()...)
		doc, _ := RenderEmail(blocks, brandTheme, EmailOptions{Footer: true})
		if len(doc) >= 20*1024 {
			return doc[:20*1024]
		}
	}
	panic("unreachable")
}

func BenchmarkHTMLToText(b *testing.B) {
	doc := bench20KB()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		HTMLToText(doc)
	}
}

func BenchmarkApplyUTM(b *testing.B) {
	doc := bench20KB()
	u := UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		ApplyUTM(doc, u)
	}
}

func BenchmarkValidate(b *testing.B) {
	blocks := tenBlocks()
	b.ReportAllocs()
	for b.Loop() {
		Validate(blocks)
	}
}

func TestBench20KB(t *testing.T) {
	if n := len(bench20KB()); n != 20*1024 {
		t.Fatal(n)
	}
	if !strings.Contains(bench20KB(), "<h1") {
		t.Fatal("no heading")
	}
}
