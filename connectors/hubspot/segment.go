package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// hsList is the part of HubSpot's PublicObjectList lastmile reads.
type hsList struct {
	ListID         string         `json:"listId"`
	ListVersion    int            `json:"listVersion"`
	Name           string         `json:"name"`
	ProcessingType string         `json:"processingType"`
	Size           int64          `json:"size"`
	UpdatedAt      string         `json:"updatedAt"`
	FilterBranch   map[string]any `json:"filterBranch"`
}

func (l hsList) state() sandbox.LiveState {
	return sandbox.LiveState{ID: l.ListID, Version: strconv.Itoa(l.ListVersion), Status: strings.ToLower(l.ProcessingType)}
}

func (t *Target) getList(ctx context.Context, id string, filters bool) (hsList, error) {
	var r struct {
		List hsList `json:"list"`
	}
	p := t.paths.lists + "/" + id
	if filters {
		p += "?includeFilters=true"
	}
	_, err := t.do(ctx, call{method: http.MethodGet, path: p}, &r)
	return r.List, err
}

func (t *Target) liveList(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	l, err := t.getList(ctx, id, false)
	if rest.StatusOf(err) == http.StatusNotFound {
		return sandbox.LiveState{}, false, nil
	}
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("read list "+id, err)
	}
	return l.state(), true, nil
}

// findList looks the list up by its unique name (which carries the marker),
// then, in case the segment was renamed since, searches for the marker.
func (t *Target) findList(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Segment == nil {
		return sandbox.LiveState{}, false, wrongKind(obj)
	}
	l, found, err := t.findListRaw(ctx, obj)
	if err != nil || !found {
		return sandbox.LiveState{}, found, err
	}
	return l.state(), true, nil
}

func (t *Target) findListRaw(ctx context.Context, obj sandbox.Object) (hsList, bool, error) {
	op := "look for list " + quote(obj.Segment.Name) + " by its marker"
	var r struct {
		List hsList `json:"list"`
	}
	name := markedName(obj.Segment.Name, obj.Marker)
	_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.lists + "/object-type-id/0-1/name/" + url.PathEscape(name) + "?includeFilters=true"}, &r)
	if err == nil && hasMarker(r.List.Name, obj.Marker) {
		return r.List, true, nil
	}
	if err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return hsList{}, false, t.fail(op, err)
	}
	if obj.Marker == "" {
		return hsList{}, false, nil
	}
	for offset := 0; offset < 100000; {
		var res struct {
			Lists   []hsList `json:"lists"`
			Offset  int      `json:"offset"`
			HasMore bool     `json:"hasMore"`
		}
		body := map[string]any{"query": obj.Marker, "offset": offset, "count": 100, "additionalProperties": []string{}, "processingTypes": []string{"MANUAL", "DYNAMIC", "SNAPSHOT"}}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.lists + "/search", body: body, idempotent: true}, &res); err != nil {
			return hsList{}, false, t.fail(op, err)
		}
		for _, l := range res.Lists {
			if hasMarker(l.Name, obj.Marker) {
				return l, true, nil
			}
		}
		if !res.HasMore || res.Offset <= offset {
			break
		}
		offset = res.Offset
	}
	return hsList{}, false, nil
}

// listExists reports HubSpot saying a list of that name exists.
func listExists(err error) bool {
	env := envelopeOf(err)
	return rest.StatusOf(err) == http.StatusConflict || strings.Contains(env.SubCategory, "DUPLICATE") ||
		(rest.StatusOf(err) == http.StatusBadRequest && strings.Contains(strings.ToLower(env.Message), "already exists"))
}

