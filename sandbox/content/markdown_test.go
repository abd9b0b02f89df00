package content

import (
	"strings"
	"testing"
)

// pageInline renders Markdown through the page renderer (the simplest
// HTML form of the inline model).
func pageInline(s string) string {
	p := &pageWriter{th: resolveTheme(Theme{})}
	var parts []string
	for _, para := range mdParagraphs(s) {
		p.b.Reset()
		p.inlines(para)
		parts = append(parts, p.b.String())
	}
	return strings.Join(parts, " | ")
}

func TestMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"**bold** and *italic* and _also_", "<strong>bold</strong> and <em>italic</em> and <em>also</em>"},
		{"**bold with *italic* inside**", "<strong>bold with <em>italic</em> inside</strong>"},
		{"[label](https://x.example/a?b=1&c=2)", `<a href="https://x.example/a?b=1&amp;c=2">label</a>`},
		{"[**bold** label](https://x.example)", `<a href="https://x.example"><strong>bold</strong> label</a>`},
		{"line one\nline two", "line one<br>line two"},
		{"para one\n\npara two\n \n\npara three", "para one | para two | para three"},
		{"trailing spaces  \n  next", "trailing spaces<br>next"},
		{"a * b * c", "a * b * c"},
		{"2*3*4", "2<em>3</em>4"},
		{"snake_case_name stays", "snake_case_name stays"},
		{"**unclosed bold", "**unclosed bold"},
		{"*unclosed **strong**", "*unclosed <strong>strong</strong>"},
		{"***triple***", "***triple***"},
		{`\*not italic\* \[not a link\](x)`, "*not italic* [not a link](x)"},
		{"[no url]", "[no url]"},
		{"[space url](https://x.example/a b)", "[space url](https://x.example/a b)"},
		{"[a [b](https://b.example) c](https://c.example)", `[a <a href="https://b.example">b</a> c](https://c.example)`},
		{"*[em link](https://x.example)*", `<em><a href="https://x.example">em link</a></em>`},
		{"[*open em](https://x.example)*", `<a href="https://x.example">*open em</a>*`},
		{"<b>raw</b> & <script>", "&lt;b&gt;raw&lt;/b&gt; &amp; &lt;script&gt;"},
		{"[bad](javascript:alert(1))", "bad)"},
		{"[mail](mailto:a@b.example) [tel](tel:+15551234)", `<a href="mailto:a@b.example">mail</a> <a href="tel:+15551234">tel</a>`},
		// Tokens are atoms: their * _ [ ] ( ) are not Markdown.
		{`Hi {{ contact.first_name | default: "there" }}!`, `Hi {{ contact.first_name | default: "there" }}!`},
		{"*|FNAME|* and *|LNAME|*", "*|FNAME|* and *|LNAME|*"},
		{"**{{ contact.x }}**", "<strong>{{ contact.x }}</strong>"},
		{"[unsub]({{ unsubscribe_url }})", `<a href="{{ unsubscribe_url }}">unsub</a>`},
		{`[t](https://x.example/?n={{ contact.name | default: "a b" }})`, `<a href="https://x.example/?n={{ contact.name | default: &quot;a b&quot; }}">t</a>`},
		{"{{ not closed", "{{ not closed"},
		{"{{ <b> }}", "{{ &lt;b&gt; }}"},
		{"ctrl\x00\x07chars\u0085", "ctrlchars"},
		{"bad utf8 \xff", "bad utf8 \uFFFD"},
	}
	for _, c := range cases {
		if got := pageInline(c.in); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

// Pathological inputs must stay fast and shallow (the parser is linear and
// emphasis nesting is capped).
func TestMarkdownPathological(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("[", 100000),
		strings.Repeat("*a ", 50000),
		strings.Repeat("*a **b _c __d ", 20000),
		strings.Repeat("[x](", 50000),
		strings.Repeat("](", 50000),
		strings.Repeat("{{", 50000),
		strings.Repeat("*|", 50000),
	} {
		out := pageInline(s)
		if len(out) > 8*len(s)+64 {
			t.Errorf("output of %d bytes for %d bytes of input", len(out), len(s))
		}
		if strings.Count(out, "<em>") > len(s) {
			t.Error("unexpected emphasis count")
		}
	}
}

func TestMdLinks(t *testing.T) {
	got := mdLinks("[a](https://a.example) text [b](javascript:x) and\n\n[c]({{ url }})")
	want := []string{"https://a.example", "javascript:x", "{{ url }}"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("mdLinks = %q, want %q", got, want)
	}
}

func TestTokensByteIdentical(t *testing.T) {
	toks := []string{
		`{{ contact.firstname | default: "there" }}`,
		`{{  contact.company   |  default: 'your team' }}`,
		`{% if contact.vip %}`,
		`*|FNAME|*`,
	}
	for _, tok := range toks {
		blocks := []Block{
			{Cell: Cell{Type: "heading", Text: "Hi  " + tok + "  !"}},
			{Cell: Cell{Type: "paragraph", Text: "**Hi** " + tok + " *there*"}},
			{Cell: Cell{Type: "button", Text: "Go " + tok}},
		}
		doc, text := RenderEmail(blocks, Theme{}, EmailOptions{Title: tok, PreviewText: tok})
		page := RenderPage(blocks, Theme{}, PageOptions{Title: tok})
		for name, out := range map[string]string{"email": doc, "text": text, "page": page} {
			if n := strings.Count(out, tok); n < 3 {
				t.Errorf("%s: token %q appears %d times, want >= 3", name, tok, n)
			}
		}
	}
	if got := oneLine("  a \n\t b  {{ x   y }}  c "); got != "a b {{ x   y }} c" {
		t.Errorf("oneLine = %q", got)
	}
}
