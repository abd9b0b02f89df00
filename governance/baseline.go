package governance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// BrandAnswers are what `lastmile init` asks a new workspace: who sends,
// from where, to which markets, and how the brand looks. Every field is
// optional; BaselinePolicy writes what is given and leaves the rest for a
// human to set later.
type BrandAnswers struct {
	Company, PostalAddress, Website string
	SendingDomains                  []string
	FromName, FromEmail             string
	Markets                         []string
	Industry                        string
	// Colors maps primary, text, background, link and button to #rgb or
	// #rrggbb values.
	Colors                map[string]string
	BodyFont, HeadingFont string
	LogoURL, LogoAlt      string
	// Approvers maps a role (lower case) to its members (names or emails).
	Approvers map[string][]string
}

// BrandColorKeys are the keys BrandAnswers.Colors takes, in policy order.
var BrandColorKeys = []string{"primary", "text", "background", "link", "button"}

// Neutral colours written for brand colour roles the answers leave out once
// any colour is given: the block renderer uses text and background colours
// whatever the brand says, and the style rule would flag a colour the
// palette does not hold. They are the renderer's own defaults.
const (
	neutralText       = "#1f2937"
	neutralBackground = "#ffffff"
	neutralPrimary    = "#1d4ed8"
)

var fontStackRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9 ,'._-]+$`) })

// Normalize trims the answers and puts codes in their canonical case
// (markets upper case, industry, domains and colours lower case); the
// sender's domain joins the sending domains. BaselinePolicy calls it.
func (a BrandAnswers) Normalize() BrandAnswers {
	t := strings.TrimSpace
	out := BrandAnswers{
		Company: t(a.Company), PostalAddress: t(a.PostalAddress), Website: t(a.Website),
		FromName: t(a.FromName), FromEmail: t(a.FromEmail), Industry: strings.ToLower(t(a.Industry)),
		BodyFont: t(a.BodyFont), HeadingFont: t(a.HeadingFont), LogoURL: t(a.LogoURL), LogoAlt: t(a.LogoAlt),
	}
	for _, m := range a.Markets {
		if m = strings.ToUpper(t(m)); m != "" && !slices.Contains(out.Markets, m) {
			out.Markets = append(out.Markets, m)
		}
	}
	addDomain := func(d string) {
		d = strings.TrimSuffix(strings.ToLower(t(d)), ".")
		if d != "" && !slices.Contains(out.SendingDomains, d) {
			out.SendingDomains = append(out.SendingDomains, d)
		}
	}
	for _, d := range a.SendingDomains {
		addDomain(d)
	}
	if at := strings.LastIndexByte(out.FromEmail, '@'); at > 0 {
		addDomain(out.FromEmail[at+1:])
	}
	if len(a.Colors) > 0 {
		out.Colors = map[string]string{}
		for k, v := range a.Colors {
			if v = strings.ToLower(t(v)); v != "" {
				out.Colors[strings.ToLower(t(k))] = v
			}
		}
		if len(out.Colors) == 0 {
			out.Colors = nil
		}
	}
	if len(a.Approvers) > 0 {
		out.Approvers = map[string][]string{}
		for role, ms := range a.Approvers {
			var keep []string
			for _, m := range ms {
				if m = t(m); m != "" && !slices.Contains(keep, m) {
					keep = append(keep, m)
				}
			}
			if role = strings.ToLower(t(role)); role != "" && len(keep) > 0 {
				out.Approvers[role] = keep
			}
		}
		if len(out.Approvers) == 0 {
			out.Approvers = nil
		}
	}
	return out
}

