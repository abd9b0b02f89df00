package content

import (
	"strconv"
	"strings"
)

// RenderEmail renders blocks as a responsive, table-based HTML email with
// every style inlined (a 600 px centred container; the two columns of a
// columns block stack below 620 px), plus the plain-text part.
//
// The only <style> block holds the mobile media query; dark-mode support is
// declared with the color-scheme meta tags and every text/background pair
// is set explicitly, so clients that invert colours keep the contrast.
func RenderEmail(blocks []Block, t Theme, o EmailOptions) (htmlOut, text string) {
	th := resolveTheme(t)
	e := &emailWriter{th: th}
	b := &e.b
	b.Grow(8192 + 1024*len(blocks))

	lang := langOr(o.Lang)
	b.WriteString(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">` + "\n")
	b.WriteString(`<html xmlns="http://www.w3.org/1999/xhtml" lang="` + lang + `" xml:lang="` + lang + `">` + "\n<head>\n")
	b.WriteString(`<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />` + "\n")
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1.0" />` + "\n")
	b.WriteString(`<meta http-equiv="X-UA-Compatible" content="IE=edge" />` + "\n")
	b.WriteString(`<meta name="x-apple-disable-message-reformatting" />` + "\n")
	b.WriteString(`<meta name="format-detection" content="telephone=no, date=no, address=no, email=no" />` + "\n")
	b.WriteString(`<meta name="color-scheme" content="light dark" />` + "\n")
	b.WriteString(`<meta name="supported-color-schemes" content="light dark" />` + "\n")
	b.WriteString("<title>" + escapeText(oneLine(o.Title)) + "</title>\n")
	b.WriteString(`<style type="text/css">` + "\n" +
		":root{color-scheme:light dark;supported-color-schemes:light dark;}\n" +
		"@media only screen and (max-width:620px){\n" +
		".lm-container{width:100% !important;}\n" +
		".lm-col{display:block !important;width:100% !important;box-sizing:border-box !important;}\n" +
		".lm-img{max-width:100% !important;height:auto !important;}\n" +
		"}\n</style>\n</head>\n")
	b.WriteString(`<body style="margin:0;padding:0;width:100%;background-color:` + th.bg + `;">` + "\n")
	if p := oneLine(o.PreviewText); p != "" {
		// Hidden preheader; the padding keeps body text out of the inbox preview.
		b.WriteString(`<span style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;color:` + th.bg + `;">` + escapeText(p) + strings.Repeat("&#847;&#8204;&#160;", 30) + "</span>\n")
	}
	b.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:` + th.bg + `;">` + "\n")
	b.WriteString(`<tr><td align="center" style="padding:16px 0;">` + "\n")
	b.WriteString(`<table role="presentation" class="lm-container" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;background-color:` + th.bg + `;">` + "\n")

	if th.logoURL != "" {
		img := `<img src="` + escapeAttr(th.logoURL) + `" alt="` + escapeAttr(th.logoAlt) + `" width="` + itoa(th.logoWidth) +
			`" border="0" class="lm-img" style="display:block;width:` + itoa(th.logoWidth) + `px;max-width:100%;height:auto;border:0;outline:none;text-decoration:none;margin:0 auto;font-family:` +
			th.font + ";font-size:14px;line-height:20px;color:" + th.text + `;" />`
		b.WriteString(`<tr><td align="center" style="padding:16px 24px;">`)
		if th.logoLink != "" {
			img = `<a href="` + escapeAttr(th.logoLink) + `" target="_blank" style="text-decoration:none;">` + img + `</a>`
		}
		b.WriteString(img + "</td></tr>\n")
	}

	for i, bl := range blocks {
		if i >= MaxBlocks {
			break
		}
		if bl.Type == TypeColumns {
			e.columns(bl.Columns)
			continue
		}
		e.cell(bl.Cell, emailContent, emailPadX, true)
	}

	if o.Footer {
		e.footer(o)
	}
	b.WriteString("</table>\n</td></tr>\n</table>\n</body>\n</html>\n")
	return b.String(), emailText(blocks, th, o)
}

type emailWriter struct {
	b  strings.Builder
	th theme
}

func itoa(n int) string { return strconv.Itoa(n) }

func langOr(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 35 {
		return "en"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return "en"
		}
	}
	return s
}

