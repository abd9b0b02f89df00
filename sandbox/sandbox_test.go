package sandbox

// Unit tests of the pure parts of the sandbox: segment evaluation, wait
// durations, the workflow graph checks, ids, configuration loading and the
// UTM tagging of final content. (The staging paths are tested through the
// MCP tools in package tools; plans and promotion in the sandbox_test files.)

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ---- segment evaluation ----

func TestConditionOperators(t *testing.T) {
	ct := Contact{
		"email": "ada@example.com", "country": "GB", "city": "London", "plan": "pro",
		"seats": "10", "score": "7.5", "signup_date": "2025-11-02", "last_seen": "2026-03-01T10:00:00Z",
		"consent": "true", "blank": "   ", "lastname": "Lovelace",
	}
	cases := []struct {
		prop, op string
		value    any
		want     bool
	}{
		{"country", "eq", "GB", true},
		{"country", "eq", "gb", true}, // text compares case-insensitively
		{"country", "eq", " GB ", true},
		{"country", "eq", "US", false},
		{"Country", "eq", "GB", true}, // property names too
		{"seats", "eq", 10.0, true},   // numbers compare as numbers
		{"seats", "eq", "10.0", true},
		{"seats", "eq", 10, true},
		{"seats", "eq", 11.0, false},
		{"consent", "eq", true, true},
		{"consent", "eq", false, false},
		{"missing", "eq", "", true}, // a missing property is the empty string
		{"missing", "eq", "x", false},
		{"country", "neq", "US", true},
		{"country", "neq", "gb", false},
		{"missing", "neq", "x", true},
		{"city", "contains", "ond", true},
		{"city", "contains", "OND", true},
		{"city", "contains", "paris", false},
		{"missing", "contains", "x", false},
		{"city", "not_contains", "paris", true},
		{"city", "not_contains", "lon", false},
		{"missing", "not_contains", "x", true},
		{"lastname", "starts_with", "love", true},
		{"lastname", "starts_with", "lace", false},
		{"missing", "starts_with", "", false},
		{"seats", "gt", 9.0, true},
		{"seats", "gt", 10.0, false},
		{"seats", "gte", 10.0, true},
		{"seats", "lt", 10.0, false},
		{"seats", "lte", 10.0, true},
		{"score", "gt", 7.0, true},
		{"seats", "gt", "9", true}, // numeric strings count as numbers
		{"city", "gt", 1.0, false}, // a non-numeric property never compares
		{"missing", "lt", 1.0, false},
		{"seats", "gt", "many", false},
		{"country", "in", []any{"US", "gb"}, true},
		{"country", "in", []any{"US", "CA"}, false},
		{"seats", "in", []any{10.0}, true},
		{"missing", "in", []any{"x"}, false},
		{"country", "not_in", []any{"US", "CA"}, true},
		{"country", "not_in", []any{"GB"}, false},
		{"missing", "not_in", []any{"x"}, true},
		{"country", "in", "GB", false}, // not a list: matches nothing
		{"country", "exists", nil, true},
		{"blank", "exists", nil, false}, // whitespace is no value
		{"missing", "exists", nil, false},
		{"missing", "not_exists", nil, true},
		{"blank", "not_exists", nil, true},
		{"country", "not_exists", nil, false},
		{"signup_date", "before", "2026-01-01", true},
		{"signup_date", "before", "2025-11-02", false},
		{"signup_date", "after", "2025-01-01", true},
		{"signup_date", "after", "2025-11-02T00:00:00Z", false},
		{"last_seen", "after", "2026-03-01", true},
		{"last_seen", "before", "2026-03-01T10:00:01Z", true},
		{"city", "before", "2026-01-01", false}, // not a date
		{"signup_date", "before", "soon", false},
		{"missing", "after", "2000-01-01", false},
		{"country", "like", "GB", false}, // unknown operators match nobody
	}
	for _, tc := range cases {
		c := Condition{Property: tc.prop, Operator: tc.op, Value: tc.value}
		if got := c.Matches(ct); got != tc.want {
			t.Errorf("%s %s %#v: got %v, want %v", tc.prop, tc.op, tc.value, got, tc.want)
		}
	}
}

