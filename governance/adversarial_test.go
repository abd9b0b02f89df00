package governance_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// allocBytes reports the bytes allocated while running f: a memory bound
// that, unlike timing, is deterministic enough to assert on.
func allocBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestAdversarialHTML(t *testing.T) {
	p := loadSample(t)
	mb5 := 5 << 20
	tests := []struct {
		name     string
		html     string
		wantRule string // a rule that must still fire
	}{
		{"10,000 nested tables", strings.Repeat("<table><tr><td>", 10000) + "<h2>Our Biggest Sale Of The Year</h2>" + strings.Repeat("</td></tr></table>", 10000), "brand.heading-case"},
		{"10,000 unclosed nested tables", strings.Repeat("<table><tr><td>", 10000) + "<h2>Our Biggest Sale Of The Year</h2>", "brand.heading-case"},
		{"5 MB attribute value", `<img src="https://assets.acme.com/a.png" alt="` + strings.Repeat("guaranteed ", mb5/11) + `">`, "voice.banned-claims"},
		{"5 MB style attribute", `<p style="` + strings.Repeat("color:#123456;", mb5/14) + `">x</p>`, "style.brand"},
		{"5 MB unquoted attribute", `<a href=https://acme.com/` + strings.Repeat("a", mb5) + `>Buy</a>`, "links.utm"},
		{"5 MB of text in one word", "<p>" + strings.Repeat("x", mb5) + " guaranteed</p>", "voice.banned-claims"},
		{"unclosed tags", `<table><tr><td><h1>Get Started With AcmeCloud Today<p>risk-free <a href="http://acme.com">click`, "links.secure"},
		{"unterminated attribute", `<p>guaranteed</p><a href="https://acme.com/x`, "voice.banned-claims"},
		{"unclosed script", `<p>guaranteed</p><script>var x = "<p>revolutionary</p>";`, "voice.banned-claims"},
		{"unclosed comment", `<p>guaranteed</p><!-- <p>revolutionary</p>`, "voice.banned-claims"},
		{"stray brackets", `<<<>>></p></p></td><//>&&&;&#xFFFFFFFF;&#0;&#;&bogus; guaranteed`, "voice.banned-claims"},
		{"invalid UTF-8 and NUL", "<p>\xff\xfe\x00guaranteed\x00</p>", "voice.banned-claims"},
		{"many tokens", strings.Repeat("{{ contact.firstname }}", 100000), "tokens.fallbacks"},
		{"unterminated tokens", strings.Repeat("{{ x ", 200000), "tokens.fallbacks"},
		{"many links", strings.Repeat(`<a href="http://acme.com/">x</a>`, 100000), "links.secure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := governance.Document{ArtifactID: "eml_x", Channel: "email", Markets: []string{"US"}, Industry: "retail", Recipients: 100, Platform: "local",
				Fields: []governance.Field{{Name: "html", HTML: true, Value: tt.html}}}
			var rep governance.Report
			used := allocBytes(func() { rep = p.Check([]governance.Document{doc}) })
			if limit := uint64(40*len(tt.html)) + 8<<20; used > limit {
				t.Errorf("allocated %d bytes for %d bytes of input (limit %d)", used, len(tt.html), limit)
			}
			perRule := map[string]int{}
			found := false
			for _, f := range rep.Findings {
				perRule[f.Rule]++
				found = found || f.Rule == tt.wantRule
				if len(f.Excerpt) > 400 || len(f.Message) > 2000 {
					t.Errorf("unbounded finding text: %d/%d bytes", len(f.Excerpt), len(f.Message))
				}
			}
			if !found {
				t.Errorf("rule %s did not fire; findings: %v", tt.wantRule, render(rep.Findings))
			}
			for rule, n := range perRule {
				if n > 51 {
					t.Errorf("rule %s reported %d findings in one field; the cap is 50 plus a summary", rule, n)
				}
			}
		})
	}
}

func TestOversizedFieldIsTruncated(t *testing.T) {
	p := loadSample(t)
	html := "<p>guaranteed</p>" + strings.Repeat("a", governance.MaxFieldBytes)
	rep := p.Check([]governance.Document{{ArtifactID: "eml_x", Channel: "email", Fields: []governance.Field{{Name: "html", HTML: true, Value: html}}}})
	var truncated, clipped, banned bool
	for _, f := range rep.Findings {
		truncated = truncated || f.Rule == "lastmile.input-truncated"
		clipped = clipped || f.Rule == "size.gmail-clipping" && f.Level == "error"
		banned = banned || f.Rule == "voice.banned-claims"
	}
	if !truncated || !clipped || !banned {
		t.Errorf("truncated=%v clipped=%v banned=%v: %v", truncated, clipped, banned, render(rep.Findings))
	}
}

// TestPositions: line and column point at the match in the source, with
// CRLF line ends, multi-byte characters and entities before it.
func TestPositions(t *testing.T) {
	p := mustParse(t, `
  - id: w
    kind: existence
    level: error
    tokens: [target]
`)
	tests := []struct {
		src       string
		line, col int
	}{
		{"<p>target</p>", 1, 4},
		{"<html>\r\n<body>\r\n  <p>target</p>", 3, 6},
		{"<p>Grüße – «&nbsp;&amp;&eacute;» target</p>", 1, 34},
		{"<p>ab\ncd</p>\n<table><tr><td>\n\t<h3>x</h3>target", 4, 12},
		{"<p>" + strings.Repeat("é", 3000) + " target</p>", 1, 3005},
	}
	for _, tt := range tests {
		rep := p.Check([]governance.Document{htmlDoc(tt.src)})
		if len(rep.Findings) != 1 || rep.Findings[0].Line != tt.line || rep.Findings[0].Col != tt.col {
			t.Errorf("%q: got %v, want %d:%d", truncate(tt.src), render(rep.Findings), tt.line, tt.col)
		}
	}
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// TestAllocsPerEmail bounds allocations for a typical 20 KB email, so a
// change that allocates per byte or per token shows up as a failure rather
// than a slow drift.
func TestAllocsPerEmail(t *testing.T) {
	p := loadSample(t)
	docs := []governance.Document{emailDoc(corpusEmail20KB())}
	allocs := testing.AllocsPerRun(5, func() { p.Check(docs) })
	if allocs > 2500 {
		t.Errorf("%.0f allocations for one 20 KB email, want at most 2500", allocs)
	}
	t.Logf("%.0f allocations per 20 KB email", allocs)
}
