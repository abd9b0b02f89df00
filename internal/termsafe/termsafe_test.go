package termsafe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Spring sale", "Spring sale"},
		{"Café — 20 % off →", "Café — 20 % off →"},
		{"\x1b[2J\x1b[H0 recipients", `\x1b[2J\x1b[H0 recipients`},
		{"a\rb\nc\td", `a\rb\nc\td`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"abc\u202eevil", `abc\u202eevil`},
		{"\u061c\u200e\u200f\u202a\u202d\u2066\u2069", `\u061c\u200e\u200f\u202a\u202d\u2066\u2069`},
		{"zero\u200bwidth\u200c\u200d\u2060\u2064\ufeff", `zero\u200bwidth\u200c\u200d\u2060\u2064\ufeff`},
		{"soft\u00adhyphen", `soft\u00adhyphen`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"\u115f\u1160\u3164\uffa0", `\u115f\u1160\u3164\uffa0`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
	} {
		if got := Text(tc.in, 0); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextCuts(t *testing.T) {
	long := strings.Repeat("x", 500)
	got := Text(long, 100)
	if want := strings.Repeat("x", 100) + "… (+400 more characters)"; got != want {
		t.Errorf("cut = %q", got)
	}
	if got := Text("abc", 3); got != "abc" {
		t.Errorf("a string of exactly max runes was cut: %q", got)
	}
	// Escapes count toward the limit: a string of controls cannot blow up
	// a line fourfold.
	if got := Text(strings.Repeat("\x1b", 100), 20); utf8.RuneCountInString(got) > 20+len("… (+95 more characters)") || !strings.HasSuffix(got, "(+95 more characters)") {
		t.Errorf("cut of escapes = %q", got)
	}
}

func TestQuote(t *testing.T) {
	if got, want := Quote(`Spring" to 0 recipients \`, 0), `"Spring\" to 0 recipients \\"`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func TestLines(t *testing.T) {
	got := Lines("+ a\r\n- b\x1b[A\n", 0)
	if len(got) != 2 || got[0] != `+ a\r` || got[1] != `- b\x1b[A` {
		t.Errorf("Lines = %q", got)
	}
}

func TestJSONStaysJSON(t *testing.T) {
	in := map[string]string{"name": "a\u202eb\u200bc\u009bd\U000E0041e\x1b"}
	data, _ := json.Marshal(in)
	out := JSON(data)
	for _, r := range string(out) {
		if Unsafe(r) {
			t.Fatalf("JSON left %U in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["name"] != in["name"] {
		t.Fatalf("round trip: %v %q", err, back["name"])
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	// "é" split across two writes is held, not escaped as two bytes.
	w.Write([]byte("caf\xc3"))
	w.Write([]byte("\xa9\x1b[2J\u202e\n\tend\r"))
	w.Flush()
	if got, want := b.String(), "café\\x1b[2J\\u202e\n\tend\\r"; got != want {
		t.Errorf("Writer wrote %q, want %q", got, want)
	}
	b.Reset()
	w.Write([]byte("cut\xe2\x80"))
	w.Flush()
	if got := b.String(); got != `cut\xe2\x80` {
		t.Errorf("a dangling sequence flushed as %q", got)
	}
}

func FuzzText(f *testing.F) {
	f.Add("\x1b[2J\u202e\u200b", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 1000
		out := Text(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("Text(%q) kept %U", s, r)
			}
		}
	})
}

// Page escapes what would reorder or hide text, anywhere in a page, and
// keeps the page's own newlines and tabs.
func TestPage(t *testing.T) {
	clean := []byte("<p>\tHello</p>\n<p>World</p>\n")
	if got := Page(clean); string(got) != string(clean) {
		t.Errorf("a clean page changed: %q", got)
	}
	got := string(Page([]byte("<p>evil\u202egnp.exe</p>\n<p>zero\u200bwidth</p>")))
	if strings.ContainsAny(got, "\u202e\u200b") || !strings.Contains(got, `\u202e`) || !strings.Contains(got, "\n<p>zero") {
		t.Errorf("Page = %q", got)
	}
}
