// Package liquid renders lastmile's personalization language, the subset
// of Liquid every target renders per recipient: outputs
// {{ contact.firstname | default: "there" }} and {{ unsubscribe_url }}, and
// conditions {% if contact.plan == "pro" %} … {% elsif … %} … {% else %} …
// {% endif %} testing a contact property with ==, !=, contains, > or <, or
// on its own (set and not empty). Anything else in {% %} — a loop, an
// assignment, another tag — is not rendered: Unsupported lists it, so a
// check can refuse it before a recipient sees it literally.
//
// The language is the same on every target, and the review page previews
// it with Render, so what an approver sees is what each target must send.
// A target renders the language itself (local), translates it (HubSpot into
// HubL, Mailchimp into conditional merge tags) or fills it for an anonymous
// visitor (WordPress pages, local pages). Unrenderable says what one target
// cannot render; the governance check and the connectors' translations
// (Translate) both ask it, so what the check lets through is exactly what
// promotion can translate.
package liquid

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Construct is something in a text this package cannot render.
type Construct struct {
	Off  int    // byte offset of its {% or {{
	Text string // as written
	Why  string
}

var (
	output = regexp.MustCompile(`^\{\{\s*(?:contact\.([A-Za-z0-9_.:-]+)\s*(?:\|\s*default:\s*(?:"([^"]*)"|'([^']*)'|&quot;(.*?)&quot;|&#34;(.*?)&#34;))?|(unsubscribe_url))\s*\}\}$`)
	cond   = regexp.MustCompile(`^contact\.([A-Za-z0-9_.:-]+)(?:\s*(==|!=|contains|>|<)\s*(?:"([^"]*)"|'([^']*)'|&quot;(.*?)&quot;|&#34;(.*?)&#34;|(-?[0-9]+(?:\.[0-9]+)?)|(true|false)))?$`)
)

// Node is a construct of the language, as a target translates it.
type Node struct {
	Kind string // "output", "if", "elsif", "else" or "endif"
	Text string // as written
	// Prop is the contact property, lower-case; "" for
	// {{ unsubscribe_url }}, else and endif.
	Prop string
	Op   string // a condition's operator: "", "==", "!=", "contains", ">" or "<"
	// Value is a condition's operand or an output's default, as written
	// between its quotes (entities kept: it is still the source's text).
	Value string
	// Quote is how Value was quoted: `"`, `'`, "&quot;" or "&#34;" (an
	// HTML attribute's escaped quotes); "" for a number, true or false, and
	// for an output without a default.
	Quote string
}

// piece is a parsed part of a text: literal text (Kind ""), a construct of
// the language, or something unsupported.
type piece struct {
	off int
	Node
	value       string // Value as the text means it: entities decoded
	unsupported string
}

// parse splits s into literal text, outputs and condition tags, handing
// each to fn in order (no slice: texts may hold a million tokens).
func parse(s string, fn func(piece)) {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 {
			fn(piece{off: i, Node: Node{Text: s[i:]}})
			break
		}
		j += i
		var closer string
		switch {
		case strings.HasPrefix(s[j:], "{{"):
			closer = "}}"
		case strings.HasPrefix(s[j:], "{%"):
			closer = "%}"
		default:
			fn(piece{off: i, Node: Node{Text: s[i : j+1]}})
			i = j + 1
			continue
		}
		if j > i {
			fn(piece{off: i, Node: Node{Text: s[i:j]}})
		}
		k := strings.Index(s[j+2:], closer)
		if k < 0 && closer == "}}" {
			fn(piece{off: j, Node: Node{Text: "{"}}) // a brace, and read on
			i = j + 1
			continue
		}
		if k < 0 {
			fn(piece{off: j, Node: Node{Text: s[j:]}, unsupported: "{% without its %}"})
			break
		}
		end := j + 2 + k + 2
		fn(classify(j, s[j:end]))
		i = end
	}
}

