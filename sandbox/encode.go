package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"unicode/utf8"
	"unsafe"
)

// A staged email or page is mostly one long HTML string, and encoding/json
// escapes a string a byte at a time through a table: for 20 KB that is
// most of what encoding the revision costs. marshalContent has
// encoding/json encode the rest of the content with placeholders where the
// long strings go, and splices them in, escaped eight bytes at a time where
// nothing needs escaping. The bytes are exactly marshal's (a test and a
// fuzz target hold them to it): hashes and stored revisions do not depend
// on which path encoded them.

// spliceMin is the shortest string worth splicing.
const spliceMin = 1024

// splicePrefix starts every placeholder. The nonce makes it unguessable, so
// no agent-given text can contain it; content that does anyway is encoded
// by marshal alone.
var splicePrefix = func() string {
	var b [8]byte
	rand.Read(b[:])
	return "lastmile-splice-" + hex.EncodeToString(b[:]) + "-"
}()

// longStrings returns pointers to the content's strings that may be long.
func longStrings(v any) []*string {
	switch c := v.(type) {
	case *Email:
		return []*string{&c.HTML, &c.Text}
	case *Page:
		return []*string{&c.HTML}
	}
	return nil
}

// marshalContent is marshal(v) for a revision's content. It swaps the long
// strings for placeholders while encoding and back before it returns, so v
// must not be read by another goroutine meanwhile (staging encodes the
// revision it has just built).
func marshalContent(v any) ([]byte, error) {
	fields := longStrings(v)
	var saved [2]string
	var placeholders [2]string
	n := 0
	for i, f := range fields {
		if len(*f) >= spliceMin {
			saved[i], placeholders[i] = *f, splicePrefix+string(rune('0'+i))
			*f = placeholders[i]
			n++
		}
	}
	if n == 0 {
		return marshal(v)
	}
	enc, err := marshal(v)
	for i, f := range fields {
		if placeholders[i] != "" {
			*f = saved[i]
		}
	}
	if err != nil {
		return nil, err
	}
	size := len(enc)
	for i := range fields {
		size += len(saved[i]) + len(saved[i])/8
		if placeholders[i] != "" && bytes.Count(enc, []byte(placeholders[i])) != 1 {
			return marshal(v) // the nonce is in the content: do it the slow way
		}
	}
	out := make([]byte, 0, size)
	for i := range fields {
		if placeholders[i] == "" {
			continue
		}
		quoted := `"` + placeholders[i] + `"`
		at := bytes.Index(enc, []byte(quoted))
		out = append(out, enc[:at]...)
		out = appendJSONString(out, saved[i])
		enc = enc[at+len(quoted):]
	}
	return append(out, enc...), nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain8 reports whether none of the eight bytes of w needs a look: no
// quote, backslash, control character or non-ASCII byte. (The zero-byte
// tests can report a byte falsely only above a true one, which makes the
// whole word need a look anyway.)
func plain8(w uint64) bool {
	hasZero := func(v uint64) uint64 { return (v - lsb) &^ v & msb }
	return (hasZero(w^(lsb*'"')) | hasZero(w^(lsb*'\\')) | ((w - lsb*0x20) &^ w & msb) | w&msb) == 0
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json does
// with HTML escaping off: quote, backslash and control characters escaped,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 as escapes.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	start := 0
	for i := 0; i < len(b); {
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
