package tools_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/tools"
)

// Every tool is in exactly one toolset, and every toolset's tools exist:
// a new tool must be placed, or --toolsets could never serve it.
func TestToolsetsCoverEveryTool(t *testing.T) {
	h := newHarness(t)
	in := map[string]string{}
	for _, ts := range tools.Toolsets {
		for _, name := range ts.Tools {
			if prev, ok := in[name]; ok {
				t.Errorf("%s is in toolsets %s and %s", name, prev, ts.Name)
			}
			in[name] = ts.Name
		}
	}
	var names []string
	for _, tl := range tools.All(h.sb, tools.Options{}) {
		names = append(names, tl.Tool.Name)
		if _, ok := in[tl.Tool.Name]; !ok {
			t.Errorf("%s is in no toolset: add it to tools.Toolsets (and docs/tools.md's table)", tl.Tool.Name)
		}
	}
	for name, ts := range in {
		if !slices.Contains(names, name) {
			t.Errorf("toolset %s names %s, which is not a tool", ts, name)
		}
	}
}

func TestParseToolsets(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "all"},
		{in: "plans,all"},
		{in: "staging, plans,metrics,plans", want: []string{"staging", "plans", "metrics"}},
		{in: "Targets", want: []string{"targets"}},
		{in: "plans,bogus", err: `unknown toolset "bogus"; the toolsets are all, campaigns, staging, checks, plans, metrics, outcomes, targets`},
		{in: " , ", err: "--toolsets is empty"},
	} {
		got, err := tools.ParseToolsets(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseToolsets(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
		case err != nil || !slices.Equal(got, c.want):
			t.Errorf("ParseToolsets(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// Served under each mode: read-only keeps exactly the tools with the
// readOnly hint; toolsets keep exactly their tools; both intersect.
func TestServedModes(t *testing.T) {
	h := newHarness(t)
	all := tools.All(h.sb, tools.Options{})
	names := func(ts []tools.Tool) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Tool.Name)
		}
		slices.Sort(out)
		return out
	}
	var readOnly []string
	for _, tl := range all {
		if ro := tl.Tool.Annotations.ReadOnlyHint; ro != nil && *ro {
			readOnly = append(readOnly, tl.Tool.Name)
		}
	}
	slices.Sort(readOnly)
	for _, c := range []struct {
		name string
		o    tools.Options
		want []string
	}{
		{"all", tools.Options{}, names(all)},
		{"read-only", tools.Options{ReadOnly: true}, readOnly},
		{"plans,metrics", tools.Options{Toolsets: []string{"plans", "metrics"}}, []string{"confirm_promotion", "fetch_metrics", "get_plan", "plan_promotion"}},
		{"read-only plans", tools.Options{ReadOnly: true, Toolsets: []string{"plans"}}, []string{"get_plan"}},
	} {
		if got := names(tools.Served(all, c.o)); !slices.Equal(got, c.want) {
			t.Errorf("%s: served %v, want %v", c.name, got, c.want)
		}
	}
	if slices.Contains(readOnly, "confirm_promotion") || slices.Contains(readOnly, "create_email") || !slices.Contains(readOnly, "list_targets") {
		t.Errorf("read-only tools %v", readOnly)
	}
}
