package local

import (
	"iter"
	"math/bits"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// selection is whom segments select: rows of the contacts table, then the
// static addresses of the segments that the table lacks. It evaluates as
// sandbox.Evaluator does contact by contact, but a condition once per
// distinct value of a dictionary column, and a whole column at a time.
type selection struct {
	tab    *table
	rows   rowSet
	extras []sandbox.Contact // static addresses without a row, selected
}

// Len is how many contacts are selected.
func (s *selection) Len() int {
	n := len(s.extras)
	for _, w := range s.rows {
		n += bits.OnesCount64(w)
	}
	return n
}

// all yields the selected contacts in the file's order, then the extras:
// a row number (for extra i, -1-i) and the address.
func (s *selection) all() iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for wi, w := range s.rows {
			for w != 0 {
				r := wi*64 + bits.TrailingZeros64(w)
				w &= w - 1
				if !yield(r, s.tab.addr(r)) {
					return
				}
			}
		}
		for i, c := range s.extras {
			if !yield(-1-i, c.Email()) {
				return
			}
		}
	}
}

// contact is a selected contact whole, by the row all yielded.
func (s *selection) contact(row int) sandbox.Contact {
	if row >= 0 {
		return s.tab.contact(row)
	}
	return s.extras[-1-row]
}

// emails are the selected addresses.
func (s *selection) emails() []string {
	out := make([]string, 0, s.Len())
	for _, addr := range s.all() {
		out = append(out, addr)
	}
	return out
}

// sample is the first n selected contacts (nil when none is).
func (s *selection) sample(n int) []sandbox.Contact {
	var out []sandbox.Contact
	for r := range s.all() {
		if len(out) == n {
			break
		}
		out = append(out, s.contact(r))
	}
	return out
}

// selectRows resolves include minus exclude over tab. Static addresses of
// segs that no row holds are selected as contacts of their own.
func selectRows(tab *table, include, exclude []string, segs map[string]*sandbox.Segment) *selection {
	m := matcher{tab: tab, segs: segs}
	in := newRowSet(tab.rows)
	for _, id := range include {
		in.or(m.member(id, map[string]bool{}))
	}
	for _, id := range exclude {
		in.andNot(m.member(id, map[string]bool{}))
	}
	s := &selection{tab: tab, rows: in}
	known := map[string]bool{}
	ev := sandbox.Evaluator{Segments: segs}
	for _, id := range slices.Sorted(mapsKeys(segs)) {
		for _, addr := range segs[id].StaticEmails {
			if _, ok := tab.row(addr); ok || known[addr] {
				continue
			}
			known[addr] = true
			if c := (sandbox.Contact{"email": addr}); ev.Audience(c, include, exclude) {
				s.extras = append(s.extras, c)
			}
		}
	}
	return s
}

// matcher evaluates segment definitions over a table's rows.
type matcher struct {
	tab  *table
	segs map[string]*sandbox.Segment
}

// member is sandbox.Evaluator.Member for every row at once.
func (m *matcher) member(id string, visiting map[string]bool) rowSet {
	seg := m.segs[id]
	out := newRowSet(m.tab.rows)
	if seg == nil || visiting[id] {
		return out
	}
	visiting[id] = true
	defer delete(visiting, id)
	out.or(m.group(&seg.Group))
	for _, addr := range seg.StaticEmails {
		if r, ok := m.tab.row(addr); ok {
			out.set(r)
		}
	}
	for _, inc := range seg.IncludeSegments {
		out.or(m.member(inc, visiting))
	}
	for _, exc := range seg.ExcludeSegments {
		out.andNot(m.member(exc, visiting))
	}
	return out
}

// group is sandbox.Group.Matches for every row.
func (m *matcher) group(g *sandbox.Group) rowSet {
	out := newRowSet(m.tab.rows)
	if len(g.Conditions) == 0 && len(g.Groups) == 0 {
		return out
	}
	all := g.Match != "any"
	if all {
		out.fill(m.tab.rows)
	}
	combine := func(b rowSet) {
		if all {
			out.and(b)
		} else {
			out.or(b)
		}
	}
	for i := range g.Conditions {
		combine(m.condition(&g.Conditions[i]))
	}
	for i := range g.Groups {
		combine(m.group(&g.Groups[i]))
	}
	return out
}

// condition is sandbox.Condition.Matches for every row: once per distinct
// value in a dictionary column, once per row in a plain one.
func (m *matcher) condition(c *sandbox.Condition) rowSet {
	out := newRowSet(m.tab.rows)
	col := m.tab.cols[strings.ToLower(c.Property)]
	switch {
	case col == nil:
		if c.MatchesValue("") {
			out.fill(m.tab.rows)
		}
	case col.plain:
		for r := range m.tab.rows {
			if c.MatchesValue(col.value(r)) {
				out.set(r)
			}
		}
	default:
		hit := make([]bool, len(col.dict))
		for i, v := range col.dict {
			hit[i] = c.MatchesValue(v)
		}
		for r, code := range col.codes {
			if hit[code] {
				out.set(r)
			}
		}
	}
	return out
}

func (b rowSet) or(o rowSet) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b rowSet) and(o rowSet) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b rowSet) andNot(o rowSet) {
	for i := range b {
		b[i] &^= o[i]
	}
}

// fill sets rows 0..n-1.
func (b rowSet) fill(n int) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	if n%64 != 0 {
		b[len(b)-1] = 1<<(n%64) - 1
	}
}
