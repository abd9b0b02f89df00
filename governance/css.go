package governance

import (
	"strconv"
	"strings"

	"golang.org/x/image/colornames"
)

// cssNamedColors maps every CSS named colour (CSS Color 4: the SVG 1.1
// keywords plus rebeccapurple) to 0xRRGGBB, so "white", "#FFF" and
// "hsl(0 0% 100%)" compare equal against the brand palette. transparent,
// currentcolor and the CSS-wide keywords (inherit, ...) are deliberately
// absent: they name no colour of their own, so there is nothing to hold
// against the palette.
var cssNamedColors = func() map[string]uint32 {
	m := make(map[string]uint32, len(colornames.Map)+1)
	for name, c := range colornames.Map {
		m[name] = uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
	}
	m["rebeccapurple"] = 0x663399
	return m
}()

// maxColorName is the length of the longest key of cssNamedColors, so a
// lookup can fold a word into a fixed buffer without allocating.
const maxColorName = len("lightgoldenrodyellow")

var genericFonts = map[string]bool{
	"serif": true, "sans-serif": true, "monospace": true, "cursive": true, "fantasy": true, "system-ui": true,
	"inherit": true, "initial": true, "unset": true, "revert": true,
}

// normalizeHex returns #rrggbb for #rgb, #rgba, #rrggbb and #rrggbbaa (alpha
// is ignored: it does not make an off-brand colour on-brand), or "".
func normalizeHex(s string) string {
	if len(s) < 4 || s[0] != '#' {
		return ""
	}
	h := strings.ToLower(s[1:])
	for i := 0; i < len(h); i++ {
		if !isHex(h[i]) {
			return ""
		}
	}
	switch len(h) {
	case 3, 4:
		return "#" + string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	case 6, 8:
		return "#" + h[:6]
	}
	return ""
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// hexRGB parses 3, 4, 6 or 8 hex digits (no '#') to 0xRRGGBB; alpha is
// ignored. Colours are compared as integers so the per-declaration hot
// path allocates nothing.
func hexRGB(h string) (uint32, bool) {
	var v uint32
	for i := 0; i < len(h); i++ {
		c := h[i] | 0x20
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	switch len(h) {
	case 3:
		return (v>>8&15)*0x110000 | (v>>4&15)*0x1100 | (v&15)*0x11, true
	case 4:
		return (v>>12&15)*0x110000 | (v>>8&15)*0x1100 | (v>>4&15)*0x11, true
	case 6:
		return v, true
	case 8:
		return v >> 8, true
	}
	return 0, false
}

// colorRGB accepts a hex colour, rgb()/rgba(), hsl()/hsla(), hwb() or a
// colour keyword.
func colorRGB(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "#") {
		return hexRGB(s[1:])
	}
	ls := strings.ToLower(s)
	if rgb, ok := cssNamedColors[ls]; ok {
		return rgb, true
	}
	if strings.HasPrefix(ls, "rgb") {
		if v, n := parseRGB(ls); n > 0 {
			return v, true
		}
	}
	if strings.HasPrefix(ls, "hsl") || strings.HasPrefix(ls, "hwb") {
		if v, n := parseHueColor(ls); n == len(ls) {
			return v, true
		}
	}
	return 0, false
}

// parseRGB parses "rgb(1, 2, 3)" / "rgba(1 2 3 / 50%)" at the start of s and
// returns the colour and the length consumed (0: not a colour).
func parseRGB(s string) (uint32, int) {
	open := strings.IndexByte(s, '(')
	end := strings.IndexByte(s, ')')
	if open < 0 || end < open || end > 64 {
		return 0, 0
	}
	inner := s[open+1 : end]
	var v uint32
	for i := 0; i < 3; i++ {
		inner = strings.TrimLeft(inner, " ,/")
		k := strings.IndexAny(inner, " ,/")
		if k < 0 {
			k = len(inner)
		}
		p := inner[:k]
		inner = inner[k:]
		pct := strings.HasSuffix(p, "%")
		f, err := strconv.ParseFloat(strings.TrimSuffix(p, "%"), 64)
		if err != nil {
			return 0, 0
		}
		if pct {
			f = f * 255 / 100
		}
		v = v<<8 | uint32(min(max(f+0.5, 0), 255))
	}
	return v, end + 1
}

// cssDecl is one declaration with the offset of its value in the scanned
// text.
type cssDecl struct {
	prop, value string
	off         int
}

// forEachDecl walks declarations. In a style attribute (sheet=false) the
// whole text is one declaration block; in a sheet only text inside braces
// is, so selectors and @media preludes are never read as declarations.
// Comments and strings are skipped; nesting is counted, not recursed.
func forEachDecl(css string, sheet bool, fn func(d cssDecl)) {
	depth := 0
	if !sheet {
		depth = 1
	}
	start := 0
	emit := func(end int) {
		if depth <= 0 {
			return
		}
		seg := css[start:end]
		colon := strings.IndexByte(seg, ':')
		if colon <= 0 {
			return
		}
		prop := strings.ToLower(strings.TrimSpace(seg[:colon]))
		v := seg[colon+1:]
		lead := len(v) - len(strings.TrimLeft(v, " \t\r\n"))
		v = strings.TrimSpace(v)
		if i := strings.LastIndexByte(v, '!'); i >= 0 && strings.EqualFold(strings.TrimSpace(v[i:]), "!important") {
			v = strings.TrimSpace(v[:i])
		}
		if prop == "" || v == "" {
			return
		}
		fn(cssDecl{prop: prop, value: v, off: start + colon + 1 + lead})
	}
	for i := 0; i < len(css); i++ {
		switch c := css[i]; c {
		case '/':
			if i+1 < len(css) && css[i+1] == '*' {
				k := strings.Index(css[i+2:], "*/")
				if k < 0 {
					i = len(css)
				} else {
					i += k + 3
				}
				i--
				start = i + 1
			}
		case '"', '\'':
			if k := strings.IndexByte(css[i+1:], c); k >= 0 {
				i += k + 1
			} else {
				i = len(css)
			}
		case '{':
			depth++
			start = i + 1
		case ';':
			emit(i)
			start = i + 1
		case '}':
			emit(i)
			depth--
			start = i + 1
		}
	}
	if !sheet {
		emit(len(css))
	}
}

func isColorProp(p string) bool {
	return p == "color" || p == "background" || p == "outline" || p == "fill" || p == "stroke" ||
		strings.HasSuffix(p, "-color") || (strings.HasPrefix(p, "border") && !strings.Contains(p, "radius") &&
		!strings.Contains(p, "width") && !strings.Contains(p, "style") && !strings.Contains(p, "collapse") && !strings.Contains(p, "spacing"))
}

// colorsIn finds colour values in a CSS value (shorthands included) and
// calls fn with the colour, its text and its offset in v.
func colorsIn(v string, fn func(rgb uint32, text string, off int)) {
	for i := 0; i < len(v); {
		c := v[i]
		lc := c | 0x20
		switch {
		case c == '#':
			j := i + 1
			for j < len(v) && isHex(v[j]) {
				j++
			}
			if rgb, ok := hexRGB(v[i+1 : j]); ok {
				fn(rgb, v[i:j], i)
			}
			i = j
		case lc >= 'a' && lc <= 'z':
			j := i
			for j < len(v) && (v[j]|0x20 >= 'a' && v[j]|0x20 <= 'z' || v[j] == '-' || v[j] >= '0' && v[j] <= '9') {
				j++
			}
			word := v[i:j]
			switch {
			case strings.EqualFold(word, "url") && j < len(v) && v[j] == '(':
				if k := strings.IndexByte(v[j:], ')'); k >= 0 {
					j += k + 1
				} else {
					j = len(v)
				}
			case (strings.EqualFold(word, "rgb") || strings.EqualFold(word, "rgba")) && j < len(v) && v[j] == '(':
				if rgb, n := parseRGB(v[i:]); n > 0 {
					fn(rgb, v[i:i+n], i)
					j = i + n
				}
			case (strings.EqualFold(word, "hsl") || strings.EqualFold(word, "hsla") || strings.EqualFold(word, "hwb")) && j < len(v) && v[j] == '(':
				if rgb, n := parseHueColor(v[i:]); n > 0 {
					fn(rgb, v[i:i+n], i)
					j = i + n
				}
			case len(word) >= 3 && len(word) <= maxColorName:
				var buf [maxColorName]byte
				for k := 0; k < len(word); k++ {
					buf[k] = word[k] | 0x20
				}
				if rgb, ok := cssNamedColors[string(buf[:len(word)])]; ok {
					fn(rgb, word, i)
				}
			}
			i = j
		default:
			i++
		}
	}
}

// fontFamilies splits a font-family value (or the family part of a font
// shorthand) and calls fn with each lower-case family and its offset in v.
func fontFamilies(prop, v string, fn func(family, text string, off int)) {
	base := 0
	if prop == "font" {
		// The families follow the size ("bold 14px/1.4 Arial, sans-serif").
		k := -1
		inQ := byte(0)
		for i := 0; i < len(v); i++ {
			c := v[i]
			if inQ != 0 {
				if c == inQ {
					inQ = 0
				}
				continue
			}
			if c == '"' || c == '\'' {
				inQ = c
				continue
			}
			if (c >= '0' && c <= '9' || c == '.') && (i == 0 || v[i-1] == ' ') {
				k = i
			}
			if c == ',' {
				break
			}
		}
		if k < 0 {
			return
		}
		sp := strings.IndexByte(v[k:], ' ')
		if sp < 0 {
			return
		}
		base = k + sp + 1
	}
	rest := v[base:]
	for off := 0; off <= len(rest); {
		k := strings.IndexByte(rest[off:], ',')
		part := rest[off:]
		if k >= 0 {
			part = rest[off : off+k]
		}
		trimmed := strings.TrimLeft(part, " \t\r\n\"'")
		lead := len(part) - len(trimmed)
		name := strings.TrimRight(trimmed, " \t\r\n\"'")
		if name != "" {
			fn(strings.ToLower(name), name, base+off+lead)
		}
		if k < 0 {
			break
		}
		off += k + 1
	}
}

// fontStack lower-cases and splits a brand stack.
func fontStack(s string) []string {
	var out []string
	fontFamilies("font-family", s, func(f, _ string, _ int) { out = append(out, f) })
	return out
}