func (t *Target) putList(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	seg := obj.Segment
	if seg == nil {
		return sandbox.LiveState{}, wrongKind(obj)
	}
	verb := "create"
	if liveID != "" {
		verb = "update"
	}
	op := verb + " list " + quote(seg.Name)
	plan := t.planList(seg, obj.Refs, obj.Segments, false)
	if len(plan.problems) > 0 {
		return sandbox.LiveState{}, failure(op, "HubSpot cannot express the segment: "+strings.Join(plan.problems, "; "), nil, sandbox.ErrNotSupported)
	}
	name := markedName(seg.Name, obj.Marker)
	var cur hsList
	if liveID == "" {
		body := map[string]any{"name": name, "objectTypeId": "0-1", "processingType": plan.processingType}
		if plan.filterBranch != nil {
			body["filterBranch"] = plan.filterBranch
		}
		var created hsList
		_, err := t.create(ctx, op, sandbox.KindSegment, func() (sandbox.LiveState, error) {
			var r struct {
				List hsList `json:"list"`
			}
			_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.lists, body: body}, &r)
			created = r.List
			return r.List.state(), err
		}, func() (sandbox.LiveState, bool, error) {
			l, ok, err := t.findListRaw(ctx, obj)
			created = l
			return l.state(), ok, err
		}, listExists)
		if err != nil {
			if listExists(err) {
				return sandbox.LiveState{}, failure(op, fmt.Sprintf("HubSpot already has a list named %q that lastmile did not create: rename the segment", name), err, sandbox.ErrConflict)
			}
			return sandbox.LiveState{}, err
		}
		cur = created
		if err := t.sameType(op, cur, plan); err != nil {
			return sandbox.LiveState{}, err
		}
		if plan.processingType == "DYNAMIC" && cur.FilterBranch != nil && !sameJSON(cur.FilterBranch, plan.filterBranch) {
			// Found from an earlier attempt of an older revision: bring it up to date.
			if cur, err = t.updateListFilters(ctx, op, cur.ListID, plan.filterBranch); err != nil {
				return sandbox.LiveState{}, err
			}
		}
	} else {
		var err error
		if cur, err = t.getList(ctx, liveID, true); err != nil {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		if err := t.sameType(op, cur, plan); err != nil {
			return sandbox.LiveState{}, err
		}
		if cur.Name != name {
			var r struct {
				UpdatedList hsList `json:"updatedList"`
			}
			q := "?listName=" + url.QueryEscape(name)
			if _, err := t.do(ctx, call{method: http.MethodPut, path: t.paths.lists + "/" + liveID + "/update-list-name" + q}, &r); err != nil {
				if listExists(err) {
					return sandbox.LiveState{}, failure(op, fmt.Sprintf("HubSpot already has another list named %q: rename the segment", name), err, sandbox.ErrConflict)
				}
				return sandbox.LiveState{}, t.fail(op, err)
			}
			r.UpdatedList.FilterBranch = cur.FilterBranch // the rename answer leaves filters out
			cur = r.UpdatedList
		}
		if plan.processingType == "DYNAMIC" && !sameJSON(cur.FilterBranch, plan.filterBranch) {
			if cur, err = t.updateListFilters(ctx, op, liveID, plan.filterBranch); err != nil {
				return sandbox.LiveState{}, err
			}
		}
	}
	if plan.processingType == "MANUAL" {
		changed, err := t.syncMembers(ctx, op, cur.ListID, plan.static)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		if !changed {
			return cur.state(), nil
		}
	} else {
		return cur.state(), nil
	}
	// Membership changes bump the list's version: read it back.
	final, err := t.getList(ctx, cur.ListID, false)
	if err != nil {
		return sandbox.LiveState{}, t.fail(op+" (reading it back)", err)
	}
	return final.state(), nil
}

func (t *Target) sameType(op string, cur hsList, plan listPlan) error {
	if cur.ProcessingType == "" || cur.ProcessingType == plan.processingType {
		return nil
	}
	return failure(op, fmt.Sprintf("the HubSpot list is %s but the segment now needs a %s list (static addresses only make a MANUAL list; conditions a DYNAMIC one), and HubSpot cannot convert a list: stage the change as a new segment", cur.ProcessingType, plan.processingType), nil, sandbox.ErrConflict)
}

