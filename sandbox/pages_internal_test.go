package sandbox

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox/content"
)

// Text whose lower-case form has another length ("İ", "Ⱥ") must not shift
// where the body is cut or where a form goes.
func TestRenderPageKeepsTheBodyWithMultiByteText(t *testing.T) {
	body := "<h1>İstanbul</h1>\n<p>First paragraph.</p>\n<p>Ⱥ second paragraph.</p>"
	for _, c := range []string{"İ", "Ⱥ"} {
		head := "<!DOCTYPE html><html><head><title>" + strings.Repeat(c, 30) + "</title></head>"
		p := &Page{HTML: head + "<body>\n" + body + "\n</body></html>"}
		new(Sandbox).renderPage(p)
		if p.Body != body {
			t.Errorf("Body after %s\n got %q\nwant %q", c, p.Body, body)
		}
	}

	head := "<html><head><title>" + strings.Repeat("İ", 30) + "</title></head>"
	p := &Page{HTML: head + "<BODY>\n" + body + "\n</BODY></html>", Form: &content.Form{Fields: []content.FormField{{Name: "email", Label: "Email", Type: "email"}}}}
	new(Sandbox).renderPage(p)
	if !strings.HasPrefix(p.Body, body+"\n<form") || !strings.HasSuffix(p.Body, "</form>") {
		t.Errorf("Body with form %q", p.Body)
	}
	if !strings.HasSuffix(p.HTML, "</form>\n\n</BODY></html>") {
		t.Errorf("HTML with form %q", p.HTML)
	}
}
