package governance

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalizeRune maps typographic variants to the form policies are written
// in, so a banned "can't lose" also catches "can’t lose". drop reports
// invisible characters (zero-width joiners used as preheader padding, soft
// hyphens) that must not split or pad words.
func normalizeRune(r rune) (out rune, space, drop bool) {
	switch r {
	case '\u2018', '\u2019', '\u201B', '\u2032':
		return '\'', false, false
	case '\u201C', '\u201D', '\u201E', '\u2033':
		return '"', false, false
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u034F', '\u00AD':
		return 0, false, true
	case '\u00A0':
		return ' ', true, false
	}
	if r < utf8.RuneSelf {
		return r, r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v', false
	}
	return r, unicode.IsSpace(r), false
}

// foldRune lower-cases r only when that keeps its UTF-8 length, so the
// folded stream stays byte-aligned with the original and match offsets need
// no translation.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	l := unicode.ToLower(r)
	if utf8.RuneLen(l) != utf8.RuneLen(r) {
		return r
	}
	return l
}

// normalizeText applies the stream's normalization to policy-side text:
// collapsed whitespace, ASCII quotes, no invisible characters.
func normalizeText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		n, sp, drop := normalizeRune(r)
		switch {
		case drop:
		case sp:
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(n)
		}
	}
	return b.String()
}

func foldString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// looseForm reduces text to lower-case letters and digits separated by single
// spaces. Postal addresses and disclaimers are compared in this form because
// email footers break them with <br>, table cells and punctuation at will.
func looseForm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte(' ')
			}
			gap = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		if r == '\'' || r == '\u2019' || r == '\u00AD' || r == '\u200C' || r == '\u200B' {
			continue // "don't" and "dont" compare equal
		}
		gap = true
	}
	return b.String()
}

// commonEntities covers the entities email templates actually use, without
// an allocation; anything else goes through html.UnescapeString.
var commonEntities = map[string]rune{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "nbsp": '\u00A0',
	"copy": '©', "reg": '®', "trade": '™', "rsquo": '\u2019', "lsquo": '\u2018',
	"rdquo": '\u201D', "ldquo": '\u201C', "ndash": '–', "mdash": '—', "hellip": '…',
	"zwnj": '\u200C', "zwj": '\u200D', "shy": '\u00AD', "middot": '·', "bull": '•',
	"euro": '€', "pound": '£', "eacute": 'é', "uuml": 'ü', "ouml": 'ö', "auml": 'ä', "szlig": 'ß',
}

// decodeEntity decodes the character reference at the start of s ("&...").
// It returns the decoded text and the number of source bytes consumed, or
// n == 0 when s does not start with a reference.
func decodeEntity(s string) (r rune, multi string, n int) {
	end := strings.IndexByte(s[:min(len(s), 40)], ';')
	if end < 2 {
		return 0, "", 0
	}
	name := s[1:end]
	if name[0] == '#' {
		v, ok := parseCharRef(name[1:])
		if !ok {
			return 0, "", 0
		}
		return v, "", end + 1
	}
	if r, ok := commonEntities[name]; ok {
		return r, "", end + 1
	}
	dec := html.UnescapeString(s[:end+1])
	if dec == s[:end+1] {
		return 0, "", 0
	}
	if rr, size := utf8.DecodeRuneInString(dec); size == len(dec) {
		return rr, "", end + 1
	}
	return 0, dec, end + 1
}

func parseCharRef(s string) (rune, bool) {
	base := 10
	if len(s) > 0 && (s[0] == 'x' || s[0] == 'X') {
		base, s = 16, s[1:]
	}
	if s == "" || len(s) > 8 {
		return 0, false
	}
	var v rune
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c|0x20 && c|0x20 <= 'f':
			d = rune(c|0x20-'a') + 10
		default:
			return 0, false
		}
		v = v*rune(base) + d
	}
	if v == 0 || v > unicode.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
		return '\uFFFD', true
	}
	return v, true
}

// truncateRunes shortens s for excerpts and messages so that a 5 MB
// attribute never ends up in a report.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}
