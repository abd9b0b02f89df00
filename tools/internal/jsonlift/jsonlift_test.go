package jsonlift

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// long makes a string value well past MinLen around s.
func long(s string) string { return strings.Repeat("<p class=\"x\">ab</p>", 80) + s }

func decodeAny(t testing.TB, data []byte) (any, error) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

type nested struct {
	Body  string            `json:"body"`
	Extra any               `json:"extra"`
	Tags  []string          `json:"tags"`
	Props map[string]string `json:"props"`
	Raw   json.RawMessage   `json:"raw"`
}

type doc struct {
	ID    string         `json:"id"`
	HTML  string         `json:"html"`
	Items []nested       `json:"items"`
	Ptr   *nested        `json:"ptr"`
	Any   any            `json:"any"`
	Map   map[string]any `json:"map"`
	Arr   [2]string      `json:"arr"`
}

// check asserts that lifting data and restoring gives what decoding data
// directly gives, as any and as doc, errors included.
func check(t *testing.T, data []byte) { checkMin(t, data, MinLen) }

// checkMin is check with lifting from minLen bytes.
func checkMin(t *testing.T, data []byte, minLen int) {
	t.Helper()
	lifted, tbl := lift(data, minLen)
	if tbl != nil && bytes.Equal(lifted, data) {
		t.Fatalf("a table but the text is unchanged")
	}
	want, wantErr := decodeAny(t, data)
	got, gotErr := decodeAny(t, lifted)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("decode errors differ: original %v, lifted %v\n%s", wantErr, gotErr, data)
	}
	if wantErr == nil {
		got = tbl.Restore(got)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("any differs:\nwant %#v\n got %#v", want, got)
		}
	}
	var wd, gd doc
	wErr := json.Unmarshal(data, &wd)
	gErr := json.Unmarshal(lifted, &gd)
	if (wErr == nil) != (gErr == nil) {
		t.Fatalf("typed errors differ: %v vs %v", wErr, gErr)
	}
	if wErr == nil {
		tbl.RestoreInto(&gd)
		if !reflect.DeepEqual(wd, gd) {
			t.Fatalf("typed differs:\nwant %#v\n got %#v", wd, gd)
		}
	}
	if wantErr == nil && tbl != nil {
		// Expand gives back a text that decodes like the original.
		back, err := decodeAny(t, tbl.Expand(lifted))
		if err != nil || !reflect.DeepEqual(back, want) {
			t.Fatalf("Expand: %v", err)
		}
	}
}

func TestLiftRestoresExactly(t *testing.T) {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cases := map[string]string{
		"no long strings":    `{"id":"a","html":"short"}`,
		"plain":              `{"id":"a","html":` + enc(long("plain")) + `}`,
		"escapes":            `{"html":"` + strings.Repeat(`<a href=\"x\">\n\t\\ \/ \b\f\r é \u00e9 \u2028 `, 60) + `"}`,
		"surrogate pair":     `{"html":"` + strings.Repeat(`\ud83d\ude00 `, 200) + `"}`,
		"lone surrogate":     `{"html":"` + strings.Repeat(`\ud83d x \ude00 \ud83d\u0041 `, 80) + `"}`,
		"escaped quote end":  `{"html":"` + strings.Repeat("a", 2000) + `\\","id":"b"}`,
		"backslashes":        `{"html":"` + strings.Repeat(`\\\"`, 600) + `"}`,
		"html escaped by go": enc(map[string]any{"html": long("<&>")}),
		"nested":             enc(map[string]any{"items": []any{map[string]any{"body": long("1"), "extra": long("2"), "tags": []string{long("3"), "s"}, "props": map[string]string{"k": long("4")}, "raw": map[string]any{"x": long("5")}}}}),
		"pointer and any":    enc(map[string]any{"ptr": map[string]any{"body": long("p")}, "any": []any{long("a"), 1.5, map[string]any{"deep": long("d")}}, "map": map[string]any{"m": long("m")}, "arr": []string{long("x"), "y"}}),
		"long key":           `{"` + strings.Repeat("k", 2000) + `":"v","html":` + enc(long("k")) + `}`,
		"key then space":     `{"` + strings.Repeat("k", 2000) + `"  :  "v"}`,
		"top-level string":   enc(long("top")),
		"array":              `[` + enc(long("a")) + `,` + enc(long("b")) + `]`,
		// Left for encoding/json, which decides the same as without lifting.
		"control char":    `{"html":"` + strings.Repeat("a", 2000) + "\x01" + `"}`,
		"bad escape":      `{"html":"` + strings.Repeat("a", 2000) + `\x"}`,
		"bad unicode":     `{"html":"` + strings.Repeat("a", 2000) + `\u12G4"}`,
		"invalid utf-8":   `{"html":"` + strings.Repeat("a", 2000) + "\xff\xfe" + `"}`,
		"unterminated":    `{"html":"` + strings.Repeat("a", 2000),
		"invalid outside": `{"html":` + enc(long("x")) + `,}`,
		"trailing escape": `{"html":"` + strings.Repeat("a", 2000) + `\`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			check(t, []byte(data))
			checkMin(t, []byte(data), 1)
		})
	}
}

func TestLiftLeavesTextWithTheNonce(t *testing.T) {
	data := []byte(`{"a":"` + nonce + `","html":"` + strings.Repeat("x", 3000) + `"}`)
	if out, tbl := Lift(data); tbl != nil || !bytes.Equal(out, data) {
		t.Fatalf("lifted a text that contains the nonce")
	}
}

func TestLiftShrinksTheText(t *testing.T) {
	data, _ := json.Marshal(map[string]any{"id": "x", "html": long("y")})
	out, tbl := Lift(data)
	if tbl.Len() != 1 || len(out) > 100 {
		t.Fatalf("lifted %d strings, %d bytes left: %s", tbl.Len(), len(out), out)
	}
}

func TestPlaceholderLookalikesStay(t *testing.T) {
	// A string that looks like a placeholder of another nonce is data.
	data, _ := json.Marshal(map[string]any{"id": "\x00jsonlift:0000000000000000:0", "html": long("y")})
	check(t, data)
}

func FuzzLift(f *testing.F) {
	f.Add([]byte(`{"html":"` + strings.Repeat(`a\"b\\c\u00e9\ud83d\ude00`, 100) + `"}`))
	f.Add([]byte(`["` + strings.Repeat("x", 1100) + `"]`))
	f.Add([]byte(`{"a":"\u00e9","b":["c\n",{"d":"\ud83d"}],"e":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte(nonce)) {
			return
		}
		// Lift every string, however short, so random texts exercise it.
		checkMin(t, data, 1)
	})
}

func BenchmarkLift20KB(b *testing.B) {
	data, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": "create_email", "arguments": map[string]any{"campaign_id": "cmp_x", "html": strings.Repeat("<p class=\"x\">Spring is here: lighter fabrics.</p>\n", 450)}}})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Lift(data)
	}
}