func classify(off int, raw string) piece {
	p := piece{off: off, Node: Node{Text: raw}}
	if strings.HasPrefix(raw, "{{") {
		if m := output.FindStringSubmatchIndex(raw); m != nil {
			p.Kind = "output"
			if m[2] >= 0 {
				p.Prop = strings.ToLower(raw[m[2]:m[3]])
			}
			p.Value, p.Quote = quoted(raw, m, 2)
			p.value = decoded(p.Value, p.Quote)
		} else if strings.Contains(raw, "contact.") || strings.Contains(raw, "unsubscribe_url") {
			p.unsupported = "only {{ contact.property }}, with an optional | default: \"…\", and {{ unsubscribe_url }} are rendered"
		}
		// Otherwise it is not a token of this language: literal text (HubL,
		// other uses of braces).
		return p
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(raw, "{%"), "%}"), "-"), "-"))
	tag, rest, _ := strings.Cut(body, " ")
	rest = strings.TrimSpace(rest)
	switch tag {
	case "if", "elsif":
		m := cond.FindStringSubmatchIndex(rest)
		if m == nil {
			p.unsupported = "a condition tests one contact property: contact.x, or contact.x ==, !=, contains, > or < a quoted text, a number, true or false"
			return p
		}
		p.Kind, p.Prop = tag, strings.ToLower(rest[m[2]:m[3]])
		if m[4] >= 0 {
			p.Op = rest[m[4]:m[5]]
		}
		p.Value, p.Quote = quoted(rest, m, 3)
		for g := 7; g <= 8; g++ { // a number, true or false
			if m[2*g] >= 0 {
				p.Value = rest[m[2*g]:m[2*g+1]]
			}
		}
		p.value = decoded(p.Value, p.Quote)
	case "else", "endif":
		if rest != "" {
			p.unsupported = "{% " + tag + " %} takes nothing after it"
			return p
		}
		p.Kind = tag
	default:
		p.unsupported = fmt.Sprintf("{%% %s %%} is not rendered (only if, elsif, else and endif are)", tag)
	}
	return p
}

// quotes are the quotings the patterns' groups stand for, in their order.
var quotes = [...]string{`"`, "'", "&quot;", "&#34;"}

// quoted picks the matched one of the four groups from first on (match
// indices m of s): "…", '…', &quot;…&quot; and &#34;…&#34;. An empty text
// still has its quote: default: "" is a default.
func quoted(s string, m []int, first int) (value, quote string) {
	for i, q := range quotes {
		if g := 2 * (first + i); m[g] >= 0 {
			return s[m[g]:m[g+1]], q
		}
	}
	return "", ""
}

func decoded(v, quote string) string {
	if strings.HasPrefix(quote, "&") {
		return html.UnescapeString(v)
	}
	return v
}

// Unsupported lists what in s no target renders: unknown tags, conditions
// and outputs outside the language, and if blocks that are not closed or
// close nothing.
func Unsupported(s string) []Construct { return Unrenderable("", s) }

// Targets are the platforms Unrenderable knows. A target that is not one of
// them (none yet) renders nothing of the language.
var Targets = []string{"local", "hubspot", "mailchimp", "wordpress", "webflow"}

// Knows reports whether target is one of Targets.
func Knows(target string) bool { return slices.Contains(Targets, target) }

// Unrenderable lists what in s target cannot render: what Unsupported
// lists, and the constructs of the language target cannot express (see
// cannot). Unbalanced tags are reported once, at the if or the stray tag.
func Unrenderable(target, s string) []Construct {
	var out []Construct
	var open []piece
	parse(s, func(p piece) {
		if p.unsupported != "" {
			if target == "hubspot" && strings.HasPrefix(p.Text, "{{") {
				return // HubL, which HubSpot renders as it stands
			}
			out = append(out, Construct{Off: p.off, Text: p.Text, Why: p.unsupported})
			return
		}
		if p.Kind == "" {
			return
		}
		if why := cannot(target, p.Node); why != "" {
			out = append(out, Construct{Off: p.off, Text: p.Text, Why: why})
		}
		switch p.Kind {
		case "if":
			open = append(open, p)
		case "elsif", "else", "endif":
			if len(open) == 0 {
				out = append(out, Construct{Off: p.off, Text: p.Text, Why: "{% " + p.Kind + " %} without an {% if %} before it"})
				return
			}
			if p.Kind == "endif" {
				open = open[:len(open)-1]
			}
		}
	})
	for _, p := range open {
		out = append(out, Construct{Off: p.off, Text: p.Text, Why: "{% if %} without its {% endif %}"})
	}
	slices.SortStableFunc(out, func(a, b Construct) int { return a.Off - b.Off })
	return out
}

// hubspotName is an internal property name as HubSpot forms them; HubL
// would read contact.first-name as a subtraction.
var hubspotName = regexp.MustCompile(`^[a-z0-9_]+$`)

