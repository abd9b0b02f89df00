package mailchimptest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) getRoot(*http.Request, []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, l := range s.lists {
		total += len(l.Members)
	}
	return ok(map[string]any{
		"account_id":        "fake" + s.seed,
		"login_id":          "1001",
		"account_name":      "Fake Chimp Co",
		"email":             "owner@example.com",
		"username":          "fakechimp",
		"role":              "owner",
		"pricing_plan_type": "monthly",
		"account_timezone":  "UTC",
		"total_subscribers": total,
	})
}

func (s *Server) listJSON(l *List) map[string]any {
	subscribed := 0
	for _, m := range l.Members {
		if m.Status == "subscribed" {
			subscribed++
		}
	}
	return map[string]any{
		"id":     l.ID,
		"web_id": 1,
		"name":   l.Name,
		"stats":  map[string]any{"member_count": subscribed},
	}
}

func (s *Server) getLists(r *http.Request, _ []byte) reply {
	count, offset, rep, good := paging(r)
	if !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]map[string]any, 0, len(s.listOrder))
	for _, id := range s.listOrder {
		all = append(all, s.listJSON(s.lists[id]))
	}
	q := r.URL.Query()
	return ok(project(map[string]any{"lists": page(all, count, offset), "total_items": len(all)}, q.Get("fields"), q.Get("exclude_fields")))
}

func (s *Server) getList(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[r.PathValue("list_id")]
	if l == nil {
		return notFound()
	}
	q := r.URL.Query()
	return ok(project(s.listJSON(l), q.Get("fields"), q.Get("exclude_fields")))
}

// ---- segments ----

type segmentBody struct {
	Name          *string        `json:"name"`
	StaticSegment []string       `json:"static_segment"`
	Options       map[string]any `json:"options"`
}

func (s *Server) segmentJSON(g *Segment) map[string]any {
	out := map[string]any{
		"id":           g.ID,
		"name":         g.Name,
		"member_count": len(s.segmentMembersLocked(g)),
		"type":         g.Type,
		"created_at":   fmtTime(g.CreatedAt),
		"updated_at":   fmtTime(g.UpdatedAt),
		"list_id":      g.ListID,
	}
	if g.Type == "saved" {
		out["options"] = g.Options
	}
	return out
}

func (s *Server) getSegments(r *http.Request, _ []byte) reply {
	count, offset, rep, good := paging(r)
	if !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	listID := r.PathValue("list_id")
	if s.lists[listID] == nil {
		return notFound()
	}
	typ := r.URL.Query().Get("type")
	var all []map[string]any
	for _, id := range s.segOrder {
		g := s.segments[id]
		if g.ListID != listID || (typ != "" && g.Type != typ) {
			continue
		}
		all = append(all, s.segmentJSON(g))
	}
	if all == nil {
		all = []map[string]any{}
	}
	q := r.URL.Query()
	return ok(project(map[string]any{"segments": page(all, count, offset), "list_id": listID, "total_items": len(all)},
		q.Get("fields"), q.Get("exclude_fields")))
}

// checkSegmentBody applies Mailchimp's rules beyond the schema.
func (s *Server) checkSegmentBody(listID string, b segmentBody, create bool) (reply, bool) {
	if create && (b.Name == nil || strings.TrimSpace(*b.Name) == "") {
		return invalidResource(FieldError{Field: "name", Message: "This value should not be blank."}), false
	}
	if b.StaticSegment != nil && b.Options != nil {
		return invalidResource(FieldError{Field: "static_segment", Message: "static_segment cannot be provided with the options field."}), false
	}
	if create && b.StaticSegment == nil && b.Options == nil {
		return invalidResource(FieldError{Field: "options", Message: "Provide static_segment for a static segment or options (match and conditions) for a saved segment."}), false
	}
	if b.Options != nil {
		conds, _ := b.Options["conditions"].([]any)
		if len(conds) == 0 {
			return invalidResource(FieldError{Field: "options.conditions", Message: "A saved segment needs at least one condition."}), false
		}
		if m, _ := b.Options["match"].(string); m == "" {
			return invalidResource(FieldError{Field: "options.match", Message: "This value should not be blank."}), false
		}
		if rep, good := s.checkConditionsLocked(listID, "options.conditions", conds); !good {
			return rep, false
		}
	}
	return reply{}, true
}

