package content

import (
	"fmt"
	"strings"
	"testing"
)

func paths(ps []Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Path)
	}
	return strings.Join(s, " ")
}

func TestValidateValid(t *testing.T) {
	blocks := tenBlocks()
	blocks = append(blocks, Block{Cell: Cell{Type: "html", Text: `<p>Plain <a href="https://x.example">link</a> and <img src="https://x.example/i.png" alt="i"></p>`}})
	if ps := Validate(blocks); len(ps) != 0 {
		t.Errorf("tenBlocks: %v", ps)
	}
	for _, c := range []Cell{
		{Type: "button", Text: "Unsubscribe", URL: "{{ unsubscribe_url }}"},
		{Type: "button", Text: "Mail us", URL: "mailto:hi@acme.example"},
		{Type: "button", Text: "Call", URL: "tel:+15551234567"},
		{Type: "button", Text: "Jump", URL: "#pricing"},
		{Type: "button", Text: "Plain http", URL: "http://acme.example/"},
		{Type: "image", Src: "{{ hero_image }}", Alt: "Hero"},
		{Type: "image", Src: "https://x/i.png", Alt: "Wide", Width: 600, Height: 10},
		{Type: "spacer", Height: 200},
		{Type: "heading", Text: "H3", Level: 3, Align: "right"},
		{Type: "paragraph", Text: "[a](https://x.example/{{ contact.id }}?q=1#f)"},
	} {
		if ps := Validate([]Block{{Cell: c}}); len(ps) != 0 {
			t.Errorf("%+v: %v", c, ps)
		}
	}
}

