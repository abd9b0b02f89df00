package hubspot

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// HubSpot lists take their conditions as a filterBranch in one normal form:
// an OR branch whose children are AND branches holding the filters. A
// segment's nested all/any groups are rewritten into that form (disjunctive
// normal form): any(a, all(b, any(c, d))) becomes OR[AND[a], AND[b,c], AND[b,d]].
// What HubSpot cannot express, or what grows beyond its limits, is reported
// as a problem at planning time.

// Limits on the normal form. HubSpot documents no exact figure; these keep a
// list editable in HubSpot's UI and far from any server-side cap.
const (
	maxBranches = 100
	maxFilters  = 250
)

// Property kinds the translator knows.
const (
	kindString = "string"
	kindNumber = "number"
	kindBool   = "bool"
	kindEnum   = "enumeration"
	kindDate   = "datetime"
)

var propertyKinds = map[string]bool{kindString: true, kindNumber: true, kindBool: true, kindEnum: true, kindDate: true}

// builtinKinds are HubSpot's default contact properties whose type cannot be
// guessed from a value (enumerations and dates); property_types overrides.
var builtinKinds = map[string]string{
	"lifecyclestage": kindEnum, "hs_lead_status": kindEnum, "hs_persona": kindEnum, "hs_language": kindEnum,
	"hs_buying_role": kindEnum, "industry": kindEnum, "hs_marketable_status": kindEnum,
	"createdate": kindDate, "lastmodifieddate": kindDate, "closedate": kindDate, "notes_last_contacted": kindDate,
	"hs_email_last_open_date": kindDate, "hs_email_last_click_date": kindDate, "hs_email_last_send_date": kindDate,
	"recent_conversion_date": kindDate, "first_conversion_date": kindDate, "hs_last_sales_activity_timestamp": kindDate,
	"hs_analytics_first_visit_timestamp": kindDate, "hs_analytics_last_visit_timestamp": kindDate,
	"num_conversion_events": kindNumber, "num_unique_conversion_events": kindNumber, "hs_analytics_num_visits": kindNumber,
	"hs_analytics_num_page_views": kindNumber, "hs_email_open": kindNumber, "hs_email_click": kindNumber,
	"email": kindString, "firstname": kindString, "lastname": kindString, "company": kindString, "jobtitle": kindString,
	"city": kindString, "state": kindString, "country": kindString, "phone": kindString, "website": kindString,
}

// Canonical operators and the spellings accepted for them.
var operatorAliases = map[string]string{
	"eq": "eq", "equals": "eq", "=": "eq", "==": "eq", "is": "eq", "equal": "eq",
	"neq": "neq", "ne": "neq", "not_equals": "neq", "!=": "neq", "is_not": "neq", "not_equal": "neq",
	"contains": "contains", "not_contains": "not_contains", "does_not_contain": "not_contains",
	"starts_with": "starts_with", "begins_with": "starts_with", "ends_with": "ends_with",
	"gt": "gt", ">": "gt", "greater_than": "gt", "gte": "gte", ">=": "gte", "greater_than_or_equal": "gte",
	"lt": "lt", "<": "lt", "less_than": "lt", "lte": "lte", "<=": "lte", "less_than_or_equal": "lte",
	"in": "in", "is_any_of": "in", "one_of": "in", "not_in": "not_in", "is_none_of": "not_in", "none_of": "not_in",
	"exists": "exists", "is_set": "exists", "is_known": "exists", "has_value": "exists", "present": "exists",
	"not_exists": "not_exists", "is_not_set": "not_exists", "is_unknown": "not_exists", "is_empty": "not_exists", "blank": "not_exists",
	"before": "before", "after": "after",
}

type filter = map[string]any
type clause []filter // AND
type dnf []clause    // OR of ANDs

// and is the conjunction of two normal forms (their cross product).
func and(a, b dnf) dnf {
	out := make(dnf, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			c := make(clause, 0, len(x)+len(y))
			c = append(append(c, x...), y...)
			out = append(out, c)
		}
	}
	return out
}

// translator turns conditions into filters; problems collect what cannot be
// expressed, each naming the condition and the way out.
type translator struct {
	kinds    map[string]string
	problems []string
	notes    []string
}

func (t *Target) translator() *translator {
	return &translator{kinds: t.cfg.PropertyTypes}
}

func (tr *translator) problem(format string, args ...any) {
	tr.problems = append(tr.problems, fmt.Sprintf(format, args...))
}

