package review

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

func TestHighlightMarksTextOnly(t *testing.T) {
	doc := "<html><head></head><body>\n<p>Get it FREE today</p><img alt=\"FREE\" src=\"https://x/y.png\">\n<p>Café FREE</p></body></html>"
	fs := []governance.Finding{
		{ArtifactID: "eml_a", Field: "html", Line: 2, Col: 11, Excerpt: "FREE", Level: "error", Rule: "voice.banned", Message: `"FREE" is banned"><script>alert(1)</script>`},
		{ArtifactID: "eml_a", Field: "html", Line: 2, Col: 37, Excerpt: "FREE", Level: "warning", Rule: "in-attribute"},
		{ArtifactID: "eml_a", Field: "html", Line: 3, Col: 9, Excerpt: "FREE", Level: "warning", Rule: "after-accent"},
		{ArtifactID: "eml_b", Field: "html", Line: 2, Col: 11, Excerpt: "FREE", Rule: "other-artifact"},
		{ArtifactID: "eml_a", Field: "subject", Line: 1, Col: 1, Excerpt: "Get", Rule: "other-field"},
		{ArtifactID: "eml_a", Field: "html", Line: 2, Col: 4, Excerpt: "Nope", Rule: "moved"},
	}
	got := highlight(doc, fs, "eml_a", "html")
	if n := strings.Count(got, "<mark "); n != 2 {
		t.Fatalf("%d marks, want 2 (the text ones):\n%s", n, got)
	}
	for _, want := range []string{
		`<p>Get it <mark class="lastmile-finding error" title="error voice.banned: &#34;FREE&#34; is banned&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">FREE</mark> today</p>`,
		`<img alt="FREE" src="https://x/y.png">`,
		`<p>Café <mark class="lastmile-finding" title="warning after-accent: ">FREE</mark></p>`,
		`<head><style>mark.lastmile-finding`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script>") {
		t.Fatal("a finding's message became markup")
	}
}
