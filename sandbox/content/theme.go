package content

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Theme holds the brand tokens the renderers use. The zero value is a
// neutral, accessible default theme (WCAG AA contrast for every text/
// background pair it uses).
//
// Renderers use only the theme's colours, so output built from a brand
// policy's palette passes a colour allow-list. Empty fields fall back to
// another theme field where one fits (LinkColor to PrimaryColor,
// MutedColor to TextColor, HeadingFontFamily to FontFamily,
// ButtonTextColor to black or white, whichever contrasts more with
// PrimaryColor), and only otherwise to the defaults.
type Theme struct {
	PrimaryColor    string `json:"primary_color,omitempty"`     // buttons; #rrggbb
	TextColor       string `json:"text_color,omitempty"`        // body text; #rrggbb
	BackgroundColor string `json:"background_color,omitempty"`  // #rrggbb
	LinkColor       string `json:"link_color,omitempty"`        // #rrggbb
	ButtonTextColor string `json:"button_text_color,omitempty"` // #rrggbb
	// MutedColor is used for the footer, dividers and form borders.
	MutedColor string `json:"muted_color,omitempty"` // #rrggbb

	FontFamily        string `json:"font_family,omitempty"`         // CSS font stack
	HeadingFontFamily string `json:"heading_font_family,omitempty"` // CSS font stack

	LogoURL   string `json:"logo_url,omitempty"` // https
	LogoAlt   string `json:"logo_alt,omitempty"`
	LogoLink  string `json:"logo_link,omitempty"`
	LogoWidth int    `json:"logo_width,omitempty"` // px, default 160

	// Footer identity (CAN-SPAM, CASL).
	Company       string `json:"company,omitempty"`
	PostalAddress string `json:"postal_address,omitempty"` // newlines become line breaks
	ContactEmail  string `json:"contact_email,omitempty"`
	// ContactURL is the sender's website or contact page (CASL contact
	// information when there is no contact email); https only.
	ContactURL string `json:"contact_url,omitempty"`
}

// Default theme values.
const (
	DefaultPrimaryColor    = "#1d4ed8"
	DefaultTextColor       = "#1f2937"
	DefaultBackgroundColor = "#ffffff"
	DefaultMutedColor      = "#6b7280"
	DefaultFontFamily      = "Arial, Helvetica, sans-serif"
	DefaultLogoWidth       = 160
)

// theme is a resolved Theme: every colour a valid #rrggbb, fonts safe to
// put in a style attribute.
type theme struct {
	primary, text, bg, link, buttonText, muted string
	font, headingFont                          string
	logoURL, logoAlt, logoLink                 string
	logoWidth                                  int
	company, address, contactEmail, contactURL string
}

func resolveTheme(t Theme) theme {
	r := theme{
		primary: colorOr(t.PrimaryColor, DefaultPrimaryColor),
		text:    colorOr(t.TextColor, DefaultTextColor),
		bg:      colorOr(t.BackgroundColor, DefaultBackgroundColor),
	}
	r.link = colorOr(t.LinkColor, r.primary)
	if c, ok := normColor(t.ButtonTextColor); ok {
		r.buttonText = c
	} else if contrast(r.primary, "#ffffff") >= contrast(r.primary, "#000000") {
		r.buttonText = "#ffffff"
	} else {
		r.buttonText = "#000000"
	}
	if _, ok := normColor(t.TextColor); ok {
		r.muted = colorOr(t.MutedColor, r.text)
	} else {
		r.muted = colorOr(t.MutedColor, DefaultMutedColor)
	}
	r.font = fontOr(t.FontFamily, DefaultFontFamily)
	r.headingFont = fontOr(t.HeadingFontFamily, r.font)
	r.logoURL = safeSrc(t.LogoURL)
	r.logoAlt = strings.TrimSpace(t.LogoAlt)
	if r.logoAlt == "" {
		r.logoAlt = strings.TrimSpace(t.Company)
	}
	if r.logoAlt == "" {
		r.logoAlt = "Logo"
	}
	r.logoLink = safeHref(t.LogoLink, false)
	r.logoWidth = t.LogoWidth
	if r.logoWidth <= 0 {
		r.logoWidth = DefaultLogoWidth
	}
	if r.logoWidth > emailContent {
		r.logoWidth = emailContent
	}
	r.company = strings.TrimSpace(cleanText(t.Company))
	r.address = strings.TrimSpace(cleanText(t.PostalAddress))
	r.contactEmail = strings.TrimSpace(t.ContactEmail)
	if strings.ContainsAny(r.contactEmail, " \t\n<>\"") || !strings.Contains(r.contactEmail, "@") {
		r.contactEmail = ""
	}
	if u := strings.TrimSpace(t.ContactURL); strings.HasPrefix(u, "https://") && linkProblem(u) == "" {
		r.contactURL = safeHref(u, false)
	}
	return r
}

