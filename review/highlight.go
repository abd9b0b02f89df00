package review

import (
	"html"
	"slices"
	"strings"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"github.com/lastmile/lastmile/governance"
)

// highlightStyle marks findings in a preview; the preview's policy allows
// inline style and nothing else.
const highlightStyle = `<style>mark.lastmile-finding{background:#ffe08a;outline:2px solid #b7791f;color:inherit}mark.lastmile-finding.error{background:#ffc9c5;outline-color:#a3221b}</style>`

// highlight marks each finding of field in doc where it was found: the
// excerpt at the finding's line and column, when it is text (not inside a
// tag, where a mark would break the markup), wrapped in a <mark> whose
// title says the rule and the message. doc is the HTML the findings were
// made on (the final form, UTM tags applied, tokens not yet filled).
func highlight(doc string, findings []governance.Finding, artifact, field string) string {
	type span struct {
		start, end int
		f          governance.Finding
	}
	texts := textRanges(doc)
	var spans []span
	for _, f := range findings {
		if f.ArtifactID != artifact || f.Field != field || f.Line < 1 || f.Col < 1 || f.Excerpt == "" {
			continue
		}
		start := offsetOf(doc, f.Line, f.Col)
		if start < 0 {
			continue
		}
		ex := strings.TrimSuffix(f.Excerpt, "…")
		end := start + len(ex)
		if end > len(doc) || doc[start:end] != ex || !slices.ContainsFunc(texts, func(r [2]int) bool { return r[0] <= start && end <= r[1] }) {
			continue
		}
		if slices.ContainsFunc(spans, func(s span) bool { return start < s.end && s.start < end }) {
			continue // overlapping marks would nest badly; the first says it
		}
		spans = append(spans, span{start, end, f})
	}
	if len(spans) == 0 {
		return doc
	}
	slices.SortFunc(spans, func(a, b span) int { return b.start - a.start })
	for _, s := range spans {
		class := "lastmile-finding"
		if s.f.Level == governance.LevelError {
			class += " error"
		}
		open := `<mark class="` + class + `" title="` + html.EscapeString(s.f.Level+" "+s.f.Rule+": "+s.f.Message) + `">`
		doc = doc[:s.start] + open + doc[s.start:s.end] + "</mark>" + doc[s.end:]
	}
	if i := strings.Index(strings.ToLower(doc), "</head>"); i >= 0 {
		return doc[:i] + highlightStyle + doc[i:]
	}
	return highlightStyle + doc
}

// offsetOf is the byte offset of a 1-based line and rune column, or -1.
func offsetOf(doc string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(doc[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(doc) || doc[off] == '\n' {
			return -1
		}
		_, n := utf8.DecodeRuneInString(doc[off:])
		off += n
	}
	return off
}

// textRanges are the byte ranges of doc's text tokens outside script and
// style.
func textRanges(doc string) [][2]int {
	var out [][2]int
	z := xhtml.NewTokenizer(strings.NewReader(doc))
	off, raw := 0, ""
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out
		}
		n := len(z.Raw())
		if tt == xhtml.TextToken && raw != "script" && raw != "style" {
			out = append(out, [2]int{off, off + n})
		}
		if tt == xhtml.StartTagToken {
			name, _ := z.TagName()
			raw = string(name)
		} else {
			raw = ""
		}
		off += n
	}
}
