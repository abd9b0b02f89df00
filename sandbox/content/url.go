package content

import (
	"net/url"
	"strings"
)

// urlKind classifies a URL for validation and rendering.
type urlKind int

const (
	urlInvalid  urlKind = iota
	urlHTTP             // http://host/...
	urlHTTPS            // https://host/...
	urlMailto           // mailto:
	urlTel              // tel:
	urlToken            // starts with a personalization token: {{ unsubscribe_url }}, {{ site }}/x, *|UNSUB|*
	urlAnchor           // #section
	urlRelative         // /path, path, ?q (pages only; not valid for blocks)
)

// classifyURL says what kind of URL s is, and why it is invalid when it is.
func classifyURL(s string) (urlKind, string) {
	if s == "" {
		return urlInvalid, "is empty"
	}
	if len(s) > MaxURLLen {
		return urlInvalid, "is longer than 2048 characters"
	}
	if s != strings.TrimSpace(s) {
		return urlInvalid, "has leading or trailing spaces"
	}
	if startsWithToken(s) {
		if hasBadURLChars(s) {
			return urlInvalid, "contains spaces or control characters outside personalization tokens"
		}
		return urlToken, ""
	}
	if hasBadURLChars(s) {
		return urlInvalid, "contains spaces or control characters"
	}
	if strings.HasPrefix(s, "#") {
		return urlAnchor, ""
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		if strings.HasPrefix(s, "//") {
			return urlInvalid, "is protocol-relative"
		}
		return urlRelative, ""
	}
	switch scheme {
	case "http", "https":
		if !strings.HasPrefix(rest, "//") {
			return urlInvalid, "has no host"
		}
		hostEnd := strings.IndexAny(rest[2:], "/?#")
		host := rest[2:]
		if hostEnd >= 0 {
			host = host[:hostEnd]
		}
		if host == "" || strings.HasPrefix(host, ":") {
			return urlInvalid, "has no host"
		}
		if !startsWithToken(host) {
			// Tokens break url.Parse; check the token-free form.
			if _, err := url.Parse(stripTokens(s)); err != nil {
				return urlInvalid, "is not a valid URL"
			}
		}
		if scheme == "https" {
			return urlHTTPS, ""
		}
		return urlHTTP, ""
	case "mailto":
		if rest == "" {
			return urlInvalid, "has no address"
		}
		return urlMailto, ""
	case "tel":
		if rest == "" {
			return urlInvalid, "has no number"
		}
		return urlTel, ""
	}
	return urlInvalid, "uses the " + scheme + ": scheme"
}

// splitScheme returns the lower-cased scheme of s, if s has one.
func splitScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9', c == '+', c == '-', c == '.':
			if i == 0 {
				return "", "", false
			}
		case c == ':':
			if i == 0 {
				return "", "", false
			}
			return strings.ToLower(s[:i]), s[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// hasBadURLChars reports spaces and control characters outside tokens.
func hasBadURLChars(s string) bool {
	for i := 0; i < len(s); {
		if end, ok := tokenEnd(s, i); ok {
			i = end
			continue
		}
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' {
			return true
		}
		i++
	}
	return false
}

// stripTokens replaces every token in s by "x" (for syntax checks).
func stripTokens(s string) string {
	if !strings.Contains(s, "{") && !strings.Contains(s, "*|") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if end, ok := tokenEnd(s, i); ok {
			b.WriteByte('x')
			i = end
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// linkProblem returns why s is not acceptable as a block's link target
// (button URL, image link, paragraph link), or "".
func linkProblem(s string) string {
	k, why := classifyURL(s)
	switch k {
	case urlInvalid:
		return "URL " + why
	case urlRelative:
		return "URL is relative"
	}
	return ""
}

// srcProblem returns why s is not acceptable as an image source, or "".
func srcProblem(s string) string {
	k, why := classifyURL(s)
	switch k {
	case urlHTTPS, urlToken:
		return ""
	case urlHTTP:
		return "image source uses http:// (mixed content; many clients block it)"
	case urlInvalid:
		return "image source " + why
	}
	return "image source is not an absolute https:// URL"
}

// safeHref returns s if it is safe to render as a link target in the given
// context, else "". Renderers use it so that unvalidated input can never
// produce a javascript: or data: link.
func safeHref(s string, allowRelative bool) string {
	s = strings.TrimSpace(s)
	k, _ := classifyURL(s)
	switch k {
	case urlInvalid:
		return ""
	case urlRelative:
		if !allowRelative {
			return ""
		}
	}
	return s
}

// safeSrc returns s if it may be rendered as an image source, else "".
func safeSrc(s string) string {
	s = strings.TrimSpace(s)
	switch k, _ := classifyURL(s); k {
	case urlHTTPS, urlHTTP, urlToken, urlRelative:
		return s
	}
	return ""
}