func groupEmpty(g sandbox.Group) bool {
	if len(g.Conditions) > 0 {
		return false
	}
	for _, sub := range g.Groups {
		if !groupEmpty(sub) {
			return false
		}
	}
	return true
}

// group returns the normal form of g, or nil after a problem.
func (tr *translator) group(g sandbox.Group, where string) dnf {
	match := strings.ToLower(strings.TrimSpace(g.Match))
	var parts []dnf
	for i, c := range g.Conditions {
		if d := tr.condition(c, fmt.Sprintf("%s condition %d", where, i+1)); d != nil {
			parts = append(parts, d)
		}
	}
	for i, sub := range g.Groups {
		if groupEmpty(sub) {
			continue
		}
		if d := tr.group(sub, fmt.Sprintf("%s group %d", where, i+1)); d != nil {
			parts = append(parts, d)
		}
	}
	if len(tr.problems) > 0 {
		return nil
	}
	switch match {
	case "", "all":
		out := dnf{clause{}}
		for _, p := range parts {
			out = and(out, p)
			if len(out) > maxBranches*4 {
				tr.problem("%s: its nested any/all groups multiply out to more than %d AND branches in HubSpot's OR-of-ANDs list form; simplify the segment or split it into segments combined with include_segments", where, maxBranches)
				return nil
			}
		}
		return out
	case "any":
		var out dnf
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tr.problem("%s: match %q is not all or any", where, g.Match)
	return nil
}

func (tr *translator) kind(prop string, value any, op string) string {
	if k, ok := tr.kinds[prop]; ok {
		return k
	}
	if k, ok := builtinKinds[strings.ToLower(prop)]; ok {
		return k
	}
	v := value
	if a, ok := value.([]any); ok && len(a) > 0 {
		v = a[0]
	}
	switch x := v.(type) {
	case bool:
		return kindBool
	case float64, int, int64, float32:
		return kindNumber
	case string:
		if op == "before" || op == "after" {
			return kindDate
		}
		if _, ok := parseDate(x); ok && (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
			return kindDate
		}
	}
	return kindString
}

// condition translates one condition. Most become one filter; "in" on a
// number becomes one AND branch per value.
func (tr *translator) condition(c sandbox.Condition, where string) dnf {
	prop := strings.TrimSpace(c.Property)
	if prop == "" {
		tr.problem("%s has no property", where)
		return nil
	}
	op, ok := operatorAliases[strings.ToLower(strings.TrimSpace(c.Operator))]
	if !ok {
		tr.problem("%s: operator %q on %s has no HubSpot list equivalent (use eq, neq, contains, not_contains, starts_with, ends_with, gt, gte, lt, lte, in, not_in, exists, not_exists, before or after)", where, c.Operator, prop)
		return nil
	}
	where = fmt.Sprintf("%s (%s %s)", where, prop, op)
	one := func(operation map[string]any) dnf {
		return dnf{clause{{"filterType": "PROPERTY", "property": prop, "operation": operation}}}
	}
	if op == "exists" || op == "not_exists" {
		hs := map[string]string{"exists": "IS_KNOWN", "not_exists": "IS_UNKNOWN"}[op]
		return one(map[string]any{"operationType": "ALL_PROPERTY", "operator": hs, "includeObjectsWithNoValueSet": op == "not_exists"})
	}
	list, isList := c.Value.([]any)
	if op == "in" || op == "not_in" {
		if !isList || len(list) == 0 {
			if c.Value == nil || isList {
				tr.problem("%s needs a non-empty list of values", where)
				return nil
			}
			list = []any{c.Value} // a single value reads as a one-item list
		}
	} else if isList {
		tr.problem("%s takes one value, not a list (use in or not_in for several)", where)
		return nil
	} else if c.Value == nil {
		tr.problem("%s needs a value", where)
		return nil
	}
	negative := op == "neq" || op == "not_contains" || op == "not_in"
	kind := tr.kind(prop, c.Value, op)
	switch kind {
	case kindString:
		hs, ok := map[string]string{"eq": "IS_EQUAL_TO", "neq": "IS_NOT_EQUAL_TO", "contains": "CONTAINS", "not_contains": "DOES_NOT_CONTAIN",
			"starts_with": "STARTS_WITH", "ends_with": "ENDS_WITH", "in": "IS_EQUAL_TO", "not_in": "IS_NOT_EQUAL_TO"}[op]
		if !ok {
			tr.problem("%s: %s compares numbers or dates, but %s looks like text; if it is a number or date property, declare it under property_types in the target config", where, op, prop)
			return nil
		}
		vals := list
		if !isList && op != "in" && op != "not_in" {
			vals = []any{c.Value}
		}
		strsV := make([]string, 0, len(vals))
		for _, v := range vals {
			strsV = append(strsV, scalarString(v))
		}
		return one(map[string]any{"operationType": "MULTISTRING", "operator": hs, "values": strsV, "includeObjectsWithNoValueSet": negative})
	case kindEnum:
		hs, ok := map[string]string{"eq": "IS_ANY_OF", "in": "IS_ANY_OF", "neq": "IS_NONE_OF", "not_in": "IS_NONE_OF"}[op]
		if !ok {
			tr.problem("%s: %s is a HubSpot dropdown (enumeration) property, which lists can only test with eq, neq, in, not_in, exists or not_exists", where, prop)
			return nil
		}
		vals := list
		if op == "eq" || op == "neq" {
			vals = []any{c.Value}
		}
		strsV := make([]string, 0, len(vals))
		for _, v := range vals {
			strsV = append(strsV, scalarString(v))
		}
		return one(map[string]any{"operationType": "ENUMERATION", "operator": hs, "values": strsV, "includeObjectsWithNoValueSet": negative})
	case kindBool:
		b, ok := asBool(c.Value)
		if !ok {
			tr.problem("%s: %v is not true or false", where, c.Value)
			return nil
		}
		hs, ok := map[string]string{"eq": "IS_EQUAL_TO", "neq": "IS_NOT_EQUAL_TO"}[op]
		if !ok {
			tr.problem("%s: a true/false property can only be tested with eq, neq, exists or not_exists", where)
			return nil
		}
		return one(map[string]any{"operationType": "BOOL", "operator": hs, "value": b, "includeObjectsWithNoValueSet": negative})
	case kindNumber:
		hs, ok := map[string]string{"eq": "IS_EQUAL_TO", "neq": "IS_NOT_EQUAL_TO", "gt": "IS_GREATER_THAN", "gte": "IS_GREATER_THAN_OR_EQUAL_TO",
			"lt": "IS_LESS_THAN", "lte": "IS_LESS_THAN_OR_EQUAL_TO", "in": "IS_EQUAL_TO", "not_in": "IS_NOT_EQUAL_TO"}[op]
		if !ok {
			tr.problem("%s: %s is a number property; %s applies to text", where, prop, op)
			return nil
		}
		vals := []any{c.Value}
		if op == "in" || op == "not_in" {
			vals = list
		}
		var nums []float64
		for _, v := range vals {
			n, ok := asNumber(v)
			if !ok {
				tr.problem("%s: %v is not a number", where, v)
				return nil
			}
			nums = append(nums, n)
		}
		mk := func(n float64) filter {
			return filter{"filterType": "PROPERTY", "property": prop, "operation": map[string]any{
				"operationType": "NUMBER", "operator": hs, "value": n, "includeObjectsWithNoValueSet": negative}}
		}
		if op == "in" { // one value per branch: any of them
			var out dnf
			for _, n := range nums {
				out = append(out, clause{mk(n)})
			}
			return out
		}
		var cl clause // not_in: none of them, all in one branch
		for _, n := range nums {
			cl = append(cl, mk(n))
		}
		return dnf{cl}
	case kindDate:
		s := scalarString(c.Value)
		at, ok := parseDate(s)
		if !ok {
			tr.problem("%s: %q is not a date (use 2026-03-31 or 2026-03-31T09:00:00Z)", where, s)
			return nil
		}
		mk := func(hs string) filter {
			return filter{"filterType": "PROPERTY", "property": prop, "operation": map[string]any{
				"operationType": "DATETIME", "operator": hs, "timestamp": at.UnixMilli(), "requiresTimeZoneConversion": false,
				"includeObjectsWithNoValueSet": false}}
		}
		switch op {
		case "before", "lt":
			return dnf{clause{mk("IS_BEFORE")}}
		case "after", "gt":
			return dnf{clause{mk("IS_AFTER")}}
		case "eq":
			return dnf{clause{mk("IS_EQUAL_TO")}}
		case "lte":
			return dnf{clause{mk("IS_BEFORE")}, clause{mk("IS_EQUAL_TO")}}
		case "gte":
			return dnf{clause{mk("IS_AFTER")}, clause{mk("IS_EQUAL_TO")}}
		}
		tr.problem("%s: %s is a date property; test it with before, after, eq, gt, gte, lt, lte, exists or not_exists", where, prop)
		return nil
	}
	return nil
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return b, err == nil
	}
	return false, false
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return n, err == nil
	}
	return 0, false
}

