// Package jsonlift takes the long string values out of a JSON text before
// it is decoded, and puts them back into what was decoded.
//
// A tools/call carrying a 20 KB email is decoded three times on its way to
// the handler: the JSON-RPC envelope, the instance the input schema
// validates, the typed arguments. encoding/json scans every byte of the
// text twice per decode, through a state machine, so the one long HTML
// string costs more than everything else the call does short of the fsync.
// Lift finds each long string with a byte search, decodes it once, and
// leaves a short placeholder in its place; the three decodes then read a
// few hundred bytes, and Restore and RestoreInto swap the decoded strings
// back in. The result is exactly what decoding the original text gives: a
// string Lift cannot decode the way encoding/json would (invalid UTF-8, a
// control character, a bad escape) is left in the text for encoding/json to
// decode or reject.
package jsonlift

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MinLen is the shortest string (in bytes of JSON text) worth lifting.
const MinLen = 1024

// nonce makes placeholders unguessable: a client cannot send text that
// Restore would mistake for a placeholder, and a text that contains the
// nonce anyway is not lifted.
var nonce = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// prefix starts every placeholder's decoded value: a NUL, then the nonce.
var prefix = "\x00jsonlift:" + nonce + ":"

// Table holds the strings lifted out of one text, by placeholder index.
type Table struct {
	vals []string
}

// Len is the number of strings lifted.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.vals)
}

// Lift returns data with every string value of at least MinLen bytes
// replaced by a placeholder, and the table to restore them. It returns data
// itself and a nil table when nothing was lifted. Object keys are never
// lifted. data is not modified.
func Lift(data []byte) ([]byte, *Table) { return lift(data, MinLen) }

func lift(data []byte, minLen int) ([]byte, *Table) {
	if len(data) < minLen || bytes.Contains(data, []byte(nonce)) {
		return data, nil
	}
	var out []byte
	var t *Table
	copied := 0 // data[:copied] is in out already
	for i := 0; ; {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			break
		}
		start := i + q
		end := closingQuote(data, start+1)
		if end < 0 {
			break // unterminated: encoding/json reports it
		}
		i = end + 1
		if end-start+1 < minLen || isKey(data, end+1) {
			continue
		}
		s, ok := unquote(data[start+1 : end])
		if !ok {
			continue
		}
		if t == nil {
			t = &Table{}
			out = make([]byte, 0, 1024)
		}
		out = append(out, data[copied:start]...)
		out = append(out, `"\u0000jsonlift:`...)
		out = append(out, nonce...)
		out = append(out, ':')
		out = strconv.AppendInt(out, int64(len(t.vals)), 10)
		out = append(out, '"')
		copied = end + 1
		t.vals = append(t.vals, s)
	}
	if t == nil {
		return data, nil
	}
	return append(out, data[copied:]...), t
}

// closingQuote returns the index of the quote that ends the string whose
// content starts at from, or -1.
func closingQuote(data []byte, from int) int {
	for j := from; ; {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1
		}
		end := j + k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := end - 1; p >= from && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return end
		}
		j = end + 1
	}
}

// isKey reports whether the string ending before i is an object key.
func isKey(data []byte, i int) bool {
	for ; i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// unquote decodes the content of a JSON string literal as encoding/json
// does. ok is false for content encoding/json would reject or repair
// (control characters, bad escapes, invalid UTF-8).
//
// HTML from an encoder that escapes it (Go's, by default) has an escape
// every few bytes (\u003c, \u003e, \"), so the escapes, not the runs
// between them, are the hot path: they are decoded by table, and an ASCII
// rune is appended as a byte.
func unquote(s []byte) (string, bool) {
	if !utf8.Valid(s) {
		return "", false
	}
	i := plainRun(s)
	if i == len(s) {
		return string(s), true
	}
	b := make([]byte, 0, len(s))
	for {
		b = append(b, s[:i]...)
		s = s[i:]
		if len(s) == 0 {
			// b is never written again: the string shares its bytes.
			return unsafe.String(unsafe.SliceData(b), len(b)), true
		}
		if s[0] != '\\' || len(s) < 2 {
			return "", false // a control character, or a lone backslash
		}
		switch c := s[1]; c {
		case '"', '\\', '/':
			b, s = append(b, c), s[2:]
		case 'b':
			b, s = append(b, '\b'), s[2:]
		case 'f':
			b, s = append(b, '\f'), s[2:]
		case 'n':
			b, s = append(b, '\n'), s[2:]
		case 'r':
			b, s = append(b, '\r'), s[2:]
		case 't':
			b, s = append(b, '\t'), s[2:]
		case 'u':
			r := hex4(s)
			if r < 0 {
				return "", false
			}
			s = s[6:]
			if r < utf8.RuneSelf {
				b = append(b, byte(r))
				break
			}
			if utf16.IsSurrogate(r) {
				// A valid pair is one rune; anything else is U+FFFD, and
				// the next escape stands on its own (as in encoding/json).
				if r2 := hex4(s); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						b, s = utf8.AppendRune(b, dec), s[6:]
						break
					}
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
		i = plainRun(s)
	}
}

// plainRun is the length of the prefix of s that decodes as itself: no
// backslash, no control character.
func plainRun(s []byte) int {
	for i, c := range s {
		if c < 0x20 || c == '\\' {
			return i
		}
	}
	return len(s)
}

// hexVal is a hex digit's value, or 0xff for a byte that is not one.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = byte(c-'a'+10), byte(c-'a'+10)
	}
	return t
}()

