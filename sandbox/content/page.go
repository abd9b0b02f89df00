package content

import (
	"strings"
)

// RenderPage renders blocks as a full HTML5 landing page: semantic markup
// (header with the logo, main with one section per top-level heading,
// h1–h3, p, a, figure/img, hr, form/label), no layout tables, and one small
// embedded stylesheet built from the theme.
func RenderPage(blocks []Block, t Theme, o PageOptions) string {
	th := resolveTheme(t)
	var b strings.Builder
	b.Grow(4096 + 512*len(blocks))
	b.WriteString("<!DOCTYPE html>\n<html lang=\"" + langOr(o.Lang) + "\">\n<head>\n")
	b.WriteString("<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + escapeText(oneLine(o.Title)) + "</title>\n")
	if d := oneLine(o.MetaDescription); d != "" {
		b.WriteString("<meta name=\"description\" content=\"" + escapeAttr(d) + "\">\n")
	}
	b.WriteString("<style>\n" + pageCSS(th) + "</style>\n</head>\n<body>\n")
	if th.logoURL != "" {
		b.WriteString("<header class=\"lm-header\">")
		img := `<img src="` + escapeAttr(th.logoURL) + `" alt="` + escapeAttr(th.logoAlt) + `" width="` + itoa(th.logoWidth) + `">`
		if th.logoLink != "" {
			img = `<a href="` + escapeAttr(th.logoLink) + `">` + img + "</a>"
		}
		b.WriteString(img + "</header>\n")
	}
	b.WriteString("<main class=\"lm-main\">\n")
	b.WriteString(RenderPageBody(blocks, t, o))
	b.WriteString("</main>\n")
	if th.company != "" || th.address != "" || th.contactEmail != "" {
		b.WriteString("<footer class=\"lm-footer\">\n")
		if th.company != "" || th.address != "" {
			var lines []string
			if th.company != "" {
				lines = append(lines, escapeText(oneLine(th.company)))
			}
			for l := range strings.SplitSeq(th.address, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, escapeText(l))
				}
			}
			b.WriteString("<address>" + strings.Join(lines, "<br>") + "</address>\n")
		}
		if th.contactEmail != "" {
			b.WriteString(`<p><a href="mailto:` + escapeAttr(th.contactEmail) + `">` + escapeText(th.contactEmail) + "</a></p>\n")
		}
		b.WriteString("</footer>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

func pageCSS(th theme) string {
	return "*,*::before,*::after{box-sizing:border-box}\n" +
		"body{margin:0;background:" + th.bg + ";color:" + th.text + ";font-family:" + th.font + ";font-size:18px;line-height:1.6}\n" +
		".lm-header,.lm-main,.lm-footer{max-width:720px;margin:0 auto;padding:24px}\n" +
		"h1,h2,h3{font-family:" + th.headingFont + ";line-height:1.25;margin:1.5rem 0 .75rem}\n" +
		"h1{font-size:2.25rem}h2{font-size:1.75rem}h3{font-size:1.375rem}\n" +
		"p{margin:0 0 1rem}a{color:" + th.link + "}\n" +
		"img{max-width:100%;height:auto}figure{margin:1.5rem 0}\n" +
		"hr{border:0;border-top:1px solid " + th.muted + ";margin:2rem 0}\n" +
		".lm-button:hover,.lm-button:focus{opacity:.9}\n" +
		".lm-form label{display:block;font-weight:bold;margin:0 0 .25rem}\n" +
		".lm-form input,.lm-form textarea{width:100%;padding:.625rem;font:inherit;color:inherit;background:" + th.bg +
		";border:1px solid " + th.muted + ";border-radius:4px}\n" +
		".lm-form .lm-check label{display:inline;font-weight:normal}\n" +
		".lm-form .lm-check input{width:auto;margin-right:.5rem}\n" +
		".lm-footer{color:" + th.muted + ";font-size:.875rem}.lm-footer address{font-style:normal}\n"
}

// RenderPageBody renders only the page content (the sections and the form),
// for CMSs such as WordPress that wrap it in their own theme. The few
// styles the layout needs (buttons, columns, spacers, alignment) are inline,
// since CMSs strip <style> from post content.
func RenderPageBody(blocks []Block, t Theme, o PageOptions) string {
	th := resolveTheme(t)
	p := &pageWriter{th: th}
	b := &p.b
	open := false
	for i, bl := range blocks {
		if i >= MaxBlocks {
			break
		}
		// Each top-level h1/h2 starts a section.
		if !open || bl.Type == TypeHeading && bl.Level <= 2 {
			if open {
				b.WriteString("</section>\n")
			}
			b.WriteString("<section>\n")
			open = true
		}
		if bl.Type == TypeColumns {
			p.columns(bl.Columns)
			continue
		}
		p.cell(bl.Cell)
	}
	if open {
		b.WriteString("</section>\n")
	}
	if o.Form != nil {
		b.WriteString("<section class=\"lm-form-section\">\n")
		b.WriteString(renderForm(o.Form, o.FormAction, th))
		b.WriteString("</section>\n")
	}
	return b.String()
}

type pageWriter struct {
	b  strings.Builder
	th theme
}

func (p *pageWriter) cell(c Cell) {
	b := &p.b
	th := p.th
	alignStyle := func(def string) string {
		if a := alignOf(c.Align, def); a != "left" {
			return ` style="text-align:` + a + `"`
		}
		return ""
	}
	switch c.Type {
	case TypeHeading:
		lvl := c.Level
		if lvl < 1 || lvl > 3 {
			lvl = 1
		}
		tag := "h" + itoa(lvl)
		b.WriteString("<" + tag + alignStyle("left") + ">" + escapeText(oneLine(c.Text)) + "</" + tag + ">\n")
	case TypeParagraph:
		for _, para := range mdParagraphs(c.Text) {
			b.WriteString("<p" + alignStyle("left") + ">")
			p.inlines(para)
			b.WriteString("</p>\n")
		}
	case TypeButton:
		b.WriteString("<p" + alignStyle("center") + "><a class=\"lm-button\"")
		if href := safeHref(c.URL, true); href != "" {
			b.WriteString(` href="` + escapeAttr(href) + `"`)
		}
		b.WriteString(` style="display:inline-block;padding:12px 24px;background:` + th.primary + ";color:" + th.buttonText +
			`;border-radius:4px;text-decoration:none;font-weight:bold">` + escapeText(oneLine(c.Text)) + "</a></p>\n")
	case TypeImage:
		src := safeSrc(c.Src)
		if src == "" {
			return
		}
		b.WriteString("<figure" + alignStyle("center") + ">")
		img := `<img src="` + escapeAttr(src) + `" alt="` + escapeAttr(oneLine(c.Alt)) + `"`
		if c.Width > 0 {
			img += ` width="` + itoa(min(c.Width, MaxImageWidth)) + `"`
			if c.Height > 0 {
				img += ` height="` + itoa(c.Height*min(c.Width, MaxImageWidth)/c.Width) + `"`
			}
		}
		img += ` loading="lazy">`
		if href := safeHref(c.URL, true); href != "" {
			img = `<a href="` + escapeAttr(href) + `">` + img + "</a>"
		}
		b.WriteString(img + "</figure>\n")
	case TypeDivider:
		b.WriteString("<hr>\n")
	case TypeSpacer:
		h := c.Height
		if h <= 0 {
			h = DefaultSpacer
		}
		b.WriteString(`<div aria-hidden="true" style="height:` + itoa(min(h, MaxSpacerHeight)) + `px"></div>` + "\n")
	case TypeHTML:
		frag, _ := sanitizeFragment(cleanText(c.Text), false)
		if strings.TrimSpace(frag) != "" {
			b.WriteString("<div>" + frag + "</div>\n")
		}
	}
}

func (p *pageWriter) columns(cols [][]Cell) {
	b := &p.b
	b.WriteString(`<div class="lm-columns" style="display:flex;flex-wrap:wrap;gap:24px">` + "\n")
	for i := 0; i < 2; i++ {
		b.WriteString(`<div class="lm-column" style="flex:1 1 280px;min-width:0">` + "\n")
		if i < len(cols) {
			for j, c := range cols[i] {
				if j >= MaxColumnCells {
					break
				}
				p.cell(c)
			}
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</div>\n")
}

func (p *pageWriter) inlines(ns []inline) {
	b := &p.b
	for _, n := range ns {
		switch n.kind {
		case inText:
			b.WriteString(escapeText(n.text))
		case inToken:
			b.WriteString(sanitizeChars(n.text))
		case inBreak:
			b.WriteString("<br>")
		case inStrong:
			b.WriteString("<strong>")
			p.inlines(n.children)
			b.WriteString("</strong>")
		case inEm:
			b.WriteString("<em>")
			p.inlines(n.children)
			b.WriteString("</em>")
		case inLink:
			href := safeHref(n.url, true)
			if href == "" {
				p.inlines(n.children)
				continue
			}
			b.WriteString(`<a href="` + escapeAttr(href) + `">`)
			p.inlines(n.children)
			b.WriteString("</a>")
		}
	}
}

// RenderForm renders the form on its own (for connectors that only take
// body content). An empty or unsafe action posts to "#" and carries
// data-lastmile-form="not-wired", so a target can find and wire it.
func RenderForm(f *Form, action string) string {
	return renderForm(f, action, resolveTheme(Theme{}))
}

// Default form texts.
const (
	DefaultSubmitLabel    = "Submit"
	DefaultSuccessMessage = "Thank you! We received your submission."
)

func renderForm(f *Form, action string, th theme) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	act := strings.TrimSpace(action)
	if act != "" {
		act = safeHref(act, true)
	}
	if act == "" {
		b.WriteString(`<form class="lm-form" action="#" method="post" data-lastmile-form="not-wired">` + "\n")
	} else {
		b.WriteString(`<form class="lm-form" action="` + escapeAttr(act) + `" method="post">` + "\n")
	}
	for i, fl := range f.Fields {
		if i >= MaxFormFields {
			break
		}
		name := fl.Name
		if !validFieldName(name) {
			continue
		}
		id := "lm-field-" + name
		label := escapeText(oneLine(fl.Label))
		if label == "" {
			label = escapeText(name)
		}
		req := ""
		mark := ""
		if fl.Required {
			req = " required"
			mark = ` <span aria-hidden="true">*</span>`
		}
		typ := fl.Type
		if typ == "" {
			typ = FieldText
		}
		switch typ {
		case FieldCheckbox:
			// Never pre-checked: consent must be an affirmative act.
			b.WriteString(`<p class="lm-field lm-check"><input type="checkbox" id="` + id + `" name="` + name + `" value="yes"` + req + `>` +
				`<label for="` + id + `">` + label + mark + "</label></p>\n")
		case FieldTextarea:
			b.WriteString(`<p class="lm-field"><label for="` + id + `">` + label + mark + "</label>" +
				`<textarea id="` + id + `" name="` + name + `" rows="4"` + req + "></textarea></p>\n")
		case FieldText, FieldEmail, FieldTel, FieldNumber:
			ac := autocomplete(name, typ)
			if ac != "" {
				ac = ` autocomplete="` + ac + `"`
			}
			b.WriteString(`<p class="lm-field"><label for="` + id + `">` + label + mark + "</label>" +
				`<input type="` + typ + `" id="` + id + `" name="` + name + `"` + ac + req + "></p>\n")
		}
	}
	submit := oneLine(f.SubmitLabel)
	if submit == "" {
		submit = DefaultSubmitLabel
	}
	success := oneLine(f.SuccessMessage)
	if success == "" {
		success = DefaultSuccessMessage
	}
	b.WriteString(`<p><button type="submit" class="lm-button" style="display:inline-block;padding:12px 24px;background:` + th.primary +
		";color:" + th.buttonText + `;border:0;border-radius:4px;font:inherit;font-weight:bold;cursor:pointer">` + escapeText(submit) + "</button></p>\n")
	b.WriteString(`<p class="lm-form-success" role="status" hidden>` + escapeText(success) + "</p>\n")
	b.WriteString("</form>\n")
	return b.String()
}

// autocomplete maps common field names to autocomplete tokens, which help
// people fill forms quickly and correctly.
func autocomplete(name, typ string) string {
	switch typ {
	case FieldEmail:
		return "email"
	case FieldTel:
		return "tel"
	}
	switch name {
	case "name", "full_name", "fullname":
		return "name"
	case "first_name", "firstname", "given_name":
		return "given-name"
	case "last_name", "lastname", "family_name", "surname":
		return "family-name"
	case "company", "organization", "organisation":
		return "organization"
	case "job_title", "jobtitle", "title":
		return "organization-title"
	case "country":
		return "country-name"
	case "zip", "postal_code", "postcode":
		return "postal-code"
	case "city":
		return "address-level2"
	}
	return ""
}
