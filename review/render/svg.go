package render

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"

	"golang.org/x/text/width"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// Geometry of the diagram, in SVG user units (pixels at scale 1).
const (
	boxW, boxH = 240, 48
	gapX, gapY = 28, 64
	dummyW     = 12 // the room a long edge takes in a layer it passes through
	margin     = 20
	laneGap    = 14 // between the vertical runs of back edges
	backRun    = 18 // from a box to the horizontal run of a back edge
	// labelCols is how many columns of 13px text fit in a box; a longer
	// label is cut, and its box's tooltip holds it whole.
	labelCols = 30
	tipMax    = 400
)

// Colours and shapes per kind of box.
type boxStyle struct{ fill, stroke, dash string }

var (
	styleTrigger     = boxStyle{"#e8f0fe", "#1a56db", ""}
	styleStep        = boxStyle{"#ffffff", "#4b5563", ""}
	styleBranch      = boxStyle{"#fff8e1", "#b7791f", ""}
	styleExit        = boxStyle{"#f3f4f6", "#4b5563", ""}
	styleMissing     = boxStyle{"#fdecea", "#c81e1e", "4 3"}
	styleUnreachable = boxStyle{"#f9fafb", "#9ca3af", "4 3"}
)

// svg accumulates the markup. Only its methods write agent text, and they
// escape it.
type svg struct{ strings.Builder }

// text writes s as character data: XML-escaped, with characters XML
// forbids replaced (xml.EscapeText).
func (b *svg) text(s string) { _ = xml.EscapeText(b, []byte(s)) }

// attr writes name="s" with s escaped the same way.
func (b *svg) attr(name, s string) {
	b.WriteString(" " + name + `="`)
	b.text(s)
	b.WriteString(`"`)
}

// wrap breaks s at spaces into at most max lines of cols columns, the
// last cut with "…" if it does not fit.
func wrap(s string, cols, max int) []string {
	var lines []string
	for len(lines) < max-1 && textWidth(s) > cols {
		cut, n := -1, 0
		for i, r := range s {
			if n += columns(r); n > cols+1 {
				break
			}
			if r == ' ' {
				cut = i
			}
		}
		if cut <= 0 {
			break // one long word: cut, not wrapped
		}
		lines = append(lines, s[:cut])
		s = s[cut+1:]
	}
	return append(lines, fit(s, cols))
}

// fit cuts s to cols columns, ending it with "…" if cut.
func fit(s string, cols int) string {
	if textWidth(s) <= cols {
		return s
	}
	n := 0
	for i, r := range s {
		if n+columns(r) > cols-1 {
			return s[:i] + "…"
		}
		n += columns(r)
	}
	return s
}

func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += columns(r)
	}
	return n
}

// columns is how wide r shows: wide (CJK) characters take two.
func columns(r rune) int {
	if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
		return 2
	}
	return 1
}

// box draws one labelled box: the label on up to two lines, or one above
// a small note. Its tooltip (a <title>) holds the whole text.
func (b *svg) box(x, y, w int, st boxStyle, label, note string) {
	tip := label
	if note != "" {
		tip += " (" + note + ")"
	}
	b.WriteString("<g><title>")
	b.text(termsafe.Text(tip, tipMax))
	b.WriteString("</title>")
	rx := 6
	if st == styleTrigger {
		rx = boxH / 2
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="%s" stroke-width="1.5"`, x, y, w, boxH, rx, st.fill, st.stroke)
	if st.dash != "" {
		fmt.Fprintf(b, ` stroke-dasharray="%s"`, st.dash)
	}
	b.WriteString("/>")
	lines := wrap(label, labelCols, 2)
	if note != "" {
		lines = wrap(label, labelCols, 1)
	}
	ty := y + boxH/2 + 5 // one line, centred
	if len(lines) == 2 || note != "" {
		ty = y + boxH/2 - 3
	}
	for _, l := range lines {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">`, x+w/2, ty)
		b.text(l)
		b.WriteString("</text>")
		ty += 17
	}
	if note != "" {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="#6b7280">`, x+w/2, ty-1)
		b.text(note)
		b.WriteString("</text>")
	}
	b.WriteString("</g>\n")
}

// path draws an edge through the points, arrowhead at the end.
func (b *svg) path(pts [][2]int, dashed bool) {
	b.WriteString(`<path d="`)
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(b, "%s%d %d", cmd, p[0], p[1])
	}
	b.WriteString(`" fill="none" stroke="#6b7280" stroke-width="1.5" marker-end="url(#lastmile-arrow)"`)
	if dashed {
		b.WriteString(` stroke-dasharray="5 4"`)
	}
	b.WriteString("/>\n")
}

func (g *graph) style(n int) boxStyle {
	nd := &g.nodes[n]
	switch {
	case n == trigger:
		return styleTrigger
	case nd.missing != "":
		return styleMissing
	case nd.step.Type == "branch":
		return styleBranch
	case nd.step.Type == "exit":
		return styleExit
	}
	return styleStep
}

// summary is the diagram's text alternative in brief; StepWords is the
// whole of it.
func (g *graph) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Workflow %s: %s", quote(g.w.Name), triggerWords(&g.w.Trigger, g.names))
	fmt.Fprintf(&b, ", then %d %s", len(g.w.Steps), plural(len(g.w.Steps), "step", "steps"))
	if g.loops > 0 {
		fmt.Fprintf(&b, "; %d %s", g.loops, plural(g.loops, "loop", "loops"))
	}
	if n := countUnreached(g); n > 0 {
		fmt.Fprintf(&b, "; %d %s", n, plural(n, "step unreachable", "steps unreachable"))
	}
	missing := 0
	for _, nd := range g.nodes {
		if nd.missing != "" {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(&b, "; %d %s", missing, plural(missing, "missing step", "missing steps"))
	}
	return b.String() + "."
}

