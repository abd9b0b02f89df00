package content

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

var cellTypes = []string{TypeHeading, TypeParagraph, TypeButton, TypeImage, TypeDivider, TypeSpacer, TypeHTML}

// Validate checks blocks and returns every problem found (not only the
// first), each with the path of the field and how to fix it. Paths are
// "blocks[2].alt", "blocks[4].columns[1][0].src". No problems means the
// renderers will show everything as given.
func Validate(blocks []Block) []Problem {
	v := &validator{}
	if len(blocks) == 0 {
		v.add("blocks", "there are no blocks", "add at least one block, for example a heading and a paragraph")
	}
	if len(blocks) > MaxBlocks {
		v.add("blocks", fmt.Sprintf("there are %d blocks; at most %d are allowed (the rest is not rendered)", len(blocks), MaxBlocks),
			"split the content or remove blocks")
	}
	for i, b := range blocks {
		path := fmt.Sprintf("blocks[%d]", i)
		if b.Type == TypeColumns {
			v.columnsBlock(path, b)
			continue
		}
		if len(b.Columns) > 0 {
			v.add(path+".columns", fmt.Sprintf("columns only apply to a block of type \"columns\", not %q", b.Type),
				`set "type": "columns", or remove "columns"`)
		}
		v.cell(path, b.Cell, emailContent, true)
	}
	return v.ps
}

type validator struct{ ps []Problem }

func (v *validator) add(path, msg, fix string) {
	v.ps = append(v.ps, Problem{Path: path, Message: msg, Fix: fix})
}

func (v *validator) columnsBlock(path string, b Block) {
	c := b.Cell
	v.notApplicable(path, "columns", map[string]bool{
		"text": c.Text != "", "level": c.Level != 0, "url": c.URL != "", "src": c.Src != "",
		"alt": c.Alt != "", "width": c.Width != 0, "height": c.Height != 0, "align": c.Align != "",
	})
	if len(b.Columns) != 2 {
		v.add(path+".columns", fmt.Sprintf("a columns block needs exactly 2 columns, it has %d", len(b.Columns)),
			`give "columns" two arrays of cells: [[...left cells...], [...right cells...]]`)
	}
	for ci, col := range b.Columns {
		cpath := fmt.Sprintf("%s.columns[%d]", path, ci)
		if len(col) == 0 {
			v.add(cpath, "the column is empty", "add at least one cell, or use single-column blocks instead")
		}
		if len(col) > MaxColumnCells {
			v.add(cpath, fmt.Sprintf("the column has %d cells; at most %d are allowed", len(col), MaxColumnCells), "move content into further blocks")
		}
		for j, cell := range col {
			p := fmt.Sprintf("%s[%d]", cpath, j)
			if cell.Type == TypeColumns {
				v.add(p+".type", "columns cannot be nested inside a column", "use heading, paragraph, button, image, divider, spacer or html cells inside columns")
				continue
			}
			v.cell(p, cell, emailColumnWidth, false)
		}
	}
}

func (v *validator) notApplicable(path, typ string, set map[string]bool) {
	for _, f := range []string{"text", "level", "url", "src", "alt", "width", "height", "align"} {
		if set[f] {
			v.add(path+"."+f, fmt.Sprintf("%q does not apply to a %s block", f, typ), "remove it")
		}
	}
}

