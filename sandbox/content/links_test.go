package content

import (
	"strings"
	"testing"
)

var testUTM = UTM{Source: "newsletter", Medium: "email", Campaign: "spring sale"}

const utmQ = "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring+sale"

func TestApplyUTM(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", `<a href="https://x.example/">x</a>`, `<a href="https://x.example/?` + utmQ + `">x</a>`},
		{"existing query", `<a href="https://x.example/p?a=1&amp;b=2">x</a>`, `<a href="https://x.example/p?a=1&amp;b=2&amp;` + utmQ + `">x</a>`},
		{"fragment", `<a href="https://x.example/p?a=1#top">x</a>`, `<a href="https://x.example/p?a=1&amp;` + utmQ + `#top">x</a>`},
		{"fragment no query", `<a href="https://x.example/p#top">x</a>`, `<a href="https://x.example/p?` + utmQ + `#top">x</a>`},
		{"empty query", `<a href="https://x.example/p?">x</a>`, `<a href="https://x.example/p?` + utmQ + `">x</a>`},
		{"already tagged", `<a href="https://x.example/?utm_source=a&amp;utm_medium=b&amp;utm_campaign=c">x</a>`, `<a href="https://x.example/?utm_source=a&amp;utm_medium=b&amp;utm_campaign=c">x</a>`},
		{"partly tagged keeps values", `<a href="https://x.example/?UTM_SOURCE=mine">x</a>`, `<a href="https://x.example/?UTM_SOURCE=mine&amp;utm_medium=email&amp;utm_campaign=spring+sale">x</a>`},
		{"http", `<a href="http://x.example">x</a>`, `<a href="http://x.example?` + utmQ + `">x</a>`},
		{"uppercase scheme and tag", `<A HREF="HTTPS://X.example/">x</A>`, `<a href="HTTPS://X.example/?` + utmQ + `">x</A>`},
		{"unquoted and other attrs", `<a class=btn href=https://x.example/a target=_blank style="color:red">x</a>`,
			`<a class="btn" href="https://x.example/a?` + utmQ + `" target="_blank" style="color:red">x</a>`},
		{"mailto", `<a href="mailto:a@b.example?subject=hi">x</a>`, `<a href="mailto:a@b.example?subject=hi">x</a>`},
		{"tel", `<a href="tel:+1555">x</a>`, `<a href="tel:+1555">x</a>`},
		{"token", `<a href="{{ unsubscribe_url }}">x</a>`, `<a href="{{ unsubscribe_url }}">x</a>`},
		{"merge tag", `<a href="*|UNSUB|*">x</a>`, `<a href="*|UNSUB|*">x</a>`},
		{"anchor", `<a href="#top">x</a>`, `<a href="#top">x</a>`},
		{"relative", `<a href="/pricing">x</a>`, `<a href="/pricing">x</a>`},
		{"javascript", `<a href="javascript:go()">x</a>`, `<a href="javascript:go()">x</a>`},
		{"no href", `<a name="x">x</a>`, `<a name="x">x</a>`},
		{"token inside url", `<a href="https://x.example/{{ contact.id }}?a={{ contact.x }}#{{ f }}">x</a>`,
			`<a href="https://x.example/{{ contact.id }}?a={{ contact.x }}&amp;` + utmQ + `#{{ f }}">x</a>`},
		{"in comment and script: untouched", `<!-- <a href="https://x.example/"> --><script>"<a href='https://x.example/'>"</script>`,
			`<!-- <a href="https://x.example/"> --><script>"<a href='https://x.example/'>"</script>`},
		{"rest byte-identical", "<DIV  Class='x'>Hé &amp; <B>b</B>\r\n<a href='https://x.example'>y</a></DIV>",
			"<DIV  Class='x'>Hé &amp; <B>b</B>\r\n<a href=\"https://x.example?" + utmQ + "\">y</a></DIV>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ApplyUTM(c.in, testUTM)
			if got != c.want {
				t.Errorf("ApplyUTM(%s)\n got: %s\nwant: %s", c.in, got, c.want)
			}
			if again := ApplyUTM(got, testUTM); again != got {
				t.Errorf("not idempotent:\n once: %s\ntwice: %s", got, again)
			}
		})
	}
	if got := ApplyUTM(`<a href="https://x.example/">x</a>`, UTM{}); got != `<a href="https://x.example/">x</a>` {
		t.Errorf("empty UTM changed the document: %s", got)
	}
	if got := ApplyUTM(`<a href="https://x.example/">x</a>`, UTM{Content: "hero button", Term: "a&b"}); got != `<a href="https://x.example/?utm_content=hero+button&amp;utm_term=a%26b">x</a>` {
		t.Errorf("content/term: %s", got)
	}
}

func TestApplyUTMOnRenderedEmail(t *testing.T) {
	doc, _ := RenderEmail(allBlocks(), brandTheme, EmailOptions{Footer: true})
	tagged := ApplyUTM(doc, testUTM)
	if ApplyUTM(tagged, testUTM) != tagged {
		t.Error("not idempotent on a rendered email")
	}
	for _, l := range Links(tagged) {
		switch {
		case strings.HasPrefix(l.Href, "https://"):
			if !strings.Contains(l.Href, "utm_source=newsletter&utm_medium=email&utm_campaign=spring+sale") {
				t.Errorf("untagged: %s", l.Href)
			}
		default:
			if strings.Contains(l.Href, "utm_") {
				t.Errorf("tagged non-http link: %s", l.Href)
			}
		}
	}
	// Apart from the tagged links, nothing changed.
	if len(tagged) <= len(doc) || strings.Count(tagged, "<tr>") != strings.Count(doc, "<tr>") {
		t.Error("document structure changed")
	}
}

func TestLinks(t *testing.T) {
	doc := `<p><a href=" https://x.example/a ">Read   <b>more</b></a>
<a href="https://x.example/b"><img src="i.png" alt="Hero image"></a>
<a name="anchor">no href</a>
<a href="mailto:a@b.example">mail<a href="{{ unsubscribe_url }}">Unsubscribe</a>
<!-- <a href="https://hidden.example/">c</a> -->
<script>document.write('<a href="https://script.example/">s</a>')</script>
<a href="https://x.example/&amp;q=1">` + strings.Repeat("long ", 200) + `</a>`
	got := Links(doc)
	want := []Link{
		{"https://x.example/a", "Read more"},
		{"https://x.example/b", "Hero image"},
		{"mailto:a@b.example", "mail"},
		{"{{ unsubscribe_url }}", "Unsubscribe"},
		{"https://x.example/&q=1", strings.Repeat("long ", 100)[:maxLinkText-1]}, // capped
	}
	if len(got) != len(want) {
		t.Fatalf("Links = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("link %d = %q, want %q", i, got[i], want[i])
		}
	}
	if Links("") != nil {
		t.Error("Links of nothing")
	}
}