func TestValidateProblems(t *testing.T) {
	cases := []struct {
		name   string
		blocks []Block
		want   string // space-separated paths, in order
	}{
		{"no blocks", nil, "blocks"},
		{"unknown type", []Block{{Cell: Cell{Type: "video"}}}, "blocks[0].type"},
		{"missing type", []Block{{Cell: Cell{Text: "x"}}}, "blocks[0].type"},
		{"upper-case type", []Block{{Cell: Cell{Type: "Heading", Text: "x"}}}, "blocks[0].type"},
		{"heading without text, bad level", []Block{{Cell: Cell{Type: "heading", Level: 4}}}, "blocks[0].text blocks[0].level"},
		{"heading with newline", []Block{{Cell: Cell{Type: "heading", Text: "a\nb"}}}, "blocks[0].text"},
		{"paragraph without text", []Block{{Cell: Cell{Type: "paragraph", Text: "  "}}}, "blocks[0].text"},
		{"paragraph with javascript link", []Block{{Cell: Cell{Type: "paragraph", Text: "[x](javascript:alert(1)) [y](/relative) [z](https://ok.example)"}}}, "blocks[0].text blocks[0].text"},
		{"button without label and url", []Block{{Cell: Cell{Type: "button"}}}, "blocks[0].text blocks[0].url"},
		{"button javascript", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "JavaScript:alert(1)"}}}, "blocks[0].url"},
		{"button data url", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "data:text/html,hi"}}}, "blocks[0].url"},
		{"button relative url", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "/pricing"}}}, "blocks[0].url"},
		{"button protocol-relative", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "//evil.example"}}}, "blocks[0].url"},
		{"button url with space", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "https://x.example/a b"}}}, "blocks[0].url"},
		{"button url without host", []Block{{Cell: Cell{Type: "button", Text: "x", URL: "https:///path"}}}, "blocks[0].url"},
		{"image missing everything", []Block{{Cell: Cell{Type: "image"}}}, "blocks[0].src blocks[0].alt"},
		{"image http src", []Block{{Cell: Cell{Type: "image", Src: "http://x.example/i.png", Alt: "a"}}}, "blocks[0].src"},
		{"image data src", []Block{{Cell: Cell{Type: "image", Src: "data:image/png;base64,AAAA", Alt: "a"}}}, "blocks[0].src"},
		{"image blank alt", []Block{{Cell: Cell{Type: "image", Src: "https://x/i.png", Alt: "  "}}}, "blocks[0].alt"},
		{"image too wide", []Block{{Cell: Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 601}}}, "blocks[0].width"},
		{"image negative width, height alone", []Block{{Cell: Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Width: -1, Height: 5}}}, "blocks[0].width"},
		{"image height without width", []Block{{Cell: Cell{Type: "image", Src: "https://x/i.png", Alt: "a", Height: 5}}}, "blocks[0].height"},
		{"image bad link", []Block{{Cell: Cell{Type: "image", Src: "https://x/i.png", Alt: "a", URL: "javascript:x"}}}, "blocks[0].url"},
		{"spacer too tall", []Block{{Cell: Cell{Type: "spacer", Height: 500}}}, "blocks[0].height"},
		{"align on a divider", []Block{{Cell: Cell{Type: "divider", Align: "middle"}}}, "blocks[0].align"},
		{"bad align", []Block{{Cell: Cell{Type: "paragraph", Text: "x", Align: "middle"}}}, "blocks[0].align"},
		{"fields that do not apply", []Block{{Cell: Cell{Type: "paragraph", Text: "x", URL: "https://x", Src: "https://x/i.png"}}}, "blocks[0].url blocks[0].src"},
		{"divider with text", []Block{{Cell: Cell{Type: "divider", Text: "x"}}}, "blocks[0].text"},
		{"columns on a paragraph", []Block{{Cell: Cell{Type: "paragraph", Text: "x"}, Columns: [][]Cell{{}, {}}}}, "blocks[0].columns"},
		{"one column", []Block{{Cell: Cell{Type: "columns"}, Columns: [][]Cell{{{Type: "divider"}}}}}, "blocks[0].columns"},
		{"three columns", []Block{{Cell: Cell{Type: "columns"}, Columns: [][]Cell{{{Type: "divider"}}, {{Type: "divider"}}, {{Type: "divider"}}}}}, "blocks[0].columns"},
		{"empty column and bad cells", []Block{{Cell: Cell{Type: "columns", Text: "x"}, Columns: [][]Cell{
			{},
			{{Type: "image", Src: "https://x/i.png", Alt: "a", Width: 300}, {Type: "columns"}, {Type: "image", Src: "ftp://x/i.png"}},
		}}}, "blocks[0].text blocks[0].columns[0] blocks[0].columns[1][0].width blocks[0].columns[1][1].type blocks[0].columns[1][2].src blocks[0].columns[1][2].alt"},
		{"html with script and handlers", []Block{{Cell: Cell{Type: "html", Text: `<div onclick="x()"><script>x()</script><iframe src="https://x"></iframe><a href="javascript:x">a</a><img src="https://x/i.png"></div>`}}},
			"blocks[0].text blocks[0].text blocks[0].text blocks[0].text blocks[0].text"},
		{"several blocks, all reported", []Block{
			{Cell: Cell{Type: "heading"}},
			{Cell: Cell{Type: "paragraph", Text: "ok"}},
			{Cell: Cell{Type: "button", Text: "x"}},
			{Cell: Cell{Type: "image", Src: "https://x/i.png"}},
		}, "blocks[0].text blocks[2].url blocks[3].alt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := Validate(c.blocks)
			if got := paths(ps); got != c.want {
				t.Errorf("paths = %q, want %q\n%v", got, c.want, ps)
			}
			for _, p := range ps {
				if p.Message == "" || p.Fix == "" {
					t.Errorf("problem without message or fix: %+v", p)
				}
			}
		})
	}
}

func TestValidateTooManyBlocks(t *testing.T) {
	blocks := make([]Block, MaxBlocks+1)
	for i := range blocks {
		blocks[i] = Block{Cell: Cell{Type: "divider"}}
	}
	ps := Validate(blocks)
	if len(ps) != 1 || ps[0].Path != "blocks" || !strings.Contains(ps[0].Message, "201") {
		t.Errorf("Validate = %v", ps)
	}
	if ps := Validate(blocks[:MaxBlocks]); len(ps) != 0 {
		t.Errorf("200 blocks: %v", ps)
	}
}

