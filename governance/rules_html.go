package governance

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// isUnsubscribe reports whether a link is an opt-out: its href names one
// (including platform tokens like *|UNSUB|* and {{ unsubscribe_link }}) or
// its text says so.
func (c *checker) isUnsubscribe(f *fieldScan, k int, words []string) bool {
	href := f.hrefOf(k)
	if containsFold(href, "unsub") || containsFold(href, "opt-out") || containsFold(href, "optout") {
		return true
	}
	l := &f.links[k]
	if l.textEnd > l.textStart {
		text := f.st.fold[l.textStart:l.textEnd]
		for _, w := range words {
			if containsFoldBytes(text, w) {
				return true
			}
		}
	}
	return false
}

// containsFold reports whether s contains sub (lower-case ASCII),
// ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
outer:
	for i := 0; i+len(sub) <= len(s); i++ {
		for j := 0; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

// containsFoldBytes: b is already folded.
func containsFoldBytes(b []byte, sub string) bool {
	return bytes.Contains(b, []byte(strings.ToLower(sub)))
}

// linkURL is the part of a URL the link and image rules read.
type linkURL struct {
	scheme string // lower case
	host   string // lower case, no port or user info
	query  string // raw, without '?' and fragment
}

var errBadURL = errors.New("malformed URL")

// parseURL splits an absolute or relative URL without allocating (most
// emails have dozens of links; net/url allocates for each). It rejects what
// no client could follow: spaces or control characters before the path,
// malformed schemes, hosts with characters hosts cannot have.
func parseURL(s string) (linkURL, error) {
	var u linkURL
	rest := s
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' {
		for k := 0; k < i; k++ {
			c := s[k]
			if !(isAlnum(c) || k > 0 && (c == '+' || c == '-' || c == '.')) || k == 0 && '0' <= c && c <= '9' {
				return u, errBadURL
			}
		}
		u.scheme = strings.ToLower(s[:i])
		rest = s[i+1:]
	} else if i == 0 && s[0] == ':' {
		return u, errBadURL
	}
	if strings.HasPrefix(rest, "//") {
		auth := rest[2:]
		end := strings.IndexAny(auth, "/?#")
		if end < 0 {
			end = len(auth)
		}
		rest = auth[end:]
		auth = auth[:end]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			auth = auth[at+1:]
		}
		if c := strings.LastIndexByte(auth, ':'); c >= 0 && !strings.Contains(auth[c:], "]") {
			auth = auth[:c]
		}
		for k := 0; k < len(auth); k++ {
			if c := auth[k]; c <= ' ' || c == 0x7f || strings.IndexByte("<>\"{}|\\^`%", c) >= 0 {
				return u, errBadURL
			}
		}
		u.host = strings.TrimSuffix(strings.ToLower(auth), ".")
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		u.query = rest[q+1:]
		if h := strings.IndexByte(u.query, '#'); h >= 0 {
			u.query = u.query[:h]
		}
	}
	for k := 0; k < len(s); k++ {
		if s[k] < ' ' || s[k] == 0x7f {
			return u, errBadURL
		}
	}
	return u, nil
}

// queryGet returns the first value of key in a raw query string, decoding
// only when it has to: url.Values would allocate a map per link.
func queryGet(raw, key string) string {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if k == key {
			if strings.ContainsAny(v, "%+") {
				if d, err := url.QueryUnescape(v); err == nil {
					return d
				}
			}
			return v
		}
	}
	return ""
}

var defaultUnsubWords = []string{"unsubscribe", "opt out", "opt-out", "optout"}

