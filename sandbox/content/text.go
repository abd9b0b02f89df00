package content

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// TextWidth is the column at which plain text is wrapped. Words longer
// than that (URLs, tokens) are never broken.
const TextWidth = 78

// --- shared plain-text helpers ---

// textOut accumulates paragraphs separated by blank lines (list items by a
// single newline).
type textOut struct {
	b        strings.Builder
	lastList bool
}

func (t *textOut) para(s string, listItem bool) {
	s = strings.Trim(s, "\n")
	if strings.TrimSpace(s) == "" {
		return
	}
	if t.b.Len() > 0 {
		if listItem && t.lastList {
			t.b.WriteString("\n")
		} else {
			t.b.WriteString("\n\n")
		}
	}
	t.b.WriteString(s)
	t.lastList = listItem
}

func (t *textOut) String() string {
	if t.b.Len() == 0 {
		return ""
	}
	return t.b.String() + "\n"
}

// wrapLines wraps each line of s at TextWidth. The first line starts with
// first, continuation lines with indent. Tokens ({{ … }}) count as one word
// even though they contain spaces, so they are never split.
func wrapLines(s, first, indent string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/TextWidth*(len(indent)+1) + len(first))
	prefix := first
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		wrapLine(&b, strings.TrimSpace(line), prefix, indent)
		prefix = indent
	}
	return b.String()
}