// checkConditionsLocked verifies what the schema cannot: static-segment
// conditions naming existing static segments of the same list.
func (s *Server) checkConditionsLocked(listID, field string, conds []any) (reply, bool) {
	for i, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["condition_type"] != "StaticSegment" {
			continue
		}
		id, _ := cm["value"].(float64)
		g := s.segments[int(id)]
		if g == nil || g.ListID != listID || g.Type != "static" {
			return invalidResource(FieldError{Field: fmt.Sprintf("%s.%d.value", field, i),
				Message: fmt.Sprintf("Static segment %v does not exist on this list.", cm["value"])}), false
		}
	}
	return reply{}, true
}

func (s *Server) postSegment(r *http.Request, body []byte) reply {
	var b segmentBody
	if rep, good := decode("POST /lists/{list_id}/segments", body, &b); !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	listID := r.PathValue("list_id")
	l := s.lists[listID]
	if l == nil {
		return notFound()
	}
	if rep, good := s.checkSegmentBody(listID, b, true); !good {
		return rep
	}
	now := s.opts.now().UTC()
	g := &Segment{ID: s.nextSegment, ListID: listID, Name: *b.Name, CreatedAt: now, UpdatedAt: now}
	s.nextSegment++
	if b.Options != nil {
		g.Type, g.Options = "saved", b.Options
	} else {
		g.Type, g.Static = "static", s.onListLocked(l, b.StaticSegment)
	}
	s.segments[g.ID] = g
	s.segOrder = append(s.segOrder, g.ID)
	return ok(s.segmentJSON(g))
}

// onListLocked keeps the addresses that are members of the list: Mailchimp
// ignores the others.
func (s *Server) onListLocked(l *List, emails []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if seen[e] {
			continue
		}
		for _, m := range l.Members {
			if m.Email == e {
				out = append(out, e)
				seen[e] = true
				break
			}
		}
	}
	return out
}

func (s *Server) segmentFromPath(r *http.Request) (*List, *Segment) {
	l := s.lists[r.PathValue("list_id")]
	id, err := strconv.Atoi(r.PathValue("segment_id"))
	if l == nil || err != nil {
		return l, nil
	}
	g := s.segments[id]
	if g == nil || g.ListID != l.ID {
		return l, nil
	}
	return l, g
}

func (s *Server) getSegment(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g := s.segmentFromPath(r)
	if g == nil {
		return notFound()
	}
	q := r.URL.Query()
	return ok(project(s.segmentJSON(g), q.Get("fields"), q.Get("exclude_fields")))
}

func (s *Server) patchSegment(r *http.Request, body []byte) reply {
	var b segmentBody
	if rep, good := decode("PATCH /lists/{list_id}/segments/{segment_id}", body, &b); !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, g := s.segmentFromPath(r)
	if g == nil {
		return notFound()
	}
	if rep, good := s.checkSegmentBody(l.ID, b, false); !good {
		return rep
	}
	if b.Options != nil && g.Type == "static" {
		return invalidResource(FieldError{Field: "options", Message: "A static segment cannot be given conditions."})
	}
	if b.StaticSegment != nil && g.Type == "saved" {
		return invalidResource(FieldError{Field: "static_segment", Message: "A saved segment cannot be given static members."})
	}
	if b.Name != nil {
		g.Name = *b.Name
	}
	if b.Options != nil {
		g.Options = b.Options
	}
	if b.StaticSegment != nil {
		g.Static = s.onListLocked(l, b.StaticSegment)
	}
	g.UpdatedAt = s.opts.now().UTC()
	return ok(s.segmentJSON(g))
}