// cannot says why target cannot render a construct of the language, or "".
// local renders all of it, and so do WordPress and Webflow pages (filled for an
// anonymous visitor, as local's pages are). HubL expresses all of it, and
// HubSpot renders any other {{ }} as HubL (personalization_token(…), its
// filters), which the tokens rule judges; a HubL {% %} tag it would render
// too, but lastmile could not preview it, so it is not let through.
// Mailchimp's conditional merge tags (*|IF:MERGE=value|*, *|ELSEIF:|*,
// *|ELSE:|*, *|END:IF|*) compare with =, !=, > and <, and end at |*.
func cannot(target string, n Node) string {
	switch target {
	case "", "local", "wordpress", "webflow":
	case "mailchimp":
		if n.Op == "contains" {
			return "Mailchimp's conditional merge tags compare with =, !=, > and <; they cannot test contains"
		}
		if n.Kind != "output" && strings.ContainsAny(n.Value, "|*") {
			return "a Mailchimp merge tag cannot hold | or * in the value it compares with"
		}
	case "hubspot":
		if n.Prop != "" && !hubspotName.MatchString(n.Prop) {
			return "HubSpot property names are lower-case letters, digits and _"
		}
	default:
		return "lastmile does not know what " + target + " renders"
	}
	return ""
}

// Renders says in a sentence what target renders of the language.
func Renders(target string) string {
	ops := "==, !=, contains, > or <"
	if target == "mailchimp" {
		ops = "==, !=, > or < (not contains)"
	}
	return `{{ contact.x | default: "…" }}, {{ unsubscribe_url }}, and {% if contact.x == "…" %} … {% elsif … %} … {% else %} … {% endif %} testing one contact property with ` + ops
}

// Translate rewrites each construct of the language in s with what fn
// makes of it, keeping the text between them. When target cannot render
// something in s, s comes back as written with the list (Unrenderable's):
// a text with a problem is never half translated.
func Translate(target, s string, fn func(Node) string) (string, []Construct) {
	if bad := Unrenderable(target, s); len(bad) > 0 {
		return s, bad
	}
	var b strings.Builder
	parse(s, func(p piece) {
		if p.Kind == "" {
			b.WriteString(p.Text)
			return
		}
		b.WriteString(fn(p.Node))
	})
	return b.String(), nil
}

// Render fills s for one recipient, whose properties fields holds by
// lower-case name: outputs take the property (or the default when it is
// empty), conditions keep only the branch that holds. escape says s is
// HTML, so values are escaped: a contact's name is data, never markup.
// What Unsupported reports is left as written.
func Render(s string, fields map[string]string, unsubscribe string, escape bool) string {
	var b strings.Builder
	// Each open if: whether a branch was taken, and whether this one is.
	type frame struct{ taken, on bool }
	var stack []frame
	live := func() bool {
		for _, f := range stack {
			if !f.on {
				return false
			}
		}
		return true
	}
	parse(s, func(p piece) {
		switch p.Kind {
		case "if":
			on := live() && holds(p, fields)
			stack = append(stack, frame{taken: on, on: on})
			return
		case "elsif", "else":
			if len(stack) == 0 {
				break // unbalanced: left as written
			}
			f := &stack[len(stack)-1]
			parent := true
			for _, g := range stack[:len(stack)-1] {
				parent = parent && g.on
			}
			f.on = parent && !f.taken && (p.Kind == "else" || holds(p, fields))
			f.taken = f.taken || f.on
			return
		case "endif":
			if len(stack) == 0 {
				break
			}
			stack = stack[:len(stack)-1]
			return
		}
		if !live() {
			return
		}
		if p.Kind == "output" {
			b.WriteString(fill(p, fields, unsubscribe, escape))
			return
		}
		b.WriteString(p.Text)
	})
	return b.String()
}

func fill(p piece, fields map[string]string, unsubscribe string, escape bool) string {
	if p.Prop == "" {
		if escape {
			return html.EscapeString(unsubscribe)
		}
		return unsubscribe
	}
	v := fields[p.Prop]
	if strings.TrimSpace(v) != "" {
		if escape {
			return html.EscapeString(v)
		}
		return v
	}
	if escape {
		// The default is the template's own HTML, already escaped where
		// its author meant an entity: decoded first, it is escaped once.
		return html.EscapeString(html.UnescapeString(p.value))
	}
	return p.value
}

// holds evaluates a condition for a recipient. Comparisons are numeric when
// both sides are numbers, else case-insensitive text.
func holds(p piece, fields map[string]string) bool {
	v := strings.TrimSpace(fields[p.Prop])
	switch p.Op {
	case "":
		return v != "" && !strings.EqualFold(v, "false")
	case "==":
		return strings.EqualFold(v, p.value)
	case "!=":
		return !strings.EqualFold(v, p.value)
	case "contains":
		return strings.Contains(strings.ToLower(v), strings.ToLower(p.value))
	}
	a, errA := strconv.ParseFloat(v, 64)
	c, errC := strconv.ParseFloat(p.value, 64)
	if errA != nil || errC != nil {
		if p.Op == ">" {
			return strings.ToLower(v) > strings.ToLower(p.value)
		}
		return strings.ToLower(v) < strings.ToLower(p.value)
	}
	if p.Op == ">" {
		return a > c
	}
	return a < c
}
