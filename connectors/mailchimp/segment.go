package mailchimp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// Mailchimp request shapes.

type condition struct {
	ConditionType string `json:"condition_type"`
	Field         string `json:"field"`
	Op            string `json:"op"`
	Value         any    `json:"value,omitempty"`
}

type segmentOptions struct {
	Match      string      `json:"match"`
	Conditions []condition `json:"conditions"`
}

type segmentRequest struct {
	Name          string          `json:"name"`
	StaticSegment []string        `json:"static_segment,omitempty"`
	Options       *segmentOptions `json:"options,omitempty"`
}

type segmentResponse struct {
	ID          int             `json:"id"`
	Name        string          `json:"name"`
	MemberCount int             `json:"member_count"`
	Type        string          `json:"type"`
	UpdatedAt   string          `json:"updated_at"`
	Options     json.RawMessage `json:"options"`
	ListID      string          `json:"list_id"`
}

// maxNameLen is Mailchimp's limit on segment names.
const maxNameLen = 100

// markedName is the artifact's name with its marker, which Find looks for:
// "VIP customers [lm-seg_01…]".
func markedName(name, marker string, max int) string {
	suffix := " [" + marker + "]"
	name = strings.TrimSpace(name)
	if room := max - len(suffix); len(name) > room {
		if room < 0 {
			room = 0
		}
		name = strings.TrimSpace(truncateUTF8(name, room))
	}
	return name + suffix
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// hasMarker reports whether a name or title is the one markedName made for
// marker. It must end with the marker: Mailchimp's "replicate" appends
// " (copy 01)", and a copy is not the object an attempt created.
func hasMarker(name, marker string) bool {
	return marker != "" && strings.HasSuffix(strings.TrimSpace(name), "["+marker+"]")
}

// segRef is a segment referenced by an email's audience or by another
// segment: its live id on Mailchimp (0 when not live yet) and whether it is
// a static segment (nil when unknown).
type segRef struct {
	artifactID string
	name       string
	liveID     int
	static     *bool
	otherTgt   string // the target it is staged for when that is not this one
}

// isStaticDef reports whether our segment becomes a static Mailchimp segment.
func isStaticDef(s *sandbox.Segment) bool {
	return len(s.StaticEmails) > 0 && len(s.Conditions) == 0 && len(s.Groups) == 0 &&
		len(s.IncludeSegments) == 0 && len(s.ExcludeSegments) == 0
}

// resolveRefs describes the referenced segments from obj.Refs and
// obj.Segments. When live is true (promotion) every reference must be live,
// and, when needKind is also true, a reference whose kind (static or saved)
// the definitions do not tell is looked up.
func (t *Target) resolveRefs(ctx context.Context, obj sandbox.Object, ids []string, live, needKind bool) ([]segRef, error) {
	var out []segRef
	for _, aid := range ids {
		r := segRef{artifactID: aid, name: aid}
		if def := obj.Segments[aid]; def != nil {
			r.name = def.Name
			st := isStaticDef(def)
			r.static = &st
			tgt := def.Target
			if tgt == "" {
				tgt = obj.Campaign.Target
			}
			if tgt != "" && tgt != t.name {
				r.otherTgt = tgt
			}
		}
		if v, ok := obj.Refs[aid]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("segment %s is live as %q, which is not a Mailchimp segment id: it must be promoted to this Mailchimp target", aid, v)
			}
			r.liveID = n
		} else if live {
			return nil, fmt.Errorf("segment %q (%s) is not live on Mailchimp target %q yet: promote it first (segments come before the emails that use them)", r.name, aid, t.name)
		}
		if live && needKind && r.static == nil {
			seg, found, err := t.getSegment(ctx, strconv.Itoa(r.liveID))
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, fmt.Errorf("segment %s (Mailchimp id %d) no longer exists on the audience: re-plan to create it again", aid, r.liveID)
			}
			st := seg.Type == "static"
			r.static = &st
		}
		out = append(out, r)
	}
	return out, nil
}