func (s *Server) postSegmentMembers(r *http.Request, body []byte) reply {
	var b struct {
		Add    []string `json:"members_to_add"`
		Remove []string `json:"members_to_remove"`
	}
	if rep, good := decode("POST /lists/{list_id}/segments/{segment_id}", body, &b); !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, g := s.segmentFromPath(r)
	if g == nil {
		return notFound()
	}
	if g.Type != "static" {
		return fail(http.StatusBadRequest, "Bad Request", "Members can only be added to or removed from a static segment.")
	}
	added := s.onListLocked(l, b.Add)
	have := map[string]bool{}
	for _, e := range g.Static {
		have[e] = true
	}
	var addedOut []map[string]any
	for _, e := range added {
		if !have[e] {
			g.Static = append(g.Static, e)
			have[e] = true
			addedOut = append(addedOut, map[string]any{"email_address": e})
		}
	}
	rm := map[string]bool{}
	for _, e := range b.Remove {
		rm[strings.ToLower(e)] = true
	}
	kept := g.Static[:0]
	var removedOut []map[string]any
	for _, e := range g.Static {
		if rm[e] {
			removedOut = append(removedOut, map[string]any{"email_address": e})
			continue
		}
		kept = append(kept, e)
	}
	g.Static = kept
	g.UpdatedAt = s.opts.now().UTC()
	return ok(map[string]any{"members_added": addedOut, "members_removed": removedOut,
		"total_added": len(addedOut), "total_removed": len(removedOut), "error_count": 0})
}

func (s *Server) deleteSegment(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g := s.segmentFromPath(r)
	if g == nil {
		return notFound()
	}
	delete(s.segments, g.ID)
	for i, id := range s.segOrder {
		if id == g.ID {
			s.segOrder = append(s.segOrder[:i], s.segOrder[i+1:]...)
			break
		}
	}
	return noContent()
}

// ---- membership ----

func (s *Server) segmentMembersLocked(g *Segment) []string {
	l := s.lists[g.ListID]
	if l == nil {
		return nil
	}
	if g.Type == "static" {
		var out []string
		for _, e := range g.Static {
			for _, m := range l.Members {
				if m.Email == e && m.Status == "subscribed" {
					out = append(out, e)
				}
			}
		}
		return out
	}
	match, _ := g.Options["match"].(string)
	conds, _ := g.Options["conditions"].([]any)
	return s.evaluateLocked(l, match, conds)
}

func (s *Server) evaluateLocked(l *List, match string, conds []any) []string {
	var out []string
	for _, m := range l.Members {
		if m.Status != "subscribed" {
			continue
		}
		hit := match != "any"
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			r := s.matchLocked(m, cm)
			if match == "any" && r {
				hit = true
				break
			}
			if match != "any" && !r {
				hit = false
				break
			}
		}
		if len(conds) == 0 {
			hit = true
		}
		if hit {
			out = append(out, m.Email)
		}
	}
	return out
}

func (s *Server) matchLocked(m Member, c map[string]any) bool {
	op, _ := c["op"].(string)
	field, _ := c["field"].(string)
	switch c["condition_type"] {
	case "EmailAddress":
		return compare(op, m.Email, strings.ToLower(str(c["value"])))
	case "TextMerge", "SelectMerge", "AddressMerge", "DateMerge", "BirthdayMerge":
		v, has := m.MergeFields[strings.ToUpper(field)]
		switch op {
		case "blank":
			return !has || v == ""
		case "blank_not":
			return has && v != ""
		}
		return compare(op, strings.ToLower(v), strings.ToLower(str(c["value"])))
	case "Language":
		return compare(op, m.Language, str(c["value"]))
	case "StaticSegment":
		id, _ := c["value"].(float64)
		g := s.segments[int(id)]
		in := false
		if g != nil {
			for _, e := range g.Static {
				if e == m.Email {
					in = true
				}
			}
		}
		if op == "static_not" {
			return !in
		}
		return in
	}
	return false
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func compare(op, have, want string) bool {
	switch op {
	case "is":
		return have == want
	case "not":
		return have != want
	case "contains":
		return strings.Contains(have, want)
	case "notcontain":
		return !strings.Contains(have, want)
	case "starts":
		return strings.HasPrefix(have, want)
	case "ends":
		return strings.HasSuffix(have, want)
	case "greater", "less":
		a, errA := strconv.ParseFloat(have, 64)
		b, errB := strconv.ParseFloat(want, 64)
		if errA == nil && errB == nil {
			if op == "greater" {
				return a > b
			}
			return a < b
		}
		if op == "greater" {
			return have > want
		}
		return have < want
	}
	return false
}
