// Package liquid renders lastmile's personalization language, the subset
// of Liquid every target renders per recipient: outputs
// {{ contact.firstname | default: "there" }} and {{ unsubscribe_url }}, and
// conditions {% if contact.plan == "pro" %} … {% elsif … %} … {% else %} …
// {% endif %} testing a contact property with ==, !=, contains, > or <, or
// on its own (set and not empty). Anything else in {% %} — a loop, an
// assignment, another tag — is not rendered: Unsupported lists it, so a
// check can refuse it before a recipient sees it literally.
package liquid

import (
	"fmt"
	"html"
	"regexp"
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

// piece is a parsed part of a text.
type piece struct {
	off         int
	text        string // literal text, or the raw construct
	kind        string // "", "output", "if", "elsif", "else", "endif"
	prop, op    string
	value       string
	unsupported string
}

// parse splits s into literal text, outputs and condition tags, handing
// each to fn in order (no slice: texts may hold a million tokens).
func parse(s string, fn func(piece)) {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 {
			fn(piece{off: i, text: s[i:]})
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
			fn(piece{off: i, text: s[i : j+1]})
			i = j + 1
			continue
		}
		if j > i {
			fn(piece{off: i, text: s[i:j]})
		}
		k := strings.Index(s[j+2:], closer)
		if k < 0 && closer == "}}" {
			fn(piece{off: j, text: "{"}) // a brace, and read on
			i = j + 1
			continue
		}
		if k < 0 {
			fn(piece{off: j, text: s[j:], unsupported: "{% without its %}"})
			break
		}
		end := j + 2 + k + 2
		fn(classify(j, s[j:end]))
		i = end
	}
}

func classify(off int, raw string) piece {
	p := piece{off: off, text: raw}
	if strings.HasPrefix(raw, "{{") {
		if output.MatchString(raw) {
			p.kind = "output"
		} else if strings.Contains(raw, "contact.") || strings.Contains(raw, "unsubscribe_url") {
			p.unsupported = "only {{ contact.property }}, with an optional | default: \"…\", and {{ unsubscribe_url }} are rendered"
		} else {
			p.kind = "" // not a token of this language: literal text (HubL, other uses of braces)
		}
		return p
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(raw, "{%"), "%}"), "-"), "-"))
	tag, rest, _ := strings.Cut(body, " ")
	rest = strings.TrimSpace(rest)
	switch tag {
	case "if", "elsif":
		m := cond.FindStringSubmatch(rest)
		if m == nil {
			p.unsupported = "a condition tests one contact property: contact.x, or contact.x ==, !=, contains, > or < a quoted text, a number, true or false"
			return p
		}
		p.kind, p.prop, p.op = tag, strings.ToLower(m[1]), m[2]
		p.value = m[3] + m[4] + html.UnescapeString(m[5]+m[6]) + m[7] + m[8]
	case "else", "endif":
		if rest != "" {
			p.unsupported = "{% " + tag + " %} takes nothing after it"
			return p
		}
		p.kind = tag
	default:
		p.unsupported = fmt.Sprintf("{%% %s %%} is not rendered (only if, elsif, else and endif are)", tag)
	}
	return p
}

// Unsupported lists what in s cannot be rendered: unknown tags, conditions
// outside the subset, and if blocks that are not closed or close nothing.
func Unsupported(s string) []Construct {
	var out []Construct
	depth := 0
	var open []piece
	parse(s, func(p piece) {
		if p.unsupported != "" {
			out = append(out, Construct{Off: p.off, Text: p.text, Why: p.unsupported})
			return
		}
		switch p.kind {
		case "if":
			depth++
			open = append(open, p)
		case "elsif", "else", "endif":
			if depth == 0 {
				out = append(out, Construct{Off: p.off, Text: p.text, Why: "{% " + p.kind + " %} without an {% if %} before it"})
				return
			}
			if p.kind == "endif" {
				depth--
				open = open[:len(open)-1]
			}
		}
	})
	for _, p := range open {
		out = append(out, Construct{Off: p.off, Text: p.text, Why: "{% if %} without its {% endif %}"})
	}
	return out
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
		switch p.kind {
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
			f.on = parent && !f.taken && (p.kind == "else" || holds(p, fields))
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
		if p.kind == "output" {
			b.WriteString(fill(p.text, fields, unsubscribe, escape))
			return
		}
		b.WriteString(p.text)
	})
	return b.String()
}

func fill(raw string, fields map[string]string, unsubscribe string, escape bool) string {
	m := output.FindStringSubmatch(raw)
	var v string
	if m[6] != "" {
		v = unsubscribe
	} else {
		v = fields[strings.ToLower(m[1])]
		if strings.TrimSpace(v) == "" {
			v = m[2] + m[3] + html.UnescapeString(m[4]+m[5])
		}
	}
	if escape {
		return html.EscapeString(v)
	}
	return v
}

// holds evaluates a condition for a recipient. Comparisons are numeric when
// both sides are numbers, else case-insensitive text.
func holds(p piece, fields map[string]string) bool {
	v := strings.TrimSpace(fields[p.prop])
	switch p.op {
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
		if p.op == ">" {
			return strings.ToLower(v) > strings.ToLower(p.value)
		}
		return strings.ToLower(v) < strings.ToLower(p.value)
	}
	if p.op == ">" {
		return a > c
	}
	return a < c
}