func (v *validator) cell(path string, c Cell, maxWidth int, top bool) {
	set := map[string]bool{
		"text": c.Text != "", "level": c.Level != 0, "url": c.URL != "", "src": c.Src != "",
		"alt": c.Alt != "", "width": c.Width != 0, "height": c.Height != 0, "align": c.Align != "",
	}
	text := strings.TrimSpace(c.Text)
	switch c.Type {
	case TypeHeading:
		delete(set, "text")
		delete(set, "level")
		delete(set, "align")
		if text == "" {
			v.add(path+".text", "a heading needs text", `set "text" to the heading`)
		} else if n := utf8.RuneCountInString(text); n > MaxHeadingLen {
			v.add(path+".text", fmt.Sprintf("the heading is %d characters long; at most %d are allowed", n, MaxHeadingLen), "shorten it, and put the rest in a paragraph")
		}
		if c.Level < 0 || c.Level > 3 {
			v.add(path+".level", fmt.Sprintf("heading level %d is not allowed", c.Level), "use 1, 2 or 3 (0 means 1)")
		}
		if strings.Contains(text, "\n") {
			v.add(path+".text", "a heading is one line", "remove the line breaks")
		}
	case TypeParagraph:
		delete(set, "text")
		delete(set, "align")
		if text == "" {
			v.add(path+".text", "a paragraph needs text", `set "text" (Markdown: **bold**, *italic*, [label](https://...))`)
		} else if n := utf8.RuneCountInString(text); n > MaxParagraphLen {
			v.add(path+".text", fmt.Sprintf("the paragraph is %d characters long; at most %d are allowed", n, MaxParagraphLen), "split it into several paragraphs")
		} else {
			for _, u := range mdLinks(text) {
				if p := linkProblem(u); p != "" {
					v.add(path+".text", fmt.Sprintf("link %s: %s", quoteShort(u), p), "use an absolute https:// URL, mailto: or tel: in [label](url)")
				}
			}
		}
	case TypeButton:
		delete(set, "text")
		delete(set, "url")
		delete(set, "align")
		if text == "" {
			v.add(path+".text", "a button needs a label", `set "text" to the label, for example "Get the guide"`)
		} else if n := utf8.RuneCountInString(text); n > MaxButtonLabel {
			v.add(path+".text", fmt.Sprintf("the button label is %d characters long; at most %d are allowed", n, MaxButtonLabel), "shorten the label")
		}
		if c.URL == "" {
			v.add(path+".url", "a button needs a URL", `set "url" to an absolute https:// URL`)
		} else if p := linkProblem(c.URL); p != "" {
			v.add(path+".url", p, "use an absolute https:// URL (or mailto:, tel:, or a {{ token }})")
		}
	case TypeImage:
		for _, f := range []string{"url", "src", "alt", "width", "height", "align"} {
			delete(set, f)
		}
		if c.Src == "" {
			v.add(path+".src", "an image needs a source", `set "src" to an absolute https:// URL`)
		} else if p := srcProblem(c.Src); p != "" {
			v.add(path+".src", p, "host the image on https and use its absolute https:// URL")
		}
		if strings.TrimSpace(c.Alt) == "" {
			v.add(path+".alt", "an image needs alt text", `set "alt" to what the image shows or says (it is read by screen readers and shown when images are blocked)`)
		} else if n := utf8.RuneCountInString(c.Alt); n > MaxAltLen {
			v.add(path+".alt", fmt.Sprintf("the alt text is %d characters long; at most %d are allowed", n, MaxAltLen), "describe the image briefly")
		}
		if c.URL != "" {
			if p := linkProblem(c.URL); p != "" {
				v.add(path+".url", p, "use an absolute https:// URL, or remove the link")
			}
		}
		if c.Width < 0 {
			v.add(path+".width", "the width is negative", "use a width in px, or leave it out for the full width")
		} else if c.Width > maxWidth && (!top || c.Width > MaxImageWidth) {
			limit, where := MaxImageWidth, fmt.Sprintf("the maximum is %d px", MaxImageWidth)
			if !top {
				limit, where = emailColumnWidth, fmt.Sprintf("a column is %d px wide", emailColumnWidth)
			}
			v.add(path+".width", fmt.Sprintf("the width %d px is too wide; %s", c.Width, where), fmt.Sprintf("use at most %d, or leave it out for the full width", limit))
		}
		if c.Height < 0 || c.Height > MaxImageHeight {
			v.add(path+".height", fmt.Sprintf("the height %d px is out of range", c.Height), fmt.Sprintf("use 1..%d (the image's height at the given width), or leave it out", MaxImageHeight))
		} else if c.Height > 0 && c.Width == 0 {
			v.add(path+".height", "an image height needs a width", `set "width" too, so the height can be scaled with it`)
		}
	case TypeDivider:
	case TypeSpacer:
		delete(set, "height")
		if c.Height < 0 || c.Height > MaxSpacerHeight {
			v.add(path+".height", fmt.Sprintf("the spacer height %d px is out of range", c.Height), fmt.Sprintf("use 1..%d (0 means %d)", MaxSpacerHeight, DefaultSpacer))
		}
	case TypeHTML:
		delete(set, "text")
		if text == "" {
			v.add(path+".text", "an html block needs HTML", `set "text" to the HTML fragment`)
		} else if len(c.Text) > MaxHTMLBlockLen {
			v.add(path+".text", fmt.Sprintf("the HTML is %d bytes; at most %d are allowed", len(c.Text), MaxHTMLBlockLen), "use blocks instead of one large fragment")
		} else {
			_, issues := sanitizeFragment(cleanText(c.Text), true)
			for _, is := range issues {
				v.add(path+".text", is.Message, is.Fix)
			}
		}
	case "":
		v.add(path+".type", "the block has no type", "set \"type\" to one of "+typeList(top))
		return
	default:
		fix := "use one of " + typeList(top)
		if lt := strings.ToLower(strings.TrimSpace(c.Type)); lt != c.Type && (contains(cellTypes, lt) || top && lt == TypeColumns) {
			fix = fmt.Sprintf("types are lower-case: use %q", lt)
		}
		v.add(path+".type", fmt.Sprintf("block type %q is not known", c.Type), fix)
		return
	}
	if !set["align"] {
		switch c.Align {
		case "", "left", "center", "right":
		default:
			v.add(path+".align", fmt.Sprintf("align %q is not known", c.Align), "use left, center or right")
		}
	}
	v.notApplicable(path, c.Type, set)
}