func (t *Target) updateListFilters(ctx context.Context, op, id string, fb map[string]any) (hsList, error) {
	var r struct {
		UpdatedList hsList `json:"updatedList"`
	}
	_, err := t.do(ctx, call{method: http.MethodPut, path: t.paths.lists + "/" + id + "/update-list-filters", body: map[string]any{"filterBranch": fb}}, &r)
	if err != nil {
		return hsList{}, t.fail(op, err)
	}
	return r.UpdatedList, nil
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// contactIDs resolves addresses to contact record ids; addresses without
// a contact are returned as missing.
func (t *Target) contactIDs(ctx context.Context, emails []string) (ids []string, missing []string, err error) {
	byEmail := map[string]string{}
	if err := t.readContacts(ctx, "email", emails, []string{"email"}, func(id string, p map[string]string) {
		byEmail[strings.ToLower(p["email"])] = id
	}); err != nil {
		return nil, nil, err
	}
	for _, e := range emails {
		if id, ok := byEmail[strings.ToLower(e)]; ok {
			ids = append(ids, id)
		} else {
			missing = append(missing, e)
		}
	}
	return ids, missing, nil
}

// readContacts batch-reads contacts by record id, or by idProperty when
// set (100 per request, as HubSpot allows), and calls fn with each found
// contact's id and properties. Ids HubSpot has no contact for are left out.
func (t *Target) readContacts(ctx context.Context, idProperty string, ids, properties []string, fn func(id string, props map[string]string)) error {
	for start := 0; start < len(ids); start += objectBatch {
		chunk := ids[start:min(start+objectBatch, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, e := range chunk {
			inputs[i] = map[string]string{"id": e}
		}
		var r struct {
			Results []struct {
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			} `json:"results"`
		}
		body := map[string]any{"inputs": inputs, "properties": properties}
		if idProperty != "" {
			body["idProperty"] = idProperty
		}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.contacts + "/batch/read", body: body, idempotent: true}, &r); err != nil {
			return err
		}
		for _, c := range r.Results {
			fn(c.ID, c.Properties)
		}
	}
	return nil
}

// listMembers reads a list's members' record ids, 250 a page (HubSpot's
// maximum).
func (t *Target) listMembers(ctx context.Context, listID string) (map[string]bool, error) {
	have := map[string]bool{}
	err := t.pageThrough(ctx, t.paths.lists+"/"+listID+"/memberships?limit=250", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []struct {
				RecordID string `json:"recordId"`
			} `json:"results"`
			Paging *paging `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for _, r := range page.Results {
			have[r.RecordID] = true
		}
		return page.Paging.after(), false, nil
	})
	return have, err
}

// syncMembers makes a MANUAL list hold exactly the contacts of these
// addresses. Membership changes are PUTs of absolute sets: safe to repeat.
func (t *Target) syncMembers(ctx context.Context, op, listID string, emails []string) (changed bool, err error) {
	want, missing, err := t.contactIDs(ctx, emails)
	if err != nil {
		return false, t.fail(op+" (finding the contacts of its addresses)", err)
	}
	if len(missing) > 0 {
		t.log.Warn("hubspot: addresses without a HubSpot contact were left out of the list", "target", t.name, "list", listID, "count", len(missing))
	}
	have, err := t.listMembers(ctx, listID)
	if err != nil {
		return false, t.fail(op+" (reading its members)", err)
	}
	wantSet := map[string]bool{}
	var add, remove []string
	for _, id := range want {
		wantSet[id] = true
		if !have[id] {
			add = append(add, id)
		}
	}
	for id := range have {
		if !wantSet[id] {
			remove = append(remove, id)
		}
	}
	const chunk = 1000
	changed = len(add) > 0 || len(remove) > 0
	for len(add) > 0 || len(remove) > 0 {
		a := add[:min(chunk, len(add))]
		r := remove[:min(chunk, len(remove))]
		add, remove = add[len(a):], remove[len(r):]
		body := map[string]any{"recordIdsToAdd": nonNil(a), "recordIdsToRemove": nonNil(r)}
		if _, err := t.do(ctx, call{method: http.MethodPut, path: t.paths.lists + "/" + listID + "/memberships/add-and-remove", body: body}, nil); err != nil {
			return false, t.fail(op+" (changing its members)", err)
		}
	}
	return changed, nil
}

func (t *Target) assessSegment(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	seg := obj.Segment
	if seg == nil {
		return wrongKind(obj)
	}
	plan := t.planList(seg, obj.Refs, obj.Segments, true)
	a.Problems = append(a.Problems, plan.problems...)
	a.Notes = append(a.Notes, plan.notes...)
	if len(plan.problems) > 0 {
		return nil
	}
	if plan.processingType == "MANUAL" {
		ids, missing, err := t.contactIDs(ctx, plan.static)
		if err != nil {
			return t.fail("look up the contacts of segment "+quote(seg.Name), err)
		}
		a.AudienceSize = len(ids)
		a.Notes = append(a.Notes, fmt.Sprintf("HubSpot gets a static (MANUAL) list of %d contact(s)", len(ids)))
		if len(missing) > 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("%d address(es) are not HubSpot contacts and will be left out: %s", len(missing), strings.Join(limitList(missing, 5), ", ")))
		}
	}
	// An earlier promotion's list of another kind cannot be converted.
	if l, found, err := t.findListRaw(ctx, obj); err == nil && found && l.ProcessingType != plan.processingType {
		a.Problems = append(a.Problems, fmt.Sprintf("the segment's HubSpot list %s is %s but the segment now needs a %s list, and HubSpot cannot convert a list: stage the change as a new segment", l.ListID, l.ProcessingType, plan.processingType))
	} else if err != nil {
		return err
	}
	return nil
}

// archiveList deletes the list (DELETE /crm/v3/lists/{listId}; HubSpot
// keeps it restorable for 90 days). A list already gone is archived.
func (t *Target) archiveList(ctx context.Context, name string, live sandbox.LiveState) (sandbox.LiveState, error) {
	_, err := t.do(ctx, call{method: http.MethodDelete, path: t.paths.lists + "/" + live.ID, idempotent: true}, nil)
	if err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return sandbox.LiveState{}, t.fail("archive list "+name, err)
	}
	return sandbox.LiveState{ID: live.ID, Status: "archived"}, nil
}
