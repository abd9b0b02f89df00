package local

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// membership is what workflows' add_to_segment and remove_from_segment
// steps did to a static segment: live data, kept apart from the segment's
// approved definition (as a platform's static list keeps its members apart
// from its settings), so promoting a new revision of the segment does not
// undo them. The last change of an address wins.
type membership struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

func (t *Target) membershipPath(segID string) string {
	return t.path("segment-members", segID+".json")
}

// changeMembership adds addr to, or removes it from, a live static segment.
// Doing it twice is doing it once, so a step redone after a crash is safe.
func (t *Target) changeMembership(segID, addr string, add bool) error {
	if !safeID().MatchString(segID) {
		return fmt.Errorf("%q is not a segment id", segID)
	}
	var m membership
	if _, err := readJSON(t.membershipPath(segID), &m); err != nil {
		return err
	}
	addr = strings.ToLower(addr)
	in, out := &m.Added, &m.Removed
	if !add {
		in, out = out, in
	}
	if slices.Contains(*in, addr) && !slices.Contains(*out, addr) {
		return nil
	}
	*out = slices.DeleteFunc(*out, func(a string) bool { return a == addr })
	*in = append(*in, addr)
	slices.Sort(*in)
	_, err := t.writeJSON(t.membershipPath(segID), m)
	return err
}

// withMembership applies the workflows' membership changes to the static
// segments in segs, copying what it changes (segs may be the caller's).
func (t *Target) withMembership(segs map[string]*sandbox.Segment) (map[string]*sandbox.Segment, error) {
	var out map[string]*sandbox.Segment
	for id, s := range segs {
		if s == nil || !safeID().MatchString(id) {
			continue
		}
		var m membership
		found, err := readJSON(t.membershipPath(id), &m)
		if err != nil {
			return nil, fmt.Errorf("read members of segment %s: %w", id, err)
		}
		if !found {
			continue
		}
		if out == nil {
			out = maps.Clone(segs)
		}
		c := *s
		c.StaticEmails = slices.DeleteFunc(slices.Concat(s.StaticEmails, m.Added), func(a string) bool { return slices.Contains(m.Removed, a) })
		slices.Sort(c.StaticEmails)
		c.StaticEmails = slices.Compact(c.StaticEmails)
		out[id] = &c
	}
	if out == nil {
		return segs, nil
	}
	return out, nil
}

// staticSegment reports whether a segment is only a list of addresses,
// the kind workflow steps can add to and remove from.
func staticSegment(s *sandbox.Segment) bool {
	return len(s.Conditions) == 0 && len(s.Groups) == 0 && len(s.IncludeSegments) == 0 && len(s.ExcludeSegments) == 0
}
