package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// graph is a workflow laid out in layers: the trigger on top, each step
// below every step that leads to it (loops aside). StepWords and
// WorkflowSVG share it, so the list and the diagram number steps alike.
type graph struct {
	w      *sandbox.Workflow
	names  map[string]string
	nodes  []gnode // the trigger, the steps in order, then missing and dummy nodes
	byID   map[string]int
	routes []route
	layers [][]int // node indices per layer, left to right
	order  []int   // step nodes by number: the reached in reading order, then the rest
	loops  int
}

type gnode struct {
	step    *sandbox.Step // nil for the trigger, missing and dummy nodes
	missing string        // the id a missing node stands for
	dummy   bool          // a place a long edge passes through
	reached bool
	layer   int
	num     int // 1-based step number; 0 for the trigger, missing and dummy nodes
}

// route is one edge of the graph. A forward edge spanning several layers
// passes through a dummy node in each, so no edge is drawn across a box.
type route struct {
	from, to int
	kind     string // next, then, else; "" from the trigger
	back     bool   // to a step on the path leading here: a loop
	via      []int
}

const trigger = 0

func (g *graph) isStep(n int) bool { return g.nodes[n].step != nil }

// edges lists where node u leads, in drawing order: next, then (yes) left
// of else (no). A reference to no step becomes a missing node, one per id.
func (g *graph) edges(u int, missing map[string]int) []route {
	if u == trigger {
		if len(g.w.Steps) == 0 {
			return nil
		}
		return []route{{from: trigger, to: 1}}
	}
	st := g.nodes[u].step
	if st == nil {
		return nil
	}
	var out []route
	for _, e := range [...]struct{ kind, id string }{{"next", st.Next}, {"then", st.Then}, {"else", st.Else}} {
		if e.id == "" {
			continue
		}
		to, ok := g.byID[e.id]
		if !ok {
			if to, ok = missing[e.id]; !ok {
				to = len(g.nodes)
				g.nodes = append(g.nodes, gnode{missing: e.id})
				missing[e.id] = to
			}
		}
		out = append(out, route{from: u, to: to, kind: e.kind})
	}
	return out
}

func analyse(w *sandbox.Workflow, names map[string]string) *graph {
	g := &graph{w: w, names: names, nodes: make([]gnode, 1, len(w.Steps)+1), byID: map[string]int{}}
	for i := range w.Steps {
		g.nodes = append(g.nodes, gnode{step: &w.Steps[i]})
		if id := w.Steps[i].ID; id != "" {
			if _, dup := g.byID[id]; !dup {
				g.byID[id] = i + 1 // a later step with the same id is unreachable
			}
		}
	}

	// Depth-first from the trigger: an edge to a step still on the path is
	// a loop; the others form a DAG, whose reverse postorder is a
	// topological order.
	missing := map[string]int{}
	onPath := map[int]bool{}
	var post []int
	var visit func(u int)
	visit = func(u int) {
		g.nodes[u].reached, onPath[u] = true, true
		for _, r := range g.edges(u, missing) {
			if onPath[r.to] {
				r.back = true
				g.loops++
			} else if !g.nodes[r.to].reached {
				visit(r.to)
			}
			g.routes = append(g.routes, r)
		}
		onPath[u] = false
		post = append(post, u)
	}
	visit(trigger)

	// Longest-path layers: every forward edge points down.
	out := map[int][]int{}
	for i, r := range g.routes {
		out[r.from] = append(out[r.from], i)
	}
	depth := 0
	for _, u := range slices.Backward(post) {
		for _, i := range out[u] {
			if r := g.routes[i]; !r.back {
				g.nodes[r.to].layer = max(g.nodes[r.to].layer, g.nodes[u].layer+1)
				depth = max(depth, g.nodes[r.to].layer)
			}
		}
	}

	// Dummy nodes, and each node's parents one layer up with the kind of
	// edge that leads from them.
	type parent struct{ node, slot int }
	parents := map[int][]parent{}
	slot := map[string]int{"": 0, "next": 0, "then": 1, "else": 2}
	for i := range g.routes {
		r := &g.routes[i]
		if r.back {
			continue
		}
		prev := r.from
		for l := g.nodes[r.from].layer + 1; l < g.nodes[r.to].layer; l++ {
			d := len(g.nodes)
			g.nodes = append(g.nodes, gnode{dummy: true, reached: true, layer: l})
			r.via = append(r.via, d)
			parents[d] = append(parents[d], parent{prev, slot[r.kind]})
			prev = d
		}
		parents[r.to] = append(parents[r.to], parent{prev, slot[r.kind]})
	}

	// Order each layer under its parents: a node sits below the leftmost
	// parent leading to it, yes before no. One pass top-down is enough for
	// a reviewer to follow; it is no crossing minimiser.
	g.layers = make([][]int, depth+1)
	for n, nd := range g.nodes {
		if nd.reached {
			g.layers[nd.layer] = append(g.layers[nd.layer], n)
		}
	}
	pos := make([]int, len(g.nodes))
	for l, row := range g.layers {
		key := func(n int) int {
			k := -1
			for _, p := range parents[n] {
				if v := pos[p.node]*3 + p.slot; k < 0 || v < k {
					k = v
				}
			}
			return k
		}
		if l > 0 {
			slices.SortStableFunc(row, func(a, b int) int { return key(a) - key(b) })
		}
		for i, n := range row {
			pos[n] = i
		}
	}

	for _, row := range g.layers {
		for _, n := range row {
			if g.isStep(n) {
				g.order = append(g.order, n)
			}
		}
	}
	for n := 1; n <= len(w.Steps); n++ {
		if !g.nodes[n].reached {
			g.order = append(g.order, n)
		}
	}
	for i, n := range g.order {
		g.nodes[n].num = i + 1
	}
	return g
}

