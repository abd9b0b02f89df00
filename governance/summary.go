package governance

import (
	"fmt"
	"slices"
	"strings"
)

// Summary presents the whole policy as Markdown for an agent (the
// lastmile://policy resource): brand tokens to write with, approvers, and
// every rule with its level, where it applies and what it wants, so copy
// can be written on-brand before the first check.
func (p *Policy) Summary() string {
	var b strings.Builder
	name := p.name
	if name == "" {
		name = "Brand and compliance policy"
	}
	fmt.Fprintf(&b, "# %s\n\n", name)
	if p.description != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(p.description))
	}
	fmt.Fprintf(&b, "Policy hash: `%s`", p.hash)
	if p.file != "" {
		fmt.Fprintf(&b, " (from `%s`)", p.file)
	}
	b.WriteString("\n\nLevels: **error** blocks promotion; **warning** must be acknowledged by the approver; **suggestion** is advice.\n")
	if note := p.UnsetNote(); note != "" {
		fmt.Fprintf(&b, "\n**Brand not set.** %s\n", note)
	}
	if d := p.defaults; d != nil {
		b.WriteString("\n## Defaults\n\nCampaigns that state no industry or markets get these, and rules select on them.\n\n")
		line(&b, "Industry", d.Industry)
		line(&b, "Markets", strings.Join(d.Markets, ", "))
		sender := d.FromName
		if d.FromEmail != "" {
			sender = strings.TrimSpace(sender + " <" + d.FromEmail + ">")
		}
		line(&b, "Sender (use it as from_name and from_email)", sender)
	}

	b.WriteString("\n## Brand\n\n")
	br := p.brand
	c := br.Colors
	var cols []string
	for _, kv := range [][2]string{{"primary", c.Primary}, {"text", c.Text}, {"background", c.Background}, {"link", c.Link}, {"button", c.Button}} {
		if kv[1] != "" {
			cols = append(cols, fmt.Sprintf("%s `%s`", kv[0], kv[1]))
		}
	}
	names := make([]string, 0, len(c.Named))
	for n := range c.Named {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cols = append(cols, fmt.Sprintf("%s `%s`", n, c.Named[n]))
	}
	line(&b, "Colours", strings.Join(cols, ", "))
	line(&b, "Body font", br.Fonts.Body)
	line(&b, "Heading font", br.Fonts.Heading)
	if br.Logo.URL != "" {
		line(&b, "Logo", fmt.Sprintf("%s (alt %q, width %d px, links to %s)", br.Logo.URL, br.Logo.Alt, br.Logo.Width, br.Logo.Link))
	}
	line(&b, "Footer company", br.Footer.Company)
	line(&b, "Footer postal address", br.Footer.PostalAddress)
	line(&b, "Footer contact", strings.Trim(br.Footer.ContactEmail+", "+br.Footer.ContactURL, ", "))
	if len(cols) == 0 && br.Fonts == (Fonts{}) && br.Logo == (Logo{}) && br.Footer == (Footer{}) {
		b.WriteString("No brand tokens are configured.\n")
	}

	if len(p.roles) > 0 {
		b.WriteString("\n## Approver roles\n\n")
		for _, role := range p.Roles() {
			fmt.Fprintf(&b, "- **%s**: %s\n", role, strings.Join(p.roles[role], ", "))
		}
	}

	var errs, warns, sugg int
	for _, r := range p.rules {
		switch r.cfg.Level {
		case LevelError:
			errs++
		case LevelWarning:
			warns++
		case LevelSuggestion:
			sugg++
		}
	}
	fmt.Fprintf(&b, "\n## Rules (%d: %d errors, %d warnings, %d suggestions)\n", len(p.rules), errs, warns, sugg)
	if len(p.rules) == 0 {
		b.WriteString("\nNo rules are configured: checks pass, and one human approval is required to promote.\n")
	}
	for _, r := range p.rules {
		cfg := &r.cfg
		level := cfg.Level
		if level == "" {
			level = "approval"
		}
		fmt.Fprintf(&b, "\n### `%s` (%s, %s)\n\n", cfg.ID, level, cfg.Kind)
		if cfg.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(cfg.Description))
		}
		line(&b, "Wants", wants(r))
		line(&b, "Applies to", appliesTo(cfg))
		if len(cfg.Scope) > 0 {
			line(&b, "Scope", strings.Join(cfg.Scope, ", "))
		}
		if len(cfg.Exceptions) > 0 {
			line(&b, "Exceptions", quoteList(cfg.Exceptions))
		}
		line(&b, "Message", cfg.Message)
		line(&b, "Fix", cfg.Fix)
		line(&b, "Policy page", cfg.Link)
	}
	return b.String()
}