// oneLine collapses runs of whitespace to one space and trims (titles,
// labels, alt text). Tokens are kept byte-identical, spaces and all.
func oneLine(s string) string {
	s = cleanText(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		if end, ok := tokenEnd(s, i); ok {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(s[i:end])
			i = end
			continue
		}
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\v' {
			space = true
			i++
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func alignOf(a, def string) string {
	switch a {
	case "left", "center", "right":
		return a
	}
	return def
}

// marginFor positions a display:block element (images) inside its cell.
func marginFor(align string) string {
	switch align {
	case "center":
		return "0 auto"
	case "right":
		return "0 0 0 auto"
	}
	return "0"
}

func (e *emailWriter) textStyle(size, lineHeight int, align string) string {
	return "margin:0;font-family:" + e.th.font + ";font-size:" + itoa(size) + "px;line-height:" + itoa(lineHeight) +
		"px;color:" + e.th.text + ";text-align:" + align + ";"
}

// cell writes one <tr> for c. width is the content width available; padX
// the row's horizontal padding; top is false inside a column.
func (e *emailWriter) cell(c Cell, width, padX int, top bool) {
	b := &e.b
	th := e.th
	pad := func(v int) string { return itoa(v) + "px " + itoa(padX) + "px" }
	if padX == 0 {
		pad = func(v int) string { return itoa(v) + "px 0" }
	}
	switch c.Type {
	case TypeHeading:
		lvl := c.Level
		if lvl < 1 || lvl > 3 {
			lvl = 1
		}
		size, lh := [4]int{0, 28, 22, 18}[lvl], [4]int{0, 34, 28, 24}[lvl]
		tag := "h" + itoa(lvl)
		b.WriteString(`<tr><td style="padding:` + pad(8) + `;">`)
		b.WriteString("<" + tag + ` style="margin:0;font-family:` + th.headingFont + ";font-size:" + itoa(size) + "px;line-height:" + itoa(lh) +
			"px;font-weight:bold;color:" + th.text + ";text-align:" + alignOf(c.Align, "left") + `;">`)
		b.WriteString(escapeText(oneLine(c.Text)) + "</" + tag + "></td></tr>\n")

	case TypeParagraph:
		paras := mdParagraphs(c.Text)
		if len(paras) == 0 {
			return
		}
		b.WriteString(`<tr><td style="padding:` + pad(8) + `;">`)
		for i, p := range paras {
			style := e.textStyle(16, 24, alignOf(c.Align, "left"))
			if i < len(paras)-1 {
				style = strings.Replace(style, "margin:0;", "margin:0 0 16px;", 1)
			}
			b.WriteString(`<p style="` + style + `">`)
			e.inlines(p)
			b.WriteString("</p>")
		}
		b.WriteString("</td></tr>\n")

	case TypeButton:
		align := alignOf(c.Align, "center")
		tableStyle := "border-collapse:separate;"
		tableAlign := ""
		if align == "center" {
			tableStyle += "margin:0 auto;"
			tableAlign = ` align="center"`
		}
		b.WriteString(`<tr><td align="` + align + `" style="padding:` + pad(12) + `;">`)
		b.WriteString(`<table role="presentation"` + tableAlign + ` cellpadding="0" cellspacing="0" border="0" style="` + tableStyle + `">`)
		b.WriteString(`<tr><td align="center" bgcolor="` + th.primary + `" style="border-radius:4px;background-color:` + th.primary + `;">`)
		b.WriteString("<a")
		if href := safeHref(c.URL, false); href != "" {
			b.WriteString(` href="` + escapeAttr(href) + `" target="_blank"`)
		}
		b.WriteString(` style="display:inline-block;padding:12px 24px;font-family:` + th.font + `;font-size:16px;line-height:20px;font-weight:bold;color:` +
			th.buttonText + `;text-decoration:none;border-radius:4px;">` + escapeText(oneLine(c.Text)) + "</a>")
		b.WriteString("</td></tr></table></td></tr>\n")

	case TypeImage:
		src := safeSrc(c.Src)
		if src == "" {
			return
		}
		align := alignOf(c.Align, "center")
		w, rowPad := c.Width, pad(8)
		if top && w > emailContent {
			// Wider than the content column: full bleed.
			width, rowPad = emailWidth, "8px 0"
		}
		if w <= 0 || w > width {
			w = width
		}
		b.WriteString(`<tr><td align="` + align + `" style="padding:` + rowPad + `;">`)
		if href := safeHref(c.URL, false); href != "" {
			b.WriteString(`<a href="` + escapeAttr(href) + `" target="_blank" style="text-decoration:none;">`)
			e.img(src, c, w)
			b.WriteString("</a>")
		} else {
			e.img(src, c, w)
		}
		b.WriteString("</td></tr>\n")

	case TypeDivider:
		b.WriteString(`<tr><td style="padding:` + pad(16) + `;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="border-top:1px solid ` +
			th.muted + `;font-size:0;line-height:0;">&#160;</td></tr></table></td></tr>` + "\n")

	case TypeSpacer:
		h := c.Height
		if h <= 0 {
			h = DefaultSpacer
		}
		if h > MaxSpacerHeight {
			h = MaxSpacerHeight
		}
		hs := itoa(h)
		b.WriteString(`<tr><td height="` + hs + `" style="height:` + hs + "px;font-size:" + hs + "px;line-height:" + hs + `px;">&#160;</td></tr>` + "\n")

	case TypeHTML:
		frag, _ := sanitizeFragment(cleanText(c.Text), true)
		if strings.TrimSpace(frag) == "" {
			return
		}
		b.WriteString(`<tr><td style="padding:` + pad(8) + ";font-family:" + th.font + ";font-size:16px;line-height:24px;color:" + th.text + `;">`)
		b.WriteString(frag + "</td></tr>\n")
	}
}

func (e *emailWriter) img(src string, c Cell, w int) {
	b := &e.b
	b.WriteString(`<img src="` + escapeAttr(src) + `" alt="` + escapeAttr(oneLine(c.Alt)) + `" width="` + itoa(w) + `"`)
	if c.Height > 0 && c.Width > 0 {
		h := c.Height
		if w != c.Width {
			h = (c.Height*w + c.Width/2) / c.Width
		}
		if h > 0 {
			b.WriteString(` height="` + itoa(h) + `"`)
		}
	}
	// The font and colour style the alt text shown when images are blocked.
	b.WriteString(` border="0" class="lm-img" style="display:block;width:100%;max-width:` + itoa(w) + "px;height:auto;border:0;outline:none;text-decoration:none;margin:" +
		marginFor(alignOf(c.Align, "center")) + ";font-family:" + e.th.font + ";font-size:14px;line-height:20px;color:" + e.th.text + `;" />`)
}

func (e *emailWriter) columns(cols [][]Cell) {
	b := &e.b
	b.WriteString(`<tr><td style="padding:0 ` + itoa(emailPadX/2) + `px;">` + "\n")
	b.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>` + "\n")
	for i := 0; i < 2; i++ {
		b.WriteString(`<td class="lm-col" width="` + itoa(emailColOuter) + `" valign="top" style="width:` + itoa(emailColOuter) +
			"px;vertical-align:top;padding:0 " + itoa(emailPadX/2) + `px;">` + "\n")
		b.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">` + "\n")
		wrote := false
		if i < len(cols) {
			for j, c := range cols[i] {
				if j >= MaxColumnCells {
					break
				}
				if c.Type == TypeColumns {
					continue
				}
				before := b.Len()
				e.cell(c, emailColumnWidth, 0, false)
				wrote = wrote || b.Len() > before
			}
		}
		if !wrote {
			// An empty <table> is invalid; keep the column's place.
			b.WriteString(`<tr><td style="font-size:0;line-height:0;">&#160;</td></tr>` + "\n")
		}
		b.WriteString("</table>\n</td>\n")
	}
	b.WriteString("</tr></table>\n</td></tr>\n")
}

