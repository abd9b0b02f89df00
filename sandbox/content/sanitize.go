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
	var b strings.Builder
	var issues []Problem
	seen := map[string]bool{}
	issue := func(key, msg, fix string) {
		if !seen[key] {
			seen[key] = true
			issues = append(issues, Problem{Message: msg, Fix: fix})
		}
	}
	var stack []string
	closeTo := func(n int) {
		for len(stack) > n {
			b.WriteString("</" + stack[len(stack)-1] + ">")
			stack = stack[:len(stack)-1]
		}
	}
	top := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1]
	}
	skipTag, skipDepth := "", 0

	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				issue("err", "the HTML could not be read to the end", "check the fragment")
			}
			break
		}
		if skipDepth > 0 {
			// Inside a dropped element: count only its own nesting.
			switch tt {
			case html.StartTagToken:
				if name, _ := z.TagName(); string(name) == skipTag {
					skipDepth++
				}
			case html.EndTagToken:
				if name, _ := z.TagName(); string(name) == skipTag {
					skipDepth--
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			b.WriteString(escapeText(string(z.Text())))
		case html.CommentToken, html.DoctypeToken:
			// dropped: conditional comments and doctypes have no place in a fragment
		case html.StartTagToken, html.SelfClosingTagToken:
			nameB, hasAttr := z.TagName()
			name := string(nameB)
			if droppedWithContent[name] {
				issue("tag:"+name, "<"+name+"> is not allowed in an html block and is removed with its content", "remove it; use a button block for calls to action")
				if tt == html.StartTagToken && !voidTags[name] {
					skipTag, skipDepth = name, 1
				}
				continue
			}
			var attrs []string
			var attrVals map[string]string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key, val := string(k), string(v)
				if !allowedTags[name] {
					continue
				}
				if strings.HasPrefix(key, "on") {
					issue("on", "event handler attributes ("+key+") are not allowed and are removed", "remove them")
					continue
				}
				if !allowedAttrs[key] {
					continue
				}
				if key == "href" && name != "a" || key == "src" && name != "img" {
					continue
				}
				switch key {
				case "href":
					if safeHref(val, !email) == "" {
						issue("href:"+val, "link "+quoteShort(val)+" is not an allowed URL and is removed", "use an absolute https:// URL")
						continue
					}
					val = strings.TrimSpace(val)
				case "src":
					if safeSrc(val) == "" || (email && srcProblem(val) != "") {
						issue("src:"+val, "image source "+quoteShort(val)+" is not an absolute https:// URL and is removed", "use an absolute https:// URL")
						continue
					}
					val = strings.TrimSpace(val)
				case "style":
					low := strings.ToLower(val)
					if strings.Contains(low, "expression") || strings.Contains(low, "javascript:") ||
						strings.Contains(low, "behavior") || strings.Contains(low, "binding") ||
						strings.Contains(low, "@import") || strings.Contains(low, "url(") && !strings.Contains(low, "url(https:") {
						issue("style", "a style attribute with scripting or non-https URLs is removed", "use plain CSS properties")
						continue
					}
				case "target":
					if email {
						continue // set below
					}
				}
				if attrVals == nil {
					attrVals = map[string]string{}
				}
				attrVals[key] = val
				attrs = append(attrs, key)
			}
			if !allowedTags[name] {
				if name != "html" && name != "body" {
					issue("tag:"+name, "<"+name+"> is not allowed in an html block; the tag is removed, its text kept", "use the allowed formatting tags (p, a, strong, em, ul, li, table, img, ...)")
				}
				continue
			}
			if name == "img" {
				if _, ok := attrVals["alt"]; !ok {
					issue("alt", "an image in the html block has no alt attribute", `add alt="..." describing the image`)
				}
			}
			// Implied end tags, as an HTML parser would apply them.
			switch name {
			case "p", "li", "dt", "dd":
				if t := top(); t == name || (name == "dt" || name == "dd") && (t == "dt" || t == "dd") {
					closeTo(len(stack) - 1)
				}
			case "td", "th":
				if t := top(); t == "td" || t == "th" {
					closeTo(len(stack) - 1)
				}
			case "tr":
				if t := top(); t == "td" || t == "th" {
					closeTo(len(stack) - 1)
				}
				if top() == "tr" {
					closeTo(len(stack) - 1)
				}
			case "a":
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == "a" {
						closeTo(i)
						break
					}
				}
			}
			if !voidTags[name] && len(stack) >= maxSanitizeDepth {
				issue("depth", "the html block nests too deeply; inner tags are removed", "flatten the markup")
				continue
			}
			b.WriteString("<" + name)
			for _, k := range attrs {
				b.WriteString(" " + k + `="` + escapeAttr(attrVals[k]) + `"`)
			}
			if name == "a" && email {
				b.WriteString(` target="_blank"`)
			}
			if voidTags[name] {
				if email {
					b.WriteString(" />")
				} else {
					b.WriteString(">")
				}
				continue
			}
			b.WriteString(">")
			if tt == html.SelfClosingTagToken {
				b.WriteString("</" + name + ">")
				continue
			}
			stack = append(stack, name)
		case html.EndTagToken:
			nameB, _ := z.TagName()
			name := string(nameB)
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == name {
					closeTo(i)
					break
				}
			}
		}
	}
	closeTo(0)
	return b.String(), issues
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "") + `"`
}