// listPlan is how a segment becomes a HubSpot list.
type listPlan struct {
	processingType string         // MANUAL or DYNAMIC
	filterBranch   map[string]any // DYNAMIC only
	static         []string       // MANUAL members (addresses)
	problems       []string
	notes          []string
}

// pendingRef stands in for a referenced list that is not live yet (at
// planning time only).
const pendingRef = "pending"

// planList translates a segment: members are the contacts matching the root
// group, plus the members of the included segments, plus the static
// addresses, minus the members of the excluded segments. Only addresses
// (nothing else) make a MANUAL list; anything else is a DYNAMIC list in
// which addresses are matched on the email property.
func (t *Target) planList(seg *sandbox.Segment, refs map[string]string, segments map[string]*sandbox.Segment, planning bool) listPlan {
	tr := t.translator()
	var p listPlan
	ref := func(id, role string) string {
		if live, ok := refs[id]; ok && live != "" {
			return live
		}
		if _, known := segments[id]; planning && (known || segments == nil) {
			return pendingRef
		}
		if planning {
			tr.problem("%s segment %s is not in this campaign and not live on this target", role, id)
		} else {
			tr.problem("%s segment %s has no HubSpot list yet: promote it first", role, id)
		}
		return ""
	}
	static := dedupeEmails(seg.StaticEmails)
	rootEmpty := groupEmpty(seg.Group)
	if rootEmpty && len(seg.IncludeSegments) == 0 && len(seg.ExcludeSegments) == 0 {
		if len(static) == 0 {
			p.problems = append(p.problems, "the segment selects nobody: it has no conditions, included segments or static addresses")
			return p
		}
		p.processingType, p.static = "MANUAL", static
		return p
	}
	var d dnf
	if !rootEmpty {
		d = tr.group(seg.Group, "segment")
	}
	for _, id := range seg.IncludeSegments {
		if l := ref(id, "included"); l != "" {
			d = append(d, clause{{"filterType": "IN_LIST", "listId": l, "operator": "IN_LIST"}})
		}
	}
	if len(static) > 0 {
		d = append(d, clause{{"filterType": "PROPERTY", "property": "email", "operation": map[string]any{
			"operationType": "MULTISTRING", "operator": "IS_EQUAL_TO", "values": static, "includeObjectsWithNoValueSet": false}}})
		p.notes = append(p.notes, fmt.Sprintf("HubSpot matches the segment's %d static address(es) on the contact's email property, inside a dynamic list", len(static)))
	}
	var excl clause
	for _, id := range seg.ExcludeSegments {
		if l := ref(id, "excluded"); l != "" {
			excl = append(excl, filter{"filterType": "IN_LIST", "listId": l, "operator": "NOT_IN_LIST"})
		}
	}
	if len(excl) > 0 {
		if len(d) == 0 {
			tr.problem("the segment only excludes: HubSpot lists need something to include (conditions, included segments or addresses)")
		}
		for i := range d {
			d[i] = append(append(clause{}, d[i]...), excl...)
		}
	}
	if len(tr.problems) > 0 {
		p.problems = tr.problems
		return p
	}
	// An empty AND branch would select everyone; only an empty root group does that.
	var kept dnf
	for _, c := range d {
		if len(c) > 0 {
			kept = append(kept, c)
		}
	}
	if len(kept) < len(d) {
		p.problems = append(p.problems, "a group without conditions would select every contact in HubSpot; remove it or give it conditions")
		return p
	}
	filters := 0
	for _, c := range d {
		filters += len(c)
	}
	if len(d) > maxBranches || filters > maxFilters {
		p.problems = append(p.problems, fmt.Sprintf("in HubSpot's OR-of-ANDs list form the segment needs %d AND branches and %d filters (at most %d and %d): simplify its nested groups, or split it into segments combined with include_segments", len(d), filters, maxBranches, maxFilters))
		return p
	}
	p.processingType = "DYNAMIC"
	p.filterBranch = orBranch(d)
	p.notes = append(p.notes, tr.notes...)
	return p
}

func orBranch(d dnf) map[string]any {
	branches := make([]any, 0, len(d))
	for _, c := range d {
		fs := make([]any, 0, len(c))
		for _, f := range c {
			fs = append(fs, f)
		}
		branches = append(branches, map[string]any{"filterBranchType": "AND", "filterBranchOperator": "AND", "filterBranches": []any{}, "filters": fs})
	}
	return map[string]any{"filterBranchType": "OR", "filterBranchOperator": "OR", "filterBranches": branches, "filters": []any{}}
}

func dedupeEmails(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range in {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.Strings(out)
	return out
}