// translator turns our segment definitions into Mailchimp conditions.
type translator struct {
	t        *Target
	problems []string
	notes    []string
	assumed  map[string]string
}

func (tr *translator) problem(format string, args ...any) {
	tr.problems = append(tr.problems, fmt.Sprintf(format, args...))
}

// opMap maps our operators (and their common spellings) to Mailchimp's.
var opMap = map[string]string{
	"eq": "is", "equals": "is", "is": "is", "=": "is", "==": "is",
	"neq": "not", "ne": "not", "not_equals": "not", "is_not": "not", "!=": "not",
	"contains": "contains", "not_contains": "notcontain", "does_not_contain": "notcontain",
	"starts_with": "starts", "begins_with": "starts", "ends_with": "ends",
	"gt": "greater", "greater_than": "greater", ">": "greater",
	"lt": "less", "less_than": "less", "<": "less",
	"is_set": "blank_not", "exists": "blank_not", "is_known": "blank_not", "has_value": "blank_not", "is_not_empty": "blank_not", "not_empty": "blank_not",
	"is_not_set": "blank", "not_exists": "blank", "is_unknown": "blank", "is_empty": "blank", "empty": "blank",
	"before": "less", "after": "greater",
	"in": "in", "not_in": "not_in",
}

func valueString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", true
	}
	return "", false
}

// condition translates one condition. It returns the Mailchimp conditions
// and the match they need among themselves ("" when one condition).
func (tr *translator) condition(c sandbox.Condition) ([]condition, string, bool) {
	rawOp := strings.ToLower(strings.TrimSpace(c.Operator))
	op, ok := opMap[rawOp]
	if !ok {
		if rawOp == "gte" || rawOp == "lte" || rawOp == ">=" || rawOp == "<=" {
			tr.problem("condition %s %s: Mailchimp compares only with greater or less (strictly); use gt or lt with an adjusted value", c.Property, c.Operator)
		} else {
			tr.problem("condition %s %s: the operator has no Mailchimp equivalent", c.Property, c.Operator)
		}
		return nil, "", false
	}
	prop := strings.ToLower(strings.TrimSpace(c.Property))
	prop = strings.TrimPrefix(prop, "contact.")
	dateOp := rawOp == "before" || rawOp == "after"

	one := func(op string, v any) (condition, bool) {
		s, ok := valueString(v)
		if !ok {
			tr.problem("condition %s %s: the value must be a string, number or boolean", c.Property, c.Operator)
			return condition{}, false
		}
		switch prop {
		case "email", "email_address":
			switch op {
			case "blank", "blank_not":
				tr.problem("condition %s %s: every Mailchimp contact has an email address, so this test cannot be expressed; remove it", c.Property, c.Operator)
				return condition{}, false
			}
			return condition{ConditionType: "EmailAddress", Field: "EMAIL", Op: op, Value: s}, true
		case "language":
			if op != "is" && op != "not" {
				tr.problem("condition language %s: Mailchimp tests a contact's language only with is or not", c.Operator)
				return condition{}, false
			}
			return condition{ConditionType: "Language", Field: "language", Op: op, Value: s}, true
		}
		tag, assumed := tr.t.mergeTag(prop)
		if assumed {
			tr.assumed[prop] = tag
		}
		ct := "TextMerge"
		if dateOp {
			ct = "DateMerge"
		}
		cond := condition{ConditionType: ct, Field: tag, Op: op}
		if op != "blank" && op != "blank_not" {
			cond.Value = s
		}
		return cond, true
	}

	switch op {
	case "in", "not_in":
		vals, ok := c.Value.([]any)
		if !ok {
			if c.Value == nil {
				tr.problem("condition %s %s: give a list of values", c.Property, c.Operator)
				return nil, "", false
			}
			vals = []any{c.Value}
		}
		if len(vals) == 0 {
			tr.problem("condition %s %s: the list of values is empty", c.Property, c.Operator)
			return nil, "", false
		}
		each, match := "is", "any"
		if op == "not_in" {
			each, match = "not", "all"
		}
		var out []condition
		for _, v := range vals {
			cd, ok := one(each, v)
			if !ok {
				return nil, "", false
			}
			out = append(out, cd)
		}
		if len(out) == 1 {
			match = ""
		}
		return out, match, true
	}
	cd, ok := one(op, c.Value)
	if !ok {
		return nil, "", false
	}
	return []condition{cd}, "", true
}