// Validate reports every answer that cannot go into a policy, one error per
// answer (joined), naming the answer and what is expected.
func (a BrandAnswers) Validate() error {
	a = a.Normalize()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	texts := []struct{ name, v string }{
		{"company", a.Company}, {"postal_address", a.PostalAddress}, {"website", a.Website}, {"from_name", a.FromName},
		{"from_email", a.FromEmail}, {"industry", a.Industry}, {"body_font", a.BodyFont}, {"heading_font", a.HeadingFont},
		{"logo_url", a.LogoURL}, {"logo_alt", a.LogoAlt},
	}
	for _, d := range a.SendingDomains {
		texts = append(texts, struct{ name, v string }{"sending_domains", d})
	}
	for _, m := range a.Markets {
		texts = append(texts, struct{ name, v string }{"markets", m})
	}
	for _, role := range slices.Sorted(maps.Keys(a.Approvers)) {
		for _, m := range a.Approvers[role] {
			texts = append(texts, struct{ name, v string }{"approvers." + role, m})
		}
	}
	for _, t := range texts {
		if !utf8.ValidString(t.v) || strings.ContainsFunc(t.v, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
			bad(t.name, "has bytes that are not text (invalid UTF-8 or control characters)")
		}
	}
	if strings.ContainsAny(a.Company, "\r\n") {
		bad("company", "must be one line")
	}
	if a.Website != "" {
		if p := httpsProblem(a.Website); p != "" {
			bad("website", "%s (e.g. https://www.example.com)", p)
		} else if u, _ := url.Parse(a.Website); !strings.Contains(u.Hostname(), ".") {
			bad("website", "%q has no domain name (e.g. https://www.example.com)", a.Website)
		}
	}
	for _, d := range a.SendingDomains {
		if !domainRE().MatchString(d) || strings.HasPrefix(d, "*.") {
			bad("sending_domains", "%q is not a domain name (e.g. mail.example.com)", d)
		}
	}
	if a.FromName != "" && strings.ContainsAny(a.FromName, "\r\n\"<>") {
		bad("from_name", "must be plain words, without line breaks, quotes or angle brackets")
	}
	if a.FromEmail != "" && !plainEmail(a.FromEmail) {
		bad("from_email", "%q is not an email address (e.g. hello@example.com)", a.FromEmail)
	}
	for _, m := range a.Markets {
		if !isCountry(m) {
			bad("markets", "%q is not an ISO 3166-1 alpha-2 country code (US, CA, GB, DE)", m)
		}
	}
	if a.Industry != "" && !industryRE().MatchString(a.Industry) {
		bad("industry", "%q must be a lower-case word, e.g. retail, food, saas, finserv, health", a.Industry)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Colors)) {
		v := a.Colors[k]
		if !slices.Contains(BrandColorKeys, k) {
			bad("colors", "unknown colour %q; use %s", k, strings.Join(BrandColorKeys, ", "))
			continue
		}
		if normalizeHex(v) == "" || (len(v) != 4 && len(v) != 7) {
			bad("colors."+k, "%q is not a #rgb or #rrggbb colour", v)
		}
	}
	for _, f := range []struct{ name, v string }{{"body_font", a.BodyFont}, {"heading_font", a.HeadingFont}} {
		if f.v != "" && (!fontStackRE().MatchString(strings.ReplaceAll(f.v, `"`, "'")) || !strings.ContainsFunc(f.v, unicode.IsLetter)) {
			bad(f.name, "%q is not a CSS font stack (names, commas, spaces and quotes, e.g. Georgia, serif)", f.v)
		}
	}
	if a.LogoURL != "" {
		if p := httpsProblem(a.LogoURL); p != "" {
			bad("logo_url", "%s", p)
		}
	}
	if strings.ContainsAny(a.LogoAlt, "\r\n") {
		bad("logo_alt", "must be one line")
	}
	for _, role := range slices.Sorted(maps.Keys(a.Approvers)) {
		if !roleNameRE().MatchString(role) {
			bad("approvers", "role %q must be lower case letters, digits, '-' or '_'", role)
		}
	}
	return errors.Join(errs...)
}

func httpsProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "":
		return fmt.Sprintf("%q is not an absolute URL", s)
	case u.Scheme != "https":
		return fmt.Sprintf("%q must start with https://", s)
	case strings.ContainsAny(s, " \t\r\n\"<>"):
		return fmt.Sprintf("%q has spaces, quotes or angle brackets", s)
	}
	return ""
}

