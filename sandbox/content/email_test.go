package content

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

type tag struct {
	name  string
	attrs map[string]string
	has   map[string]bool
}

// tags returns every start tag of doc with its attributes.
func tags(doc string) []tag {
	var out []tag
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		n, more := z.TagName()
		tg := tag{name: string(n), attrs: map[string]string{}, has: map[string]bool{}}
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			tg.attrs[string(k)] = string(v)
			tg.has[string(k)] = true
		}
		out = append(out, tg)
	}
}

func TestEmailStructure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		blocks []Block
		theme  Theme
	}{
		{"all blocks, brand theme", allBlocks(), brandTheme},
		{"ten blocks, default theme", tenBlocks(), Theme{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, text := RenderEmail(tc.blocks, tc.theme, EmailOptions{Title: "T", PreviewText: "Preview here", Footer: true})
			for _, want := range []string{
				`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"`,
				`<meta name="viewport" content="width=device-width, initial-scale=1.0" />`,
				`<meta name="color-scheme" content="light dark" />`,
				`<span style="display:none;`, "Preview here",
				`class="lm-container" width="600"`, "width:600px",
				"@media only screen and (max-width:620px)",
				".lm-col{display:block !important;width:100% !important;",
				".lm-img{max-width:100% !important;height:auto !important;}",
				"{{ unsubscribe_url }}", ">Unsubscribe</a>",
			} {
				if !strings.Contains(doc, want) {
					t.Errorf("email lacks %q", want)
				}
			}
			if n := strings.Count(doc, "<style"); n != 1 {
				t.Errorf("%d <style> blocks, want exactly 1 (the media query)", n)
			}
			counts := map[string]int{}
			for _, tg := range tags(doc) {
				counts[tg.name]++
				switch tg.name {
				case "table":
					if tg.attrs["role"] != "presentation" {
						t.Errorf("layout table without role=presentation: %v", tg.attrs)
					}
				case "img":
					if !tg.has["alt"] || strings.TrimSpace(tg.attrs["alt"]) == "" {
						t.Errorf("img without alt: %v", tg.attrs)
					}
					if !tg.has["width"] {
						t.Errorf("img without width attribute: %v", tg.attrs)
					}
					if !strings.HasPrefix(tg.attrs["src"], "https://") {
						t.Errorf("img src not https: %v", tg.attrs["src"])
					}
				case "a":
					if tg.attrs["target"] != "_blank" {
						t.Errorf("link without target=_blank: %v", tg.attrs)
					}
				case "p", "h1", "h2", "h3":
					if !strings.Contains(tg.attrs["style"], "font-family:") || !strings.Contains(tg.attrs["style"], "color:") {
						t.Errorf("<%s> without inline font and colour: %v", tg.name, tg.attrs)
					}
				}
				if _, ok := tg.attrs["class"]; ok && tg.name != "table" && tg.name != "td" && tg.name != "img" {
					t.Errorf("unexpected class on <%s>", tg.name)
				}
			}
			for _, h := range []string{"h1", "h2", "h3"} {
				if counts[h] == 0 {
					t.Errorf("no <%s> in the email", h)
				}
			}
			if counts["td"] == 0 || counts["div"] != 0 {
				t.Errorf("want a table layout without divs, got %d td and %d div", counts["td"], counts["div"])
			}
			if len(doc) > 20*1024 {
				t.Errorf("email is %d bytes; a 10-block email should be well under 20 KB", len(doc))
			}
			if !strings.Contains(text, "Unsubscribe: {{ unsubscribe_url }}") {
				t.Errorf("text part lacks the unsubscribe line:\n%s", text)
			}
			for _, l := range strings.Split(text, "\n") {
				if len([]rune(l)) > TextWidth && !strings.Contains(l, "://") && !strings.Contains(l, "{{") {
					t.Errorf("text line longer than %d columns: %q", TextWidth, l)
				}
			}
		})
	}
}