func matchOf(m string) string {
	if strings.EqualFold(strings.TrimSpace(m), "any") {
		return "any"
	}
	return "all"
}

// segmentRequest translates our segment into Mailchimp's create/update
// body. Problems are what Mailchimp cannot express; with any, the body is
// not usable.
func (t *Target) segmentRequest(obj sandbox.Object, seg *sandbox.Segment, incl, excl []segRef) (segmentRequest, *translator) {
	tr := &translator{t: t, assumed: map[string]string{}}
	req := segmentRequest{Name: markedName(seg.Name, obj.Marker, maxNameLen)}
	rootMatch := matchOf(seg.Match)
	for _, g := range seg.Groups {
		gm := matchOf(g.Match)
		if gm != rootMatch || hasMixedMatch(g, gm) {
			tr.problem("mixed all/any: the segment matches %s of its conditions but a nested group matches %s; a Mailchimp segment combines all its conditions with one match, so it cannot express this — split it into separate segments", rootMatch, otherMatch(rootMatch, g))
		} else {
			tr.problem("nested groups: a Mailchimp segment has one flat list of conditions; move the nested group's %d condition(s) up to the segment itself (same match: %s)", countConditions(g), gm)
		}
	}
	if len(seg.StaticEmails) > 0 {
		if len(seg.Conditions) > 0 || len(seg.Groups) > 0 || len(incl) > 0 || len(excl) > 0 {
			tr.problem("a Mailchimp segment is either a static list of addresses or a set of conditions, not both: put the static addresses in a segment of their own")
			return req, tr
		}
		req.StaticSegment = normEmails(seg.StaticEmails)
		tr.notes = append(tr.notes, "Mailchimp keeps only the static addresses that are already on the audience; the others are ignored, not added as contacts")
		return req, tr
	}
	if len(seg.Groups) > 0 {
		return req, tr
	}
	// The root conditions.
	var conds []condition
	needAny, needAll := false, false
	for _, c := range seg.Conditions {
		cs, m, ok := tr.condition(c)
		if !ok {
			continue
		}
		conds = append(conds, cs...)
		switch m {
		case "any":
			needAny = true
		case "all":
			needAll = true
		}
	}
	if len(tr.problems) > 0 {
		return req, tr
	}
	// A single condition (or a single in/not_in) can take the match it needs.
	match := rootMatch
	if len(seg.Conditions) == 1 {
		switch {
		case needAny:
			match = "any"
		case needAll:
			match = "all"
		}
	} else if (needAny && match != "any") || (needAll && match != "all") {
		tr.problem("mixed all/any: an in/not_in with several values needs match %s, but the segment matches %s; split it into separate segments", map[bool]string{true: "any", false: "all"}[needAny], match)
		return req, tr
	}
	positive := len(conds)
	for _, r := range incl {
		if !t.staticRef(tr, r, "include") {
			continue
		}
		if positive > 0 && match == "all" && len(conds) > 1 {
			tr.problem("mixed all/any: the segment's conditions must all match, while included segments add their members (any); Mailchimp segments have one match — move the conditions into a segment of their own")
			return req, tr
		}
		if positive > 0 {
			match = "any"
		}
		conds = append(conds, condition{ConditionType: "StaticSegment", Field: "static_segment", Op: "static_is", Value: r.liveID})
		positive++
	}
	for _, r := range excl {
		if !t.staticRef(tr, r, "exclude") {
			continue
		}
		if positive > 1 && match == "any" {
			tr.problem("mixed all/any: the segment matches any of %d conditions or segments and then excludes segments; Mailchimp segments have one match — make the 'any' part a segment of its own and exclude from that", positive)
			return req, tr
		}
		match = "all"
		conds = append(conds, condition{ConditionType: "StaticSegment", Field: "static_segment", Op: "static_not", Value: r.liveID})
	}
	if len(tr.problems) > 0 {
		return req, tr
	}
	if len(conds) == 0 {
		tr.problem("the segment has no conditions, addresses or segments; Mailchimp cannot save an empty segment — target the email at the whole audience instead")
		return req, tr
	}
	req.Options = &segmentOptions{Match: match, Conditions: conds}
	return req, tr
}

