package render

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// attacks are what an agent might name things to break out of the page or
// forge what the human reads.
var attacks = []string{
	`<script>alert(1)</script>`,
	`"><svg onload=alert(1)>`,
	`'><img src=x onerror=alert(1)>`,
	`</text></g><script>alert(1)</script><text>`,
	`</title><foreignObject><iframe src="https://evil.example"/></foreignObject>`,
	`]]><!-- <![CDATA[ x`,
	`Tom & Jerry &amp; &lt;b&gt; &#60;`,
	`javascript:alert(1)`,
	"invoice\u202egpj.exe",                 // right-to-left override
	"a\u2066b\u2069c\u200bd\u200fe\u061cf", // isolates, zero-width space, RLM, ALM
	"line\nbreak\rreturn\x1b[31mred\x00nul\x7f\u0085",
	"bad \xff\xfe bytes and \ufffe\uffff nonchars",
	`VIP" and country is "US`,
	strings.Repeat("Very long name ", 400),
	strings.Repeat("W", 5000),
	strings.Repeat("山", 3000),
}

// attackWorkflow puts s in every string an agent writes.
func attackWorkflow(s string) (*sandbox.Workflow, map[string]string) {
	names := map[string]string{s: s, "eml": s, "seg": s}
	return &sandbox.Workflow{
		Name:    s,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: s},
		Steps: []sandbox.Step{
			{ID: "a", Type: "send_email", EmailID: "eml", Next: s},
			{ID: s, Type: "wait", Duration: s, Next: "b"},
			{ID: "b", Type: "branch", Condition: &sandbox.BranchCondition{Property: s, Operator: s, Value: s}, Then: "c", Else: "d"},
			{ID: "c", Type: "set_property", Property: s, Value: []any{s, s}, Next: "e"},
			{ID: "d", Type: "add_to_segment", SegmentID: "seg", Next: "missing" + s},
			{ID: "e", Type: s, Next: s},
			{ID: "f", Type: "branch", Condition: &sandbox.BranchCondition{SegmentID: s}, Then: s}, // unreachable
		},
	}, names
}

func attackSegment(s string) *sandbox.Segment {
	return &sandbox.Segment{
		Name: s,
		Group: sandbox.Group{Match: s, Conditions: []sandbox.Condition{cond(s, "eq", s), cond("p", s, s), cond("q", "in", []any{s})},
			Groups: []sandbox.Group{{Match: "any", Conditions: []sandbox.Condition{cond(s, "contains", s), cond("r", "exists", nil)}}}},
		IncludeSegments: []string{s, "seg"},
		ExcludeSegments: []string{s},
		StaticEmails:    []string{s},
	}
}

// unsafeRune finds a rune a page must not show raw.
func unsafeRune(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && termsafe.Unsafe(r) || r == '\ufffe' || r == '\uffff' {
			return r, true
		}
	}
	return 0, false
}

// inert fails unless s is safe text for any page: valid UTF-8, no
// control (newlines aside), bidi, invisible or non-character, and at most
// max characters.
func inert(t *testing.T, what, s string, max int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", what, s)
	}
	if r, ok := unsafeRune(s); ok {
		t.Errorf("%s: raw %U in %q", what, r, s)
	}
	if n := utf8.RuneCountInString(s); n > max {
		t.Errorf("%s: %d characters", what, n)
	}
}

// The plain lines carry the attack as visible text, quoted, and the page's
// template escapes them.
func TestWordsAttacks(t *testing.T) {
	page := template.Must(template.New("").Parse(`<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>`))
	for _, s := range attacks {
		w, names := attackWorkflow(s)
		var lines []string
		lines = append(lines, SegmentWords(attackSegment(s), names)...)
		lines = append(lines, StepWords(w, names)...)
		lines = append(lines, Mask(s), Mask(s+"@"+s), Mask("ab@"+s))
		for _, l := range lines {
			inert(t, "line", l, 2000)
		}
		var out bytes.Buffer
		if err := page.Execute(&out, lines); err != nil {
			t.Fatal(err)
		}
		if html := out.String(); strings.Contains(html, "<script") || strings.Contains(html, "<svg") || strings.Contains(html, "<img") || strings.Contains(html, "<foreignObject") {
			t.Errorf("markup got through the template: %s", html)
		}
		// A name with quotes in it cannot close its own quotes.
		if s == `VIP" and country is "US` {
			want := `plus the members of segment "VIP\" and country is \"US"`
			if got := SegmentWords(attackSegment(s), names); !contains(got, want) {
				t.Errorf("got %q, want a line %q", got, want)
			}
		}
	}
}

// The SVG stays well-formed, inside its vocabulary, with the attack shown
// as text and never as markup.
func TestWorkflowSVGAttacks(t *testing.T) {
	for _, s := range attacks {
		w, names := attackWorkflow(s)
		svg := string(WorkflowSVG(w, names))
		text, label := checkSVG(t, svg)
		// Attributes are checked by checkSVG; here no tag may open.
		for _, bad := range []string{"<script", "<svg onload", "<img", "<iframe", "<foreignObject", "<![CDATA[", "<!--"} {
			if strings.Contains(strings.ToLower(svg), strings.ToLower(bad)) {
				t.Errorf("%q in the SVG of %.40q", bad, s)
			}
		}
		if strings.Count(svg, "<svg") != 1 || strings.Count(svg, "</svg>") != 1 {
			t.Errorf("more than one svg element for %.40q", s)
		}
		inert(t, "svg", svg, 100_000)
		inert(t, "aria-label", label, 1000)
		for _, c := range text {
			inert(t, "text", c, 1000)
		}
		// The first line of an attack shows up verbatim in the character
		// data when it is safe and short: escaped, not dropped.
		if first := strings.SplitN(s, "\n", 2)[0]; len(first) < 60 && termsafe.Text(first, 0) == first && !strings.Contains(first, `"`) {
			found := false
			for _, c := range text {
				found = found || strings.Contains(c, first)
			}
			if !found {
				t.Errorf("%q is not shown as text in %q", first, text)
			}
		}
	}
}

// Each <text> of a box holds at most labelCols columns.
func TestWorkflowSVGLabelsFit(t *testing.T) {
	w, names := attackWorkflow(strings.Repeat("Very long name ", 400))
	svg := string(WorkflowSVG(w, names))
	for _, part := range strings.Split(svg, "<text ")[1:] {
		body := part[strings.Index(part, ">")+1 : strings.Index(part, "</text>")]
		body = strings.NewReplacer("&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(body)
		if textWidth(body) > labelCols && !strings.HasPrefix(body, "Not reachable") {
			t.Errorf("label of %d columns: %q", textWidth(body), body)
		}
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// inert's own check catches the raw attacks, so the tests above would
// fail if the escaping stopped.
func TestUnsafeRuneCatches(t *testing.T) {
	for _, s := range []string{"invoice\u202egpj.exe", "a\u200bb", "\x1b[31m", "x\ufffe"} {
		if _, ok := unsafeRune(s); !ok {
			t.Errorf("unsafeRune(%q) found nothing", s)
		}
	}
	if r, ok := unsafeRune("plain \\u202e text\n"); ok {
		t.Errorf("unsafeRune flagged %U in escaped text", r)
	}
}
