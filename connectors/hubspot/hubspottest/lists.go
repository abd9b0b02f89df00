package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) listByNameLocked(name string) (string, *listObj) {
	for _, id := range sortedIDs(s.st.Lists) {
		l := s.st.Lists[id]
		if strings.EqualFold(str(l.Doc["name"]), name) {
			return id, l
		}
	}
	return "", nil
}

func duplicateName(name string) *httpError {
	e := validationErr(fmt.Sprintf("A list with the name '%s' already exists.", name))
	e.env.SubCategory = "ILS.DUPLICATE_LIST_NAMES"
	return e
}

func (s *Server) listView(l *listObj, withFilters bool) map[string]any {
	d := clone(l.Doc)
	if !withFilters {
		delete(d, "filterBranch")
	}
	n := int64(len(l.Members))
	if l.Size != nil {
		n = *l.Size
	}
	d["size"] = n
	return d
}

func (s *Server) createList(q *request) (int, any, *httpError) {
	var body map[string]any
	if e := q.decode(schemaListCreate, &body); e != nil {
		return 0, nil, e
	}
	name := str(body["name"])
	if strings.TrimSpace(name) == "" {
		return 0, nil, validationErr("name cannot be blank", ErrorDetail{Message: "name cannot be blank", In: "name", Code: "REQUIRED"})
	}
	if id, _ := s.listByNameLocked(name); id != "" {
		return 0, nil, duplicateName(name)
	}
	if ot := str(body["objectTypeId"]); ot != "0-1" {
		return 0, nil, validationErr(fmt.Sprintf("objectTypeId %s: this portal's fake supports contact lists (0-1) only", ot))
	}
	pt := str(body["processingType"])
	fb, hasFB := body["filterBranch"].(map[string]any)
	switch pt {
	case "MANUAL":
		if hasFB {
			return 0, nil, validationErr("MANUAL lists cannot have a filterBranch", ErrorDetail{Message: "filterBranch must be empty for MANUAL lists", In: "filterBranch"})
		}
	case "DYNAMIC", "SNAPSHOT":
		if !hasFB {
			return 0, nil, validationErr(pt+" lists need a filterBranch", ErrorDetail{Message: "filterBranch is required", In: "filterBranch", Code: "REQUIRED"})
		}
		if d := s.checkFilterBranch(fb, "filterBranch"); len(d) > 0 {
			return 0, nil, validationErr("Invalid filterBranch: "+d[0].Message, d...)
		}
	default:
		return 0, nil, validationErr(fmt.Sprintf("processingType %q must be MANUAL, DYNAMIC or SNAPSHOT", pt))
	}
	id := s.st.newID(baseList)
	doc := map[string]any{
		"listId": id, "listVersion": 1, "name": name, "objectTypeId": "0-1", "processingType": pt,
		"processingStatus": "COMPLETE", "createdAt": ts(q.now), "updatedAt": ts(q.now), "filtersUpdatedAt": ts(q.now),
		"createdById": "1", "updatedById": "1",
	}
	if hasFB {
		doc["filterBranch"] = fb
	}
	if cp, ok := body["customProperties"]; ok {
		doc["customProperties"] = cp
	}
	l := &listObj{Doc: doc}
	s.st.Lists[id] = l
	return http.StatusOK, map[string]any{"list": s.listView(l, true)}, nil
}

func (s *Server) list(id string) (*listObj, *httpError) {
	l, ok := s.st.Lists[id]
	if !ok {
		return nil, notFound("List", id)
	}
	return l, nil
}

func (s *Server) getList(q *request) (int, any, *httpError) {
	l, herr := s.list(q.path("listId"))
	if herr != nil {
		return 0, nil, herr
	}
	return http.StatusOK, map[string]any{"list": s.listView(l, q.query("includeFilters") == "true")}, nil
}

func (s *Server) listByName(q *request) (int, any, *httpError) {
	name := q.path("listName")
	if q.path("objectTypeId") != "0-1" {
		return 0, nil, notFound("List", name)
	}
	id, l := s.listByNameLocked(name)
	if id == "" {
		return 0, nil, apiErr(http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("List with name '%s' does not exist for object type 0-1.", name))
	}
	return http.StatusOK, map[string]any{"list": s.listView(l, q.query("includeFilters") == "true")}, nil
}