// staticRef checks that a segment referenced inside conditions is static:
// Mailchimp conditions can name static segments (tags) only.
func (t *Target) staticRef(tr *translator, r segRef, how string) bool {
	if r.otherTgt != "" {
		tr.problem("segment %q is staged for target %q; a Mailchimp segment can %s only segments of the same Mailchimp audience — target %q at %q too", r.name, r.otherTgt, how, r.name, t.name)
		return false
	}
	if r.static != nil && !*r.static {
		tr.problem("segment %q has conditions; Mailchimp can %s only static segments (lists of addresses) inside another segment's conditions — copy its conditions into this segment instead", r.name, how)
		return false
	}
	return true
}

func hasMixedMatch(g sandbox.Group, parent string) bool {
	for _, c := range g.Groups {
		if matchOf(c.Match) != parent || hasMixedMatch(c, matchOf(c.Match)) {
			return true
		}
	}
	return false
}

func otherMatch(root string, g sandbox.Group) string {
	if m := matchOf(g.Match); m != root {
		return m
	}
	for _, c := range g.Groups {
		if m := otherMatch(root, c); m != root {
			return m
		}
	}
	return root
}

func countConditions(g sandbox.Group) int {
	n := len(g.Conditions)
	for _, c := range g.Groups {
		n += countConditions(c)
	}
	return n
}