func TestEmailTwoColumnsStack(t *testing.T) {
	doc, _ := RenderEmail(tenBlocks(), Theme{}, EmailOptions{})
	cols := 0
	for _, tg := range tags(doc) {
		if tg.name == "td" && tg.attrs["class"] == "lm-col" {
			cols++
			if tg.attrs["width"] != "288" || tg.attrs["valign"] != "top" {
				t.Errorf("column cell attrs = %v", tg.attrs)
			}
		}
	}
	if cols != 2 {
		t.Errorf("%d column cells, want 2", cols)
	}
}

func TestEmailEscapingAndTokens(t *testing.T) {
	tok := `{{ contact.firstname | default: "there" }}`
	blocks := []Block{
		{Cell: Cell{Type: "heading", Text: "<script>alert(1)</script> & " + tok}},
		{Cell: Cell{Type: "paragraph", Text: `Hello ` + tok + `, <b>not bold</b> <img src=x onerror=alert(1)> "quotes" & *|FNAME|* and {% if vip %}VIP{% endif %}`}},
		{Cell: Cell{Type: "button", Text: `Go "now" <b>`, URL: `https://x.example/?a=1&b=2`}},
		{Cell: Cell{Type: "button", Text: "Bad", URL: "javascript:alert(1)"}},
		{Cell: Cell{Type: "image", Src: "https://x.example/i.png", Alt: `A "quoted" <alt> ` + tok}},
		{Cell: Cell{Type: "paragraph", Text: "[click](javascript:alert(1)) [data](data:text/html,hi) [ok](https://ok.example/{{ contact.id }})"}},
	}
	doc, text := RenderEmail(blocks, Theme{}, EmailOptions{Title: "<title> " + tok, PreviewText: "<b>pre</b> " + tok})
	for _, bad := range []string{"<script", "<b>", "<img src=x", "javascript:", "data:text", `"2"`} {
		if strings.Contains(doc, bad) {
			t.Errorf("email contains %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; " + tok, // heading: text escaped, token intact
		"&lt;b&gt;not bold&lt;/b&gt;",
		`"quotes" &amp; *|FNAME|* and {% if vip %}VIP{% endif %}`,
		"Hello " + tok + ",",
		`alt="A &quot;quoted&quot; &lt;alt&gt; {{ contact.firstname | default: &quot;there&quot; }}"`, // in attributes only the quote is escaped
		`href="https://x.example/?a=1&amp;b=2"`,
		`href="https://ok.example/{{ contact.id }}"`,
		"<title>&lt;title&gt; " + tok + "</title>",
		"&lt;b&gt;pre&lt;/b&gt; " + tok,
		"click) data <a", // labels of rejected links survive as text
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	if strings.Contains(doc, `<a href="javascript`) || strings.Contains(doc, ">click</a>") {
		t.Error("a javascript: link was rendered as a link")
	}
	if !strings.Contains(text, "Hello "+tok+",") || !strings.Contains(text, "Bad") {
		t.Errorf("text part lost content:\n%s", text)
	}
	if strings.Contains(text, "javascript:") {
		t.Errorf("text part shows a javascript: URL:\n%s", text)
	}
}

func TestEmailImageWidths(t *testing.T) {
	cases := []struct {
		cell      Cell
		wantWidth string
		wantH     string
	}{
		{Cell{Type: "image", Src: "https://x/i.png", Alt: "a"}, "552", ""},
		{Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 200, Height: 100}, "200", "100"},
		{Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 600, Height: 300}, "600", "300"},
		{Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 1200, Height: 600}, "600", "300"},
	}
	for _, c := range cases {
		doc, _ := RenderEmail([]Block{{Cell: c.cell}}, Theme{}, EmailOptions{})
		var img tag
		for _, tg := range tags(doc) {
			if tg.name == "img" {
				img = tg
			}
		}
		if img.attrs["width"] != c.wantWidth || img.attrs["height"] != c.wantH {
			t.Errorf("%+v: width=%q height=%q, want %q %q", c.cell, img.attrs["width"], img.attrs["height"], c.wantWidth, c.wantH)
		}
	}
	// In a column the image is capped at the column width.
	doc, _ := RenderEmail([]Block{{Cell: Cell{Type: "columns"}, Columns: [][]Cell{
		{{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 600, Height: 300}}, {{Type: "spacer"}},
	}}}, Theme{}, EmailOptions{})
	if !strings.Contains(doc, `width="264" height="132"`) {
		t.Error("column image not capped at 264 px")
	}
}