func TestValidateMessages(t *testing.T) {
	ps := Validate([]Block{{Cell: Cell{Type: "Heading", Text: "x"}}, {Cell: Cell{Type: "button", Text: "x", URL: "javascript:alert(1)"}}})
	if len(ps) != 2 {
		t.Fatalf("Validate = %v", ps)
	}
	if !strings.Contains(ps[0].Fix, `"heading"`) {
		t.Errorf("fix for upper-case type = %q", ps[0].Fix)
	}
	if !strings.Contains(ps[1].Message, "javascript") {
		t.Errorf("message = %q", ps[1].Message)
	}
	if s := ps[1].String(); !strings.HasPrefix(s, "blocks[1].url: ") {
		t.Errorf("String() = %q", s)
	}
}

func TestValidateForm(t *testing.T) {
	if ps := ValidateForm(nil); ps != nil {
		t.Errorf("nil form: %v", ps)
	}
	if ps := ValidateForm(testForm); len(ps) != 0 {
		t.Errorf("testForm: %v", ps)
	}
	many := &Form{}
	for i := range MaxFormFields + 1 {
		many.Fields = append(many.Fields, FormField{Name: fmt.Sprintf("f%d", i), Label: "L"})
	}
	cases := []struct {
		name string
		form *Form
		want string
	}{
		{"no fields", &Form{}, "form.fields"},
		{"too many", many, "form.fields"},
		{"bad names", &Form{Fields: []FormField{
			{Name: "", Label: "a"}, {Name: "Email", Label: "b"}, {Name: "1x", Label: "c"}, {Name: "a-b", Label: "d"},
			{Name: "ok_1", Label: "e"}, {Name: "ok_1", Label: "f"},
		}}, "form.fields[0].name form.fields[1].name form.fields[2].name form.fields[3].name form.fields[5].name"},
		{"bad type, no label", &Form{Fields: []FormField{{Name: "x", Type: "select"}}}, "form.fields[0].label form.fields[0].type"},
		{"long submit", &Form{Fields: []FormField{{Name: "x", Label: "x"}}, SubmitLabel: strings.Repeat("a", 61)}, "form.submit_label"},
	}
	for _, c := range cases {
		if got := paths(ValidateForm(c.form)); got != c.want {
			t.Errorf("%s: paths = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRenderFormSafety(t *testing.T) {
	f := &Form{Fields: []FormField{
		{Name: "ok", Label: `<script>x</script>`, Type: "checkbox"},
		{Name: `bad" onfocus="x`, Label: "skipped"},
		{Name: "t", Label: "T", Type: "select"},
	}}
	out := RenderForm(f, "javascript:alert(1)")
	for _, bad := range []string{"<script", "onfocus", "javascript:", "checked", "select", "skipped"} {
		if strings.Contains(out, bad) {
			t.Errorf("form contains %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `action="#" method="post" data-lastmile-form="not-wired"`) {
		t.Errorf("unsafe action not replaced:\n%s", out)
	}
	if out := RenderForm(f, "/forms/pg_1"); !strings.Contains(out, `action="/forms/pg_1" method="post">`) {
		t.Errorf("relative action:\n%s", out)
	}
	if RenderForm(nil, "") != "" {
		t.Error("nil form renders")
	}
}

func TestPage(t *testing.T) {
	doc := RenderPage(allBlocks(), brandTheme, PageOptions{Title: "T <x>", MetaDescription: `D "q"`, Form: testForm, FormAction: "https://acme.example/f"})
	for _, want := range []string{
		"<!DOCTYPE html>", `<html lang="en">`, `<meta name="viewport"`, "<title>T &lt;x&gt;</title>",
		`<meta name="description" content="D &quot;q&quot;">`, "<header", "<main", "<section>", "<h1>", "<h2>", "<h3>",
		"<figure", "<hr>", `<form class="lm-form" action="https://acme.example/f" method="post">`, "<label for=", "<footer",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(doc, "<table") || strings.Contains(doc, "<script") {
		t.Error("page has a table or a script")
	}
	if n := strings.Count(doc, "<section"); n != 3 {
		t.Errorf("%d sections, want 3 (h1, h2, form)", n)
	}
	body := RenderPageBody(allBlocks(), brandTheme, PageOptions{})
	if strings.Contains(body, "<html") || strings.Contains(body, "<style") || strings.Contains(body, "<main") || strings.Contains(body, "<form") {
		t.Error("page body has document-level markup or a form it was not given")
	}
	if !strings.Contains(doc, body) {
		t.Error("RenderPage does not embed RenderPageBody")
	}
}