// hex4 decodes \uXXXX at the start of s, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	a, b, c, d := hexVal[s[2]], hexVal[s[3]], hexVal[s[4]], hexVal[s[5]]
	if (a|b|c|d)&0xf0 != 0 { // 0xff marks a non-digit
		return -1
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(d)
}

// lookup returns the lifted string a placeholder stands for.
func (t *Table) lookup(s string) (string, bool) {
	if t == nil || !strings.HasPrefix(s, prefix) {
		return "", false
	}
	i, err := strconv.Atoi(s[len(prefix):])
	if err != nil || i < 0 || i >= len(t.vals) {
		return "", false
	}
	return t.vals[i], true
}

// Restore puts the lifted strings back into a value decoded as any
// (map[string]any, []any, string, …), in place where it can, and returns
// the result.
func (t *Table) Restore(v any) any {
	if t.Len() == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		if s, ok := t.lookup(x); ok {
			return s
		}
	case map[string]any:
		for k, e := range x {
			x[k] = t.Restore(e)
		}
	case []any:
		for i, e := range x {
			x[i] = t.Restore(e)
		}
	}
	return v
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

// RestoreInto puts the lifted strings back into the value ptr points to,
// decoded into Go types: strings, and strings inside structs, pointers,
// slices, arrays, maps and interfaces. A json.RawMessage gets the original
// text back.
func (t *Table) RestoreInto(ptr any) {
	if t.Len() == 0 {
		return
	}
	t.restore(reflect.ValueOf(ptr))
}

func (t *Table) restore(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			t.restore(v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Kind() == reflect.String {
			if s, ok := t.lookup(e.String()); ok && v.CanSet() {
				v.Set(reflect.ValueOf(s).Convert(e.Type()))
			}
			return
		}
		if e.Kind() == reflect.Map || e.Kind() == reflect.Pointer || e.Kind() == reflect.Slice {
			t.restore(e) // shares storage with the interface's value
			return
		}
		if v.CanSet() { // a struct or array held by value: restore a copy
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			t.restore(c)
			v.Set(c)
		}
	case reflect.String:
		if s, ok := t.lookup(v.String()); ok && v.CanSet() {
			v.SetString(s)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				t.restore(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == rawMessage {
			if !v.IsNil() && v.CanSet() {
				v.SetBytes(t.Expand(v.Bytes()))
			}
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			t.restore(v.Index(i))
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			t.restore(v.Index(i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			t.restore(e)
			v.SetMapIndex(iter.Key(), e)
		}
	}
}

// Expand returns the JSON text with every placeholder replaced by its
// string, encoded again.
func (t *Table) Expand(data []byte) []byte {
	if t.Len() == 0 || !bytes.Contains(data, []byte(nonce)) {
		return data
	}
	var out []byte
	lit := []byte(`"\u0000jsonlift:` + nonce + ":")
	for {
		i := bytes.Index(data, lit)
		if i < 0 {
			return append(out, data...)
		}
		j := bytes.IndexByte(data[i+len(lit):], '"')
		if j < 0 {
			return append(out, data...)
		}
		n, err := strconv.Atoi(string(data[i+len(lit) : i+len(lit)+j]))
		if err != nil || n < 0 || n >= len(t.vals) {
			out = append(out, data[:i+len(lit)]...)
			data = data[i+len(lit):]
			continue
		}
		enc, _ := json.Marshal(t.vals[n])
		out = append(out, data[:i]...)
		out = append(out, enc...)
		data = data[i+len(lit)+j+1:]
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying t.
func NewContext(ctx context.Context, t *Table) context.Context {
	if t.Len() == 0 {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the table ctx carries, or nil.
func FromContext(ctx context.Context) *Table {
	t, _ := ctx.Value(ctxKey{}).(*Table)
	return t
}
