package hubspot

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
)

// lastmile's personalization language (package liquid) is translated into
// HubL, HubSpot's template language:
//
//	{{ contact.firstname | default: "there" }}  →  {{ contact.firstname|default("there") }}
//	{{ contact.firstname }}                      →  {{ contact.firstname }}
//	{{ unsubscribe_url }}                        →  {{ unsubscribe_link_all }}
//	{% if contact.vip %}                         →  {% if contact.vip %}
//	{% if contact.plan == "pro" %}               →  {% if contact.plan|lower == "pro" %}   (!= alike)
//	{% elsif contact.city contains "port" %}     →  {% elif "port" in contact.city|lower %}
//	{% if contact.seats > 10 %}                  →  {% if contact.seats > 10 %}           (< alike)
//	{% else %} / {% endif %}                     →  {% else %} / {% endif %}
//
// Text is compared lower-cased, as lastmile's preview compares it. HubL
// calls filters with parentheses. Inside an HTML attribute the renderer has
// escaped quotes as &quot;; there the HubL string uses single quotes so the
// attribute stays intact. What HubSpot cannot render is what
// liquid.Unrenderable("hubspot", …) lists, the same list the governance
// check reports; a HubL {{ }} that is not lastmile's passes as it stands.

// toHubL rewrites lastmile's language in s into HubL. A text HubSpot
// cannot render is left as written: Assess has made it a plan problem.
func toHubL(s string) string {
	out, _ := hubl(s)
	return out
}

func hubl(s string) (string, []liquid.Construct) {
	return liquid.Translate(Platform, s, func(n liquid.Node) string {
		switch n.Kind {
		case "output":
			if n.Prop == "" {
				return "{{ unsubscribe_link_all }}"
			}
			if n.Quote == "" {
				return "{{ contact." + n.Prop + " }}"
			}
			return "{{ contact." + n.Prop + "|default(" + hublString(n.Value, n.Quote) + ") }}"
		case "if":
			return "{% if " + hublCondition(n) + " %}"
		case "elsif":
			return "{% elif " + hublCondition(n) + " %}"
		}
		return "{% " + n.Kind + " %}"
	})
}

// hublCondition writes a condition as HubL, deciding it as lastmile's
// preview does (package liquid): ==, != and contains on lower-cased text,
// > and < on numbers when the operand is one, else on lower-cased text.
func hublCondition(n liquid.Node) string {
	prop := "contact." + n.Prop
	switch n.Op {
	case "":
		return prop
	case "contains":
		return hublString(strings.ToLower(n.Value), n.Quote) + " in " + prop + "|lower"
	case ">", "<":
		if _, err := strconv.ParseFloat(n.Value, 64); err == nil && n.Quote == "" {
			return prop + " " + n.Op + " " + n.Value
		}
	}
	return prop + "|lower " + n.Op + " " + hublString(strings.ToLower(n.Value), n.Quote)
}

// hublString quotes v as the source did; an attribute's &quot; becomes a
// single-quoted HubL string.
func hublString(v, quote string) string {
	switch quote {
	case `"`, "'":
		return quote + v + quote
	}
	return "'" + escapeSingle(v) + "'"
}

func escapeSingle(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`)
}

// unrenderable lists, as plan problems, what HubSpot cannot render in the
// fields (by name); who is whom it would reach.
func unrenderable(who string, fields map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		_, bad := hubl(fields[name])
		for _, u := range bad {
			out = append(out, fmt.Sprintf("%s cannot render %s in %s: %s; %s would see it as written", Platform, termsafe.Text(u.Text, 60), name, u.Why, who))
		}
	}
	return out
}

var curlyToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{[^{}]*\}\}`) })

// foreignTokens lists the {{ … }} tokens of s that are not lastmile's:
// HubSpot renders them as HubL as they stand, and unknown variables come
// out empty.
func foreignTokens(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range curlyToken().FindAllString(s, -1) {
		if seen[m] || isLanguage(m) {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	return out
}

// isLanguage reports whether tok, one {{ }}, is a construct of lastmile's
// language.
func isLanguage(tok string) bool {
	lang := false
	liquid.Translate(Platform, tok, func(liquid.Node) string { lang = true; return "" })
	return lang
}