func normEmails(in []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, e := range in {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

// ---- live operations ----

func (t *Target) segmentsPath() string {
	return "/lists/" + url.PathEscape(t.cfg.ListID) + "/segments"
}

const segmentFields = "id,name,member_count,type,updated_at,options,list_id"

// segmentVersion changes when the segment's definition changes. A static
// segment's member count is part of its definition (its members are what
// lastmile set); a saved segment's is not (it follows the audience).
func segmentVersion(s segmentResponse) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", s.Name, s.Type, s.UpdatedAt)
	if s.Type == "static" {
		fmt.Fprintf(h, "%d\x00", s.MemberCount)
	}
	h.Write(s.Options)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func (t *Target) segmentState(s segmentResponse) sandbox.LiveState {
	return sandbox.LiveState{ID: strconv.Itoa(s.ID), Version: segmentVersion(s), Status: s.Type}
}

func (t *Target) getSegment(ctx context.Context, id string) (segmentResponse, bool, error) {
	return getOne[segmentResponse](ctx, t, t.segmentsPath()+"/"+url.PathEscape(id)+"?fields="+segmentFields, "segment")
}

// findSegment pages through the audience's segments for the marker.
func (t *Target) findSegment(ctx context.Context, marker string) (segmentResponse, bool, error) {
	const count = 1000
	for offset := 0; ; offset += count {
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
			Path: fmt.Sprintf("%s?count=%d&offset=%d&fields=total_items,segments.%s", t.segmentsPath(), count, offset,
				strings.ReplaceAll(segmentFields, ",", ",segments."))})
		if err != nil {
			return segmentResponse{}, false, mapErr(err, t.name)
		}
		var page struct {
			Segments   []segmentResponse `json:"segments"`
			TotalItems int               `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return segmentResponse{}, false, fmt.Errorf("decoding segments: %w", err)
		}
		for _, s := range page.Segments {
			if hasMarker(s.Name, marker) {
				return s, true, nil
			}
		}
		if len(page.Segments) < count || offset+count >= page.TotalItems {
			return segmentResponse{}, false, nil
		}
	}
}

// putSegment creates or updates a segment.
func (t *Target) putSegment(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	seg := obj.Segment
	op := "create segment"
	if liveID != "" {
		op = "update segment"
	}
	fail := func(err error) (sandbox.LiveState, error) {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: %s %q: %w", op, seg.Name, err)
	}
	incl, err := t.resolveRefs(ctx, obj, seg.IncludeSegments, true, true)
	if err != nil {
		return fail(err)
	}
	excl, err := t.resolveRefs(ctx, obj, seg.ExcludeSegments, true, true)
	if err != nil {
		return fail(err)
	}
	req, tr := t.segmentRequest(obj, seg, incl, excl)
	if len(tr.problems) > 0 {
		return fail(fmt.Errorf("%s: %w", strings.Join(tr.problems, "; "), sandbox.ErrNotSupported))
	}
	if liveID != "" {
		// A full replacement of name and members or conditions: repeating it is harmless.
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPatch, Idempotent: true,
			Path: t.segmentsPath() + "/" + url.PathEscape(liveID), Body: req})
		if err != nil {
			if rest.StatusOf(err) == http.StatusNotFound {
				return fail(fmt.Errorf("segment %s no longer exists on the audience: re-plan to create it again", liveID))
			}
			if rest.StatusOf(err) == http.StatusBadRequest {
				if p, _ := problemOf(err); strings.Contains(p.Detail+fmt.Sprint(p.Errors), "static") {
					return fail(fmt.Errorf("%w: Mailchimp cannot turn a static segment into one with conditions or back; delete segment %s in Mailchimp and re-plan (%w)", mapErr(err, t.name), liveID, sandbox.ErrConflict))
				}
			}
			return fail(mapErr(err, t.name))
		}
		var s segmentResponse
		if err := resp.Decode(&s); err != nil {
			return fail(err)
		}
		return t.segmentState(s), nil
	}
	for attempt := 1; ; attempt++ {
		sent := t.now()
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.segmentsPath(), Body: req})
		if err == nil {
			var s segmentResponse
			if err := resp.Decode(&s); err != nil {
				return fail(err)
			}
			return t.segmentState(s), nil
		}
		if !errors.Is(err, rest.ErrAmbiguous) || attempt >= 3 {
			return fail(mapErr(err, t.name))
		}
		// The segment may exist now, or Mailchimp may still be creating it:
		// look for the marker until it can no longer land before trying again.
		var s segmentResponse
		found, ferr := t.awaitLanding(ctx, sandbox.KindSegment, sent, func(ctx context.Context) (bool, error) {
			var ok bool
			var err error
			s, ok, err = t.findSegment(ctx, obj.Marker)
			return ok, err
		})
		if ferr != nil {
			return fail(fmt.Errorf("%w (and looking it up by its marker failed: %v)", mapErr(err, t.name), ferr))
		}
		if found {
			t.log.Info("mailchimp: segment create was applied despite the failure; using it",
				"target", t.name, "marker", obj.Marker, "segment_id", s.ID)
			return t.segmentState(s), nil
		}
		t.log.Info("mailchimp: segment create failed before being applied; retrying", "target", t.name, "marker", obj.Marker, "attempt", attempt)
	}
}

func (t *Target) assessSegment(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	s := obj.Segment
	a := sandbox.Assessment{AudienceSize: -1}
	_, _, found, err := t.audienceInfo(ctx)
	if err != nil {
		return a, err
	}
	if !found {
		a.Problems = append(a.Problems, t.missingAudience())
	}
	var problems []string
	in, err := t.resolveRefs(ctx, obj, s.IncludeSegments, false, false)
	if err != nil {
		problems = append(problems, err.Error())
	}
	out, err := t.resolveRefs(ctx, obj, s.ExcludeSegments, false, false)
	if err != nil {
		problems = append(problems, err.Error())
	}
	_, tr := t.segmentRequest(obj, s, in, out)
	a.Problems = append(a.Problems, problems...)
	a.Problems = append(a.Problems, tr.problems...)
	a.Notes = append(a.Notes, tr.notes...)
	a.Notes = append(a.Notes, assumedNotes(tr.assumed)...)
	return a, nil
}
