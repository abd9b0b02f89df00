package hubspot

import (
	"regexp"
	"strings"
	"sync"
)

// lastmile's canonical personalization syntax is Liquid-like:
//
//	{{ contact.firstname | default: "there" }}   →  {{ contact.firstname|default("there") }}
//	{{ contact.firstname }}                       →  {{ contact.firstname }}
//	{{ unsubscribe_url }}                         →  {{ unsubscribe_link_all }}
//
// HubL (HubSpot's template language) calls filters with parentheses. Inside
// an HTML attribute the renderer has escaped the fallback's quotes as
// &quot;; there the HubL string uses single quotes so the attribute stays
// intact.
var (
	contactToken = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\{\{\s*contact\.([A-Za-z0-9_]+)\s*(?:\|\s*default\s*:\s*(?:"((?:[^"\\]|\\.)*)"|&quot;(.*?)&quot;|'((?:[^'\\]|\\.)*)')\s*)?\}\}`)
	})
	unsubToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{\s*unsubscribe_url\s*\}\}`) })
	anyToken   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{[^{}]*\}\}|\{%[^{}]*%\}`) })
)

// toHubL rewrites lastmile's tokens in s into HubL.
func toHubL(s string) string {
	s = unsubToken().ReplaceAllString(s, "{{ unsubscribe_link_all }}")
	return contactToken().ReplaceAllStringFunc(s, func(m string) string {
		sub := contactToken().FindStringSubmatch(m)
		prop := sub[1]
		switch {
		case sub[3] != "" || strings.Contains(m, "&quot;"):
			return "{{ contact." + prop + "|default('" + escapeSingle(sub[3]) + "') }}"
		case sub[2] != "" || strings.Contains(m, `"`):
			return `{{ contact.` + prop + `|default("` + sub[2] + `") }}`
		case sub[4] != "" || strings.Contains(m, "'"):
			return "{{ contact." + prop + "|default('" + sub[4] + "') }}"
		}
		return "{{ contact." + prop + " }}"
	})
}

func escapeSingle(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`)
}

// foreignTokens lists the {{ … }} and {% … %} tokens of s that are not
// lastmile's contact or unsubscribe tokens: HubSpot renders them as HubL
// as they stand, and unknown variables come out empty.
func foreignTokens(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range anyToken().FindAllString(s, -1) {
		if contactToken().MatchString(m) || unsubToken().MatchString(m) || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	return out
}