func countUnreached(g *graph) int {
	n := 0
	for _, i := range g.order {
		if !g.nodes[i].reached {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WorkflowSVG draws the workflow as an SVG diagram: the trigger on top,
// then the steps top to bottom from the first, a branch's yes and no side
// by side, loops as dashed back edges on the right, references to no step
// as red "missing step" boxes, and steps no path reaches listed below,
// marked unreachable. Boxes are numbered as StepWords numbers them.
//
// The markup is built here with every agent string escaped. It has no
// script, event handler, style sheet or external reference; the one
// reference, to the arrowhead marker, is local, and the marker is the same
// in every diagram, so two on one page do not conflict. nil gives "".
func WorkflowSVG(w *sandbox.Workflow, names map[string]string) template.HTML {
	if w == nil {
		return ""
	}
	g := analyse(w, names)

	// Place the layers, each centred on the widest.
	x := make([]int, len(g.nodes))
	wd := func(n int) int {
		if g.nodes[n].dummy {
			return dummyW
		}
		return boxW
	}
	rowW := func(row []int) int {
		s := gapX * (len(row) - 1)
		for _, n := range row {
			s += wd(n)
		}
		return s
	}
	contentW := 0
	for _, row := range g.layers {
		contentW = max(contentW, rowW(row))
	}
	for _, row := range g.layers {
		cx := margin + (contentW-rowW(row))/2
		for _, n := range row {
			x[n] = cx
			cx += wd(n) + gapX
		}
	}
	y := func(n int) int { return margin + g.nodes[n].layer*(boxH+gapY) }
	bottom := margin + len(g.layers)*(boxH+gapY) - gapY

	backs := 0
	for _, r := range g.routes {
		if r.back {
			backs++
		}
	}
	totalW := 2*margin + contentW
	if backs > 0 {
		// Lanes on the right, and room below the last layer for a back
		// edge leaving it.
		totalW += laneGap * (backs + 1)
		bottom += backRun + 4*3 + 8
	}

	// Steps no path reaches, in rows below.
	var unreached []int
	for _, n := range g.order {
		if !g.nodes[n].reached {
			unreached = append(unreached, n)
		}
	}
	cols := max(1, (contentW+gapX)/(boxW+gapX))
	height := bottom + margin
	listTop := bottom + gapY/2
	if len(unreached) > 0 {
		rows := (len(unreached) + cols - 1) / cols
		height = listTop + 24 + rows*(boxH+gapX) - gapX + margin
	}

	var b svg
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img"`, totalW, height, totalW, height)
	sum := g.summary()
	b.attr("aria-label", sum)
	b.WriteString(` font-family="system-ui, sans-serif" font-size="13" fill="#111827">` + "\n<title>")
	b.text(sum)
	b.WriteString("</title>\n")
	b.WriteString(`<defs><marker id="lastmile-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L10 5L0 10z" fill="#6b7280"/></marker></defs>` + "\n")

	// Edges first, so boxes sit on top of their ends.
	outs := map[int]int{} // forward edges drawn from each node so far
	fwd := map[int]int{}
	for _, r := range g.routes {
		if !r.back {
			fwd[r.from]++
		}
	}
	lane := 0
	for _, r := range g.routes {
		u, v := r.from, r.to
		if r.back {
			// Down into the gap below u, right to a lane of its own, up to
			// the gap above v and into v's top right: the horizontal runs
			// are in gaps, so the edge crosses no box.
			lane++
			lx := margin + contentW + laneGap*lane
			sx, tx := x[u]+wd(u)-16, x[v]+wd(v)-16
			// Runs below a layer keep to the top of the gap, runs above
			// one to its bottom, so two back edges in one gap do not meet.
			below := y(u) + boxH + backRun + 4*(lane%4)
			above := y(v) - backRun - 4*(lane%4)
			b.path([][2]int{{sx, y(u) + boxH}, {sx, below}, {lx, below}, {lx, above}, {tx, above}, {tx, y(v)}}, true)
			b.edgeLabel(r.kind, sx+4, y(u)+boxH+14)
			continue
		}
		// Forward edges leave u's bottom spread out, yes left of no, and
		// pass straight through the dummy nodes on their way to v's top.
		outs[u]++
		sx := x[u] + wd(u)*outs[u]/(fwd[u]+1)
		pts := [][2]int{{sx, y(u) + boxH}}
		for _, d := range r.via {
			pts = append(pts, [2]int{x[d] + dummyW/2, y(d)}, [2]int{x[d] + dummyW/2, y(d) + boxH})
		}
		pts = append(pts, [2]int{x[v] + wd(v)/2, y(v)})
		b.path(pts, false)
		b.edgeLabel(r.kind, sx+4, y(u)+boxH+14)
	}

	for _, row := range g.layers {
		for _, n := range row {
			if !g.nodes[n].dummy {
				b.box(x[n], y(n), boxW, g.style(n), g.label(n), "")
			}
		}
	}
	if len(unreached) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Not reachable from the first step:</text>`+"\n", margin, listTop+14)
		for i, n := range unreached {
			bx := margin + (i%cols)*(boxW+gapX)
			by := listTop + 24 + (i/cols)*(boxH+gapX)
			b.box(bx, by, boxW, styleUnreachable, g.label(n), "unreachable")
		}
	}
	b.WriteString("</svg>\n")
	return template.HTML(b.String())
}

// edgeLabel marks a branch's edges yes and no.
func (b *svg) edgeLabel(kind string, x, y int) {
	word := map[string]string{"then": "yes", "else": "no"}[kind]
	if word != "" {
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" fill="#374151">%s</text>`+"\n", x, y, word)
	}
}