func wrapLine(b *strings.Builder, line, prefix, indent string) {
	b.WriteString(prefix)
	col := utf8.RuneCountInString(prefix)
	lineStart := true
	for i := 0; i < len(line); {
		// Skip spaces.
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		// Read one word; a token is part of the word, spaces and all.
		start := i
		for i < len(line) && line[i] != ' ' {
			if end, ok := tokenEnd(line, i); ok {
				i = end
				continue
			}
			i++
		}
		w := line[start:i]
		n := utf8.RuneCountInString(w)
		if !lineStart && col+1+n > TextWidth {
			b.WriteByte('\n')
			b.WriteString(indent)
			col = utf8.RuneCountInString(indent)
			lineStart = true
		}
		if !lineStart {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
		lineStart = false
	}
}

// headingText formats a heading for plain text: level 1 underlined with
// "=", deeper levels with "-". Headings are not upper-cased: ALL-CAPS words
// read as shouting and trip governance's acronym and caps rules.
func headingText(s string, level int) string {
	w := wrapLines(s, "", "")
	longest := 0
	for l := range strings.SplitSeq(w, "\n") {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	longest = min(longest, TextWidth)
	ch := "="
	if level >= 2 {
		ch = "-"
	}
	return w + "\n" + strings.Repeat(ch, longest)
}

// --- the email's plain-text part, from the blocks ---

func emailText(blocks []Block, th theme, o EmailOptions) string {
	var t textOut
	for i, bl := range blocks {
		if i >= MaxBlocks {
			break
		}
		if bl.Type == TypeColumns {
			for _, col := range bl.Columns {
				for j, c := range col {
					if j >= MaxColumnCells {
						break
					}
					cellText(&t, c)
				}
			}
			continue
		}
		cellText(&t, bl.Cell)
	}
	if o.Footer {
		var lines []string
		if th.company != "" {
			lines = append(lines, oneLine(th.company))
		}
		for l := range strings.SplitSeq(th.address, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if th.contactEmail != "" {
			lines = append(lines, th.contactEmail)
		}
		if th.contactURL != "" {
			lines = append(lines, th.contactURL)
		}
		unsub := strings.TrimSpace(o.UnsubscribeURL)
		if unsub == "" || safeHref(unsub, false) == "" {
			unsub = DefaultUnsubscribeURL
		}
		foot := "--\n"
		if len(lines) > 0 {
			foot += wrapLines(strings.Join(lines, "\n"), "", "") + "\n\n"
		}
		foot += "Don't want these emails? Unsubscribe: " + unsub
		t.para(foot, false)
	}
	return t.String()
}

func cellText(t *textOut, c Cell) {
	switch c.Type {
	case TypeHeading:
		lvl := c.Level
		if lvl < 1 || lvl > 3 {
			lvl = 1
		}
		t.para(headingText(oneLine(c.Text), lvl), false)
	case TypeParagraph:
		for _, p := range mdParagraphs(c.Text) {
			var b strings.Builder
			inlineText(&b, p)
			t.para(wrapLines(b.String(), "", ""), false)
		}
	case TypeButton:
		label := oneLine(c.Text)
		if href := safeHref(c.URL, false); href != "" {
			t.para(label+": "+href, false)
		} else {
			t.para(label, false)
		}
	case TypeImage:
		alt := oneLine(c.Alt)
		if alt == "" || safeSrc(c.Src) == "" {
			return
		}
		s := "[" + alt + "]"
		if href := safeHref(c.URL, false); href != "" {
			s += " (" + href + ")"
		}
		t.para(wrapLines(s, "", ""), false)
	case TypeDivider:
		t.para("----------", false)
	case TypeHTML:
		frag, _ := sanitizeFragment(cleanText(c.Text), true)
		t.para(strings.TrimSpace(HTMLToText(frag)), false)
	}
}

func inlineText(b *strings.Builder, ns []inline) {
	for _, n := range ns {
		switch n.kind {
		case inText, inToken:
			b.WriteString(n.text)
		case inBreak:
			b.WriteByte('\n')
		case inStrong, inEm:
			inlineText(b, n.children)
		case inLink:
			var lb strings.Builder
			inlineText(&lb, n.children)
			label := lb.String()
			b.WriteString(label)
			href := safeHref(n.url, false)
			if href != "" && strings.TrimSpace(label) != href && "mailto:"+strings.TrimSpace(label) != href {
				b.WriteString(" (" + href + ")")
			}
		}
	}
}

// --- HTMLToText ---

// HTMLToText makes a readable plain-text version of any HTML: headings
// underlined (h1 "=", h2–h6 "-"), paragraphs separated
// by blank lines, list items as "- " or "1. ", links as "label (url)",
// images as their alt text in brackets; head, style, script and hidden
// (display:none) elements skipped; whitespace collapsed; lines wrapped at
// 78 columns. It uses a streaming tokenizer and keeps no element stack,
// so time and memory are linear in the input whatever its shape
// (unclosed tags, deep nesting, huge attributes).
func HTMLToText(s string) string {
	c := &h2t{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF or a read error: either way, the end
		}
		if c.skipDepth > 0 {
			switch tt {
			case html.StartTagToken:
				if name, _ := z.TagName(); string(name) == c.skipTag {
					c.skipDepth++
				}
			case html.EndTagToken:
				if name, _ := z.TagName(); string(name) == c.skipTag {
					c.skipDepth--
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			c.text(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			c.start(z, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(string(name))
		}
	}
	c.flush()
	out := c.out.String()
	if !utf8.ValidString(out) { // hrefs are copied as given
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out
}

var textSkipTags = map[string]bool{
	"head":   false, // not skipped wholesale: a missing </head> would swallow the body
	"script": true, "style": true, "title": true, "noscript": true, "template": true,
	"svg": true, "math": true, "select": true, "textarea": true, "iframe": true,
	"object": true, "noembed": true, "noframes": true, "datalist": true, "audio": true,
	"video": true, "canvas": true,
}

var textBlockTags = map[string]bool{
	"p": true, "div": true, "table": true, "tr": true, "td": true, "th": true,
	"thead": true, "tbody": true, "tfoot": true, "caption": true, "blockquote": true,
	"section": true, "article": true, "header": true, "footer": true, "main": true,
	"nav": true, "aside": true, "figure": true, "figcaption": true, "form": true,
	"fieldset": true, "legend": true, "pre": true, "address": true, "dl": true,
	"dt": true, "dd": true, "center": true, "body": true, "html": true, "details": true,
	"summary": true, "ul": true, "ol": true, "li": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "dialog": true,
}

const maxListDepth = 8

type h2t struct {
	out       textOut
	cur       strings.Builder
	space     bool // a space is pending before the next word
	skipTag   string
	skipDepth int

	heading  int // level of the heading being collected, 0 if none
	listItem bool
	prefix   string // first-line prefix of the current list item
	indent   string

	lists        []listState
	listOverflow int

	linkHref    string
	linkStart   int // byte offset in cur where the link text starts
	inLink      bool
	linkHadText bool // link text was flushed in an earlier paragraph
}

type listState struct {
	ordered bool
	n       int
}

func (c *h2t) text(t []byte) {
	for len(t) > 0 {
		r, size := utf8.DecodeRune(t)
		t = t[size:]
		switch {
		case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x034f || r == 0xfeff || r == 0x00ad || r == 0x2060:
			// invisible preheader padding and soft hyphens
		case unicode.IsSpace(r) || r == 0xa0:
			c.space = true
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			// control characters
		default:
			if c.space && c.cur.Len() > 0 && !strings.HasSuffix(c.cur.String(), "\n") {
				c.cur.WriteByte(' ')
			}
			c.space = false
			c.cur.WriteRune(r)
		}
	}
}

// word appends a literal word (alt text, a URL) with collapsed spacing.
func (c *h2t) word(s string) {
	c.text([]byte(s))
}

// tagAttrs holds the attributes HTMLToText looks at.
type tagAttrs struct {
	href, alt       string
	hasHref, hidden bool
}

func readAttrs(z *html.Tokenizer, hasAttr bool) tagAttrs {
	var a tagAttrs
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		switch string(k) {
		case "href":
			a.href, a.hasHref = string(v), true
		case "alt":
			a.alt = string(v)
		case "hidden":
			a.hidden = true
		case "style":
			a.hidden = a.hidden || styleHides(v)
		}
	}
	return a
}

// styleHides reports display:none or visibility:hidden in a style value.
func styleHides(v []byte) bool {
	low := bytes.ToLower(v)
	if !bytes.Contains(low, []byte("none")) && !bytes.Contains(low, []byte("hidden")) {
		return false
	}
	st := strings.Join(strings.Fields(string(low)), "")
	return strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden")
}

func (c *h2t) start(z *html.Tokenizer, selfClosing bool) {
	nameB, hasAttr := z.TagName()
	name := string(nameB)
	if textSkipTags[name] {
		if !selfClosing {
			c.skipTag, c.skipDepth = name, 1
		}
		return
	}
	a := readAttrs(z, hasAttr)
	if a.hidden {
		if !selfClosing && !voidTags[name] {
			c.skipTag, c.skipDepth = name, 1
		}
		return
	}
	if textBlockTags[name] {
		c.flush()
	}
	switch name {
	case "br":
		c.cur.WriteByte('\n')
		c.space = false
	case "hr":
		c.out.para("----------", false)
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.heading = int(name[1] - '0')
	case "ul", "ol":
		if len(c.lists) < maxListDepth {
			c.lists = append(c.lists, listState{ordered: name == "ol"})
		} else {
			c.listOverflow++
		}
	case "li":
		depth := len(c.lists)
		c.listItem = true
		c.indent = strings.Repeat("  ", max(depth-1, 0))
		marker := "- "
		if depth > 0 && c.lists[depth-1].ordered {
			c.lists[depth-1].n++
			marker = strconv.Itoa(c.lists[depth-1].n) + ". "
		}
		c.prefix = c.indent + marker
		c.indent += strings.Repeat(" ", len(marker))
	case "a":
		c.endLink()
		if a.hasHref {
			c.inLink = true
			c.linkHref = strings.TrimSpace(a.href)
			c.linkStart = c.cur.Len()
			c.linkHadText = false
			if c.space && c.cur.Len() > 0 {
				// The space before the link belongs before its text.
				c.cur.WriteByte(' ')
				c.space = false
				c.linkStart = c.cur.Len()
			}
		}
	case "img":
		if alt := strings.Join(strings.Fields(a.alt), " "); alt != "" {
			c.word("[" + alt + "]")
		}
	}
}

func (c *h2t) end(name string) {
	switch name {
	case "a":
		c.endLink()
		return
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.flush()
		c.heading = 0
		return
	case "li":
		c.flush()
		c.listItem = false
		return
	case "ul", "ol":
		c.flush()
		c.listItem = false
		if c.listOverflow > 0 {
			c.listOverflow--
		} else if len(c.lists) > 0 {
			c.lists = c.lists[:len(c.lists)-1]
		}
		return
	}
	if textBlockTags[name] {
		c.flush()
	}
}

// showHref reports whether a link's URL is worth printing in plain text.
func showHref(href string) bool {
	k, _ := classifyURL(href)
	return k == urlHTTP || k == urlHTTPS || k == urlToken || k == urlMailto
}

func (c *h2t) endLink() {
	if !c.inLink {
		return
	}
	c.inLink = false
	href := c.linkHref
	if !showHref(href) {
		return
	}
	cur := c.cur.String()
	label := strings.TrimSpace(cur[min(c.linkStart, len(cur)):])
	switch {
	case label == "" && !c.linkHadText:
		c.word(href)
	case label == href || "mailto:"+label == href || label == "":
	default:
		c.cur.WriteString(" (" + href + ")")
		c.space = false
	}
}

// flush ends the current paragraph.
func (c *h2t) flush() {
	if c.inLink {
		c.linkHadText = c.linkHadText || strings.TrimSpace(c.cur.String()[min(c.linkStart, c.cur.Len()):]) != ""
		c.linkStart = 0
	}
	text := strings.TrimSpace(c.cur.String())
	c.cur.Reset()
	c.space = false
	if text == "" {
		return
	}
	switch {
	case c.heading > 0:
		c.out.para(headingText(text, c.heading), false)
	case c.listItem:
		c.out.para(wrapLines(text, c.prefix, c.indent), true)
	default:
		c.out.para(wrapLines(text, "", ""), false)
	}
	c.heading = 0
	c.listItem = false
}
