// Package termsafe renders untrusted text inert before a terminal shows it.
//
// Everything an agent stages — names, subjects, bodies, its own client
// name — reaches a person's terminal through lastmile's CLI. A terminal
// obeys escape sequences, a carriage return overwrites what the person is
// reading, bidi overrides reorder it and zero-width characters hide it, so
// an agent could forge the very summary a human approves. Text escapes all
// of that visibly; Writer is a safety net under a whole command's output.
package termsafe

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports whether a terminal would do something other than print r
// visibly: controls (C0, DEL, C1), format characters (bidi marks, overrides
// and isolates, zero-width characters, soft hyphen, tags), line and
// paragraph separators, and the Hangul fillers that render as nothing.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0:
		return true
	case r == 0x034f: // combining grapheme joiner: invisible, joins across what it sits between
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// escape returns the visible form of an unsafe rune.
func escape(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	switch {
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// Text returns s with every unsafe rune and invalid byte shown escaped
// (`\x1b`, `\r`, `\n`, `\u202e`, `\xff`), cut after max visible characters
// with a marker saying how many were left out. max <= 0 means no limit.
func Text(s string, max int) string {
	var b strings.Builder
	n := 0 // visible characters written
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case Unsafe(r):
			piece = escape(r)
		default:
			piece = s[i : i+size]
		}
		w := utf8.RuneCountInString(piece)
		if max > 0 && n+w > max {
			b.WriteString(cutMarker(utf8.RuneCountInString(s[i:])))
			return b.String()
		}
		b.WriteString(piece)
		n += w
		i += size
	}
	return b.String()
}

func cutMarker(left int) string {
	if left == 1 {
		return "… (+1 more character)"
	}
	return "… (+" + strconv.Itoa(left) + " more characters)"
}

// Quote is Text inside double quotes, with quotes and backslashes escaped
// too, so a name cannot close its own quotes and pose as the text after
// them ("Spring\" to 0 recipients").
func Quote(s string, max int) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
	return `"` + Text(s, max) + `"`
}

// Lines splits s at its newlines and makes each line safe on its own, so a
// multi-line value (a diff) keeps its shape without any line reaching into
// the next.
func Lines(s string, max int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = Text(l, max)
	}
	return lines
}

// JSON escapes unsafe runes in encoded JSON as \uXXXX, which is still the
// same JSON: encoding/json leaves bidi controls, zero-width characters and
// C1 controls raw, and a terminal would obey them. Invalid UTF-8 cannot
// occur (encoding/json writes U+FFFD for it).
func JSON(data []byte) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\n' || !Unsafe(r):
			b.Write(data[:size])
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		data = data[size:]
	}
	return b.Bytes()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// Writer escapes every unsafe rune except newline and tab in what passes
// through it: a safety net under a command's whole output, for any string
// a caller forgot to pass through Text. Tab passes because the flag
// package's help is laid out with it, and it only moves to the next tab
// stop. Writer does not cut long lines (it cannot know what a line is
// worth); Text does.
type Writer struct {
	w    io.Writer
	tail []byte // an incomplete UTF-8 sequence held for the next write
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (sw *Writer) Write(p []byte) (int, error) {
	data := p
	if len(sw.tail) > 0 {
		data = append(sw.tail, p...)
		sw.tail = nil
	}
	// Hold back a rune split across writes, rather than escape its halves.
	if k := incompleteTail(data); k > 0 {
		sw.tail = append([]byte(nil), data[len(data)-k:]...)
		data = data[:len(data)-k]
	}
	var b bytes.Buffer
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, data[0])
		case r == '\n' || r == '\t' || !Unsafe(r):
			b.Write(data[:size])
		default:
			b.WriteString(escape(r))
		}
		data = data[size:]
	}
	if _, err := sw.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held incomplete sequence, escaped.
func (sw *Writer) Flush() error {
	if len(sw.tail) == 0 {
		return nil
	}
	t := sw.tail
	sw.tail = nil
	_, err := io.WriteString(sw.w, Text(string(t), 0))
	return err
}

// incompleteTail is the length of a UTF-8 sequence at the end of b that
// has begun but not finished, or 0.
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}

// Page shows, escaped (\u202e), every character that would not print
// visibly — bidi overrides and isolates, zero-width characters, controls —
// anywhere in a rendered page, keeping newlines and tabs. lastmile's
// templates hold none, so any there came from what an agent wrote, which
// must not reorder or hide what a person reads.
func Page(page []byte) []byte {
	if utf8.Valid(page) && !bytes.ContainsFunc(page, unsafeInPage) {
		return page
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(page), "\n") {
		body, nl := strings.CutSuffix(line, "\n")
		out.WriteString(strings.ReplaceAll(Text(body, 0), `\t`, "\t"))
		if nl {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func unsafeInPage(r rune) bool {
	return r != '\n' && r != '\t' && Unsafe(r) || r == utf8.RuneError
}
