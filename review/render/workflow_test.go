package render

import (
	"slices"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// welcome is a workflow with one of everything the diagram draws: a branch
// on a segment and one on a property, a loop through a wait, a reference to
// no step and a step nothing reaches.
func welcome() *sandbox.Workflow {
	return &sandbox.Workflow{
		Name:    "Welcome series",
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: "seg_new"},
		Steps: []sandbox.Step{
			{ID: "welcome", Type: "send_email", EmailID: "eml_welcome", Next: "wait_2d"},
			{ID: "wait_2d", Type: "wait", Duration: "2d", Next: "opened"},
			{ID: "opened", Type: "branch", Condition: &sandbox.BranchCondition{SegmentID: "seg_engaged"}, Then: "offer", Else: "reminder"},
			{ID: "offer", Type: "send_email", EmailID: "eml_offer", Next: "vip_check"},
			{ID: "reminder", Type: "send_email", EmailID: "eml_reminder", Next: "wait_again"},
			{ID: "wait_again", Type: "wait", Duration: "3d", Next: "opened"},
			{ID: "vip_check", Type: "branch", Condition: &sandbox.BranchCondition{Property: "country", Operator: "in", Value: []any{"US", "CA"}}, Then: "add_vip", Else: "nowhere"},
			{ID: "add_vip", Type: "add_to_segment", SegmentID: "seg_vip", Next: "tag"},
			{ID: "tag", Type: "set_property", Property: "lifecycle_stage", Value: "customer", Next: "done"},
			{ID: "done", Type: "exit"},
			{ID: "orphan", Type: "remove_from_segment", SegmentID: "seg_churned", Next: "welcome"},
		},
	}
}

func TestStepWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    *sandbox.Workflow
		want []string
	}{
		{"nil", nil, nil},
		{"no steps", &sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}}, []string{
			"Trigger: Started by hand.",
			"The workflow has no steps.",
		}},
		{"linear", &sandbox.Workflow{
			Trigger: sandbox.Trigger{Type: "form_submission", PageID: "pag_signup"},
			Steps: []sandbox.Step{
				{ID: "a", Type: "send_email", EmailID: "eml_welcome", Next: "b"},
				{ID: "b", Type: "wait", Duration: "1d12h", Next: "c"},
				{ID: "c", Type: "set_property", Property: "score", Value: 10.0},
			},
		}, []string{
			`Trigger: When the form on page "Spring signup" is submitted.`,
			`1. Send "Welcome", then go to step 2.`,
			"2. Wait 1d12h, then go to step 3.",
			"3. Set score to 10, then the workflow ends.",
		}},
		{"everything", welcome(), []string{
			`Trigger: When a contact enters segment "New signups".`,
			`1. Send "Welcome", then go to step 2.`,
			"2. Wait 2d, then go to step 3.",
			`3. If the contact is in segment "Engaged in 30 days", go to step 4; otherwise go to step 5.`,
			`4. Send "First-order offer", then go to step 6.`,
			`5. Send "Reminder", then go to step 7.`,
			"6. If country is one of US, CA, go to step 8; otherwise go to missing step \"nowhere\".",
			"7. Wait 3d, then go back to step 3.",
			`8. Add to segment "VIP customers", then go to step 9.`,
			"9. Set lifecycle stage to customer, then go to step 10.",
			"10. Exit the workflow.",
			`11. Unreachable step: Remove from segment "Churned", then go to step 1.`,
		}},
		{"date trigger, branch ends, self loop", &sandbox.Workflow{
			Trigger: sandbox.Trigger{Type: "date_property", Property: "renewal_date"},
			Steps: []sandbox.Step{
				{ID: "a", Type: "branch", Condition: &sandbox.BranchCondition{Property: "plan", Operator: "eq", Value: "pro"}, Else: "b"},
				{ID: "b", Type: "wait", Duration: "1w", Next: "b"},
			},
		}, []string{
			"Trigger: On the date in property renewal date.",
			"1. If plan is pro, the workflow ends; otherwise go to step 2.",
			"2. Wait 1w, then go back to step 2.",
		}},
		{"manual, engagement, re-enrolment", &sandbox.Workflow{
			Trigger: sandbox.Trigger{Type: "manual"}, Reenrol: true,
			Steps: []sandbox.Step{
				{ID: "a", Type: "branch", Condition: &sandbox.BranchCondition{Engagement: "clicked", EmailID: "eml_welcome"}, Then: "b", Else: "c"},
				{ID: "b", Type: "branch", Condition: &sandbox.BranchCondition{Engagement: "submitted", PageID: "pag_signup"}, Then: "c"},
				{ID: "c", Type: "exit"},
			},
		}, []string{
			"Trigger: Started by hand. A contact who finished can enter again when it fires anew for them.",
			`1. If the contact clicked "Welcome" since enrolling, go to step 2; otherwise go to step 3.`,
			`2. If the contact submitted the form on page "Spring signup" since enrolling, go to step 3; otherwise the workflow ends.`,
			"3. Exit the workflow.",
		}},
		{"what staging refuses", &sandbox.Workflow{
			Trigger: sandbox.Trigger{Type: "webhook"},
			Steps: []sandbox.Step{
				{ID: "a", Type: "branch", Then: "b", Next: "c"},
				{ID: "b", Type: "exit", Next: "c"},
				{ID: "c", Type: "teleport", Then: "a"},
				{ID: "a", Type: "exit"}, // a second "a": nothing can point at it
			},
		}, []string{
			`Trigger: Unknown trigger "webhook".`,
			"1. If (no condition), go to step 2; otherwise the workflow ends. It also has an edge to step 3.",
			"2. Exit the workflow, then go to step 3.",
			`3. Unknown step "teleport", then the workflow ends. It also has an edge to step 1.`,
			"4. Unreachable step: Exit the workflow.",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StepWords(tc.w, names); !slices.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// The layout puts a branch's yes left of its no, every forward edge
// downward, and a join below both paths that reach it.
func TestLayout(t *testing.T) {
	g := analyse(welcome(), names)
	id := func(n int) string {
		switch nd := g.nodes[n]; {
		case n == trigger:
			return "trigger"
		case nd.step != nil:
			return nd.step.ID
		case nd.missing != "":
			return "missing:" + nd.missing
		}
		return "·"
	}
	var got [][]string
	for _, row := range g.layers {
		var ids []string
		for _, n := range row {
			ids = append(ids, id(n))
		}
		got = append(got, ids)
	}
	want := [][]string{
		{"trigger"}, {"welcome"}, {"wait_2d"}, {"opened"},
		{"offer", "reminder"},
		{"vip_check", "wait_again"},
		{"add_vip", "missing:nowhere"},
		{"tag"}, {"done"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("layers\n%q\nwant\n%q", got, want)
	}
	for _, r := range g.routes {
		if fl, tl := g.nodes[r.from].layer, g.nodes[r.to].layer; r.back != (tl <= fl) {
			t.Errorf("edge %s→%s (layers %d→%d) back=%v", id(r.from), id(r.to), fl, tl, r.back)
		}
	}
	if g.loops != 1 {
		t.Errorf("%d loops, want 1", g.loops)
	}
}

// An edge that skips layers passes through a dummy node in each.
func TestLayoutLongEdge(t *testing.T) {
	g := analyse(&sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Steps: []sandbox.Step{
		{ID: "b", Type: "branch", Condition: &sandbox.BranchCondition{SegmentID: "s"}, Then: "x", Else: "join"},
		{ID: "x", Type: "wait", Duration: "1d", Next: "y"},
		{ID: "y", Type: "wait", Duration: "1d", Next: "join"},
		{ID: "join", Type: "exit"},
	}}, nil)
	for _, r := range g.routes {
		if r.kind == "else" {
			if len(r.via) != 2 {
				t.Fatalf("the else edge passes %d dummies, want 2", len(r.via))
			}
			for _, d := range r.via {
				row := g.layers[g.nodes[d].layer]
				if row[len(row)-1] != d {
					t.Errorf("the else edge's dummy is not right of the yes path: %v", row)
				}
			}
		}
	}
	if got := g.nodes[4].layer; got != 4 {
		t.Errorf("join is in layer %d, want 4", got)
	}
}