// OwnDomains are the domains the answers say the company owns: the
// website's (without www.) and the sending domains.
func (a BrandAnswers) OwnDomains() []string {
	a = a.Normalize()
	var out []string
	if u, err := url.Parse(a.Website); err == nil && u.Hostname() != "" {
		out = append(out, strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."))
	}
	for _, d := range a.SendingDomains {
		covered := false
		for _, o := range out {
			covered = covered || d == o || strings.HasSuffix(d, "."+o)
		}
		if !covered {
			out = append(out, d)
		}
	}
	return out
}

// BaselinePolicy writes a commented policy from the answers: a legal and
// deliverability baseline every sender needs (unsubscribe, sender identity
// and postal address, consent by market, https links and images, alt text,
// Gmail's 102 KB clip, token fallbacks, no placeholder links), the brand
// section, roles and the defaults campaigns inherit. It names no company but
// the answers' own. With empty answers it is the unbranded baseline: it
// loads, and the footer rules report the company, postal address and
// website as not set (Policy.Unset lists them) until a human runs
// `lastmile init`. The result always loads with Parse.
func BaselinePolicy(a BrandAnswers) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("brand answers: %w", err)
	}
	a = a.Normalize()
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	who := a.Company
	if who == "" {
		w("# Brand and compliance policy for lastmile: the unbranded baseline.\n#\n")
		w("# The brand is not set yet. A human runs `lastmile init` to set the company,\n")
		w("# postal address, website and sender; until then the footer rules report\n")
		w("# those values as not set, and emails cannot carry them.\n#\n")
	} else {
		w("# %s — brand and compliance policy for lastmile.\n#\n", oneLineComment(who))
	}
	w(`# Written by lastmile init: a legal and deliverability baseline (unsubscribe,
# sender identity and postal address, consent by market, https links and
# images, image alt text, Gmail's 102 KB clip, personalization fallbacks, no
# placeholder links) plus the brand from the answers. Add your own voice,
# claims and disclaimer rules: docs/policy.md describes every rule kind with
# examples. The policy hash is part of every plan hash, so editing this file
# makes plans approved under the old version stale. Not legal advice: have
# whoever owns compliance review it.
version: 1
`)
	if who == "" {
		w("name: Brand and compliance policy (brand not set)\n")
		w("description: %s\n", yq("The legal and deliverability baseline every marketing email needs. The brand (company, postal address, website) is not set: a human runs `lastmile init` to set it."))
	} else {
		w("name: %s\n", yq(who+" brand & compliance policy"))
		w("description: %s\n", yq("What every "+who+" email and page must carry to be legal and deliverable. Errors block promotion; warnings are acknowledged by the approver."))
	}

	w(`
# Campaigns that state no industry or markets inherit these, so industry and
# market rules apply as they should (a campaign that states nothing gets
# every market's and industry's rules). The sender is the default From.
`)
	if a.Industry == "" && len(a.Markets) == 0 && a.FromName == "" && a.FromEmail == "" {
		w("# defaults:\n#   industry: retail\n#   markets: [US]\n#   from_name: Example Shop\n#   from_email: hello@example.com\n")
	} else {
		w("defaults:\n")
		if a.Industry != "" {
			w("  industry: %s\n", yq(a.Industry))
		}
		if len(a.Markets) > 0 {
			w("  markets: [%s]\n", strings.Join(a.Markets, ", "))
		}
		if a.FromName != "" {
			w("  from_name: %s\n", yq(a.FromName))
		}
		if a.FromEmail != "" {
			w("  from_email: %s\n", yq(a.FromEmail))
		}
	}

	writeBrand(&b, a)

	if len(a.Approvers) > 0 {
		w("\n# Approver roles: approvals rules may require one approver per role.\nroles:\n")
		for _, role := range slices.Sorted(maps.Keys(a.Approvers)) {
			ms := make([]string, len(a.Approvers[role]))
			for i, m := range a.Approvers[role] {
				ms[i] = yq(m)
			}
			w("  %s: [%s]\n", role, strings.Join(ms, ", "))
		}
	}

	b.WriteString(approvalSection)
	writeRules(&b, a)

	out := b.Bytes()
	if _, err := Parse("policy.yaml", out); err != nil {
		return nil, fmt.Errorf("brand answers: the policy written from them does not load: %w", err)
	}
	return out, nil
}

// approvalSection is the sample policy's, word for word.
const approvalSection = `
# Which approval channels count, and for what (docs/policy.md, "Approval
# channels"). review: the review page with an enrolled approver's passkey.
# cli: a person typing back a code at ` + "`lastmile approve`" + ` in a terminal; it
# proves someone typed, and an agent with a shell on that machine can drive a
# terminal too, so plans that reach real audiences should need review.
# scripted (CI pipelines) and elicitation (the MCP client's own prompt, which
# proves no person saw anything) are off; either counts at most once, never
# for a role.
approval:
  channels:
    review: {}
    cli: {}
`