func TestEmailUnknownAndEmptyBlocksAreSkipped(t *testing.T) {
	doc, text := RenderEmail([]Block{
		{Cell: Cell{Type: "video", Text: "x"}},
		{Cell: Cell{Type: "image", Src: "javascript:alert(1)", Alt: "x"}},
		{Cell: Cell{Type: "columns"}, Columns: [][]Cell{{}}},
	}, Theme{}, EmailOptions{})
	if strings.Contains(doc, "javascript") || strings.Contains(doc, ">x<") {
		t.Error("invalid blocks leaked into the output")
	}
	if strings.Count(doc, `class="lm-col"`) != 2 {
		t.Error("a columns block always renders two columns")
	}
	if text != "" {
		t.Errorf("text = %q, want empty", text)
	}
}

func TestThemeFallbacks(t *testing.T) {
	r := resolveTheme(Theme{})
	if r.primary != DefaultPrimaryColor || r.link != DefaultPrimaryColor || r.buttonText != "#ffffff" || r.muted != DefaultMutedColor {
		t.Errorf("default theme = %+v", r)
	}
	if c := contrast(r.text, r.bg); c < 4.5 {
		t.Errorf("default text contrast %.2f < 4.5", c)
	}
	if c := contrast(r.muted, r.bg); c < 4.5 {
		t.Errorf("default muted contrast %.2f < 4.5", c)
	}
	if c := contrast(r.buttonText, r.primary); c < 4.5 {
		t.Errorf("default button contrast %.2f < 4.5", c)
	}
	// A light primary gets black button text.
	if r := resolveTheme(Theme{PrimaryColor: "#FDE047"}); r.buttonText != "#000000" {
		t.Errorf("button text on yellow = %s", r.buttonText)
	}
	// Brand text colour is reused for muted text rather than a foreign grey.
	if r := resolveTheme(Theme{TextColor: "#333"}); r.muted != "#333333" || r.text != "#333333" {
		t.Errorf("muted = %s, text = %s", r.muted, r.text)
	}
	// Fonts cannot break out of the style attribute.
	if r := resolveTheme(Theme{FontFamily: `Evil"; background:url(x); "`}); strings.ContainsAny(r.font, `";:()`) {
		t.Errorf("font = %q", r.font)
	}
	// Colours in the output are only the theme's.
	doc, _ := RenderEmail(allBlocks(), brandTheme, EmailOptions{Footer: true})
	allowed := map[string]bool{"#0f766e": true, "#111827": true, "#ffffff": true}
	for i := 0; i+7 <= len(doc); i++ {
		if doc[i] == '#' && i > 0 && (doc[i-1] == ':' || doc[i-1] == '"' || doc[i-1] == ' ') {
			c := strings.ToLower(doc[i : i+7])
			if _, ok := normColor(c); ok && !allowed[c] {
				t.Errorf("colour %s is not from the theme", c)
			}
		}
	}
	if ps := ValidateTheme(Theme{PrimaryColor: "blue", LogoURL: "http://x/l.png", LogoWidth: 900, ContactEmail: "nope", FontFamily: "A;B"}); len(ps) != 5 {
		t.Errorf("ValidateTheme = %v", ps)
	}
	if ps := ValidateTheme(brandTheme); len(ps) != 0 {
		t.Errorf("ValidateTheme(brand) = %v", ps)
	}
}
