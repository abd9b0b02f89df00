package tools

import (
	"fmt"
	"slices"
	"strings"
)

// Toolset is a fixed group of tools by domain, for serve --toolsets: an
// agent that only reports, say, is served the outcome tools alone.
type Toolset struct {
	Name        string
	Description string
	Tools       []string
}

// ToolsetAll names every toolset at once (the default).
const ToolsetAll = "all"

// Toolsets are the toolsets, in the order docs/tools.md lists them. Every
// tool is in exactly one (a test checks it), so a new tool must be placed.
var Toolsets = []Toolset{
	{"campaigns", "Campaigns: create, read, list and update them.", []string{"create_campaign", "get_campaign", "list_campaigns", "update_campaign"}},
	{"staging", "Stage emails, segments, workflows, pages and ad campaigns, and taking live ones back (never live until a plan).", []string{"create_email", "build_segment", "configure_workflow", "publish_page", "build_ad_campaign", "archive_artifact", "retire_artifact"}},
	{"checks", "Brand and compliance checks, and test sends to the team.", []string{"check_campaign", "send_test"}},
	{"plans", "Plan a promotion, read the plan, confirm an approved one.", []string{"plan_promotion", "get_plan", "confirm_promotion"}},
	{"metrics", "Read what live artifacts did.", []string{"fetch_metrics"}},
	{"outcomes", "Insights and reports from outcomes and conversions.", []string{"get_insights", "get_report"}},
	{"targets", "The connected platforms: capabilities, limits, health.", []string{"list_targets"}},
}

// ToolsetNames are the valid --toolsets values.
func ToolsetNames() []string {
	out := []string{ToolsetAll}
	for _, ts := range Toolsets {
		out = append(out, ts.Name)
	}
	return out
}

// ParseToolsets reads a --toolsets value: comma-separated toolset names, or
// all. It returns nil for all (every tool), else the names, each once.
func ParseToolsets(value string) ([]string, error) {
	valid := ToolsetNames()
	var names []string
	for _, n := range strings.Split(value, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == "":
			continue
		case !slices.Contains(valid, n):
			return nil, fmt.Errorf("--toolsets: unknown toolset %q; the toolsets are %s", n, strings.Join(valid, ", "))
		case n == ToolsetAll:
			return nil, nil
		case !slices.Contains(names, n):
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("--toolsets is empty: name one or more of %s", strings.Join(valid, ", "))
	}
	return names, nil
}

// allowed reports whether a tool is served under o: in one of o's
// toolsets (all when none are named), and read-only when o is.
func (o Options) allowed(t Tool) bool {
	if o.ReadOnly && (t.Tool.Annotations.ReadOnlyHint == nil || !*t.Tool.Annotations.ReadOnlyHint) {
		return false
	}
	if o.Toolsets == nil {
		return true
	}
	for _, ts := range Toolsets {
		if slices.Contains(o.Toolsets, ts.Name) && slices.Contains(ts.Tools, t.Tool.Name) {
			return true
		}
	}
	return false
}

// Served returns the tools a server made with o lists and answers.
func Served(tools []Tool, o Options) []Tool {
	var out []Tool
	for _, t := range tools {
		if o.allowed(t) {
			out = append(out, t)
		}
	}
	return out
}