func writeBrand(b *bytes.Buffer, a BrandAnswers) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	colors := maps.Clone(a.Colors)
	filled := map[string]bool{}
	if len(colors) > 0 {
		if colors["primary"] == "" {
			colors["primary"] = firstNonEmpty(colors["button"], colors["link"], neutralPrimary)
			filled["primary"] = true
		}
		for k, v := range map[string]string{"text": neutralText, "background": neutralBackground} {
			if colors[k] == "" {
				colors[k], filled[k] = v, true
			}
		}
	}
	hasFooter := a.Company != "" || a.PostalAddress != "" || a.Website != ""
	if len(colors) == 0 && a.BodyFont == "" && a.HeadingFont == "" && a.LogoURL == "" && !hasFooter {
		w("\n# The brand is not set. `lastmile init` asks for it; or write it here\n# (docs/policy.md, \"Brand\"):\n")
		w("# brand:\n#   footer:\n#     company: Example Shop Inc.\n#     postal_address: 1 Main Street, Springfield, IL 62701, USA\n#     contact_url: https://www.example.com/contact\n")
		return
	}
	w("\n# Brand tokens: the block renderer builds emails and pages from them, and\n# the footer rules look for the footer values in every email.\nbrand:\n")
	if len(colors) > 0 {
		w("  colors:\n")
		for _, k := range BrandColorKeys {
			if v := colors[k]; v != "" {
				note := ""
				if filled[k] {
					note = "   # not given: a neutral default"
				}
				w("    %s: %s%s\n", k, yq(v), note)
			}
		}
	}
	if a.BodyFont != "" || a.HeadingFont != "" {
		w("  fonts:\n")
		if a.BodyFont != "" {
			w("    body: %s\n", yq(a.BodyFont))
		}
		if a.HeadingFont != "" {
			w("    heading: %s\n", yq(a.HeadingFont))
		}
	}
	if a.LogoURL != "" {
		w("  logo:\n    url: %s\n", yq(a.LogoURL))
		w("    alt: %s\n", yq(firstNonEmpty(a.LogoAlt, a.Company, "Logo")))
		if a.Website != "" {
			w("    link: %s\n", yq(a.Website))
		}
	}
	if hasFooter {
		w("  footer:\n")
		if a.Company != "" {
			w("    company: %s\n", yq(a.Company))
		} else {
			w("    # company: not set (a human runs `lastmile init`)\n")
		}
		if a.PostalAddress != "" {
			w("    postal_address: %s\n", yq(a.PostalAddress))
		} else {
			w("    # postal_address: not set (a human runs `lastmile init`)\n")
		}
		if a.Website != "" {
			w("    contact_url: %s\n", yq(a.Website))
		} else {
			w("    # contact_url: not set (a human runs `lastmile init`)\n")
		}
	}
}