// footerBody checks the footer parts that live in the body of each body
// field (HTML and plain-text parts alike: both reach recipients).
func (c *checker) footerBody(r *rule, f *fieldScan) {
	if f.mask&scBody == 0 {
		return
	}
	missingAt := f.bodyEnd
	if !f.html {
		missingAt = len(f.src)
	}
	ft := c.p.brand.Footer
	loose := c.looseText(f, scBody)
	words := r.cfg.UnsubscribeWords
	if len(words) == 0 {
		words = defaultUnsubWords
	}
	for _, part := range r.cfg.Require {
		if key, what := unsetFor(part, ft); key != "" {
			c.add(r, f, missingAt, "",
				r.message("", key+" is not set in the policy, so "+what+" cannot be checked; the email cannot carry it either"),
				r.fix("", "A human runs `lastmile init` to set "+unsetWhat[key]+" ("+key+" in policy.yaml). The agent cannot set it; do not invent one."))
			continue
		}
		switch part {
		case "postal_address":
			if !strings.Contains(loose, looseForm(ft.PostalAddress)) {
				c.add(r, f, missingAt, ft.PostalAddress,
					r.message(ft.PostalAddress, "the footer does not show the postal address "+quote(ft.PostalAddress)+" (CAN-SPAM requires a valid physical address)"),
					r.fix(ft.PostalAddress, "Add the postal address to the footer: "+ft.PostalAddress))
			}
		case "sender_identity":
			if !strings.Contains(loose, looseForm(ft.Company)) {
				c.add(r, f, missingAt, ft.Company,
					r.message(ft.Company, "the footer does not name the sender "+quote(ft.Company)+" (CASL requires sender identification)"),
					r.fix(ft.Company, "Name the sender in the footer: "+ft.Company))
			}
		case "contact":
			if !c.hasContact(f, loose, ft) {
				want := strings.Trim(ft.ContactEmail+" or "+ft.ContactURL, " or")
				c.add(r, f, missingAt, want,
					r.message(want, "the footer gives no contact information (CASL requires a way to reach the sender)"),
					r.fix(want, "Add the contact details to the footer: "+want))
			}
		case "unsubscribe":
			found := false
			if f.html {
				for k := range f.links {
					if c.isUnsubscribe(f, k, words) {
						found = true
						break
					}
				}
			} else {
				for _, w := range words {
					if strings.Contains(string(f.st.fold), strings.ToLower(w)) {
						found = true
						break
					}
				}
				found = found || strings.Contains(strings.ToLower(f.src), "unsub")
			}
			if !found {
				c.add(r, f, missingAt, "",
					r.message("", "there is no unsubscribe link (CAN-SPAM and CASL require a working opt-out in every message)"),
					r.fix("", "Add a visible unsubscribe link to the footer, e.g. <a href=\"{{ unsubscribe_link }}\">Unsubscribe</a>."))
			}
		}
	}
}

// unsetFor names the brand footer value a footer part needs and the policy
// does not set ("" when it is set or the part needs none).
func unsetFor(part string, ft Footer) (key, what string) {
	switch {
	case part == "postal_address" && ft.PostalAddress == "":
		return UnsetPostalAddress, "the postal address CAN-SPAM requires"
	case part == "sender_identity" && ft.Company == "":
		return UnsetCompany, "the sender identification CASL and the GDPR require"
	case part == "contact" && ft.ContactEmail == "" && ft.ContactURL == "":
		return UnsetContact, "the contact information CASL requires"
	}
	return "", ""
}

func (c *checker) hasContact(f *fieldScan, loose string, ft Footer) bool {
	if ft.ContactEmail != "" && strings.Contains(loose, looseForm(ft.ContactEmail)) {
		return true
	}
	if ft.ContactURL != "" {
		u := strings.TrimSuffix(strings.ToLower(ft.ContactURL), "/")
		for k := range f.links {
			if h := f.hrefOf(k); len(h) >= len(u) && strings.EqualFold(h[:len(u)], u) {
				return true
			}
		}
		if strings.Contains(loose, looseForm(strings.TrimPrefix(u, "https://"))) {
			return true
		}
	}
	return false
}