func line(b *strings.Builder, label, value string) {
	if strings.TrimSpace(value) != "" {
		fmt.Fprintf(b, "- %s: %s\n", label, value)
	}
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

func appliesTo(c *ruleConfig) string {
	var parts []string
	if len(c.Channels) > 0 {
		parts = append(parts, "channels "+strings.Join(c.Channels, ", "))
	}
	if len(c.Markets) > 0 {
		parts = append(parts, "markets "+strings.Join(c.Markets, ", "))
	}
	if len(c.Industries) > 0 {
		parts = append(parts, "industries "+strings.Join(c.Industries, ", "))
	}
	if c.MinRecipients > 0 {
		parts = append(parts, fmt.Sprintf("audiences of %d or more", c.MinRecipients))
	}
	if c.MinDailyBudget != nil {
		parts = append(parts, fmt.Sprintf("ad budgets of %s a day or more", c.MinDailyBudget))
	}
	if c.MinTotalBudget != nil {
		parts = append(parts, fmt.Sprintf("ad spend of %s in all or more", c.MinTotalBudget))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}

// wants says in one line what the rule requires, in terms a writer can act
// on.
func wants(r *rule) string {
	c := &r.cfg
	switch c.Kind {
	case "existence":
		return joinNonEmpty("never use: "+quoteList(c.Tokens), "nor text matching: "+quoteList(c.Patterns))
	case "substitution":
		var s []string
		for _, p := range c.Swap {
			s = append(s, fmt.Sprintf("%q → %q", p.From, p.To))
		}
		return "write " + strings.Join(s, ", ")
	case "occurrence":
		what := strings.Trim(quoteList(c.Tokens)+", "+quoteList(c.Patterns), ", ")
		var lim []string
		if c.Min != nil {
			lim = append(lim, fmt.Sprintf("at least %d", *c.Min))
		}
		if c.Max != nil {
			lim = append(lim, fmt.Sprintf("at most %d", *c.Max))
		}
		return fmt.Sprintf("%s of %s per field", strings.Join(lim, " and "), what)
	case "consistency":
		var s []string
		for _, p := range c.Either {
			s = append(s, fmt.Sprintf("%q or %q", p.From, p.To))
		}
		return "one spelling per document: " + strings.Join(s, "; ")
	case "conditional":
		return fmt.Sprintf("text matching `%s` needs text matching `%s`", c.First, c.Second)
	case "capitalization":
		var s []string
		if c.Match != "" {
			s = append(s, map[string]string{"$title": "title case", "$sentence": "sentence case", "$lower": "lower case", "$upper": "upper case"}[c.Match])
		}
		if len(c.Products) > 0 {
			s = append(s, "product names written exactly "+quoteList(c.Products))
		}
		return strings.Join(s, "; ")
	case "readability":
		return fmt.Sprintf("Flesch–Kincaid grade at most %.1f (texts of %d words or more)", *c.MaxGrade, c.MinWords)
	case "required_text":
		return joinNonEmpty("must contain: "+quoteList(c.Text), "must match: "+quoteList(c.Patterns))
	case "footer":
		return "footer with " + strings.ReplaceAll(strings.Join(c.Require, ", "), "_", " ")
	case "link":
		var s []string
		if isTrue(c.HTTPS) {
			s = append(s, "https links only")
		}
		if isTrue(c.Placeholders) {
			s = append(s, "no placeholder links (#, empty, example.com)")
		}
		if c.Domains != nil {
			s = append(s, "links only to "+strings.Join(c.Domains, ", "))
		}
		if u := c.UTM; u != nil {
			if len(u.Required) > 0 {
				s = append(s, "UTM parameters "+strings.Join(u.Required, ", "))
			}
			for _, v := range u.Values {
				s = append(s, fmt.Sprintf("%s in {%s}", v.Param, strings.Join(v.Allowed, ", ")))
			}
		}
		return strings.Join(s, "; ")
	case "image":
		var s []string
		switch c.Alt {
		case "required":
			s = append(s, `every image has alt text (alt="" only on spacers)`)
		case "present":
			s = append(s, "every image has an alt attribute")
		case "nonempty":
			s = append(s, "alt text is not empty except on spacers")
		}
		if isTrue(c.HTTPS) {
			s = append(s, "images from absolute https URLs")
		}
		if c.Domains != nil {
			s = append(s, "images hosted on "+strings.Join(c.Domains, ", "))
		}
		return strings.Join(s, "; ")
	case "style":
		var s []string
		if isTrue(c.Colors) {
			s = append(s, "only brand colours"+extra(c.AllowColors))
		}
		if isTrue(c.Fonts) {
			s = append(s, "only brand fonts"+extra(c.AllowFonts))
		}
		return strings.Join(s, "; ")
	case "size":
		return joinNonEmpty(kbPart("warning above %d KB", c.WarnKB), kbPart("HTML at most %d KB", c.MaxKB))
	case "subject", "preview_text":
		var s []string
		if isTrue(c.Required) {
			s = append(s, "present")
		}
		if c.MinLength > 0 || c.MaxLength > 0 {
			s = append(s, fmt.Sprintf("%d to %d characters", c.MinLength, c.MaxLength))
		}
		if isTrue(c.AllCaps) {
			s = append(s, "no ALL-CAPS words")
		}
		if len(c.SpamWords) > 0 {
			s = append(s, "none of: "+quoteList(c.SpamWords))
		}
		return strings.Join(s, "; ")
	case "tokens":
		return `personalization tokens with fallbacks: {{ contact.firstname | default: "there" }} (local), {{ personalization_token('contact.firstname', 'there') }} (HubSpot), *|FNAME|* with an audience default (Mailchimp)`
	case "consent":
		return fmt.Sprintf("segments filter on the consent property %q", c.Property)
	case "approvals":
		return approvalReason(r)
	}
	return ""
}

func extra(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return " plus " + strings.Join(s, ", ")
}

func kbPart(f string, n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(f, n)
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if !strings.HasSuffix(p, ": ") && p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
