package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/store"
)

// Operators a segment condition may use.
var Operators = []string{"eq", "neq", "contains", "not_contains", "starts_with", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "not_exists", "before", "after"}

// MaxGroupDepth bounds nesting of groups below the root.
const MaxGroupDepth = 3

var (
	propertyName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$`) })
	isOperator   = func() map[string]bool {
		m := map[string]bool{}
		for _, o := range Operators {
			m[o] = true
		}
		return m
	}()
)

// SegmentInput is what build_segment takes.
type SegmentInput struct {
	CampaignID      string
	SegmentID       string
	Name            string
	Match           string
	Conditions      []Condition
	Groups          []Group
	IncludeSegments []string
	ExcludeSegments []string
	StaticEmails    []string
	Target          string
	// Scope "workspace" stages the segment in the workspace (WorkspaceID)
	// for every campaign to include or exclude; CampaignID is then empty.
	Scope string
}

// parseDate reads the dates conditions compare: RFC 3339 or YYYY-MM-DD.
func parseDate(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func checkCondition(ps *problems, field string, c *Condition) {
	c.Property = strings.TrimSpace(c.Property)
	c.Operator = strings.ToLower(strings.TrimSpace(c.Operator))
	if !propertyName().MatchString(c.Property) {
		if c.Property == "" {
			ps.add(field+".property", "is required", "name the contact property to test, e.g. country or lifecycle_stage")
		} else {
			ps.add(field+".property", fmt.Sprintf("%q is not a property name", c.Property), "use letters, digits and _ . : - starting with a letter")
		}
	}
	if !isOperator[c.Operator] {
		ps.add(field+".operator", fmt.Sprintf("%q is not an operator", c.Operator), "use one of "+strings.Join(Operators, ", "))
		return
	}
	switch c.Operator {
	case "exists", "not_exists":
		if c.Value != nil {
			ps.add(field+".value", fmt.Sprintf("%s takes no value", c.Operator), "remove the value")
		}
	case "in", "not_in":
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 {
			ps.add(field+".value", fmt.Sprintf("%s needs a non-empty list of values", c.Operator), `give e.g. ["US", "CA"]`)
			return
		}
		for i, v := range list {
			if !scalar(v) {
				ps.add(fmt.Sprintf("%s.value[%d]", field, i), "must be a string, number or boolean", "use plain values in the list")
			}
		}
	case "gt", "gte", "lt", "lte":
		if _, ok := number(c.Value); !ok {
			ps.add(field+".value", fmt.Sprintf("%s compares numbers; %v is not a number", c.Operator, c.Value), "give a number, or use before/after for dates")
		}
	case "before", "after":
		str, _ := c.Value.(string)
		if _, ok := parseDate(str); !ok {
			ps.add(field+".value", fmt.Sprintf("%s compares dates; %v is not a date", c.Operator, c.Value), "give 2027-01-31 or an RFC 3339 time")
		}
	default: // eq neq contains not_contains starts_with
		if c.Value == nil || !scalar(c.Value) {
			ps.add(field+".value", fmt.Sprintf("%s needs a value (string, number or boolean)", c.Operator), "give the value to compare with")
		} else if str, ok := c.Value.(string); ok && str == "" && c.Operator != "eq" && c.Operator != "neq" {
			ps.add(field+".value", "is empty", "give the text to look for, or use exists/not_exists")
		}
	}
}

func scalar(v any) bool {
	switch v.(type) {
	case string, float64, bool, int, int64:
		return true
	}
	return false
}

func checkGroup(ps *problems, field string, g *Group, depth int, root bool) {
	g.Match = strings.ToLower(strings.TrimSpace(g.Match))
	switch g.Match {
	case "":
		g.Match = "all"
	case "all", "any":
	default:
		ps.add(field+"match", fmt.Sprintf("%q is not a match mode", g.Match), "use all (every condition) or any (at least one)")
	}
	if len(g.Conditions) > 100 {
		ps.add(field+"conditions", fmt.Sprintf("has %d conditions; the limit is 100", len(g.Conditions)), "simplify the segment")
	}
	for i := range g.Conditions {
		checkCondition(ps, fmt.Sprintf("%sconditions[%d]", field, i), &g.Conditions[i])
	}
	if len(g.Groups) > 0 && depth >= MaxGroupDepth {
		ps.add(field+"groups", fmt.Sprintf("groups nest deeper than %d levels", MaxGroupDepth), "flatten the conditions")
		return
	}
	for i := range g.Groups {
		sub := &g.Groups[i]
		f := fmt.Sprintf("%sgroups[%d].", field, i)
		if len(sub.Conditions) == 0 && len(sub.Groups) == 0 {
			ps.add(strings.TrimSuffix(f, "."), "is empty", "give the group conditions or remove it")
		}
		checkGroup(ps, f, sub, depth+1, false)
	}
}

// StageSegment validates a segment and stages it as a new revision.
func (s *Sandbox) StageSegment(ctx context.Context, actor string, in SegmentInput) (*StageResult, error) {
	return s.stageSegment(ctx, actor, in, false)
}

// CheckSegment reports every problem StageSegment would, and writes
// nothing: nil means StageSegment would stage the segment. Tools use it to
// report a request's other problems along with its schema errors, in one
// round.
func (s *Sandbox) CheckSegment(ctx context.Context, in SegmentInput) error {
	return checked(s.stageSegment(ctx, "", in, true))
}

func (s *Sandbox) stageSegment(ctx context.Context, actor string, in SegmentInput, checkOnly bool) (*StageResult, error) {
	var ps problems
	seg := &Segment{
		Name: strings.TrimSpace(in.Name), Group: Group{Match: in.Match, Conditions: in.Conditions, Groups: in.Groups},
		IncludeSegments: in.IncludeSegments, ExcludeSegments: in.ExcludeSegments, Target: in.Target,
	}
	checkLen(&ps, "name", seg.Name, maxName, true, "name the segment, e.g. \"Active US customers\"")
	checkGroup(&ps, "", &seg.Group, 0, true)
	if len(in.StaticEmails) > 10000 {
		ps.add("static_emails", fmt.Sprintf("has %d addresses; the limit is 10000", len(in.StaticEmails)), "import large lists into the platform and select them with a condition")
	}
	seen := map[string]bool{}
	for i, addr := range in.StaticEmails {
		a := strings.ToLower(strings.TrimSpace(addr))
		if msg := checkAddress(a); msg != "" {
			ps.add(fmt.Sprintf("static_emails[%d]", i), msg, "fix or remove the address")
			continue
		}
		if !seen[a] {
			seen[a] = true
			seg.StaticEmails = append(seg.StaticEmails, a)
		}
	}
	if len(seg.Conditions) == 0 && len(seg.Groups) == 0 && len(seg.IncludeSegments) == 0 && len(seg.StaticEmails) == 0 {
		ps.add("conditions", "the segment selects nobody", "give conditions, groups, include_segments or static_emails")
	}
	s.checkTargetOverride("target", seg.Target, KindSegment, &ps)
	switch in.Scope {
	case "", "campaign":
		if in.CampaignID == "" {
			ps.add("campaign_id", "is required, unless scope is workspace", "pass the campaign the segment is for, or scope \"workspace\" for a segment every campaign can use")
		}
	case ScopeWorkspace:
		if in.CampaignID != "" && in.CampaignID != WorkspaceID {
			ps.add("scope", "a workspace segment belongs to no campaign", "leave campaign_id out, or leave scope out for a segment of campaign "+in.CampaignID)
		}
		in.CampaignID = WorkspaceID
	default:
		ps.add("scope", fmt.Sprintf("%q is not a scope", in.Scope), "campaign (the default) or workspace")
	}
	res, err := s.stage(ctx, actor, staging{
		kind: KindSegment, campaignID: in.CampaignID, artifactID: in.SegmentID, rev: &Revision{Segment: seg}, pre: ps, checkOnly: checkOnly,
		check: func(tx store.Tx, c *Campaign, self string, ps *problems) error {
			for i, id := range seg.IncludeSegments {
				if id == self {
					ps.add(fmt.Sprintf("include_segments[%d]", i), "a segment cannot include itself", "remove it")
				}
			}
			for i, id := range seg.ExcludeSegments {
				if id == self {
					ps.add(fmt.Sprintf("exclude_segments[%d]", i), "a segment cannot exclude itself", "remove it")
				}
			}
			if err := checkRefs(tx, c, "include_segments", seg.IncludeSegments, KindSegment, ps); err != nil {
				return err
			}
			if err := checkRefs(tx, c, "exclude_segments", seg.ExcludeSegments, KindSegment, ps); err != nil {
				return err
			}
			return checkSegmentCycle(tx, s, self, seg, ps)
		},
	})
	if err != nil {
		return nil, err
	}
	if n, ok := s.countSegment(ctx, res); ok {
		res.EstimatedSize = &n
	}
	return res, nil
}

// checkSegmentCycle refuses include/exclude chains that lead back to self.
func checkSegmentCycle(tx store.Tx, s *Sandbox, self string, seg *Segment, ps *problems) error {
	seen := map[string]bool{self: true}
	var walk func(ids []string, path []string) (string, error)
	walk = func(ids []string, path []string) (string, error) {
		for _, id := range ids {
			if id == self {
				return strings.Join(append(path, id), " → "), nil
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			a, err := getArtifact(tx, id)
			if err != nil || a == nil || a.Kind != KindSegment {
				continue
			}
			r, err := s.revision(tx, id, a.Revision)
			if err != nil {
				return "", err
			}
			refs := append(append([]string{}, r.Segment.IncludeSegments...), r.Segment.ExcludeSegments...)
			if cyc, err := walk(refs, append(path, id)); cyc != "" || err != nil {
				return cyc, err
			}
		}
		return "", nil
	}
	refs := append(append([]string{}, seg.IncludeSegments...), seg.ExcludeSegments...)
	cyc, err := walk(refs, []string{self})
	if cyc != "" {
		ps.add("include_segments", "the segments refer to each other in a loop: "+cyc, "break the loop")
	}
	return err
}

// SegmentSet loads every segment definition of a campaign.
func (s *Sandbox) SegmentSet(ctx context.Context, campaignID string) (map[string]*Segment, error) {
	set := map[string]*Segment{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		arts, err := s.campaignArtifacts(tx, campaignID)
		if err != nil {
			return err
		}
		for _, a := range arts {
			if a.Kind != KindSegment {
				continue
			}
			r, err := s.revision(tx, a.ID, a.Revision)
			if err != nil {
				return err
			}
			set[a.ID] = r.Segment
		}
		return nil
	})
	return set, err
}

// countSegment asks the segment's target to count its members, through the
// segments staging read (StageResult.segments).
func (s *Sandbox) countSegment(ctx context.Context, res *StageResult) (int, bool) {
	a := res.Artifact
	c, ok := s.targets[a.Target].(Counter)
	if !ok {
		return 0, false
	}
	n, err := c.Count(ctx, []string{a.ID}, nil, res.segments)
	if err != nil {
		s.log.Warn("counting segment failed", "segment", a.ID, "err", err)
		return 0, false
	}
	return n, true
}
