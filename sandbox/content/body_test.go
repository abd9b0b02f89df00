package content

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBodyOf(t *testing.T) {
	para := "<p>Grüße aus İstanbul und Ⱥ</p>"
	tests := []struct{ name, doc, want string }{
		{"plain", "<html><body><p>x</p></body></html>", "<p>x</p>"},
		{"not trimmed", "<body>\n  <p>x</p>\n</body>", "\n  <p>x</p>\n"},
		{"İ in the head", "<html><head><title>" + strings.Repeat("İ", 40) + "</title></head><body>" + para + "</body></html>", para},
		{"Ⱥ in the head", "<html><head><title>" + strings.Repeat("Ⱥ", 40) + "</title></head><body>" + para + "</body></html>", para},
		{"Ⱥ in the body near the end", "<body><p>" + strings.Repeat("Ⱥ", 10) + "</p></body>", "<p>" + strings.Repeat("Ⱥ", 10) + "</p>"},
		{"Kelvin sign shrinks when lowered", "<title>KKKK</title><BODY><p>k</p></BODY>", "<p>k</p>"},
		{"mixed case tags", "<HTML><BoDy class=a>x</bOdY></HTML>", "x"},
		{"attributes", `<body class="a" style="margin:0">x</body>`, "x"},
		{"> in a quoted attribute", `<body data-x="a>b" title='c>d'>x</body>`, "x"},
		{"> in an unquoted attribute after a quote", `<body a=b"c>x</body>`, `x`},
		{"self-closing start tag", "<body/>x</body>", "x"},
		{"end tag with space", "<body>x</body >y", "x"},
		{"not a body tag", "<bodyguard>x</bodyguard>", "<bodyguard>x</bodyguard>"},
		{"commented-out body in the head", "<head><!-- <body>old</body> --></head><body>new</body>", "new"},
		{"conditional comment", "<!--[if mso]><body class=mso><![endif]--><body>x</body>", "x"},
		{"no body tag", "<p>fragment</p>", "<p>fragment</p>"},
		{"empty", "", ""},
		{"unclosed body", "<body><p>x</p>", "<p>x</p>"},
		{"unterminated start tag", "<body class=a", "<body class=a"},
		{"unterminated quote", `<body class="a>x</body>`, `<body class="a>x</body>`},
		{"last end tag wins", "<body>a</body>b</body>", "a</body>b"},
		{"end tag before start tag", "</body><body>x", "x"},
		{"end tag without start tag", "<p>x</p></body>", "<p>x</p></body>"},
		{"body in the content", "<body>a <body> b</body>", "a <body> b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := BodyOf(tc.doc); got != tc.want {
				t.Errorf("BodyOf(%q)\n got %q\nwant %q", tc.doc, got, tc.want)
			}
		})
	}
}

func TestBodyBoundsWithoutStartTag(t *testing.T) {
	// A form is inserted before a stray </body> even in a fragment.
	doc := "<p>x</p></BODY>"
	start, end, ok := BodyBounds(doc)
	if ok || start != 0 || end != len("<p>x</p>") {
		t.Errorf("BodyBounds(%q) = %d, %d, %v", doc, start, end, ok)
	}
}

func FuzzBodyOf(f *testing.F) {
	f.Add("<html><head><title>İİİ</title></head><body><p>x</p></body></html>", "<p>ȺȺ</p>", ` class="a>b"`)
	f.Add("<BODY>x</BODY>", "<p>Kİ</p>", "")
	f.Add("<!-- <body> -->", "a</body>b", " x=y")
	f.Add("\xff\xfe", "<body><body>", "/")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, doc, x, attrs string) {
		got := BodyOf(doc)
		if utf8.ValidString(doc) && !utf8.ValidString(got) {
			t.Fatalf("BodyOf(%q) = %q: not UTF-8", doc, got)
		}
		if !strings.Contains(doc, got) {
			t.Fatalf("BodyOf(%q) = %q: not part of the input", doc, got)
		}
		// A body wrapped around any content X comes back as X, whatever
		// X holds and whatever the head holds.
		head := strings.ReplaceAll(strings.ReplaceAll(doc, "<", "&lt;"), ">", "&gt;")
		if strings.ContainsAny(attrs, "<>\"'") {
			attrs = ""
		}
		if attrs != "" {
			attrs = " " + attrs
		}
		wrapped := "<!DOCTYPE html><html><head><title>" + head + "</title></head><BODY" + attrs + ">" + x + "</body></html>"
		if got := BodyOf(wrapped); got != x {
			t.Fatalf("BodyOf(%q)\n got %q\nwant %q", wrapped, got, x)
		}
	})
}
