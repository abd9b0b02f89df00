package content

import (
	"io"
	"strings"

	"golang.org/x/net/html"
)

// html blocks accept a raw HTML fragment. It is re-serialized through an
// allow-list rather than pasted: scripts, frames, embeds, forms and event
// handlers are dropped, URLs are checked, and tags are balanced, so a
// fragment can neither run code nor break the layout around it. Validate
// reports everything the sanitizer removes, so nothing disappears silently.

var allowedTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "s": true,
	"strike": true, "small": true, "sup": true, "sub": true, "span": true, "div": true,
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"ul": true, "ol": true, "li": true, "blockquote": true, "table": true, "thead": true,
	"tbody": true, "tfoot": true, "tr": true, "td": true, "th": true, "caption": true,
	"figure": true, "figcaption": true, "code": true, "pre": true, "center": true,
	"font": true, "br": true, "hr": true, "img": true, "dl": true, "dt": true, "dd": true,
	"abbr": true, "cite": true, "q": true, "mark": true, "del": true, "ins": true,
	"section": true, "article": true, "aside": true, "header": true, "footer": true,
	"nav": true, "address": true,
}

var voidTags = map[string]bool{"br": true, "hr": true, "img": true, "meta": true, "link": true,
	"input": true, "base": true, "col": true, "embed": true, "param": true, "source": true,
	"track": true, "wbr": true, "area": true, "keygen": true}

// droppedWithContent are removed together with everything inside them.
var droppedWithContent = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "embed": true,
	"noscript": true, "template": true, "svg": true, "math": true, "textarea": true,
	"select": true, "title": true, "head": true, "frameset": true, "frame": true,
	"applet": true, "noembed": true, "noframes": true, "xmp": true, "plaintext": true,
	"audio": true, "video": true, "canvas": true, "button": true,
}

var allowedAttrs = map[string]bool{
	"style": true, "class": true, "id": true, "title": true, "dir": true, "lang": true,
	"align": true, "valign": true, "width": true, "height": true, "bgcolor": true,
	"border": true, "cellpadding": true, "cellspacing": true, "colspan": true,
	"rowspan": true, "role": true, "aria-label": true, "aria-hidden": true,
	"href": true, "target": true, "rel": true, "src": true, "alt": true, "color": true,
	"face": true, "size": true, "start": true, "type": true, "name": true,
}

const maxSanitizeDepth = 64

// sanitizeFragment re-serializes an HTML fragment through the allow-list.
// email selects XHTML-style void tags and target="_blank" on links. The
// issues describe what was removed or is missing, one per kind.
func sanitizeFragment(s string, email bool) (string, []Problem) {
	sz := &sanitizer{email: email, seen: map[string]bool{}}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				sz.issue("err", "the HTML could not be read to the end", "check the fragment")
			}
			break
		}
		if sz.skipping(z, tt) {
			continue
		}
		switch tt {
		case html.TextToken:
			sz.b.WriteString(escapeText(string(z.Text())))
		case html.CommentToken, html.DoctypeToken:
			// dropped: conditional comments and doctypes have no place in a fragment
		case html.StartTagToken, html.SelfClosingTagToken:
			sz.startTag(z, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			nameB, _ := z.TagName()
			sz.closeOpen(string(nameB))
		}
	}
	sz.closeTo(0)
	return sz.b.String(), sz.issues
}

// sanitizer is one run of sanitizeFragment.
type sanitizer struct {
	b      strings.Builder
	email  bool
	issues []Problem
	seen   map[string]bool // issue keys already reported
	stack  []string        // open elements, outermost first
	// skipTag is the element being dropped with its content, skipDepth its
	// nesting (0: not skipping).
	skipTag   string
	skipDepth int
}

// issue reports a problem once per key.
func (sz *sanitizer) issue(key, msg, fix string) {
	if !sz.seen[key] {
		sz.seen[key] = true
		sz.issues = append(sz.issues, Problem{Message: msg, Fix: fix})
	}
}

// skipping reports whether the token is inside an element dropped with
// its content, counting only that element's own nesting.
func (sz *sanitizer) skipping(z *html.Tokenizer, tt html.TokenType) bool {
	if sz.skipDepth == 0 {
		return false
	}
	switch tt {
	case html.StartTagToken:
		if name, _ := z.TagName(); string(name) == sz.skipTag {
			sz.skipDepth++
		}
	case html.EndTagToken:
		if name, _ := z.TagName(); string(name) == sz.skipTag {
			sz.skipDepth--
		}
	}
	return true
}

// startTag writes an allowed start tag with its allowed attributes, or
// drops the tag (and, for droppedWithContent, what it holds).
func (sz *sanitizer) startTag(z *html.Tokenizer, selfClosing bool) {
	nameB, hasAttr := z.TagName()
	name := string(nameB)
	if droppedWithContent[name] {
		sz.issue("tag:"+name, "<"+name+"> is not allowed in an html block and is removed with its content", "remove it; use a button block for calls to action")
		if !selfClosing && !voidTags[name] {
			sz.skipTag, sz.skipDepth = name, 1
		}
		return
	}
	if !allowedTags[name] {
		if name != "html" && name != "body" {
			sz.issue("tag:"+name, "<"+name+"> is not allowed in an html block; the tag is removed, its text kept", "use the allowed formatting tags (p, a, strong, em, ul, li, table, img, ...)")
		}
		return
	}
	keys, vals := sz.attributes(z, name, hasAttr)
	if name == "img" {
		if _, ok := vals["alt"]; !ok {
			sz.issue("alt", "an image in the html block has no alt attribute", `add alt="..." describing the image`)
		}
	}
	sz.impliedEndTags(name)
	if !voidTags[name] && len(sz.stack) >= maxSanitizeDepth {
		sz.issue("depth", "the html block nests too deeply; inner tags are removed", "flatten the markup")
		return
	}
	sz.writeStartTag(name, keys, vals, selfClosing)
}