// inlines writes parsed paragraph Markdown as email HTML.
func (e *emailWriter) inlines(ns []inline) {
	b := &e.b
	for _, n := range ns {
		switch n.kind {
		case inText:
			b.WriteString(escapeText(n.text))
		case inToken:
			b.WriteString(sanitizeChars(n.text))
		case inBreak:
			b.WriteString("<br />")
		case inStrong:
			b.WriteString("<strong>")
			e.inlines(n.children)
			b.WriteString("</strong>")
		case inEm:
			b.WriteString("<em>")
			e.inlines(n.children)
			b.WriteString("</em>")
		case inLink:
			href := safeHref(n.url, false)
			if href == "" {
				e.inlines(n.children)
				continue
			}
			b.WriteString(`<a href="` + escapeAttr(href) + `" target="_blank" style="color:` + e.th.link + `;text-decoration:underline;">`)
			e.inlines(n.children)
			b.WriteString("</a>")
		}
	}
}

func (e *emailWriter) footer(o EmailOptions) {
	b := &e.b
	th := e.th
	pStyle := func(last bool) string {
		m := "0 0 8px"
		if last {
			m = "0"
		}
		return "margin:" + m + ";font-family:" + th.font + ";font-size:13px;line-height:20px;color:" + th.muted + ";text-align:center;"
	}
	linkStyle := `style="color:` + th.muted + `;text-decoration:underline;"`
	b.WriteString(`<tr><td style="padding:24px;border-top:1px solid ` + th.muted + `;">`)
	if th.company != "" || th.address != "" {
		b.WriteString(`<p style="` + pStyle(false) + `">`)
		var lines []string
		if th.company != "" {
			lines = append(lines, escapeText(oneLine(th.company)))
		}
		for l := range strings.SplitSeq(th.address, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, escapeText(l))
			}
		}
		b.WriteString(strings.Join(lines, "<br />") + "</p>")
	}
	if th.contactEmail != "" {
		b.WriteString(`<p style="` + pStyle(false) + `"><a href="mailto:` + escapeAttr(th.contactEmail) + `" target="_blank" ` + linkStyle + ">" +
			escapeText(th.contactEmail) + "</a></p>")
	}
	if th.contactURL != "" {
		b.WriteString(`<p style="` + pStyle(false) + `"><a href="` + escapeAttr(th.contactURL) + `" target="_blank" ` + linkStyle + ">" +
			escapeText(displayURL(th.contactURL)) + "</a></p>")
	}
	unsub := strings.TrimSpace(o.UnsubscribeURL)
	if unsub == "" || safeHref(unsub, false) == "" {
		unsub = DefaultUnsubscribeURL
	}
	b.WriteString(`<p style="` + pStyle(true) + `">Don't want these emails? <a href="` + escapeAttr(unsub) + `" target="_blank" ` + linkStyle + ">Unsubscribe</a>.</p>")
	b.WriteString("</td></tr>\n")
}

// displayURL is a URL as a footer shows it: without the scheme and a
// trailing slash.
func displayURL(u string) string {
	return strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
}
