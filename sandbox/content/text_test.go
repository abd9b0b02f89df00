package content

import (
	"runtime"
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"paragraphs", "<p>One  two\n three</p><p>Four</p>", "One two three\n\nFour\n"},
		{"headings", "<h1>Title</h1><h2>Sub</h2><h3>Small {{ contact.x }}</h3><p>x</p>",
			"Title\n=====\n\nSub\n---\n\nSmall {{ contact.x }}\n---------------------\n\nx\n"},
		{"lists", "<ul><li>a</li><li>b<ol><li>c</li><li>d</li></ol></li></ul><p>after</p>",
			"- a\n- b\n  1. c\n  2. d\n\nafter\n"},
		{"links", `<p>See <a href="https://x.example/a">the docs</a>, <a href="https://x.example/b">https://x.example/b</a>, <a href="mailto:a@b.example">a@b.example</a>, <a href="#top">top</a>, <a href="javascript:x()">js</a>, <a href="{{ unsubscribe_url }}">Unsubscribe</a>.</p>`,
			"See the docs (https://x.example/a), https://x.example/b, a@b.example, top, js,\nUnsubscribe ({{ unsubscribe_url }}).\n"},
		{"image link", `<a href="https://x.example/"><img src="https://x.example/i.png" alt="Spring  sale"></a><img src="s.gif" alt="">`,
			"[Spring sale] (https://x.example/)\n"},
		{"empty link shows url", `<p><a href="https://x.example/"></a></p>`, "https://x.example/\n"},
		{"skipped", `<html><head><title>T</title><style>p{color:red}</style><script>var a = "<p>";</script></head><body><p>Body</p><!-- comment --><noscript>ns</noscript><template><p>t</p></template></body></html>`,
			"Body\n"},
		{"hidden preheader", `<span style="display: none">Preview&#847;&zwnj;&nbsp;</span><div hidden>h</div><p>Visible</p>`, "Visible\n"},
		{"entities and nbsp", "<p>Fish&nbsp;&amp;&nbsp;chips &lt;3 &copy;</p>", "Fish & chips <3 ©\n"},
		{"br", "<p>line 1<br>line 2<br/>line 3</p>", "line 1\nline 2\nline 3\n"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr></table>", "a\n\nb\n"},
		{"hr", "<p>a</p><hr><p>b</p>", "a\n\n----------\n\nb\n"},
		{"wrap", "<p>" + strings.Repeat("word ", 30) + "</p>",
			strings.TrimSpace(strings.Repeat("word ", 15)) + "\n" + strings.TrimSpace(strings.Repeat("word ", 15)) + "\n"},
		{"long url not broken", "<p>go " + "https://x.example/" + strings.Repeat("a", 100) + " now</p>",
			"go\nhttps://x.example/" + strings.Repeat("a", 100) + "\nnow\n"},
		{"token not broken", "<p>" + strings.Repeat("x", 60) + ` {{ contact.firstname | default: "there" }} y</p>`,
			strings.Repeat("x", 60) + "\n" + `{{ contact.firstname | default: "there" }} y` + "\n"},
		{"unclosed tags", "<p>a<b>b<i>c<div>d", "abc\n\nd\n"},
		{"stray end tags", "</p></div>text</a></ul>", "text\n"},
		{"unclosed comment", "<p>a</p><!-- never closed <p>b</p>", "a\n"},
		{"unclosed attribute", `<p>a</p><a href="https://x.example/`, "a\n"},
		{"lt in text", "a < b > c", "a < b > c\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := HTMLToText(c.in); got != c.want {
				t.Errorf("HTMLToText(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

// malformed inputs of the size an attacker (or a broken template) could
// send: they must finish, and the output must stay proportional.
func malformed() map[string]string {
	return map[string]string{
		"10000 nested tables":      strings.Repeat("<table><tr><td>", 10000) + "deep" + strings.Repeat("</td></tr></table>", 10000),
		"10000 unclosed tables":    strings.Repeat("<table><tr><td>x", 10000),
		"5 MB attribute":           `<a href="https://x.example/` + strings.Repeat("a", 5<<20) + `">link</a><p>after</p>`,
		"5 MB unterminated attr":   `<p>before</p><img alt="` + strings.Repeat("b", 5<<20),
		"10000 nested lists":       strings.Repeat("<ul><li>x", 10000),
		"10000 nested hidden divs": strings.Repeat(`<div style="display:none">`, 10000) + "hidden" + strings.Repeat("</div>", 10000) + "shown",
		"100000 links":             strings.Repeat(`<a href="https://x.example/">l</a>`, 100000),
		"many headings":            strings.Repeat("<h1>"+strings.Repeat("h", 100)+"</h1>", 10000),
		"1 MB of <":                strings.Repeat("<", 1<<20),
		"1 MB of tags":             strings.Repeat("<a<b<c ", 150000),
	}
}

func TestHTMLToTextMalformed(t *testing.T) {
	for name, in := range malformed() {
		t.Run(name, func(t *testing.T) {
			out := HTMLToText(in)
			if len(out) > 2*len(in)+1024 {
				t.Errorf("output %d bytes for %d bytes of input", len(out), len(in))
			}
		})
	}
	if got := HTMLToText(malformed()["10000 nested tables"]); got != "deep\n" {
		t.Errorf("nested tables = %q", got)
	}
	if got := HTMLToText(malformed()["10000 nested hidden divs"]); got != "shown\n" {
		t.Errorf("nested hidden = %q", got)
	}
	// A URL longer than 2048 bytes is not worth printing.
	if got := HTMLToText(malformed()["5 MB attribute"]); got != "link\n\nafter\n" {
		t.Errorf("5 MB attribute = %q", got[:min(len(got), 80)])
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Linearity without a clock: quadrupling the input must not much more than
// quadruple the memory allocated (a quadratic algorithm would allocate ~16x).
func TestLinear(t *testing.T) {
	type gen func(n int) string
	inputs := map[string]gen{
		"nested tables": func(n int) string { return strings.Repeat("<table><tr><td>", n) + "x" },
		"paragraphs": func(n int) string {
			return strings.Repeat("<p>some <b>text</b> <a href='https://x.example/'>here</a></p>", n)
		},
		"lists":       func(n int) string { return strings.Repeat("<ul><li>x", n) },
		"brackets md": func(n int) string { return strings.Repeat("[", n) },
	}
	funcs := map[string]func(string){
		"HTMLToText": func(s string) { HTMLToText(s) },
		"ApplyUTM":   func(s string) { ApplyUTM(s, UTM{Source: "news", Medium: "email"}) },
		"Links":      func(s string) { Links(s) },
		"Markdown":   func(s string) { mdParagraphs(s) },
	}
	for gname, g := range inputs {
		for fname, f := range funcs {
			small, large := g(5000), g(20000)
			a1 := allocated(func() { f(small) })
			a4 := allocated(func() { f(large) })
			if a1 > 0 && float64(a4)/float64(a1) > 8 {
				t.Errorf("%s on %s: 4x input allocates %.1fx", fname, gname, float64(a4)/float64(a1))
			}
		}
	}
}

func TestWrapLines(t *testing.T) {
	got := wrapLines(strings.Repeat("abc ", 40), "- ", "  ")
	for i, l := range strings.Split(got, "\n") {
		if len(l) > TextWidth {
			t.Errorf("line %d too long: %q", i, l)
		}
		if i == 0 && !strings.HasPrefix(l, "- abc") || i > 0 && !strings.HasPrefix(l, "  abc") {
			t.Errorf("line %d prefix: %q", i, l)
		}
	}
	if got := headingText("Ünïcödé", 1); got != "Ünïcödé\n=======" {
		t.Errorf("underline counts runes: %q", got)
	}
}