func writeRules(b *bytes.Buffer, a BrandAnswers) {
	w := func(s string) { b.WriteString(s) }
	w(`
rules:
  # --- Footer and headers: CAN-SPAM (US), CASL (CA), GDPR/ePrivacy (EU) ---
  # A footer value the brand does not set is reported as not set wherever
  # the rule applies; it never passes silently.
  - id: footer.unsubscribe
    kind: footer
    level: error
    description: Every marketing email has a working opt-out (CAN-SPAM, CASL, GDPR).
    require: [unsubscribe]

  - id: footer.identity
    kind: footer
    level: error
    description: Every marketing email names the sender (CASL, GDPR; CAN-SPAM wants the sender identified accurately).
    require: [sender_identity]

  - id: footer.can-spam
    kind: footer
    level: error
    description: Email to the US shows the sender's valid physical postal address (CAN-SPAM).
    markets: [US]
    require: [postal_address]

  - id: footer.casl
    kind: footer
    level: error
    description: Email to Canada gives a way to contact the sender (CASL).
    markets: [CA]
    require: [contact]

  - id: footer.list-unsubscribe
    kind: footer
    level: error
    description: Gmail and Yahoo bulk-sender rules need a List-Unsubscribe header.
    require: [list_unsubscribe]

  - id: footer.one-click
    kind: footer
    level: warning
    description: Senders of 5,000+ messages a day need RFC 8058 one-click unsubscribe.
    min_recipients: 5000
    require: [one_click_unsubscribe]

  - id: legal.de-impressum
    kind: required_text
    level: error
    description: German and Austrian commercial email names the legal entity (Impressum).
    markets: [DE, AT]
    channels: [email]
    text: Impressum

  # --- Consent by market -------------------------------------------------
  - id: consent.opt-in-markets
    kind: consent
    level: error
    description: Opt-in markets need recorded consent; the segment must filter on it.
    markets: [EU, EEA, UK, CA, AU, NZ, JP, KR, BR]
    property: marketing_consent

  # --- Links and images ----------------------------------------------------
  - id: links.secure
    kind: link
    level: error
    message: "Broken or unsafe link."
    https: true
    placeholders: true

  - id: images.secure
    kind: image
    level: error
    https: true

  - id: images.alt
    kind: image
    level: error
    alt: present

  - id: images.alt-meaningful
    kind: image
    level: warning
    alt: nonempty
    spacer_max_px: 3
`)
	if own := a.OwnDomains(); len(own) > 0 {
		list := strings.Join(own, ", ")
		fmt.Fprintf(b, `
  # To keep links and images on your own domains, uncomment:
  # - id: links.domains
  #   kind: link
  #   level: warning
  #   domains: [%s]
  # - id: images.hosting
  #   kind: image
  #   level: warning
  #   domains: [%s]
`, list, list)
	}
	w(`
  # --- Size, subject, personalization ------------------------------------
  - id: size.gmail-clipping
    kind: size
    level: error
    description: Gmail clips HTML above 102 KB and can hide the unsubscribe link.
    warn_kb: 90
    max_kb: 102

  - id: subject.required
    kind: subject
    level: error
    required: true

  - id: subject.length
    kind: subject
    level: warning
    max_length: 78

  - id: tokens.fallbacks
    kind: tokens
    level: error
    description: Every personalization token has a fallback, so no one reads "Hi ,".
`)
	if len(a.Colors) > 0 || a.BodyFont != "" || a.HeadingFont != "" {
		w(`
  # --- Brand style -----------------------------------------------------------
  - id: style.brand
    kind: style
    level: warning
`)
		if len(a.Colors) > 0 {
			w("    colors: true\n    allow_colors: [\"#000000\", \"#ffffff\"]   # button text contrast\n")
		} else {
			w("    colors: false\n")
		}
		if a.BodyFont != "" || a.HeadingFont != "" {
			w("    fonts: true\n")
		} else {
			w("    fonts: false\n")
		}
	}
	switch a.Industry {
	case "finserv":
		w(`
  # --- Financial promotions (SEC Marketing Rule; FINRA 2210) ----------------
  - id: legal.finserv-past-performance
    kind: required_text
    level: error
    industries: [finserv]
    channels: [email, page]
    text: Past performance is not indicative of future results.

  - id: legal.finserv-banned
    kind: existence
    level: error
    message: "“%s” is prohibited in financial promotions (SEC Marketing Rule)."
    industries: [finserv]
    tokens: ["guaranteed returns", "no risk", "can't lose", "risk free investment", "double your money", "sure thing"]
`)
	case "health":
		w(`
  # --- Health claims (FTC Health Products Compliance Guidance; DSHEA) ------
  - id: legal.health-claims
    kind: existence
    level: error
    message: "Health claim “%s” needs substantiation."
    industries: [health]
    tokens: [cure, cures, "clinically proven", miracle, "doctor recommended", "no side effects"]

  - id: legal.health-fda
    kind: required_text
    level: error
    industries: [health]
    channels: [email, page]
    text: "These statements have not been evaluated by the Food and Drug Administration."
`)
	default:
		w(`
  # Industry disclaimers (financial services, health, alcohol) are not in this
  # baseline: add the ones your industry needs, with industries: [...]
  # (docs/policy.md, "required_text").
`)
	}
	w(`
  # --- Approvals -------------------------------------------------------------
  # One approver suffices unless a rule asks for more, e.g.:
  # - id: approvals.large-audience
  #   kind: approvals
  #   approvers: 2
  #   min_recipients: 10001
`)
}

// yq quotes a string as a YAML double-quoted scalar (JSON's string syntax
// is a subset of it).
func yq(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func oneLineComment(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