func header(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// footerHeaders checks the List-Unsubscribe headers (RFC 2369 / RFC 8058)
// Gmail and Yahoo require of bulk senders.
func (c *checker) footerHeaders(r *rule, d *Document) {
	lu, hasLU := header(d.Headers, "List-Unsubscribe")
	for _, part := range r.cfg.Require {
		switch part {
		case "list_unsubscribe":
			switch {
			case !hasLU || lu == "":
				c.docFinding(r, fieldHeaders, "", r.message("List-Unsubscribe", "the List-Unsubscribe header is missing"),
					r.fix("List-Unsubscribe", "Have the target add List-Unsubscribe: <https://…/unsubscribe?…>, <mailto:…> to the message."))
			case !strings.Contains(lu, "<https://") && !strings.Contains(lu, "<mailto:"):
				c.docFinding(r, fieldHeaders, lu, r.message(lu, "the List-Unsubscribe header has no <https://…> or <mailto:…> URI"),
					r.fix(lu, "Write it as List-Unsubscribe: <https://…>, <mailto:…>."))
			}
		case "one_click_unsubscribe":
			post, _ := header(d.Headers, "List-Unsubscribe-Post")
			if !strings.EqualFold(strings.ReplaceAll(post, " ", ""), "List-Unsubscribe=One-Click") || !strings.Contains(lu, "<https://") {
				c.docFinding(r, fieldHeaders, post, r.message("List-Unsubscribe-Post", "one-click unsubscribe (RFC 8058) is not set up: it needs List-Unsubscribe-Post: List-Unsubscribe=One-Click and an https URI in List-Unsubscribe"),
					r.fix("List-Unsubscribe-Post", "Add List-Unsubscribe-Post: List-Unsubscribe=One-Click and an <https://…> one-click endpoint in List-Unsubscribe."))
			}
		}
	}
}

// isTemplateURL reports an href that a platform fills in at send time.
func isTemplateURL(h string) bool {
	for _, p := range []string{"{{", "{%", "*|", "[[", "%%", "${", "<%"} {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

func placeholderHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, p := range []string{"example.com", "example.org", "example.net", "example", "localhost", "yourdomain.com", "yoursite.com", "domain.com", "placeholder.com", "test"} {
		if host == p || strings.HasSuffix(host, "."+p) {
			return true
		}
	}
	return host == "127.0.0.1" || host == "0.0.0.0"
}

func hostAllowed(host string, domains []string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func (c *checker) linkRule(r *rule, f *fieldScan) {
	if !f.html {
		return
	}
	cfg := &r.cfg
	https := isTrue(cfg.HTTPS)
	placeholders := isTrue(cfg.Placeholders)
	email := c.doc.Channel == ChannelEmail
	for k := range f.links {
		l := &f.links[k]
		off := int(l.tagOff)
		if !l.href.present {
			if placeholders && (l.textEnd > l.textStart || l.hasImg) {
				text := string(f.st.text[l.textStart:l.textEnd])
				if c.room(r) {
					c.add(r, f, off, text, r.message(text, fmt.Sprintf("the link %s has no href", quote(text))),
						r.fix(text, "Give the link its destination: href=\"https://…\"."))
				}
			}
			continue
		}
		off = int(l.href.off)
		h := f.hrefOf(k)
		if hasPrefixAny(h, cfg.Exceptions) && h != "" {
			continue
		}
		lh := strings.ToLower(h)
		switch {
		case h == "" || h == "#":
			if placeholders {
				if c.room(r) {
					c.add(r, f, off, h, r.message(h, fmt.Sprintf("placeholder link href=%q", h)), r.fix(h, "Replace it with the real https:// destination."))
				}
			}
			continue
		case strings.HasPrefix(lh, "javascript:"):
			if placeholders {
				if c.room(r) {
					c.add(r, f, off, h, r.message(h, "javascript: links do nothing in email and pages should not use them"), r.fix(h, "Link to a real https:// page."))
				}
			}
			continue
		case isTemplateURL(h), strings.HasPrefix(lh, "mailto:"), strings.HasPrefix(lh, "tel:"), strings.HasPrefix(lh, "sms:"), strings.HasPrefix(h, "#"):
			continue
		}
		u, err := parseURL(h)
		if err != nil {
			// Reported once, by the rule about broken links; domain and
			// UTM rules cannot judge what does not parse.
			if (https || placeholders) && c.room(r) {
				c.add(r, f, off, h, r.message(h, fmt.Sprintf("malformed URL %s", quote(h))), r.fix(h, "Correct the URL."))
			}
			continue
		}
		host := u.host
		if u.scheme == "" && u.host == "" {
			if https && email {
				if c.room(r) {
					c.add(r, f, off, h, r.message(h, fmt.Sprintf("relative link %s does not resolve in an email client", quote(h))), r.fix(h, "Use an absolute https:// URL."))
				}
			}
			continue
		}
		if placeholders && placeholderHost(host) {
			if c.room(r) {
				c.add(r, f, off, h, r.message(h, fmt.Sprintf("placeholder link %s", quote(h))), r.fix(h, "Replace it with the real destination."))
			}
			continue
		}
		if https && u.scheme != "https" {
			if c.room(r) {
				c.add(r, f, off, h, r.message(h, fmt.Sprintf("link %s uses %s, not https", quote(h), u.scheme)),
					r.fix(h, "https"+h[len(u.scheme):]))
			}
		}
		if cfg.Domains != nil && !hostAllowed(host, cfg.Domains) {
			if c.room(r) {
				c.add(r, f, off, h, r.message(h, fmt.Sprintf("link to %s, which is not an allowed domain (%s)", host, strings.Join(cfg.Domains, ", "))),
					r.fix(h, "Link to an allowed domain or ask for "+host+" to be added to the policy."))
			}
		}
		if cfg.UTM != nil && (u.scheme == "https" || u.scheme == "http") {
			c.utm(r, f, k, off, h, u, host)
		}
	}
}

func (c *checker) utm(r *rule, f *fieldScan, k int, off int, h string, u linkURL, host string) {
	cfg := r.cfg.UTM
	scope := cfg.Domains
	if scope == nil {
		scope = r.cfg.Domains
	}
	if scope != nil && !hostAllowed(host, scope) {
		return
	}
	words := defaultUnsubWords
	if c.isUnsubscribe(f, k, words) {
		return // tracking parameters on an opt-out link serve no one
	}
	var missing []string
	for _, p := range cfg.Required {
		if strings.TrimSpace(queryGet(u.query, p)) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		add := make([]string, len(missing))
		for i, p := range missing {
			add[i] = p + "=" + firstOr(cfg.values[p], "…")
		}
		sep := "?"
		if u.query != "" {
			sep = "&"
		}
		base := h
		frag := ""
		if i := strings.IndexByte(h, '#'); i >= 0 {
			base, frag = h[:i], h[i:]
		}
		if c.room(r) {
			fix := base + sep + strings.Join(add, "&") + frag
			vals := map[string]string{}
			for _, p := range missing {
				vals[p] = firstOr(cfg.values[p], "")
			}
			if set := c.utmSetting(missing, vals); set != "" {
				// The campaign's tagging is added to every link that lacks
				// it, so the one call fixes them all.
				fix = set + " tags every link of the campaign; or tag this one: " + fix
			}
			c.add(r, f, off, h, r.message(h, fmt.Sprintf("link %s lacks %s", quote(h), strings.Join(missing, ", "))),
				r.fix(h, fix))
		}
	}
	for _, v := range cfg.Values {
		got := queryGet(u.query, v.Param)
		if got == "" || isTemplateURL(got) || slices.Contains(v.Allowed, got) {
			continue
		}
		if c.room(r) {
			c.add(r, f, off, h, r.message(h, fmt.Sprintf("%s=%s is not an allowed value (allowed: %s)", v.Param, got, strings.Join(v.Allowed, ", "))),
				r.fix(h, c.utmValueFix(v)))
		}
	}
}

// utmValueFix asks for an allowed value, naming the call that sets it
// when the campaign's tagging may have put the wrong one there.
func (c *checker) utmValueFix(v utmValues) string {
	fix := fmt.Sprintf("Set %s to one of: %s.", v.Param, strings.Join(v.Allowed, ", "))
	if set := c.utmSetting([]string{v.Param}, map[string]string{v.Param: firstOr(v.Allowed, "")}); set != "" {
		fix = fmt.Sprintf("Set %s to one of: %s — %s where the campaign's tagging set it; a value the link carries itself is kept, so change that one in the content.",
			v.Param, strings.Join(v.Allowed, ", "), set)
	}
	return fix
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// pxValue reads "3", "3px" or a style's width/height in px; -1 if unknown.
func pxValue(s string) int {
	s = strings.TrimSuffix(strings.TrimSpace(strings.ToLower(s)), "px")
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func styleProp(style, prop string) string {
	val := ""
	forEachDecl(style, false, func(d cssDecl) {
		if d.prop == prop {
			val = d.value
		}
	})
	return val
}

// isSpacer reports images that carry no meaning (spacers, tracking pixels,
// images marked decorative), for which alt="" is correct.
func isSpacer(f *fieldScan, img *imageInfo, maxPx int) bool {
	if strings.EqualFold(img.role.value(f.src), "presentation") || strings.EqualFold(img.aria.value(f.src), "true") {
		return true
	}
	w, h := pxValue(img.width.value(f.src)), pxValue(img.height.value(f.src))
	if st := img.style.value(f.src); st != "" {
		if w < 0 {
			w = pxValue(styleProp(st, "width"))
		}
		if h < 0 {
			h = pxValue(styleProp(st, "height"))
		}
	}
	if (w >= 0 && w <= maxPx) || (h >= 0 && h <= maxPx && w < 0) || (w >= 0 && h >= 0 && w <= maxPx && h <= maxPx) {
		return true
	}
	src := strings.ToLower(img.src.value(f.src))
	if i := strings.LastIndexByte(src, '/'); i >= 0 {
		src = src[i+1:]
	}
	for _, k := range []string{"spacer", "pixel", "blank.gif", "transparent.gif", "clear.gif", "shim.gif"} {
		if strings.Contains(src, k) {
			return true
		}
	}
	return strings.Contains(strings.ToLower(img.class.value(f.src)), "spacer")
}

func (c *checker) imageRule(r *rule, f *fieldScan) {
	if !f.html {
		return
	}
	cfg := &r.cfg
	for k := range f.images {
		img := &f.images[k]
		src := strings.TrimSpace(img.src.value(f.src))
		if src != "" && hasPrefixAny(src, cfg.Exceptions) {
			continue
		}
		off := int(img.tagOff)
		if img.src.present {
			off = int(img.src.off)
		}
		name := src
		if name == "" {
			name = "<img>"
		}
		if cfg.Alt == "required" || cfg.Alt == "present" {
			if !img.alt.present {
				fix := `Add alt="…" describing the image`
				if isSpacer(f, img, cfg.SpacerMaxPx) {
					fix = `Add alt="" (the image is decorative)`
				}
				if c.room(r) {
					c.add(r, f, int(img.tagOff), name, r.message(name, fmt.Sprintf("image %s has no alt attribute", quote(name))), r.fix(name, fix+"."))
				}
			}
		}
		if cfg.Alt == "required" || cfg.Alt == "nonempty" {
			if img.alt.present && strings.TrimSpace(img.alt.value(f.src)) == "" && !isSpacer(f, img, cfg.SpacerMaxPx) {
				if c.room(r) {
					c.add(r, f, int(img.alt.off), name, r.message(name, fmt.Sprintf("image %s has an empty alt text but is not a spacer", quote(name))),
						r.fix(name, "Describe what the image shows or says (many clients block images by default)."))
				}
			}
		}
		if src == "" || isTemplateURL(src) {
			continue
		}
		u, err := parseURL(src)
		ls := strings.ToLower(src)
		if isTrue(cfg.HTTPS) {
			switch {
			case strings.HasPrefix(ls, "data:"):
				if c.room(r) {
					c.add(r, f, off, src, r.message(src, "image is embedded as a data: URI, which many email clients block"), r.fix(src, "Host the image and use its https:// URL."))
				}
				continue
			case err != nil || u.scheme == "" || u.host == "":
				if c.room(r) {
					c.add(r, f, off, src, r.message(src, fmt.Sprintf("image source %s is not an absolute https URL", quote(src))), r.fix(src, "Use the image's absolute https:// URL."))
				}
				continue
			case u.scheme != "https":
				if c.room(r) {
					c.add(r, f, off, src, r.message(src, fmt.Sprintf("image source %s uses %s, not https", quote(src), u.scheme)), r.fix(src, "https"+src[len(u.scheme):]))
				}
			}
		}
		if cfg.Domains != nil && err == nil && u.host != "" && !hostAllowed(u.host, cfg.Domains) {
			if c.room(r) {
				c.add(r, f, off, src, r.message(src, fmt.Sprintf("image is hosted on %s, which is not an allowed domain (%s)", u.host, strings.Join(cfg.Domains, ", "))),
					r.fix(src, "Host the image on an allowed domain."))
			}
		}
	}
}

// styleRule checks colours and fonts in style attributes, <style> blocks
// and the legacy attributes table-based emails still use (bgcolor, color,
// face). Each off-brand value is reported once per field, at its first use.
func (c *checker) styleRule(r *rule, f *fieldScan) {
	if !f.html || len(f.css) == 0 {
		return
	}
	cfg := &r.cfg
	checkColors, checkFonts := isTrue(cfg.Colors), isTrue(cfg.Fonts)
	if c.seen[r.idx] == nil {
		c.seen[r.idx] = map[string]bool{}
	}
	seen := c.seen[r.idx]
	seenCol := c.seenCol[r.idx]
	if seenCol == nil {
		seenCol = map[uint32]bool{}
		c.seenCol[r.idx] = seenCol
	}
	color := func(rgb uint32, text string, off int) {
		if !checkColors || r.allowCol[rgb] || seenCol[rgb] {
			return
		}
		seenCol[rgb] = true
		c.add(r, f, off, text, r.message(text, fmt.Sprintf("colour %s is not in the brand palette", text)), r.fix(text, c.paletteHint()))
	}
	font := func(fam, text string, off int) {
		if !checkFonts || r.allowFont[fam] || genericFonts[fam] || seen[fam] {
			return
		}
		seen[fam] = true
		hint := "Use a brand font"
		if r.brandFont != "" {
			hint = "Use the brand font stack: " + r.brandFont
		}
		c.add(r, f, off, text, r.message(text, fmt.Sprintf("font %s is not a brand font", quote(text))), r.fix(text, hint+"."))
	}
	for _, s := range f.css {
		raw := f.src[s.off:s.end]
		val, exact := raw, true
		if strings.IndexByte(raw, '&') >= 0 {
			val, exact = (attrSpan{s.off, s.end, true}).value(f.src), false
		}
		at := func(i int) int {
			if exact {
				return int(s.off) + i
			}
			return int(s.off)
		}
		switch s.kind {
		case cssDecls, cssSheet:
			forEachDecl(val, s.kind == cssSheet, func(d cssDecl) {
				switch {
				case d.prop == "font-family" || d.prop == "font":
					fontFamilies(d.prop, d.value, func(fam, text string, o int) { font(fam, text, at(d.off+o)) })
				case isColorProp(d.prop):
					colorsIn(d.value, func(rgb uint32, text string, o int) { color(rgb, text, at(d.off+o)) })
				}
			})
		case cssAttrColor:
			v := strings.TrimSpace(val)
			rgb, ok := colorRGB(v)
			if !ok && (len(v) == 3 || len(v) == 6) {
				rgb, ok = hexRGB(v) // bgcolor="ffffff" renders as white
			}
			if ok {
				color(rgb, v, at(0))
			}
		case cssAttrFont:
			fontFamilies("font-family", val, func(fam, text string, o int) { font(fam, text, at(o)) })
		}
	}
}

func (c *checker) paletteHint() string {
	bc := c.p.brand.Colors
	var parts []string
	for _, kv := range [][2]string{{"primary", bc.Primary}, {"text", bc.Text}, {"background", bc.Background}, {"link", bc.Link}, {"button", bc.Button}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	names := make([]string, 0, len(bc.Named))
	for n := range bc.Named {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		parts = append(parts, n+" "+bc.Named[n])
	}
	if len(parts) == 0 {
		return "Use a colour the policy allows."
	}
	return "Use a brand colour: " + strings.Join(parts, ", ") + "."
}

// sizeRule: Gmail clips messages above about 102 KB, hiding what follows,
// typically the unsubscribe footer.
func (c *checker) sizeRule(r *rule, f *fieldScan) {
	if !f.html {
		return
	}
	n := len(f.field.Value)
	kb := fmt.Sprintf("%.1f KB", float64(n)/1024)
	cfg := &r.cfg
	switch {
	case cfg.MaxKB > 0 && n > cfg.MaxKB*1024:
		c.add(r, f, cfg.MaxKB*1024, kb, r.message(kb, fmt.Sprintf("the HTML is %s; above %d KB Gmail clips the message here, hiding the rest (often the unsubscribe footer)", kb, cfg.MaxKB)),
			r.fix(kb, fmt.Sprintf("Remove at least %.1f KB: drop unused CSS and comments, shorten copy, or link to a landing page.", float64(n-cfg.MaxKB*1024)/1024)))
	case cfg.WarnKB > 0 && n > cfg.WarnKB*1024:
		limit := "the clipping limit"
		if cfg.MaxKB > 0 {
			limit = fmt.Sprintf("the %d KB clipping limit", cfg.MaxKB)
		}
		c.emit(r, f, 0, lowerLevel(r.level(), LevelWarning), r.cfg.ID, kb,
			r.message(kb, fmt.Sprintf("the HTML is %s, close to %s", kb, limit)),
			r.fix(kb, "Trim unused CSS and markup before adding more content."), r.cfg.Link)
	}
}
