package sandbox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/store"
)

// Trigger and step types of a workflow.
var (
	TriggerTypes = []string{"segment_entry", "form_submission", "date_property", "manual"}
	StepTypes    = []string{"send_email", "wait", "branch", "add_to_segment", "remove_from_segment", "set_property", "exit"}
	stepID       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`) })
	durationPart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d+)([wdhm])`) })
	durationAll  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+[wdhm])+$`) })
)

// MaxWorkflowSteps bounds a workflow's graph.
const MaxWorkflowSteps = 100

// WorkflowInput is what configure_workflow takes.
type WorkflowInput struct {
	CampaignID string
	WorkflowID string
	Name       string
	Trigger    Trigger
	Steps      []Step
	Activate   bool
	Reenrol    bool
	Target     string
}

var errWaitTooLong = errors.New("too long")

// ParseWait reads a wait duration such as "2d", "36h", "1d12h", "90m", "1w".
func ParseWait(s string) (time.Duration, error) {
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if !durationAll().MatchString(s) {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	var d time.Duration
	for _, m := range durationPart().FindAllStringSubmatch(s, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q is too long", s)
		}
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[m[2]]
		// Check before multiplying and adding, so nothing overflows.
		const limit = 10 * 365 * 24 * time.Hour
		if time.Duration(n) > limit/unit || d+time.Duration(n)*unit > limit {
			return 0, fmt.Errorf("%q is longer than ten years: %w", s, errWaitTooLong)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

func contains(list []string, v string) bool { return slices.Contains(list, v) }

// checkWorkflowShape validates what needs no other artifact: field
// requirements per step type and the graph (dangling next, unreachable steps,
// loops without a wait).
func checkWorkflowShape(ps *problems, w *Workflow) {
	checkLen(ps, "name", w.Name, maxName, true, "name the workflow, e.g. \"Welcome series\"")
	t := &w.Trigger
	switch {
	case !contains(TriggerTypes, t.Type):
		ps.add("trigger.type", fmt.Sprintf("%q is not a trigger type", t.Type), "use one of "+strings.Join(TriggerTypes, ", "))
	case t.Type == "segment_entry" && t.SegmentID == "":
		ps.add("trigger.segment_id", "is required for a segment_entry trigger", "give the segment whose new members enter the workflow")
	case t.Type == "form_submission" && t.PageID == "":
		ps.add("trigger.page_id", "is required for a form_submission trigger", "give the page whose form starts the workflow")
	case t.Type == "date_property" && t.Property == "":
		ps.add("trigger.property", "is required for a date_property trigger", "name the contact date property, e.g. renewal_date")
	}
	switch {
	case len(w.Steps) == 0:
		ps.add("steps", "the workflow has no steps", "add at least one step, e.g. {id: \"welcome\", type: \"send_email\", email_id: \"eml_…\"}")
		return
	case len(w.Steps) > MaxWorkflowSteps:
		ps.add("steps", fmt.Sprintf("has %d steps; the limit is %d", len(w.Steps), MaxWorkflowSteps), "split it into several workflows")
		return
	}
	index := map[string]int{}
	for i, st := range w.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if !stepID().MatchString(st.ID) {
			ps.add(f+".id", fmt.Sprintf("%q is not a step id", st.ID), "use letters, digits, - and _, e.g. wait_2d")
		} else if j, dup := index[st.ID]; dup {
			ps.add(f+".id", fmt.Sprintf("%q is also the id of steps[%d]", st.ID, j), "give every step its own id")
		} else {
			index[st.ID] = i
		}
	}
	ref := func(field, id string) {
		if id == "" {
			return
		}
		if _, ok := index[id]; !ok {
			ps.add(field, fmt.Sprintf("points to step %q, which does not exist", id), "use the id of a step in this workflow, or leave it empty to end the path")
		}
	}
	for i := range w.Steps {
		st := &w.Steps[i]
		f := fmt.Sprintf("steps[%d]", i)
		if !contains(StepTypes, st.Type) {
			ps.add(f+".type", fmt.Sprintf("%q is not a step type", st.Type), "use one of "+strings.Join(StepTypes, ", "))
			continue
		}
		switch st.Type {
		case "send_email":
			if st.EmailID == "" {
				ps.add(f+".email_id", "is required for send_email", "give the id of an email staged with create_email")
			}
		case "wait":
			d, err := ParseWait(st.Duration)
			switch {
			case st.Duration == "":
				ps.add(f+".duration", "is required for wait", `give e.g. "2d", "36h" or "90m"`)
			case errors.Is(err, errWaitTooLong):
				ps.add(f+".duration", fmt.Sprintf("%q is longer than 365 days", st.Duration), "pick a wait of at most 365 days")
			case err != nil:
				ps.add(f+".duration", err.Error(), `use a number and unit: w, d, h or m, e.g. "2d" or "1d12h"`)
			case d < time.Minute || d > 365*24*time.Hour:
				ps.add(f+".duration", fmt.Sprintf("%s is outside 1 minute to 365 days", st.Duration), "pick a wait in that range")
			}
		case "branch":
			c := st.Condition
			switch {
			case c == nil:
				ps.add(f+".condition", "is required for branch", `give {segment_id: "seg_…"} or {property, operator, value}`)
			case btoi(c.SegmentID != "")+btoi(c.Property != "")+btoi(c.Engagement != "") > 1:
				ps.add(f+".condition", "tests more than one of a segment, a property and engagement", "give one of them")
			case c.Engagement != "":
				checkEngagement(ps, f+".condition", c)
			case c.SegmentID == "":
				cond := Condition{Property: c.Property, Operator: c.Operator, Value: c.Value}
				checkCondition(ps, f+".condition", &cond)
				c.Property, c.Operator = cond.Property, cond.Operator
			}
			if st.Then == "" && st.Else == "" {
				ps.add(f+".then", "a branch needs somewhere to go", "give then and/or else step ids")
			}
			if st.Next != "" {
				ps.add(f+".next", "a branch continues through then and else, not next", "move it to then or else")
			}
			ref(f+".then", st.Then)
			ref(f+".else", st.Else)
		case "add_to_segment", "remove_from_segment":
			if st.SegmentID == "" {
				ps.add(f+".segment_id", "is required for "+st.Type, "give the segment id")
			}
		case "set_property":
			if !propertyName().MatchString(st.Property) {
				ps.add(f+".property", fmt.Sprintf("%q is not a property name", st.Property), "name the contact property to set")
			}
			if st.Value == nil || !scalar(st.Value) {
				ps.add(f+".value", "is required for set_property (string, number or boolean)", "give the value to set")
			}
		case "exit":
			if st.Next != "" {
				ps.add(f+".next", "exit ends the path; it cannot have a next step", "remove next")
			}
		}
		ref(f+".next", st.Next)
		if st.Next == st.ID && st.ID != "" {
			ps.add(f+".next", "a step cannot lead to itself", "point next at another step")
		}
	}
	if len(*ps) > 0 {
		return // the graph checks need well-formed steps
	}
	checkGraph(ps, w.Steps)
}

// Engagements a branch can test, and the artifact each is about.
var Engagements = []string{"opened", "clicked", "submitted"}

func checkEngagement(ps *problems, f string, c *BranchCondition) {
	switch c.Engagement {
	case "opened", "clicked":
		if c.EmailID == "" {
			ps.add(f+".email_id", "is required to branch on "+c.Engagement, "give the email (eml_…) the contact "+c.Engagement)
		}
		if c.PageID != "" {
			ps.add(f+".page_id", "is for submitted; "+c.Engagement+" is about an email", "remove page_id")
		}
	case "submitted":
		if c.PageID == "" {
			ps.add(f+".page_id", "is required to branch on submitted", "give the page (pg_…) whose form the contact submitted")
		}
		if c.EmailID != "" {
			ps.add(f+".email_id", "is for opened and clicked; submitted is about a page's form", "remove email_id")
		}
	default:
		ps.add(f+".engagement", fmt.Sprintf("%q is not an engagement", c.Engagement), "use one of "+strings.Join(Engagements, ", "))
	}
	if c.Operator != "" || c.Value != nil {
		ps.add(f, "engagement takes no operator or value", "remove them: the branch holds when the contact "+c.Engagement+" since enrolling")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func successors(st *Step) []string {
	var out []string
	for _, id := range []string{st.Next, st.Then, st.Else} {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// checkGraph: every step reachable from the first, and every loop passes
// through a wait (else a contact would cycle instantly, forever).
func checkGraph(ps *problems, steps []Step) {
	index := map[string]int{}
	for i, st := range steps {
		index[st.ID] = i
	}
	reached := make([]bool, len(steps))
	stack := []int{0}
	reached[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, id := range successors(&steps[i]) {
			if j := index[id]; !reached[j] {
				reached[j] = true
				stack = append(stack, j)
			}
		}
	}
	for i, ok := range reached {
		if !ok {
			ps.add(fmt.Sprintf("steps[%d]", i), fmt.Sprintf("step %q cannot be reached from the first step %q", steps[i].ID, steps[0].ID), "point a next, then or else at it, or remove it")
		}
	}
	// A loop without a wait is a cycle in the graph with wait steps removed.
	// Iterative DFS with colours; steps are at most MaxWorkflowSteps.
	const white, grey, black = 0, 1, 2
	colour := make([]int, len(steps))
	var loop []string
	var visit func(i int, path []string) bool
	visit = func(i int, path []string) bool {
		colour[i] = grey
		path = append(path, steps[i].ID)
		for _, id := range successors(&steps[i]) {
			j := index[id]
			if steps[j].Type == "wait" {
				continue
			}
			switch colour[j] {
			case grey:
				start := slices.Index(path, steps[j].ID)
				loop = append(append([]string{}, path[start:]...), steps[j].ID)
				return true
			case white:
				if visit(j, path) {
					return true
				}
			}
		}
		colour[i] = black
		return false
	}
	for i := range steps {
		if colour[i] == white && steps[i].Type != "wait" && visit(i, nil) {
			ps.add("steps", "the steps loop without a wait: "+strings.Join(loop, " → "), "put a wait step in the loop, or end the path")
			return
		}
	}
}

// StageWorkflow validates a workflow and stages it as a new revision.
func (s *Sandbox) StageWorkflow(ctx context.Context, actor string, in WorkflowInput) (*StageResult, error) {
	return s.stageWorkflow(ctx, actor, in, false)
}

// CheckWorkflow reports every problem StageWorkflow would, and writes
// nothing: nil means StageWorkflow would stage the workflow. Tools use it to
// report a request's other problems along with its schema errors, in one
// round.
func (s *Sandbox) CheckWorkflow(ctx context.Context, in WorkflowInput) error {
	return checked(s.stageWorkflow(ctx, "", in, true))
}

func (s *Sandbox) stageWorkflow(ctx context.Context, actor string, in WorkflowInput, checkOnly bool) (*StageResult, error) {
	var ps problems
	w := &Workflow{Name: strings.TrimSpace(in.Name), Trigger: in.Trigger, Steps: in.Steps, Activate: in.Activate, Reenrol: in.Reenrol, Target: in.Target}
	checkWorkflowShape(&ps, w)
	s.checkTargetOverride("target", w.Target, KindWorkflow, &ps)
	return s.stage(ctx, actor, staging{
		kind: KindWorkflow, campaignID: in.CampaignID, artifactID: in.WorkflowID, rev: &Revision{Workflow: w}, pre: ps, checkOnly: checkOnly,
		check: func(tx store.Tx, c *Campaign, _ string, ps *problems) error {
			if err := checkRef(tx, c, "trigger.segment_id", w.Trigger.SegmentID, KindSegment, ps); err != nil {
				return err
			}
			if err := checkRef(tx, c, "trigger.page_id", w.Trigger.PageID, KindPage, ps); err != nil {
				return err
			}
			formless := func(field, id, instead string) {
				if KindOf(id) != KindPage {
					return
				}
				if a, _ := getArtifact(tx, id); a != nil {
					if r, err := s.revision(tx, a.ID, a.Revision); err == nil && r.Page.Form == nil {
						ps.add(field, fmt.Sprintf("page %s has no form to submit", a.ID), "add a form with publish_page, or "+instead)
					}
				}
			}
			if w.Trigger.Type == "form_submission" {
				formless("trigger.page_id", w.Trigger.PageID, "use another trigger")
			}
			for i, st := range w.Steps {
				f := fmt.Sprintf("steps[%d]", i)
				if err := checkRef(tx, c, f+".email_id", st.EmailID, KindEmail, ps); err != nil {
					return err
				}
				if err := checkRef(tx, c, f+".segment_id", st.SegmentID, KindSegment, ps); err != nil {
					return err
				}
				if cond := st.Condition; cond != nil {
					if err := checkRef(tx, c, f+".condition.segment_id", cond.SegmentID, KindSegment, ps); err != nil {
						return err
					}
					if err := checkRef(tx, c, f+".condition.email_id", cond.EmailID, KindEmail, ps); err != nil {
						return err
					}
					if err := checkRef(tx, c, f+".condition.page_id", cond.PageID, KindPage, ps); err != nil {
						return err
					}
					formless(f+".condition.page_id", cond.PageID, "branch on something else")
				}
			}
			return nil
		},
	})
}

// References lists the artifact ids a revision depends on.
func (r *Revision) References() []string {
	var out []string
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	switch {
	case r.Email != nil:
		add(r.Email.Audience.Include...)
		add(r.Email.Audience.Exclude...)
	case r.Segment != nil:
		add(r.Segment.IncludeSegments...)
		add(r.Segment.ExcludeSegments...)
	case r.Ad != nil:
		add(r.Ad.AudienceSegments...)
		for _, g := range r.Ad.Groups {
			for _, ad := range g.Ads {
				add(ad.PageID)
			}
		}
	case r.Workflow != nil:
		add(r.Workflow.Trigger.SegmentID, r.Workflow.Trigger.PageID)
		for _, st := range r.Workflow.Steps {
			add(st.EmailID, st.SegmentID)
			if c := st.Condition; c != nil {
				add(c.SegmentID, c.EmailID, c.PageID)
			}
		}
	}
	return out
}