func TestGroupMatches(t *testing.T) {
	ct := Contact{"email": "a@x.com", "country": "US", "plan": "pro"}
	yes := Condition{Property: "country", Operator: "eq", Value: "US"}
	no := Condition{Property: "plan", Operator: "eq", Value: "free"}
	cases := []struct {
		name string
		g    Group
		want bool
	}{
		{"empty group selects nobody", Group{}, false},
		{"all: every condition", Group{Match: "all", Conditions: []Condition{yes, yes}}, true},
		{"all: one fails", Group{Match: "all", Conditions: []Condition{yes, no}}, false},
		{"default is all", Group{Conditions: []Condition{yes, no}}, false},
		{"any: one holds", Group{Match: "any", Conditions: []Condition{no, yes}}, true},
		{"any: none holds", Group{Match: "any", Conditions: []Condition{no, no}}, false},
		{"nested any inside all", Group{Conditions: []Condition{yes}, Groups: []Group{{Match: "any", Conditions: []Condition{no, yes}}}}, true},
		{"nested failing group", Group{Conditions: []Condition{yes}, Groups: []Group{{Conditions: []Condition{no}}}}, false},
		{"any over groups", Group{Match: "any", Groups: []Group{{Conditions: []Condition{no}}, {Conditions: []Condition{yes}}}}, true},
		{"an empty subgroup fails all", Group{Conditions: []Condition{yes}, Groups: []Group{{}}}, false},
	}
	for _, tc := range cases {
		if got := tc.g.Matches(ct); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEvaluator(t *testing.T) {
	us := Group{Conditions: []Condition{{Property: "country", Operator: "eq", Value: "US"}}}
	pro := Group{Conditions: []Condition{{Property: "plan", Operator: "eq", Value: "pro"}}}
	ev := Evaluator{Segments: map[string]*Segment{
		"seg_us":       {Name: "US", Group: us},
		"seg_pro":      {Name: "Pro", Group: pro},
		"seg_us_nopro": {Name: "US not pro", IncludeSegments: []string{"seg_us"}, ExcludeSegments: []string{"seg_pro"}},
		"seg_static":   {Name: "Static", StaticEmails: []string{"vip@x.com"}},
		"seg_both":     {Name: "US or static", Group: us, IncludeSegments: []string{"seg_static"}},
		"seg_loop_a":   {Name: "A", IncludeSegments: []string{"seg_loop_b"}},
		"seg_loop_b":   {Name: "B", IncludeSegments: []string{"seg_loop_a"}},
		"seg_dangling": {Name: "D", IncludeSegments: []string{"seg_gone"}},
		"seg_excl_us":  {Name: "static minus US", StaticEmails: []string{"vip@x.com", "bob@x.com"}, ExcludeSegments: []string{"seg_us"}},
	}}
	alice := Contact{"email": "alice@x.com", "country": "US", "plan": "free"}
	bob := Contact{"email": "Bob@X.com", "country": "US", "plan": "pro"}
	vip := Contact{"email": " VIP@x.com ", "country": "FR"}
	cases := []struct {
		ct   Contact
		id   string
		want bool
	}{
		{alice, "seg_us", true},
		{alice, "seg_pro", false},
		{alice, "seg_us_nopro", true},
		{bob, "seg_us_nopro", false},
		{vip, "seg_us_nopro", false},
		{vip, "seg_static", true}, // addresses compare trimmed, case-insensitively
		{alice, "seg_static", false},
		{vip, "seg_both", true},
		{alice, "seg_both", true},
		{alice, "seg_loop_a", false}, // loops are refused at staging; here they end as non-members
		{alice, "seg_dangling", false},
		{alice, "seg_nope", false},
		{bob, "seg_excl_us", false},
		{vip, "seg_excl_us", true},
	}
	for _, tc := range cases {
		if got := ev.Member(tc.ct, tc.id); got != tc.want {
			t.Errorf("%s in %s: got %v, want %v", tc.ct["email"], tc.id, got, tc.want)
		}
	}
	aud := []struct {
		ct               Contact
		include, exclude []string
		want             bool
	}{
		{alice, []string{"seg_pro", "seg_us"}, nil, true},
		{alice, []string{"seg_us"}, []string{"seg_pro"}, true},
		{bob, []string{"seg_us"}, []string{"seg_pro"}, false},
		{alice, nil, nil, false}, // no include: nobody
		{vip, []string{"seg_static"}, []string{"seg_static"}, false},
	}
	for _, tc := range aud {
		if got := ev.Audience(tc.ct, tc.include, tc.exclude); got != tc.want {
			t.Errorf("audience %v - %v for %s: got %v, want %v", tc.include, tc.exclude, tc.ct["email"], got, tc.want)
		}
	}
}

// ---- wait durations ----

func TestParseWait(t *testing.T) {
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"2d", 48 * time.Hour},
		{"36h", 36 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1w", 7 * 24 * time.Hour},
		{"1w2d3h4m", (7+2)*24*time.Hour + 3*time.Hour + 4*time.Minute},
		{"2D", 48 * time.Hour},
		{" 2 d ", 48 * time.Hour},
		{"0m", 0},
		{"365d", 365 * 24 * time.Hour},
	}
	for _, tc := range ok {
		got, err := ParseWait(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseWait(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "2", "d", "2x", "1.5d", "-1d", "2d-1h", "1s", "P1D", "2 days", "100001m", "99999999999999999999w"} {
		if got, err := ParseWait(in); err == nil {
			t.Errorf("ParseWait(%q) = %v, want an error", in, got)
		}
	}
	// Far too long waits must not wrap around into a plausible duration:
	// 30500 weeks and 7175 minutes overflow int64 nanoseconds to about 24h.
	for _, in := range []string{"30500w7175m", "15250w15250w", "100000w"} {
		got, err := ParseWait(in)
		if err == nil && got <= 365*24*time.Hour {
			t.Errorf("ParseWait(%q) = %v: a wait of centuries reads as a short one (int64 overflow)", in, got)
		}
	}
}

// ---- workflow graph ----

func TestCheckGraph(t *testing.T) {
	s := func(id, typ string, next ...string) Step {
		st := Step{ID: id, Type: typ}
		if len(next) > 0 {
			st.Next = next[0]
		}
		return st
	}
	br := func(id, then, els string) Step { return Step{ID: id, Type: "branch", Then: then, Else: els} }
	cases := []struct {
		name  string
		steps []Step
		want  []string // substrings of the problems; none means valid
	}{
		{"one step", []Step{s("a", "send_email")}, nil},
		{"chain", []Step{s("a", "send_email", "b"), s("b", "wait", "c"), s("c", "exit")}, nil},
		{"branch to two ends", []Step{br("a", "b", "c"), s("b", "exit"), s("c", "exit")}, nil},
		{"diamond", []Step{br("a", "b", "c"), s("b", "send_email", "d"), s("c", "send_email", "d"), s("d", "exit")}, nil},
		{"loop through a wait", []Step{s("a", "send_email", "w"), s("w", "wait", "a")}, nil},
		{"loop back to a wait", []Step{s("w", "wait", "a"), s("a", "send_email", "w")}, nil},
		{"branch loop through a wait", []Step{br("a", "b", "c"), s("b", "wait", "a"), s("c", "exit")}, nil},
		{"two waits in a loop", []Step{s("w1", "wait", "w2"), s("w2", "wait", "w1")}, nil},
		{"unreachable", []Step{s("a", "send_email"), s("b", "exit")}, []string{`step "b" cannot be reached from the first step "a"`}},
		{"unreachable island", []Step{s("a", "exit"), s("b", "wait", "c"), s("c", "send_email", "b")}, []string{`"b" cannot be reached`, `"c" cannot be reached`}},
		{"loop without a wait", []Step{s("a", "send_email", "b"), s("b", "set_property", "a")}, []string{"loop without a wait: a → b → a"}},
		{"inner loop", []Step{s("a", "wait", "b"), s("b", "send_email", "c"), s("c", "add_to_segment", "b")}, []string{"loop without a wait: b → c → b"}},
		{"loop through a branch", []Step{br("a", "b", "z"), s("b", "send_email", "a"), s("z", "exit")}, []string{"loop without a wait: a → b → a"}},
		{"loop only on the else side", []Step{br("a", "w", "b"), s("w", "wait", "a"), s("b", "send_email", "a")}, []string{"loop without a wait", "b → a"}},
		{"unreachable loop", []Step{s("a", "exit"), s("b", "send_email", "c"), s("c", "send_email", "b")}, []string{"cannot be reached", "loop without a wait"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ps problems
			checkGraph(&ps, tc.steps)
			var msgs []string
			for _, p := range ps {
				msgs = append(msgs, p.String())
			}
			all := strings.Join(msgs, "\n")
			if len(tc.want) == 0 && len(ps) > 0 {
				t.Fatalf("want valid, got:\n%s", all)
			}
			if len(tc.want) > 0 && len(ps) == 0 {
				t.Fatalf("want problems %q, got none", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestCheckGraphTerminates: the checks stay bounded on the largest graph a
// workflow may have, fully connected.
func TestCheckGraphTerminates(t *testing.T) {
	steps := make([]Step, MaxWorkflowSteps)
	for i := range steps {
		steps[i] = Step{ID: fmt.Sprintf("s%d", i), Type: "branch", Then: fmt.Sprintf("s%d", (i+1)%len(steps)), Else: fmt.Sprintf("s%d", (i*7+3)%len(steps))}
	}
	var ps problems
	checkGraph(&ps, steps)
	if len(ps) == 0 {
		t.Fatal("a graph of branches in a ring loops without a wait")
	}
}

// ---- ids ----

func TestIDsSortByTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	var times []time.Time
	for range 2000 {
		times = append(times, base.Add(time.Duration(r.Int64N(int64(50*365*24*time.Hour)))).Truncate(time.Millisecond))
	}
	times = append(times, time.Unix(0, 0), base, base.Add(time.Millisecond), time.Date(2999, 12, 31, 23, 59, 59, 999e6, time.UTC))
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var prev string
	for i, tm := range times {
		id := newID(PrefixEmail, tm)
		if len(id) != len(PrefixEmail)+26 || !strings.HasPrefix(id, PrefixEmail) {
			t.Fatalf("id %q: want %s + 26 characters", id, PrefixEmail)
		}
		for _, c := range id[len(PrefixEmail):] {
			if !strings.ContainsRune(crockford, c) {
				t.Fatalf("id %q has %q, outside the alphabet", id, c)
			}
		}
		if i > 0 && times[i-1].Before(tm) && id <= prev {
			t.Fatalf("ids do not sort by time: %s (%v) <= %s (%v)", id, tm, prev, times[i-1])
		}
		prev = id
	}
	// Within one millisecond ids still differ.
	seen := map[string]bool{}
	for range 1000 {
		id := newID(PrefixCampaign, base)
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestKindOf(t *testing.T) {
	for id, want := range map[string]Kind{
		"eml_01x": KindEmail, "seg_01x": KindSegment, "wf_01x": KindWorkflow, "pg_01x": KindPage,
		"cmp_01x": "", "pln_01x": "", "": "", "email_1": "", "EML_01x": "",
	} {
		if got := KindOf(id); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", id, got, want)
		}
	}
}

// ---- configuration ----

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadConfig(t *testing.T) {
	t.Run("no file: defaults without a policy", func(t *testing.T) {
		c, err := LoadConfig(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if c.DefaultTarget != "local" || c.Targets["local"].Type != "local" || c.Policy != "" {
			t.Errorf("defaults: %+v", c)
		}
		if time.Duration(c.Plans.Expiry) != 24*time.Hour || c.Plans.Approvals != 1 {
			t.Errorf("plan defaults: %+v", c.Plans)
		}
	})
	t.Run("the file init writes", func(t *testing.T) {
		c, err := LoadConfig(writeConfig(t, DefaultConfigText))
		if err != nil {
			t.Fatal(err)
		}
		if c.DefaultTarget != "local" || c.Policy != "policy.yaml" || c.Approval.Elicitation {
			t.Errorf("%+v", c)
		}
		if !slices.Equal(c.TargetNames(), []string{"local"}) {
			t.Errorf("targets %v", c.TargetNames())
		}
	})
	t.Run("connector settings are kept for the connector", func(t *testing.T) {
		c, err := LoadConfig(writeConfig(t, "default_target: blog\ntargets:\n  blog:\n    type: wordpress\n    url: https://blog.example.com\n    anything: [1, 2]\nplans:\n  expiry: 90m\n  approvals: 2\n"))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			URL string `yaml:"url"`
		}
		settings := c.Targets["blog"].Settings
		if err := settings.Decode(&s); err != nil || s.URL != "https://blog.example.com" {
			t.Errorf("settings: %+v %v", s, err)
		}
		if _, ok := c.Targets["local"]; !ok {
			t.Errorf("local is always configured: %v", c.TargetNames())
		}
		if time.Duration(c.Plans.Expiry) != 90*time.Minute || c.Plans.Approvals != 2 {
			t.Errorf("plans %+v", c.Plans)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		c, err := LoadConfig(writeConfig(t, ""))
		if err != nil || c.DefaultTarget != "local" {
			t.Errorf("%+v %v", c, err)
		}
	})

	bad := []struct {
		name, text string
		want       []string
	}{
		{"unknown key", "default_target: local\npolicies: x.yaml\n", []string{ConfigFile, "policies", "line 2"}},
		{"unknown nested key", "plans:\n  expiry: 24h\n  expires: 1h\n", []string{"expires", "line 3"}},
		{"bad duration", "plans:\n  expiry: 1 day\n", []string{"line 2", `"1 day" is not a duration`, "24h"}},
		{"default target missing", "default_target: hubspot\n", []string{`default_target "hubspot" is not among the targets`, "local"}},
		{"target without type", "targets:\n  blog:\n    url: https://x\n", []string{`target "blog" has no type`}},
		{"not YAML", "targets: [\n", []string{ConfigFile}},
		{"wrong shape", "targets: local\n", []string{ConfigFile}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tc.text))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if c.DefaultTarget != "local" || c.Policy != "policy.yaml" {
		t.Errorf("%+v", c)
	}
}

// ---- final content ----

func TestFinalAppliesUTM(t *testing.T) {
	c := &Campaign{ID: "cmp_1", UTM: UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}}
	html := `<html><body><p><a href="https://acme.com/a?x=1">A</a> <a href="mailto:hi@acme.com">mail</a> <a href="https://acme.com/b?utm_source=keep">B</a></p></body></html>`
	email := &Revision{ArtifactID: "eml_1", Kind: KindEmail, Email: &Email{Subject: "S", HTML: html, Text: "old", TextDerived: true}}
	fe := Final(c, email)
	for _, w := range []string{"utm_source=newsletter", "utm_medium=email", "utm_campaign=spring", "utm_content=eml_1", "x=1", "mailto:hi@acme.com", "utm_source=keep"} {
		if !strings.Contains(fe.Email.HTML, w) {
			t.Errorf("final email HTML lacks %q:\n%s", w, fe.Email.HTML)
		}
	}
	if strings.Contains(fe.Email.HTML, "mailto:hi@acme.com?") || strings.Count(fe.Email.HTML, "utm_source=") != 2 {
		t.Errorf("mailto tagged, or a link's own utm_source overwritten:\n%s", fe.Email.HTML)
	}
	if fe.Email.Text == "old" || !strings.Contains(fe.Email.Text, "utm_campaign=spring") {
		t.Errorf("derived text not re-derived from the tagged HTML: %q", fe.Email.Text)
	}
	if email.Email.HTML != html || email.Email.Text != "old" {
		t.Errorf("Final changed the stored revision")
	}
	// Without a utm_campaign there is nothing to attribute by: no utm_content either.
	if got := Final(&Campaign{UTM: UTM{Source: "newsletter"}}, email).Email.HTML; strings.Contains(got, "utm_content") {
		t.Errorf("utm_content without utm_campaign:\n%s", got)
	}
	// Text written by hand is kept as written.
	own := &Revision{Email: &Email{HTML: html, Text: "mine"}}
	if got := Final(c, own).Email.Text; got != "mine" {
		t.Errorf("hand-written text replaced: %q", got)
	}

	page := &Revision{Page: &Page{HTML: "<html><body>" + `<a href="https://acme.com/p">P</a>` + "</body></html>", Body: `<a href="https://acme.com/p">P</a>`}}
	fp := Final(c, page)
	// A page is not email traffic: its links carry a web medium.
	if !strings.Contains(fp.Page.HTML, "utm_medium="+DefaultPageMedium) || !strings.Contains(fp.Page.Body, "utm_medium="+DefaultPageMedium) {
		t.Errorf("page not tagged: %+v", fp.Page)
	}
	own2 := *c
	own2.UTM.PageMedium, own2.UTM.Content, own2.UTM.Term = "web", "hero", "tents"
	if got := Final(&own2, page).Page.Body; !strings.Contains(got, "utm_medium=web") || !strings.Contains(got, "utm_term=tents") {
		t.Errorf("page_medium or utm_term not applied: %s", got)
	}
	if got := Final(&own2, email).Email.HTML; !strings.Contains(got, "utm_content=eml_1.hero") || !strings.Contains(got, "utm_medium=email") {
		t.Errorf("utm_content does not name the artifact, then the campaign's content: %s", got)
	}
	if strings.Contains(page.Page.HTML, "utm_") {
		t.Errorf("Final changed the stored page")
	}

	// Without UTM settings nothing changes; other kinds pass through.
	if got := Final(&Campaign{}, email).Email.HTML; got != html {
		t.Errorf("no UTM: HTML changed:\n%s", got)
	}
	seg := &Revision{Segment: &Segment{Name: "S"}}
	if Final(c, seg).Segment != seg.Segment {
		t.Errorf("segment revision changed")
	}
	// Idempotent: tagging final content again changes nothing.
	if again := Final(c, fe); again.Email.HTML != fe.Email.HTML {
		t.Errorf("not idempotent:\n%s\n%s", fe.Email.HTML, again.Email.HTML)
	}
}
