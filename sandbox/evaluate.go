package sandbox

import (
	"fmt"
	"strconv"
	"strings"
)

// Contact is one contact's properties, keyed by lower-case property name.
type Contact map[string]string

// Email returns the contact's address.
func (c Contact) Email() string { return strings.ToLower(strings.TrimSpace(c["email"])) }

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// equal compares a property value with a condition value: numerically when
// both are numbers, else case-insensitively as text.
func equal(prop string, v any) bool {
	if a, ok := number(prop); ok {
		if b, ok := number(v); ok {
			return a == b
		}
	}
	return strings.EqualFold(strings.TrimSpace(prop), strings.TrimSpace(text(v)))
}

// Matches tests one condition against a contact. Properties are looked up
// case-insensitively; a missing property is the empty string.
func (c *Condition) Matches(ct Contact) bool {
	return c.MatchesValue(ct[strings.ToLower(c.Property)])
}

// MatchesValue tests the condition against the value of its property ("" when
// the contact lacks it), for targets that keep contacts in columns rather
// than as one Contact each.
func (c *Condition) MatchesValue(prop string) bool {
	has := strings.TrimSpace(prop) != ""
	lp, lv := strings.ToLower(prop), strings.ToLower(text(c.Value))
	switch c.Operator {
	case "exists":
		return has
	case "not_exists":
		return !has
	case "eq":
		return equal(prop, c.Value)
	case "neq":
		return !equal(prop, c.Value)
	case "contains":
		return has && strings.Contains(lp, lv)
	case "not_contains":
		return !strings.Contains(lp, lv)
	case "starts_with":
		return has && strings.HasPrefix(lp, lv)
	case "gt", "gte", "lt", "lte":
		a, ok1 := number(prop)
		b, ok2 := number(c.Value)
		if !has || !ok1 || !ok2 {
			return false
		}
		switch c.Operator {
		case "gt":
			return a > b
		case "gte":
			return a >= b
		case "lt":
			return a < b
		}
		return a <= b
	case "in", "not_in":
		list, _ := c.Value.([]any)
		in := false
		for _, v := range list {
			if equal(prop, v) {
				in = true
				break
			}
		}
		return in == (c.Operator == "in")
	case "before", "after":
		a, ok1 := parseDate(strings.TrimSpace(prop))
		b, ok2 := parseDate(text(c.Value))
		if !ok1 || !ok2 {
			return false
		}
		if c.Operator == "before" {
			return a.Before(b)
		}
		return a.After(b)
	}
	return false
}

// Matches tests a group: every (all) or at least one (any) of its conditions
// and subgroups. An empty group matches nobody.
func (g *Group) Matches(ct Contact) bool {
	if len(g.Conditions) == 0 && len(g.Groups) == 0 {
		return false
	}
	any := g.Match == "any"
	for i := range g.Conditions {
		if g.Conditions[i].Matches(ct) == any {
			return any
		}
	}
	for i := range g.Groups {
		if g.Groups[i].Matches(ct) == any {
			return any
		}
	}
	return !any
}

// Evaluator resolves segment membership, following include and exclude
// references between segments of one campaign.
type Evaluator struct {
	Segments map[string]*Segment
}

// Member reports whether the contact belongs to segment id: its conditions,
// included segments or static addresses select it, and no excluded segment
// does. Reference loops (refused at staging) count as non-members.
func (e Evaluator) Member(ct Contact, id string) bool {
	return e.member(ct, id, map[string]bool{})
}

func (e Evaluator) member(ct Contact, id string, visiting map[string]bool) bool {
	seg := e.Segments[id]
	if seg == nil || visiting[id] {
		return false
	}
	visiting[id] = true
	defer delete(visiting, id)
	in := seg.Group.Matches(ct)
	if !in {
		addr := ct.Email()
		for _, s := range seg.StaticEmails {
			if s == addr {
				in = true
				break
			}
		}
	}
	for _, inc := range seg.IncludeSegments {
		if in {
			break
		}
		in = e.member(ct, inc, visiting)
	}
	if !in {
		return false
	}
	for _, exc := range seg.ExcludeSegments {
		if e.member(ct, exc, visiting) {
			return false
		}
	}
	return true
}

// Audience reports whether a contact is in the union of include minus the
// union of exclude.
func (e Evaluator) Audience(ct Contact, include, exclude []string) bool {
	in := false
	for _, id := range include {
		if e.Member(ct, id) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, id := range exclude {
		if e.Member(ct, id) {
			return false
		}
	}
	return true
}