func typeList(top bool) string {
	s := strings.Join(cellTypes, ", ")
	if top {
		s += ", columns"
	}
	return s
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// ValidateForm checks a landing-page form: at least one and at most 30
// fields, unique names matching [a-z][a-z0-9_]*, known types, labels.
// A nil form has no problems. Paths are "form.fields[2].name".
func ValidateForm(f *Form) []Problem {
	if f == nil {
		return nil
	}
	v := &validator{}
	if len(f.Fields) == 0 {
		v.add("form.fields", "the form has no fields", `add at least one field, for example {"name": "email", "label": "Email", "type": "email", "required": true}`)
	}
	if len(f.Fields) > MaxFormFields {
		v.add("form.fields", fmt.Sprintf("the form has %d fields; at most %d are allowed", len(f.Fields), MaxFormFields), "ask only for what you need")
	}
	seen := map[string]int{}
	for i, fl := range f.Fields {
		path := fmt.Sprintf("form.fields[%d]", i)
		switch {
		case fl.Name == "":
			v.add(path+".name", "the field has no name", `set "name", for example "email" or "first_name"`)
		case !validFieldName(fl.Name):
			v.add(path+".name", fmt.Sprintf("field name %q is not allowed", fl.Name), "use lower-case letters, digits and _, starting with a letter (at most 64), for example first_name")
		default:
			if j, dup := seen[fl.Name]; dup {
				v.add(path+".name", fmt.Sprintf("field name %q is already used by fields[%d]", fl.Name, j), "give every field a unique name")
			} else {
				seen[fl.Name] = i
			}
		}
		if strings.TrimSpace(fl.Label) == "" {
			v.add(path+".label", "the field has no label", `set "label" to the text shown next to the field`)
		} else if n := utf8.RuneCountInString(fl.Label); n > 300 {
			v.add(path+".label", fmt.Sprintf("the label is %d characters long; at most 300 are allowed", n), "shorten it")
		}
		switch fl.Type {
		case "", FieldText, FieldEmail, FieldTel, FieldNumber, FieldTextarea, FieldCheckbox:
		default:
			v.add(path+".type", fmt.Sprintf("field type %q is not known", fl.Type), "use text, email, tel, number, textarea or checkbox")
		}
	}
	if n := utf8.RuneCountInString(f.SubmitLabel); n > 60 {
		v.add("form.submit_label", fmt.Sprintf("the submit label is %d characters long; at most 60 are allowed", n), "shorten it")
	}
	if n := utf8.RuneCountInString(f.SuccessMessage); n > 1000 {
		v.add("form.success_message", fmt.Sprintf("the success message is %d characters long; at most 1000 are allowed", n), "shorten it")
	}
	return v.ps
}

func validFieldName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
