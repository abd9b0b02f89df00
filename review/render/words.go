// Package render turns staged segments and workflows into what the review
// page shows a human: plain-English lines and a server-rendered SVG
// diagram.
//
// Every string in a staged artifact was written by an AI agent, and the
// human approves what this package shows, so nothing here may let an agent
// forge it. Names and free-text values are quoted (a name cannot pose as
// the words after it), bidi overrides, controls and invisible characters
// are shown escaped (termsafe: `\u202e`), and long text is cut. The plain
// strings still need the page's html/template to escape them; the SVG is
// markup built here, with every agent string XML-escaped.
package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// Limits on what one name, value or list shows: a reviewer reads a
// sentence, not a 10 KB name.
const (
	textMax = 120 // runes of one name or value
	listMax = 20  // values of an in/not_in list
)

var (
	// bare is what a value may look like to be shown without quotes: one
	// word, so it cannot bring an "and …" of its own into the sentence.
	bare = regexp.MustCompile(`^[\p{L}\p{N}_.@+:/#-]+$`)
	// plainProperty is a property name that can be worded (underscores
	// read as spaces); anything else is quoted as it is.
	plainProperty = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	// structural are the words the sentences here are built from. A
	// property whose worded form holds one (country_is_US_and_x) keeps
	// its underscores, so it cannot read as a condition it is not.
	structural = func() map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.Fields(`a address addresses after also and at before contact contacts contain contains
			does end ends go goes if in is least less listed members minus more most no not of one or otherwise plus
			segment set starts step than the then to where with workflow yes`) {
			m[w] = true
		}
		return m
	}()
)

// quote shows agent text in double quotes, made inert and cut.
func quote(s string) string { return termsafe.Quote(visible(s), textMax) }

// visible replaces the noncharacters (U+FFFE, U+FDD0…) termsafe leaves:
// they show as nothing, and XML forbids some of them.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe {
			return utf8.RuneError
		}
		return r
	}, s)
}

// token shows s bare when it is one plain word (an id, a country code, a
// date), else quoted.
func token(s string) string {
	if bare.MatchString(s) {
		return termsafe.Text(s, textMax)
	}
	return quote(s)
}

// ref names the artifact id refers to: its human name when known, else
// the id itself.
func ref(names map[string]string, id string) string {
	if name := strings.TrimSpace(names[id]); name != "" {
		return quote(name)
	}
	return token(id)
}

// property words a contact property: lifecycle_stage reads "lifecycle
// stage".
func property(p string) string {
	if !plainProperty.MatchString(p) {
		return quote(p)
	}
	words := strings.FieldsFunc(p, func(r rune) bool { return r == '_' })
	for _, w := range words {
		if structural[strings.ToLower(w)] {
			return termsafe.Text(p, textMax)
		}
	}
	if len(words) == 0 {
		return termsafe.Text(p, textMax)
	}
	return termsafe.Text(strings.Join(words, " "), textMax)
}

// value shows a condition's or set_property's value.
func value(v any) string {
	switch v := v.(type) {
	case nil:
		return "(no value)"
	case string:
		return token(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case []any:
		var parts []string
		for i, x := range v {
			if i == listMax {
				parts[len(parts)-1] += fmt.Sprintf(" and %d more", len(v)-listMax)
				break
			}
			parts = append(parts, value(x))
		}
		if len(parts) == 0 {
			return "(no values)"
		}
		return strings.Join(parts, ", ")
	}
	return quote(fmt.Sprint(v))
}

// Operator wordings. Tests without a value are apart: "is set", not
// "is set (no value)".
var (
	opWords = map[string]string{
		"eq": "is", "neq": "is not", "contains": "contains", "not_contains": "does not contain",
		"starts_with": "starts with", "gt": "is more than", "gte": "is at least", "lt": "is less than",
		"lte": "is at most", "in": "is one of", "not_in": "is not one of", "before": "is before", "after": "is after",
	}
	opNoValue = map[string]string{"exists": "is set", "not_exists": "is not set"}
)

// condition words one property test.
func condition(prop, op string, v any) string {
	p := property(prop)
	if w, ok := opNoValue[op]; ok {
		return p + " " + w
	}
	if w, ok := opWords[op]; ok {
		return p + " " + w + " " + value(v)
	}
	// Staging refuses unknown operators; say so rather than guess.
	return p + " (unknown test " + quote(op) + ") " + value(v)
}

// groupParts words a group's conditions and subgroups, each a part to be
// joined by the group's "and"/"or".
func groupParts(g *sandbox.Group) []string {
	var parts []string
	for _, c := range g.Conditions {
		parts = append(parts, condition(c.Property, c.Operator, c.Value))
	}
	for i := range g.Groups {
		sub := groupParts(&g.Groups[i])
		switch len(sub) {
		case 0:
		case 1:
			parts = append(parts, sub[0])
		default:
			parts = append(parts, "("+strings.Join(sub, joiner(&g.Groups[i]))+")")
		}
	}
	return parts
}

// joiner is " or " for match any, else " and ": all is the default.
func joiner(g *sandbox.Group) string {
	if strings.EqualFold(strings.TrimSpace(g.Match), "any") {
		return " or "
	}
	return " and "
}

// SegmentWords is the segment's definition as lines a marketer reads:
// "Contacts where country is US and lifecycle stage is customer", then a
// line for each segment included ("plus the members of segment …"), the
// listed addresses and each segment excluded ("minus the members of
// segment …"). names maps artifact ids to human names; an id without one
// is shown as it is. The lines are plain text: the page's template
// escapes them.
func SegmentWords(s *sandbox.Segment, names map[string]string) []string {
	if s == nil {
		return nil
	}
	var lines []string
	if parts := groupParts(&s.Group); len(parts) > 0 {
		lines = append(lines, "Contacts where "+strings.Join(parts, joiner(&s.Group)))
	}
	for _, id := range s.IncludeSegments {
		lines = append(lines, "plus the members of segment "+ref(names, id))
	}
	switch n := len(s.StaticEmails); n {
	case 0:
	case 1:
		lines = append(lines, "plus 1 listed address")
	default:
		lines = append(lines, fmt.Sprintf("plus %d listed addresses", n))
	}
	if len(lines) == 0 {
		lines = append(lines, "Nobody: the segment has no conditions, segments or addresses")
	} else if first := lines[0]; strings.HasPrefix(first, "plus ") {
		// Without conditions the first inclusion starts the definition.
		lines[0] = capitalise(strings.TrimPrefix(strings.TrimPrefix(first, "plus "), "the "))
	}
	for _, id := range s.ExcludeSegments {
		lines = append(lines, "minus the members of segment "+ref(names, id))
	}
	return lines
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// mask stands for the hidden part of an address. It is the same length
// whatever it hides, so it does not tell how long the address is.
const mask = "•••••••"

// Mask shows an address partly hidden, for sample members:
// "maria.lopez@acme.com" is "ma•••••••@acme.com". It keeps the first two
// characters of the local part (one of a two-character part, none of a
// one-character part, so something is always hidden) and the domain.
// Text that is not an address is masked as a local part. The result is
// plain text, made inert like every other agent string.
func Mask(addr string) string {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ""
	}
	local, domain, at := addr, "", false
	if i := strings.LastIndex(addr, "@"); i >= 0 {
		local, domain, at = addr[:i], addr[i+1:], true
	}
	runes := []rune(local) // invalid bytes become U+FFFD
	keep := min(2, max(len(runes)-1, 0))
	out := string(runes[:keep]) + mask
	if at {
		out += "@" + domain
	}
	return termsafe.Text(visible(out), textMax)
}