func (s *Server) searchLists(q *request) (int, any, *httpError) {
	var body struct {
		Query           string   `json:"query"`
		Offset          int      `json:"offset"`
		Count           int      `json:"count"`
		ProcessingTypes []string `json:"processingTypes"`
		ListIDs         []string `json:"listIds"`
	}
	if e := q.decode(schemaListSearch, &body); e != nil {
		return 0, nil, e
	}
	if body.Count <= 0 {
		body.Count = 20
	}
	body.Count = min(body.Count, 500)
	var hits []map[string]any
	for _, id := range sortedIDs(s.st.Lists) {
		l := s.st.Lists[id]
		if body.Query != "" && !strings.Contains(strings.ToLower(str(l.Doc["name"])), strings.ToLower(body.Query)) {
			continue
		}
		if len(body.ProcessingTypes) > 0 && !contains(body.ProcessingTypes, str(l.Doc["processingType"])) {
			continue
		}
		if len(body.ListIDs) > 0 && !contains(body.ListIDs, id) {
			continue
		}
		v := s.listView(l, false)
		delete(v, "size")
		v["additionalProperties"] = map[string]any{"hs_list_size": fmt.Sprint(len(l.Members))}
		hits = append(hits, v)
	}
	start := min(max(body.Offset, 0), len(hits))
	end := min(start+body.Count, len(hits))
	page := make([]any, 0, end-start)
	for _, h := range hits[start:end] {
		page = append(page, h)
	}
	return http.StatusOK, map[string]any{"lists": page, "offset": end, "hasMore": end < len(hits), "total": len(hits)}, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) updateListFilters(q *request) (int, any, *httpError) {
	l, herr := s.list(q.path("listId"))
	if herr != nil {
		return 0, nil, herr
	}
	var body map[string]any
	if e := q.decode(schemaListFilters, &body); e != nil {
		return 0, nil, e
	}
	if l.Doc["processingType"] == "MANUAL" {
		return 0, nil, validationErr("MANUAL lists have no filters to update")
	}
	fb, _ := body["filterBranch"].(map[string]any)
	if d := s.checkFilterBranch(fb, "filterBranch"); len(d) > 0 {
		return 0, nil, validationErr("Invalid filterBranch: "+d[0].Message, d...)
	}
	l.Doc["filterBranch"] = fb
	bump(l, q)
	l.Doc["filtersUpdatedAt"] = ts(q.now)
	return http.StatusOK, map[string]any{"updatedList": s.listView(l, true)}, nil
}

func bump(l *listObj, q *request) {
	v, _ := l.Doc["listVersion"].(float64)
	if iv, ok := l.Doc["listVersion"].(int); ok {
		v = float64(iv)
	}
	l.Doc["listVersion"] = int(v) + 1
	l.Doc["updatedAt"] = ts(q.now)
}

func (s *Server) renameList(q *request) (int, any, *httpError) {
	id := q.path("listId")
	l, herr := s.list(id)
	if herr != nil {
		return 0, nil, herr
	}
	name := q.query("listName")
	if strings.TrimSpace(name) == "" {
		return 0, nil, validationErr("listName is required", ErrorDetail{Message: "listName is required", In: "listName", Code: "REQUIRED"})
	}
	if other, _ := s.listByNameLocked(name); other != "" && other != id {
		return 0, nil, duplicateName(name)
	}
	l.Doc["name"] = name
	bump(l, q)
	return http.StatusOK, map[string]any{"updatedList": s.listView(l, q.query("includeFilters") == "true")}, nil
}

func (s *Server) deleteList(q *request) (int, any, *httpError) {
	id := q.path("listId")
	l, herr := s.list(id)
	if herr != nil {
		return 0, nil, herr
	}
	// "Lists deleted through this endpoint can be restored up to 90-days
	// following the delete."
	s.st.ArchivedLists[id] = l
	delete(s.st.Lists, id)
	return http.StatusNoContent, nil, nil
}

func (s *Server) listMembers(q *request) (int, any, *httpError) {
	l, herr := s.list(q.path("listId"))
	if herr != nil {
		return 0, nil, herr
	}
	page, paging, herr := paginate(l.Members, q, 100, 250)
	if herr != nil {
		return 0, nil, herr
	}
	results := make([]any, 0, len(page))
	for _, m := range page {
		results = append(results, map[string]any{"recordId": m, "membershipTimestamp": ts(l.Joined[m])})
	}
	out := map[string]any{"results": results, "total": len(l.Members)}
	if paging != nil {
		out["paging"] = paging
	}
	return http.StatusOK, out, nil
}

func (s *Server) manualList(q *request) (*listObj, *httpError) {
	l, herr := s.list(q.path("listId"))
	if herr != nil {
		return nil, herr
	}
	if pt := str(l.Doc["processingType"]); pt != "MANUAL" && pt != "SNAPSHOT" {
		return nil, validationErr(fmt.Sprintf("List %s is %s: memberships can only be changed on MANUAL or SNAPSHOT lists", q.path("listId"), pt))
	}
	return l, nil
}

func decodeIDs(q *request) ([]string, *httpError) {
	var ids []string
	if err := json.Unmarshal(q.body, &ids); err != nil {
		return nil, validationErr("Invalid input JSON: the body must be an array of record id strings",
			ErrorDetail{Message: "expected an array of strings", In: "body", Code: "INVALID_TYPE"})
	}
	return ids, nil
}

