package content

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// ApplyUTM adds the non-empty utm_* parameters of u to every http(s)
// <a href> of the document that lacks them. Parameters a link already has
// (any case) keep their values; other query parameters and the fragment
// are kept; mailto:, tel:, anchors, relative links and links that start
// with a personalization token ({{ unsubscribe_url }}) are left alone.
//
// Everything but the rewritten <a> tags is copied byte for byte; a
// rewritten tag is re-serialized with double-quoted attributes. ApplyUTM
// is idempotent.
func ApplyUTM(doc string, u UTM) string {
	params := u.params()
	if len(params) == 0 || !containsFold(doc, "<a") {
		return doc
	}
	var b bytes.Buffer
	b.Grow(len(doc) + len(doc)/10)
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		// Copy the raw bytes first: TagName and TagAttr rewrite the
		// tokenizer's buffer in place (lower-casing, unescaping).
		pos := b.Len()
		b.Write(z.Raw())
		if tt == html.ErrorToken {
			break // the raw bytes written are those of an unfinished last token
		}
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			if name, hasAttr := z.TagName(); hasAttr && string(name) == "a" {
				if tag, ok := rewriteAnchor(z, params, tt == html.SelfClosingTagToken); ok {
					b.Truncate(pos)
					b.WriteString(tag)
				}
			}
		}
	}
	return b.String()
}

type param struct{ key, val string }

func (u UTM) params() []param {
	var ps []param
	for _, p := range []param{
		{"utm_source", u.Source}, {"utm_medium", u.Medium}, {"utm_campaign", u.Campaign},
		{"utm_content", u.Content}, {"utm_term", u.Term},
	} {
		if v := strings.TrimSpace(p.val); v != "" {
			ps = append(ps, param{p.key, v})
		}
	}
	return ps
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// rewriteAnchor returns the <a> tag with utm parameters added to its href,
// or false when the tag should be copied unchanged.
func rewriteAnchor(z *html.Tokenizer, params []param, selfClosing bool) (string, bool) {
	type attr struct{ k, v string }
	var as []attr
	hrefAt := -1
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		key := string(k)
		if !safeAttrName(key) {
			return "", false // can't re-serialize it faithfully
		}
		if key == "href" && hrefAt < 0 {
			hrefAt = len(as)
		}
		as = append(as, attr{key, string(v)})
	}
	if hrefAt < 0 {
		return "", false
	}
	href, changed := addUTM(as[hrefAt].v, params)
	if !changed {
		return "", false
	}
	as[hrefAt].v = href
	var b strings.Builder
	b.WriteString("<a")
	for _, a := range as {
		b.WriteString(" " + a.k + `="` + escapeAttrAll(a.v) + `"`)
	}
	if selfClosing {
		b.WriteString(" />")
	} else {
		b.WriteString(">")
	}
	return b.String(), true
}

func safeAttrName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// escapeAttrAll escapes a decoded attribute value for a double-quoted
// attribute. Unlike escapeAttr it keeps every byte it does not have to
// escape (control characters included), so that decoding it gives back
// exactly the value the tokenizer read.
func escapeAttrAll(s string) string {
	if !strings.ContainsAny(s, `&"<>`) {
		return s
	}
	return attrEscaper.Replace(s)
}

var attrEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

// addUTM adds the missing params to an http(s) URL; changed is false when
// the URL is not one to tag or already has them all.
func addUTM(href string, params []param) (string, bool) {
	h := strings.TrimSpace(href)
	scheme, _, ok := splitScheme(h)
	if !ok || (scheme != "http" && scheme != "https") {
		return href, false
	}
	// Split off the fragment and the query, skipping tokens.
	fragAt, queryAt := -1, -1
	for i := 0; i < len(h); {
		if end, ok := tokenEnd(h, i); ok {
			i = end
			continue
		}
		if h[i] == '#' {
			fragAt = i
			break
		}
		if h[i] == '?' && queryAt < 0 {
			queryAt = i
		}
		i++
	}
	base, frag := h, ""
	if fragAt >= 0 {
		base, frag = h[:fragAt], h[fragAt:]
	}
	query := ""
	if queryAt >= 0 {
		query = base[queryAt+1:]
	}
	have := map[string]bool{}
	for kv := range strings.SplitSeq(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		have[strings.ToLower(k)] = true
	}
	var add strings.Builder
	for _, p := range params {
		if have[p.key] {
			continue
		}
		if add.Len() > 0 {
			add.WriteByte('&')
		}
		add.WriteString(p.key + "=" + url.QueryEscape(p.val))
	}
	if add.Len() == 0 {
		return href, false
	}
	switch {
	case queryAt < 0:
		base += "?"
	case strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&"):
	default:
		base += "&"
	}
	return base + add.String() + frag, true
}

// maxLinkText bounds the text recorded per link.
const maxLinkText = 500

// Links returns every <a href> of the document in order, with its text
// (whitespace collapsed, images contributing their alt, at most 500
// bytes). Links inside comments, scripts and styles are not links.
func Links(doc string) []Link {
	var links []Link
	z := html.NewTokenizer(strings.NewReader(doc))
	open := -1 // index of the link whose text is being collected
	var text strings.Builder
	space := false
	add := func(s string) {
		for _, r := range s {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == 0xa0 {
				space = true
				continue
			}
			if text.Len()+utf8.RuneLen(r)+1 > maxLinkText {
				return
			}
			if space && text.Len() > 0 {
				text.WriteByte(' ')
			}
			space = false
			text.WriteRune(r)
		}
	}
	closeLink := func() {
		if open >= 0 {
			t := text.String()
			if !utf8.ValidString(t) {
				t = strings.ToValidUTF8(t, "\uFFFD")
			}
			links[open].Text = t
			open = -1
		}
		text.Reset()
		space = false
	}
	skip := ""
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.TextToken:
			if open >= 0 && skip == "" {
				add(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "style", "title", "textarea", "noscript", "iframe", "noembed", "noframes", "xmp":
				if tt == html.StartTagToken {
					skip = string(name)
				}
			case "a":
				closeLink()
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						links = append(links, Link{Href: strings.TrimSpace(string(v))})
						open = len(links) - 1
						break
					}
				}
			case "img":
				if open >= 0 {
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "alt" {
							add(" " + string(v) + " ")
							break
						}
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == skip:
				skip = ""
			case n == "a":
				closeLink()
			}
		}
	}
	closeLink()
	return links
}

// textURL finds http(s) URLs in plain text: up to whitespace or a
// character that cannot end a URL in prose.
var textURL = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"'()\[\]]+[^\s<>"'()\[\].,;:!?]`) })

// ApplyUTMText adds the utm_* parameters to every http(s) URL in plain
// text (the text part of an email), as ApplyUTM does to links in HTML, so
// both parts of a message carry the same tags. Idempotent.
func ApplyUTMText(text string, u UTM) string {
	params := u.params()
	if len(params) == 0 || !strings.Contains(text, "http") {
		return text
	}
	return textURL().ReplaceAllStringFunc(text, func(m string) string {
		tagged, _ := addUTM(m, params)
		return tagged
	})
}

// TagURL adds the UTM parameters a URL lacks, as ApplyUTM does to every
// link of a document (an ad's final URL). URLs other than http(s) are
// returned as they are.
func TagURL(href string, u UTM) string {
	out, _ := addUTM(href, u.params())
	return out
}

// URLProblem says why s cannot be a link's target (an ad's final URL):
// not absolute, not http(s), badly formed; "" when it can.
func URLProblem(s string) string { return linkProblem(s) }
