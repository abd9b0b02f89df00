package content

import "strings"

// BodyOf returns what lies between a document's <body ...> and its last
// </body>, byte for byte (not trimmed), or the whole input when it has no
// body start tag (a fragment). A body that is never closed runs to the end.
//
// Tags are found with ASCII-only case folding and every offset is an offset
// into doc itself: lower-casing the whole document changes the length of
// text such as "İ" or "Ⱥ", and offsets found in the lowered copy then cut
// the original in the wrong place.
func BodyOf(doc string) string {
	start, end, ok := BodyBounds(doc)
	if !ok {
		return doc
	}
	return doc[start:end]
}

// BodyBounds locates the body of doc: start is just after the first
// <body ...> start tag outside comments (ok false when there is none, and
// start is then 0), end is at the last </body> at or after start, or
// len(doc) when there is none. A '>' inside a quoted attribute value does
// not end the start tag.
func BodyBounds(doc string) (start, end int, ok bool) {
	if open := bodyStartTag(doc); open >= 0 {
		if gt := tagEnd(doc, open+len("<body")); gt >= 0 {
			start, ok = gt+1, true
		}
	}
	end = len(doc)
	if i := lastEndTag(doc[start:], "body"); i >= 0 {
		end = start + i
	}
	return start, end, ok
}

// bodyStartTag returns the offset of the first "<body" that starts a tag
// (followed by whitespace, '/' or '>' as the HTML tokenizer requires),
// skipping comments, so a commented-out or conditional-comment body in the
// head is not taken for the real one. -1 when there is none.
func bodyStartTag(doc string) int {
	for i := 0; i < len(doc); {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if strings.HasPrefix(doc[i:], "<!--") {
			k := strings.Index(doc[i+4:], "-->")
			if k < 0 {
				return -1
			}
			i += 4 + k + 3
			continue
		}
		if hasPrefixFoldASCII(doc[i+1:], "body") && endsTagName(doc, i+len("<body")) {
			return i
		}
		i++
	}
	return -1
}

// lastEndTag returns the offset of the last "</name" in s that ends a tag
// name, or -1.
func lastEndTag(s, name string) int {
	for end := len(s); ; {
		i := lastIndexFoldASCII(s[:end], "</"+name)
		if i < 0 {
			return -1
		}
		if endsTagName(s, i+2+len(name)) {
			return i
		}
		end = i
	}
}

// endsTagName reports whether the tag name ending at s[i] ends there:
// at the end of input, whitespace, '/' or '>'.
func endsTagName(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	switch s[i] {
	case ' ', '\t', '\n', '\f', '\r', '/', '>':
		return true
	}
	return false
}

// tagEnd returns the offset of the '>' that closes the tag whose attributes
// start at s[i], skipping quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	afterEq := false
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '>':
			return i
		case '=':
			afterEq = true
			continue
		case ' ', '\t', '\n', '\f', '\r':
			continue
		case '"', '\'':
			if afterEq {
				k := strings.IndexByte(s[i+1:], c)
				if k < 0 {
					return -1
				}
				i += 1 + k
			}
		}
		afterEq = false
	}
	return -1
}

// hasPrefixFoldASCII reports whether s starts with prefix, which must be
// lower-case ASCII, ignoring ASCII case only.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// lastIndexFoldASCII is strings.LastIndex with ASCII case folding; sub
// must be lower-case ASCII. Bytes of multi-byte characters never match.
func lastIndexFoldASCII(s, sub string) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if hasPrefixFoldASCII(s[i:], sub) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