// triggerWords says what starts the workflow.
func triggerWords(t *sandbox.Trigger, names map[string]string) string {
	switch t.Type {
	case "segment_entry":
		return "When a contact enters segment " + ref(names, t.SegmentID)
	case "form_submission":
		return "When the form on page " + ref(names, t.PageID) + " is submitted"
	case "date_property":
		return "On the date in property " + property(t.Property)
	case "manual":
		return "Started by hand"
	}
	return "Unknown trigger " + quote(t.Type)
}

// action says what a step does, without where it leads.
func action(st *sandbox.Step, names map[string]string) string {
	switch st.Type {
	case "send_email":
		return "Send " + ref(names, st.EmailID)
	case "wait":
		return "Wait " + token(st.Duration)
	case "branch":
		c := st.Condition
		switch {
		case c == nil:
			return "If (no condition)"
		case c.SegmentID != "":
			return "If the contact is in segment " + ref(names, c.SegmentID)
		case c.Engagement == "submitted":
			return "If the contact submitted the form on page " + ref(names, c.PageID) + " since enrolling"
		case c.Engagement != "":
			return "If the contact " + token(c.Engagement) + " " + ref(names, c.EmailID) + " since enrolling"
		}
		return "If " + condition(c.Property, c.Operator, c.Value)
	case "add_to_segment":
		return "Add to segment " + ref(names, st.SegmentID)
	case "remove_from_segment":
		return "Remove from segment " + ref(names, st.SegmentID)
	case "set_property":
		return "Set " + property(st.Property) + " to " + value(st.Value)
	case "exit":
		return "Exit the workflow"
	}
	return "Unknown step " + quote(st.Type)
}

// label is what a node's box says.
func (g *graph) label(n int) string {
	nd := &g.nodes[n]
	switch {
	case n == trigger:
		return triggerWords(&g.w.Trigger, g.names)
	case nd.step != nil:
		return fmt.Sprintf("%d. %s", nd.num, action(nd.step, g.names))
	case nd.missing != "":
		return "missing step " + quote(nd.missing)
	}
	return ""
}

// goTo says where an edge from step u of the given kind leads.
func (g *graph) goTo(u int, kind, id string) string {
	if id == "" {
		return "the workflow ends"
	}
	to, ok := g.byID[id]
	if !ok {
		return "go to missing step " + quote(id)
	}
	for _, r := range g.routes {
		if r.from == u && r.kind == kind && r.back {
			return fmt.Sprintf("go back to step %d", g.nodes[to].num)
		}
	}
	return fmt.Sprintf("go to step %d", g.nodes[to].num)
}

// StepWords is the workflow as numbered sentences, for screen readers and
// the plain-text view: the trigger, then each step in the order the
// diagram shows them (its numbers are the diagram's), then any step no
// path reaches, marked unreachable. Loops read "go back to step N". The
// lines are plain text: the page's template escapes them.
func StepWords(w *sandbox.Workflow, names map[string]string) []string {
	if w == nil {
		return nil
	}
	g := analyse(w, names)
	lines := []string{"Trigger: " + triggerWords(&w.Trigger, names) + "."}
	if w.Reenrol {
		lines[0] += " A contact who finished can enter again when it fires anew for them."
	}
	if len(w.Steps) == 0 {
		return append(lines, "The workflow has no steps.")
	}
	for _, n := range g.order {
		st := g.nodes[n].step
		var b strings.Builder
		fmt.Fprintf(&b, "%d. ", g.nodes[n].num)
		if !g.nodes[n].reached {
			b.WriteString("Unreachable step: ")
		}
		b.WriteString(action(st, names))
		// Edges a step of its type should not have are told too: the
		// diagram draws them, and promotion would carry them.
		var also []string
		switch st.Type {
		case "branch":
			fmt.Fprintf(&b, ", %s; otherwise %s", g.goTo(n, "then", st.Then), g.goTo(n, "else", st.Else))
			if st.Next != "" {
				also = append(also, g.goTo(n, "next", st.Next))
			}
		default:
			if st.Type != "exit" || st.Next != "" {
				fmt.Fprintf(&b, ", then %s", g.goTo(n, "next", st.Next))
			}
			for _, e := range [][2]string{{"then", st.Then}, {"else", st.Else}} {
				if e[1] != "" {
					also = append(also, g.goTo(n, e[0], e[1]))
				}
			}
		}
		b.WriteString(".")
		for _, a := range also {
			b.WriteString(" It also has an edge to " + strings.TrimPrefix(strings.TrimPrefix(a, "go back to "), "go to ") + ".")
		}
		lines = append(lines, b.String())
	}
	return lines
}
