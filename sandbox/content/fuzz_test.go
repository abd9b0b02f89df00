package content

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// The seed corpora live in testdata/fuzz/<Target>; `go test` runs them (and
// the f.Add seeds) as ordinary tests. Explore further with, for example,
//
//	go test ./sandbox/content/ -run '^$' -fuzz FuzzHTMLToText -fuzztime 60s

func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>Hello <b>world</b></p>")
	f.Add(`<table><tr><td><h1>T</h1><a href="https://x.example/">l</a></td></tr></table>`)
	f.Add("<ul><li>a<ol><li>b</ol></ul><img alt=x><br><hr>")
	f.Add(`<span style="display:none">pre</span><div hidden>x</div>{{ t | default: "a b" }}`)
	f.Add("<p>a<b>b<i>c<div>d</p></b>&amp;&nbsp;&#0;\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output for %q", s)
		}
		if len(out) > 8*len(s)+1024 {
			t.Fatalf("output %d bytes for %d bytes of input", len(out), len(s))
		}
		if out != HTMLToText(s) {
			t.Fatal("not deterministic")
		}
		if out != "" && (!strings.HasSuffix(out, "\n") || strings.HasPrefix(out, "\n")) {
			t.Fatalf("output not trimmed: %q", out)
		}
	})
}

func FuzzApplyUTM(f *testing.F) {
	f.Add(`<a href="https://x.example/?a=1#f">x</a>`)
	f.Add(`<A HREF=HTTP://X.example>x</A><a href="mailto:a@b">m</a><a href="{{ u }}">u</a>`)
	f.Add(`<a href="https://x.example/?utm_source=s">x</a><a href='/rel'>r</a><a href="#top">t</a>`)
	f.Add(`<!-- <a href="https://x"> --><script><a href="https://y"></script><a href="https://z"/>`)
	f.Add("<a href=\"https://x.example/\x00\xff\" class=b x'y=\"1\">")
	f.Fuzz(func(t *testing.T, s string) {
		u := UTM{Source: "src", Medium: "email", Campaign: "c 1"}
		once := ApplyUTM(s, u)
		if twice := ApplyUTM(once, u); twice != once {
			t.Fatalf("not idempotent:\nin:    %q\nonce:  %q\ntwice: %q", s, once, twice)
		}
		if !containsFold(s, "<a") && once != s {
			t.Fatalf("document without links changed: %q -> %q", s, once)
		}
		before, after := Links(s), Links(once)
		if len(before) != len(after) {
			t.Fatalf("link count %d -> %d:\nin:  %q\nout: %q", len(before), len(after), s, once)
		}
		for i := range before {
			b, a := before[i], after[i]
			if a.Text != b.Text {
				t.Fatalf("link %d text %q -> %q", i, b.Text, a.Text)
			}
			if a.Href != b.Href && !strings.Contains(a.Href, "utm_") {
				t.Fatalf("link %d href %q -> %q", i, b.Href, a.Href)
			}
		}
	})
}

// allowedInline are the only tags paragraph Markdown may produce.
var allowedInline = map[string]bool{"p": true, "br": true, "strong": true, "em": true, "a": true}

func FuzzMarkdown(f *testing.F) {
	f.Add("**bold** *em* [l](https://x.example) {{ t }}")
	f.Add("<script>alert(1)</script> [x](javascript:alert(1)) *|FNAME|*")
	f.Add("[a [b](https://b) c](https://c)\n\n***x*** _y_ __z__ \\*")
	f.Fuzz(func(t *testing.T, s string) {
		doc := RenderPageBody([]Block{{Cell: Cell{Type: "paragraph", Text: s}}}, Theme{}, PageOptions{})
		if !utf8.ValidString(doc) {
			t.Fatalf("invalid UTF-8 for %q", s)
		}
		depth := map[string]int{}
		z := html.NewTokenizer(strings.NewReader(doc))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			name, more := z.TagName()
			n := string(name)
			switch tt {
			case html.StartTagToken, html.SelfClosingTagToken:
				if !allowedInline[n] && n != "section" {
					t.Fatalf("tag <%s> from %q:\n%s", n, s, doc)
				}
				for more {
					var k, v []byte
					k, v, more = z.TagAttr()
					if string(k) != "href" {
						t.Fatalf("attribute %s from %q", k, s)
					}
					if safeHref(string(v), true) == "" {
						t.Fatalf("unsafe href %q from %q", v, s)
					}
				}
				if n != "br" {
					depth[n]++
				}
			case html.EndTagToken:
				depth[n]--
				if depth[n] < 0 {
					t.Fatalf("unbalanced </%s> from %q:\n%s", n, s, doc)
				}
			}
		}
		for n, d := range depth {
			if d != 0 {
				t.Fatalf("unbalanced <%s> from %q:\n%s", n, s, doc)
			}
		}
	})
}

// FuzzRender feeds arbitrary JSON blocks to every renderer: no panics, no
// script, no event handler, valid UTF-8, whatever Validate says.
func FuzzRender(f *testing.F) {
	seed, _ := json.Marshal(allBlocks())
	f.Add(seed)
	f.Add([]byte(`[{"type":"html","text":"<img src=x onerror=alert(1)><script>x</script><a href=javascript:x>a</a>"}]`))
	f.Add([]byte(`[{"type":"columns","columns":[[{"type":"columns"}],[],[]]},{"type":"image","src":"https://x/i.png","width":-5,"height":99999}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var blocks []Block
		if json.Unmarshal(data, &blocks) != nil {
			return
		}
		Validate(blocks)
		h, txt := RenderEmail(blocks, brandTheme, EmailOptions{Footer: true})
		p := RenderPage(blocks, Theme{}, PageOptions{Form: testForm})
		for _, out := range []string{h, txt, p} {
			if !utf8.ValidString(out) {
				t.Fatal("invalid UTF-8")
			}
		}
		for _, doc := range []string{h, p} {
			for _, tg := range tags(doc) {
				switch tg.name {
				case "script", "iframe", "object", "embed":
					t.Fatalf("<%s> in output of %s", tg.name, data)
				}
				for k, v := range tg.attrs {
					if strings.HasPrefix(k, "on") {
						t.Fatalf("event handler %s in output of %s", k, data)
					}
					if k == "href" || k == "src" || k == "action" {
						scheme, _, ok := splitScheme(strings.TrimSpace(v))
						if ok && scheme != "http" && scheme != "https" && scheme != "mailto" && scheme != "tel" {
							t.Fatalf("%s=%q in output of %s", k, v, data)
						}
					}
				}
			}
		}
	})
}
