package content

import (
	"strings"
	"unicode/utf8"
)

// Personalization tokens are kept byte-identical through every renderer so
// that a later step (the connector, the platform) can substitute them:
//
//	{{ contact.firstname | default: "there" }}   HubL / Liquid / Handlebars output
//	{% if contact.vip %}                          HubL / Liquid tags
//	*|FNAME|*                                     Mailchimp merge tags
//
// A token's body may not contain '<', '>', '{', '}' or a newline, and is at
// most maxTokenLen bytes, so a "token" can never smuggle markup into the
// output: the characters it keeps unescaped are harmless in text.
const maxTokenLen = 256

// tokenEnd reports whether a token starts at s[i], and where it ends.
func tokenEnd(s string, i int) (int, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	var closeA, closeB byte
	switch {
	case s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%'):
		closeA, closeB = s[i+1], '}'
		if closeA == '{' {
			closeA = '}'
		}
	case s[i] == '*' && s[i+1] == '|':
		closeA, closeB = '|', '*'
	default:
		return 0, false
	}
	limit := i + 2 + maxTokenLen
	if limit > len(s)-1 {
		limit = len(s) - 1
	}
	for j := i + 2; j < limit; j++ {
		c := s[j]
		if c == closeA && s[j+1] == closeB {
			if j == i+2 {
				return 0, false // empty body
			}
			return j + 2, true
		}
		switch c {
		case '<', '>', '{', '}', '\n', '\r':
			return 0, false
		}
		if closeB == '*' && (c == '*' || c == '|') {
			return 0, false
		}
	}
	return 0, false
}

// startsWithToken reports whether s begins with a personalization token.
func startsWithToken(s string) bool {
	_, ok := tokenEnd(s, 0)
	return ok
}

// escapeText HTML-escapes s for element content: &, < and > outside tokens.
// Control characters other than tab and newline are dropped and invalid
// UTF-8 becomes U+FFFD, so the output is always well-formed.
func escapeText(s string) string {
	var b strings.Builder
	writeEscaped(&b, s, false)
	return b.String()
}

// escapeAttr HTML-escapes s for a double-quoted attribute value: &, <, >
// and " outside tokens; inside a token only " (which would end the
// attribute) is escaped.
func escapeAttr(s string) string {
	var b strings.Builder
	writeEscaped(&b, s, true)
	return b.String()
}

func writeEscaped(b *strings.Builder, s string, attr bool) {
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); {
		if end, ok := tokenEnd(s, i); ok {
			tok := s[i:end]
			if attr && strings.Contains(tok, `"`) {
				tok = strings.ReplaceAll(tok, `"`, "&quot;")
			}
			b.WriteString(sanitizeChars(tok))
			i = end
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				b.WriteString("&amp;")
			case c == '<':
				b.WriteString("&lt;")
			case c == '>':
				b.WriteString("&gt;")
			case c == '"' && attr:
				b.WriteString("&quot;")
			case c == '\n' && attr:
				b.WriteByte(' ')
			case c == '\t' || c == '\n':
				b.WriteByte(c)
			case c < 0x20 || c == 0x7f:
				// dropped
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else if !isDroppedRune(r) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// sanitizeChars replaces invalid UTF-8 in a token (tokens contain no
// newlines or markup by construction).
func sanitizeChars(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// isDroppedRune reports C1 controls and other characters that have no
// business in rendered text.
func isDroppedRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff
}

// cleanText normalizes text input: CRLF to LF, invalid UTF-8 replaced.
func cleanText(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