// attributes reads the tag's attributes and keeps the allowed ones, in
// order, with their values (a repeated attribute is written each time, with
// its last value).
func (sz *sanitizer) attributes(z *html.Tokenizer, tag string, hasAttr bool) (keys []string, vals map[string]string) {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		key := string(k)
		val, ok := sz.attribute(tag, key, string(v))
		if !ok {
			continue
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[key] = val
		keys = append(keys, key)
	}
	return keys, vals
}

// attribute returns the value to write for one attribute of an allowed
// tag, or false to drop it.
func (sz *sanitizer) attribute(tag, key, val string) (string, bool) {
	if strings.HasPrefix(key, "on") {
		sz.issue("on", "event handler attributes ("+key+") are not allowed and are removed", "remove them")
		return "", false
	}
	if !allowedAttrs[key] {
		return "", false
	}
	switch key {
	case "href":
		if tag != "a" {
			return "", false
		}
		if safeHref(val, !sz.email) == "" {
			sz.issue("href:"+val, "link "+quoteShort(val)+" is not an allowed URL and is removed", "use an absolute https:// URL")
			return "", false
		}
		return strings.TrimSpace(val), true
	case "src":
		if tag != "img" {
			return "", false
		}
		if safeSrc(val) == "" || (sz.email && srcProblem(val) != "") {
			sz.issue("src:"+val, "image source "+quoteShort(val)+" is not an absolute https:// URL and is removed", "use an absolute https:// URL")
			return "", false
		}
		return strings.TrimSpace(val), true
	case "style":
		if unsafeStyle(val) {
			sz.issue("style", "a style attribute with scripting or non-https URLs is removed", "use plain CSS properties")
			return "", false
		}
	case "target":
		if sz.email {
			return "", false // every link gets target="_blank"
		}
	}
	return val, true
}

// unsafeStyle reports CSS that can run script or load from a non-https
// URL.
func unsafeStyle(val string) bool {
	low := strings.ToLower(val)
	return strings.Contains(low, "expression") || strings.Contains(low, "javascript:") ||
		strings.Contains(low, "behavior") || strings.Contains(low, "binding") ||
		strings.Contains(low, "@import") || strings.Contains(low, "url(") && !strings.Contains(low, "url(https:")
}

// impliedEndTags closes what an HTML parser would close before a name
// start tag: a p before a p, a cell before a cell or row, a link before a
// link.
func (sz *sanitizer) impliedEndTags(name string) {
	switch name {
	case "p", "li", "dt", "dd":
		if t := sz.top(); t == name || (name == "dt" || name == "dd") && (t == "dt" || t == "dd") {
			sz.closeTo(len(sz.stack) - 1)
		}
	case "td", "th":
		if t := sz.top(); t == "td" || t == "th" {
			sz.closeTo(len(sz.stack) - 1)
		}
	case "tr":
		if t := sz.top(); t == "td" || t == "th" {
			sz.closeTo(len(sz.stack) - 1)
		}
		if sz.top() == "tr" {
			sz.closeTo(len(sz.stack) - 1)
		}
	case "a":
		sz.closeOpen("a")
	}
}

// writeStartTag writes the tag and opens it; void and self-closing tags
// are not left open.
func (sz *sanitizer) writeStartTag(name string, keys []string, vals map[string]string, selfClosing bool) {
	b := &sz.b
	b.WriteString("<" + name)
	for _, k := range keys {
		b.WriteString(" " + k + `="` + escapeAttr(vals[k]) + `"`)
	}
	if name == "a" && sz.email {
		b.WriteString(` target="_blank"`)
	}
	if voidTags[name] {
		if sz.email {
			b.WriteString(" />")
		} else {
			b.WriteString(">")
		}
		return
	}
	b.WriteString(">")
	if selfClosing {
		b.WriteString("</" + name + ">")
		return
	}
	sz.stack = append(sz.stack, name)
}

// closeOpen closes the innermost open name element and everything inside
// it; an end tag for an element that is not open is dropped.
func (sz *sanitizer) closeOpen(name string) {
	for i := len(sz.stack) - 1; i >= 0; i-- {
		if sz.stack[i] == name {
			sz.closeTo(i)
			return
		}
	}
}

// closeTo closes open elements until n remain.
func (sz *sanitizer) closeTo(n int) {
	for len(sz.stack) > n {
		sz.b.WriteString("</" + sz.stack[len(sz.stack)-1] + ">")
		sz.stack = sz.stack[:len(sz.stack)-1]
	}
}

func (sz *sanitizer) top() string {
	if len(sz.stack) == 0 {
		return ""
	}
	return sz.stack[len(sz.stack)-1]
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "") + `"`
}