// ValidateTheme reports invalid theme values (paths "theme.primary_color"
// etc.). Renderers fall back to defaults for them.
func ValidateTheme(t Theme) []Problem {
	var ps []Problem
	for _, c := range []struct{ name, v string }{
		{"primary_color", t.PrimaryColor}, {"text_color", t.TextColor},
		{"background_color", t.BackgroundColor}, {"link_color", t.LinkColor},
		{"button_text_color", t.ButtonTextColor}, {"muted_color", t.MutedColor},
	} {
		if c.v == "" {
			continue
		}
		if _, ok := normColor(c.v); !ok {
			ps = append(ps, Problem{"theme." + c.name, fmt.Sprintf("%q is not a hex colour", c.v), "use #rrggbb, for example #1d4ed8"})
		}
	}
	for _, f := range []struct{ name, v string }{{"font_family", t.FontFamily}, {"heading_font_family", t.HeadingFontFamily}} {
		if f.v != "" && sanitizeFont(f.v) != strings.TrimSpace(strings.ReplaceAll(f.v, `"`, "'")) {
			ps = append(ps, Problem{"theme." + f.name, "font stack has characters that are not allowed in CSS font names", "use names, commas, spaces and quotes only, for example 'Helvetica Neue', Arial, sans-serif"})
		}
	}
	if t.LogoURL != "" {
		if p := srcProblem(t.LogoURL); p != "" {
			ps = append(ps, Problem{"theme.logo_url", p, "use an absolute https:// URL"})
		}
	}
	if t.LogoLink != "" {
		if p := linkProblem(t.LogoLink); p != "" {
			ps = append(ps, Problem{"theme.logo_link", p, "use an absolute https:// URL"})
		}
	}
	if t.LogoWidth < 0 || t.LogoWidth > emailContent {
		ps = append(ps, Problem{"theme.logo_width", fmt.Sprintf("%d is out of range", t.LogoWidth), fmt.Sprintf("use 1..%d (px)", emailContent)})
	}
	if t.ContactURL != "" && resolveTheme(Theme{ContactURL: t.ContactURL}).contactURL == "" {
		ps = append(ps, Problem{"theme.contact_url", fmt.Sprintf("%q is not an https URL", t.ContactURL), "use an absolute https:// URL"})
	}
	if t.ContactEmail != "" && resolveTheme(Theme{ContactEmail: t.ContactEmail}).contactEmail == "" {
		ps = append(ps, Problem{"theme.contact_email", fmt.Sprintf("%q is not an email address", t.ContactEmail), "use an address like hello@example.com"})
	}
	return ps
}

// normColor accepts #rgb and #rrggbb (any case) and returns lower-case
// #rrggbb.
func normColor(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return "", false
	}
	for i := 1; i < len(s); i++ {
		if !isHex(s[i]) {
			return "", false
		}
	}
	s = strings.ToLower(s)
	if len(s) == 4 {
		s = string([]byte{'#', s[1], s[1], s[2], s[2], s[3], s[3]})
	}
	return s, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func colorOr(s, def string) string {
	if c, ok := normColor(s); ok {
		return c
	}
	return def
}

// sanitizeFont keeps only characters that are safe inside a double-quoted
// style attribute and meaningful in a font stack; double quotes become
// single quotes.
func sanitizeFont(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '"':
			b.WriteByte('\'')
		case r == ' ' || r == ',' || r == '-' || r == '_' || r == '\'' || r == '.',
			'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
		}
		if b.Len() >= 200 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

func fontOr(s, def string) string {
	if f := sanitizeFont(s); f != "" {
		return f
	}
	return def
}

// luminance is the WCAG relative luminance of a #rrggbb colour.
func luminance(c string) float64 {
	ch := func(h string) float64 {
		v, _ := strconv.ParseUint(h, 16, 8)
		x := float64(v) / 255
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c[1:3]) + 0.7152*ch(c[3:5]) + 0.0722*ch(c[5:7])
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