func (s *Server) applyMembers(l *listObj, add, remove []string, q *request) map[string]any {
	added, removed, missing := []any{}, []any{}, []any{}
	have := map[string]bool{}
	for _, m := range l.Members {
		have[m] = true
	}
	if l.Joined == nil {
		l.Joined = map[string]time.Time{}
	}
	for _, id := range add {
		if _, ok := s.st.Contacts[id]; !ok {
			missing = append(missing, id)
			continue
		}
		if !have[id] {
			have[id] = true
			l.Members = append(l.Members, id)
			l.Joined[id] = q.now
			added = append(added, id)
		}
	}
	for _, id := range remove {
		if !have[id] {
			if _, ok := s.st.Contacts[id]; !ok {
				missing = append(missing, id)
			}
			continue
		}
		delete(have, id)
		delete(l.Joined, id)
		removed = append(removed, id)
	}
	kept := l.Members[:0]
	for _, m := range l.Members {
		if have[m] {
			kept = append(kept, m)
		}
	}
	l.Members = kept
	if len(added)+len(removed) > 0 {
		bump(l, q)
	}
	return map[string]any{"recordsIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}
}

func (s *Server) addMembers(q *request) (int, any, *httpError) {
	l, herr := s.manualList(q)
	if herr != nil {
		return 0, nil, herr
	}
	ids, herr := decodeIDs(q)
	if herr != nil {
		return 0, nil, herr
	}
	return http.StatusOK, s.applyMembers(l, ids, nil, q), nil
}

func (s *Server) removeMembers(q *request) (int, any, *httpError) {
	l, herr := s.manualList(q)
	if herr != nil {
		return 0, nil, herr
	}
	ids, herr := decodeIDs(q)
	if herr != nil {
		return 0, nil, herr
	}
	return http.StatusOK, s.applyMembers(l, nil, ids, q), nil
}

func (s *Server) changeMembers(q *request) (int, any, *httpError) {
	l, herr := s.manualList(q)
	if herr != nil {
		return 0, nil, herr
	}
	var body struct {
		Add    []string `json:"recordIdsToAdd"`
		Remove []string `json:"recordIdsToRemove"`
	}
	if e := q.decode(schemaMemberChange, &body); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.applyMembers(l, body.Add, body.Remove, q), nil
}

// batchRead is the body of a CRM objects batch read.
type batchRead struct {
	IDProperty string `json:"idProperty"`
	Inputs     []struct {
		ID string `json:"id"`
	} `json:"inputs"`
	Properties            []string `json:"properties"`
	PropertiesWithHistory []string `json:"propertiesWithHistory"`
}

// batchReadBody reads and checks a batch read's body as HubSpot does: the
// inputs required, at most 100, and idProperty one of the unique ones.
func batchReadBody(q *request, unique ...string) (batchRead, *httpError) {
	var body batchRead
	if err := json.Unmarshal(q.body, &body); err != nil {
		return body, validationErr("Invalid input JSON: " + err.Error())
	}
	if body.Inputs == nil {
		return body, validationErr("inputs is required", ErrorDetail{Message: "inputs is required", In: "inputs", Code: "REQUIRED"})
	}
	if len(body.Inputs) > 100 {
		return body, validationErr(fmt.Sprintf("Batch input has %d inputs; the limit is 100", len(body.Inputs)))
	}
	if body.IDProperty != "" && !slices.Contains(unique, body.IDProperty) {
		return body, validationErr(fmt.Sprintf("idProperty %s is not a unique property", body.IDProperty))
	}
	return body, nil
}

// readContacts is POST /crm/v3/objects/contacts/batch/read. The Contacts
// spec is not among the saved files; the fake checks the documented shape by
// hand: {idProperty, inputs:[{id}] (at most 100), properties,
// propertiesWithHistory}. Each property asked with history is answered
// under propertiesWithHistory, its versions newest first ([] for none).
func (s *Server) readContacts(q *request) (int, any, *httpError) {
	body, herr := batchReadBody(q, "email", "hs_object_id")
	if herr != nil {
		return 0, nil, herr
	}
	results := []any{}
	var missing []string
	for _, in := range body.Inputs {
		id := in.ID
		if body.IDProperty == "email" {
			id = s.contactByEmail(in.ID)
		}
		addr, ok := s.st.Contacts[id]
		if !ok {
			missing = append(missing, in.ID)
			continue
		}
		props := map[string]any{"email": addr, "hs_object_id": id}
		for _, p := range body.Properties {
			if _, set := props[p]; set {
				continue
			}
			if v := s.st.ContactProps[id][p]; v != "" {
				props[p] = v
			} else {
				props[p] = nil // HubSpot answers each property asked for, null when empty
			}
		}
		r := map[string]any{
			"id": id, "archived": false, "createdAt": ts(q.now), "updatedAt": ts(q.now),
			"properties": props,
		}
		if len(body.PropertiesWithHistory) > 0 {
			hist := map[string]any{}
			for _, p := range body.PropertiesWithHistory {
				hist[p] = append([]propertyVersion{}, s.st.ContactHistory[id][p]...)
			}
			r["propertiesWithHistory"] = hist
		}
		results = append(results, r)
	}
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": ts(q.now), "completedAt": ts(q.now)}
	if len(missing) > 0 {
		out["numErrors"] = 1
		out["errors"] = []any{map[string]any{
			"status": "error", "category": "OBJECT_NOT_FOUND",
			"message": "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
			"context": map[string]any{"ids": missing},
		}}
		return http.StatusMultiStatus, out, nil
	}
	return http.StatusOK, out, nil
}
