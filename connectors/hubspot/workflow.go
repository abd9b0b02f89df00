package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// Automation v4 action types lastmile uses.
const (
	actionDelay       = "0-1"
	actionSendEmail   = "0-4"
	actionSetProperty = "0-5"
	actionAddToList   = "0-63809083"
	actionRemoveList  = "0-63863438"
)

type hsFlow struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	RevisionID string           `json:"revisionId"`
	IsEnabled  bool             `json:"isEnabled"`
	UpdatedAt  string           `json:"updatedAt"`
	Actions    []map[string]any `json:"actions"`
}

func (f hsFlow) state() sandbox.LiveState {
	st := "disabled"
	if f.IsEnabled {
		st = "enabled"
	}
	return sandbox.LiveState{ID: f.ID, Version: f.RevisionID, Status: st}
}

// flowPlan is a workflow translated into HubSpot's flow body.
type flowPlan struct {
	fields   map[string]any // startActionId, actions, enrollmentCriteria, eventAnchor
	emails   []string       // live ids of the emails it sends
	problems []string
	notes    []string
}

var (
	durationAll  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+[wdhm])+$`) })
	durationPart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d+)([wdhm])`) })
)

// minutes parses the staged wait durations: "2d", "36h", "90m", "1d12h".
func minutes(s string) (int, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if !durationAll().MatchString(s) {
		return 0, false
	}
	total := 0
	for _, m := range durationPart().FindAllStringSubmatch(s, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 1_000_000 {
			return 0, false
		}
		total += n * map[string]int{"w": 7 * 1440, "d": 1440, "h": 60, "m": 1}[m[2]]
	}
	return total, total > 0
}

func delayFields(mins int) map[string]any {
	switch {
	case mins%1440 == 0:
		return map[string]any{"delta": strconv.Itoa(mins / 1440), "time_unit": "DAYS"}
	case mins%60 == 0:
		return map[string]any{"delta": strconv.Itoa(mins / 60), "time_unit": "HOURS"}
	}
	return map[string]any{"delta": strconv.Itoa(mins), "time_unit": "MINUTES"}
}

// planFlow translates the workflow graph. Steps become actions numbered in
// order; the first step starts the flow; an edge into a step that another
// path already reached is a GOTO (HubSpot's graph is a tree with GOTO joins);
// exit steps and missing next steps end a path; loops are refused.
func (t *Target) planFlow(obj sandbox.Object, planning bool) flowPlan {
	wf := obj.Workflow
	var p flowPlan
	bad := func(format string, args ...any) { p.problems = append(p.problems, fmt.Sprintf(format, args...)) }
	ref := func(id, what string) string {
		if live, ok := obj.Refs[id]; ok && live != "" {
			return live
		}
		if planning {
			return pendingRef
		}
		bad("%s %s has no HubSpot object yet: promote it first", what, id)
		return ""
	}
	if len(wf.Steps) == 0 {
		bad("the workflow has no steps")
		return p
	}
	byID := map[string]*sandbox.Step{}
	actionID := map[string]string{}
	n := 0
	for i := range wf.Steps {
		s := &wf.Steps[i]
		if s.ID == "" {
			bad("step %d has no id", i+1)
			continue
		}
		if _, dup := byID[s.ID]; dup {
			bad("step id %q is used twice", s.ID)
			continue
		}
		byID[s.ID] = s
		if s.Type != "exit" {
			n++
			actionID[s.ID] = strconv.Itoa(n)
		}
	}
	if len(p.problems) > 0 {
		return p
	}
	start := &wf.Steps[0]
	if start.Type == "exit" {
		bad("the workflow's first step is an exit: it would do nothing")
		return p
	}
	// Walk from the start: the first edge into a step is STANDARD, later ones GOTO.
	reached := map[string]bool{start.ID: true}
	onPath := map[string]bool{}
	var order []string
	var walk func(id string)
	conn := map[string]map[string]any{} // "from|slot" -> connection
	edge := func(from, slot, to string) {
		if to == "" {
			return
		}
		next, ok := byID[to]
		if !ok {
			bad("step %q points to %q, which is not a step of the workflow", from, to)
			return
		}
		if next.Type == "exit" {
			return
		}
		if onPath[to] {
			bad("step %q leads back to %q: HubSpot workflows cannot loop; end the path or re-enroll contacts instead", from, to)
			return
		}
		et := "STANDARD"
		if reached[to] {
			et = "GOTO"
		} else {
			reached[to] = true
			defer walk(to)
		}
		conn[from+"|"+slot] = map[string]any{"edgeType": et, "nextActionId": actionID[to]}
	}
	walk = func(id string) {
		s := byID[id]
		onPath[id] = true
		order = append(order, id)
		switch s.Type {
		case "branch":
			edge(id, "then", s.Then)
			edge(id, "else", s.Else)
		default:
			edge(id, "next", s.Next)
		}
		onPath[id] = false
	}
	walk(start.ID)
	// Actions are listed in the staged order (HubSpot does not care; people do).
	order = order[:0]
	for _, s := range wf.Steps {
		if s.Type == "exit" {
			continue
		}
		if !reached[s.ID] {
			p.notes = append(p.notes, fmt.Sprintf("step %q cannot be reached from the first step; HubSpot gets it as an unconnected action", s.ID))
		}
		order = append(order, s.ID)
	}
	tr := t.translator()
	actions := make([]any, 0, len(order))
	for _, id := range order {
		s := byID[id]
		a := map[string]any{"actionId": actionID[id]}
		single := func(typeID string, fields map[string]any) {
			a["type"], a["actionTypeId"], a["actionTypeVersion"], a["fields"] = "SINGLE_CONNECTION", typeID, 0, fields
			if c, ok := conn[id+"|next"]; ok {
				a["connection"] = c
			}
		}
		switch s.Type {
		case "send_email":
			if s.EmailID == "" {
				bad("step %q sends no email (email_id is empty)", id)
				continue
			}
			live := ref(s.EmailID, "email")
			p.emails = append(p.emails, live)
			single(actionSendEmail, map[string]any{"content_id": live})
		case "wait":
			mins, ok := minutes(s.Duration)
			if !ok {
				bad("step %q waits %q: use a duration like 2d, 36h or 90m", id, s.Duration)
				continue
			}
			single(actionDelay, delayFields(mins))
		case "add_to_segment", "remove_from_segment":
			if seg, ok := obj.Segments[s.SegmentID]; ok && seg != nil && !staticOnly(seg) {
				bad("step %q changes segment %s, but HubSpot workflows can only add contacts to and remove them from static (MANUAL) lists, and that segment has conditions: use a segment of static addresses", id, s.SegmentID)
				continue
			}
			if s.SegmentID == "" {
				bad("step %q names no segment", id)
				continue
			}
			typ := actionAddToList
			if s.Type == "remove_from_segment" {
				typ = actionRemoveList
			}
			single(typ, map[string]any{"listId": ref(s.SegmentID, "segment")})
		case "set_property":
			if s.Property == "" {
				bad("step %q sets no property", id)
				continue
			}
			single(actionSetProperty, map[string]any{"property_name": s.Property, "value": map[string]any{"type": "STATIC_VALUE", "staticValue": scalarString(s.Value)}})
		case "branch":
			if s.Condition == nil {
				bad("step %q is a branch without a condition", id)
				continue
			}
			var d dnf
			c := s.Condition
			switch {
			case c.SegmentID != "":
				d = dnf{clause{{"filterType": "IN_LIST", "listId": ref(c.SegmentID, "segment"), "operator": "IN_LIST"}}}
			case c.Engagement == "submitted":
				d = dnf{clause{{"filterType": "FORM_SUBMISSION_ON_PAGE", "operator": "FILLED_OUT", "pageId": ref(c.PageID, "branch page")}}}
			case c.Engagement != "":
				// HubSpot's EMAIL_EVENT filter needs the email's app and
				// campaign ids, which its marketing email API does not
				// return to lastmile.
				bad("step %q branches on whether the contact %s an email: lastmile cannot build HubSpot's email-event branch yet; branch on a property or a list, or rehearse it on local", id, c.Engagement)
				continue
			case c.Property != "":
				d = tr.condition(sandbox.Condition{Property: c.Property, Operator: c.Operator, Value: c.Value}, fmt.Sprintf("branch step %q", id))
				if d == nil {
					continue
				}
			default:
				bad("step %q branches on nothing: give its condition a segment_id or a property", id)
				continue
			}
			lb := map[string]any{"branchName": "Yes", "filterBranch": orBranch(d)}
			if c, ok := conn[id+"|then"]; ok {
				lb["connection"] = c
			}
			a["type"], a["listBranches"], a["defaultBranchName"] = "LIST_BRANCH", []any{lb}, "No"
			if c, ok := conn[id+"|else"]; ok {
				a["defaultBranch"] = c
			}
		default:
			bad("step %q has type %q, which lastmile cannot build in HubSpot (use send_email, wait, branch, add_to_segment, remove_from_segment, set_property or exit)", id, s.Type)
			continue
		}
		actions = append(actions, a)
	}
	p.problems = append(p.problems, tr.problems...)
	fields := map[string]any{"startActionId": actionID[start.ID], "actions": actions}
	in := func(filters ...filter) map[string]any { return orBranch(dnf{clause(filters)}) }
	listBased := func(fb map[string]any) map[string]any {
		// Re-enrolment: meeting the enrolment criteria again enrols again.
		again := []any{}
		if wf.Reenrol {
			again = []any{fb}
		}
		return map[string]any{"type": "LIST_BASED", "listFilterBranch": fb, "reEnrollmentTriggersFilterBranches": again,
			"shouldReEnroll": wf.Reenrol, "unEnrollObjectsNotMeetingCriteria": false}
	}
	tg := wf.Trigger
	switch tg.Type {
	case "segment_entry":
		if tg.SegmentID == "" {
			bad("the trigger names no segment")
			break
		}
		fields["enrollmentCriteria"] = listBased(in(filter{"filterType": "IN_LIST", "listId": ref(tg.SegmentID, "trigger segment"), "operator": "IN_LIST"}))
	case "form_submission":
		if tg.PageID != "" {
			fields["enrollmentCriteria"] = listBased(in(filter{"filterType": "FORM_SUBMISSION_ON_PAGE", "operator": "FILLED_OUT", "pageId": ref(tg.PageID, "trigger page")}))
			p.notes = append(p.notes, "HubSpot enrolls contacts who submit a form on the landing page; the page's HTML form counts only if HubSpot's collected-forms setting captures it")
		} else {
			fields["enrollmentCriteria"] = listBased(in(filter{"filterType": "FORM_SUBMISSION", "operator": "FILLED_OUT"}))
			p.notes = append(p.notes, "The trigger names no page: HubSpot enrolls contacts who submit any form")
		}
	case "date_property":
		if tg.Property == "" {
			bad("the date trigger names no property")
			break
		}
		fields["enrollmentCriteria"] = listBased(in(filter{"filterType": "PROPERTY", "property": tg.Property,
			"operation": map[string]any{"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN", "includeObjectsWithNoValueSet": false}}))
		fields["eventAnchor"] = map[string]any{"type": "CONTACT_PROPERTY_ANCHOR", "contactProperty": tg.Property}
	case "manual", "":
		fields["enrollmentCriteria"] = map[string]any{"type": "MANUAL", "shouldReEnroll": wf.Reenrol}
	default:
		bad("the trigger %q has no HubSpot equivalent (use segment_entry, form_submission, date_property or manual)", tg.Type)
	}
	p.fields = fields
	return p
}

func staticOnly(s *sandbox.Segment) bool {
	return groupEmpty(s.Group) && len(s.IncludeSegments) == 0 && len(s.ExcludeSegments) == 0 && len(s.StaticEmails) > 0
}

func (t *Target) getFlow(ctx context.Context, id string) (hsFlow, map[string]any, error) {
	resp, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.flows + "/" + id}, nil)
	if err != nil {
		return hsFlow{}, nil, err
	}
	var f hsFlow
	var raw map[string]any
	if err := json.Unmarshal(resp.Body, &f); err != nil {
		return hsFlow{}, nil, err
	}
	_ = json.Unmarshal(resp.Body, &raw)
	return f, raw, nil
}

func (t *Target) findFlow(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Workflow == nil {
		return sandbox.LiveState{}, false, wrongKind(obj)
	}
	var found *hsFlow
	err := t.pageThrough(ctx, t.paths.flows+"?limit=100", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsFlow `json:"results"`
			Paging  *paging  `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for i := range page.Results {
			if hasMarker(page.Results[i].Name, obj.Marker) {
				found = &page.Results[i]
				return "", true, nil
			}
		}
		return page.Paging.after(), false, nil
	})
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("look for workflow "+quote(obj.Workflow.Name)+" by its marker", err)
	}
	if found == nil {
		return sandbox.LiveState{}, false, nil
	}
	return found.state(), true, nil
}

func (t *Target) putFlow(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	wf := obj.Workflow
	if wf == nil {
		return sandbox.LiveState{}, wrongKind(obj)
	}
	verb := "create"
	if liveID != "" {
		verb = "update"
	}
	op := verb + " workflow " + quote(wf.Name)
	plan := t.planFlow(obj, false)
	if len(plan.problems) > 0 {
		return sandbox.LiveState{}, failure(op, "HubSpot cannot express the workflow: "+strings.Join(plan.problems, "; "), nil, sandbox.ErrNotSupported)
	}
	// An email that is also a broadcast is live as a regular email; the
	// workflow sends its automated copy.
	if err := t.sendsAutomated(ctx, obj, &plan); err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	common := func(body map[string]any) map[string]any {
		for k, v := range plan.fields {
			body[k] = v
		}
		body["name"] = markedName(wf.Name, obj.Marker)
		body["type"] = "CONTACT_FLOW"
		body["blockedDates"] = []any{}
		body["timeWindows"] = []any{}
		body["customProperties"] = map[string]any{}
		body["suppressionListIds"] = []any{}
		body["canEnrollFromSalesforce"] = false
		return body
	}
	if liveID == "" {
		// Always created off: turning it on is Publish's step, after its emails are live.
		body := common(map[string]any{"flowType": "WORKFLOW", "objectTypeId": "0-1", "isEnabled": false, "dataSources": []any{}})
		return t.create(ctx, op, sandbox.KindWorkflow, func() (sandbox.LiveState, error) {
			var f hsFlow
			_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.flows, body: body}, &f)
			return f.state(), err
		}, func() (sandbox.LiveState, bool, error) { return t.findFlow(ctx, obj) }, nil)
	}
	return t.putFlowRevision(ctx, op, liveID, func(cur hsFlow, _ map[string]any) map[string]any {
		return common(map[string]any{"isEnabled": cur.IsEnabled})
	})
}

// putFlowRevision PUTs a new revision built from the current one. HubSpot
// refuses a stale revisionId (someone saved in between, or an earlier try of
// this PUT landed): the flow is read again and the PUT retried.
func (t *Target) putFlowRevision(ctx context.Context, op, id string, build func(cur hsFlow, raw map[string]any) map[string]any) (sandbox.LiveState, error) {
	return t.putFlowRevisionFrom(ctx, op, id, hsFlow{}, nil, build)
}

// putFlowRevisionFrom is putFlowRevision starting from a flow just read.
func (t *Target) putFlowRevisionFrom(ctx context.Context, op, id string, cur hsFlow, raw map[string]any, build func(cur hsFlow, raw map[string]any) map[string]any) (sandbox.LiveState, error) {
	for attempt := 1; ; attempt++ {
		if raw == nil {
			var err error
			if cur, raw, err = t.getFlow(ctx, id); err != nil {
				return sandbox.LiveState{}, t.fail(op, err)
			}
		}
		body := build(cur, raw)
		if body == nil {
			return cur.state(), nil // already as wanted (an earlier try landed)
		}
		body["revisionId"] = cur.RevisionID
		var f hsFlow
		_, err := t.do(ctx, call{method: http.MethodPut, path: t.paths.flows + "/" + id, body: body}, &f)
		if err == nil {
			return f.state(), nil
		}
		if rest.StatusOf(err) != http.StatusConflict || attempt >= 3 {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		raw = nil // read the current revision again
	}
}

// enableFlow turns the workflow on when the plan says so (Activate); its
// automated emails are published first, as HubSpot requires. Off workflows
// stay off. Idempotent: an enabled workflow is left alone.
func (t *Target) enableFlow(ctx context.Context, obj sandbox.Object, live sandbox.LiveState) (sandbox.LiveState, error) {
	name := live.ID
	if obj.Workflow != nil {
		name = obj.Workflow.Name
	}
	op := "turn on workflow " + quote(name)
	cur, raw, err := t.getFlow(ctx, live.ID)
	if err != nil {
		return live, t.fail(op, err)
	}
	if cur.IsEnabled || obj.Workflow == nil || !obj.Workflow.Activate {
		return cur.state(), nil
	}
	for _, a := range cur.Actions {
		if a["actionTypeId"] != actionSendEmail {
			continue
		}
		fields, _ := a["fields"].(map[string]any)
		id, _ := fields["content_id"].(string)
		if id == "" {
			continue
		}
		e, err := t.getEmail(ctx, id)
		if err != nil {
			return cur.state(), t.fail(op+" (reading its email "+id+")", err)
		}
		if e.sent() {
			continue
		}
		if p := t.portalInfo(); !p.ProbedAt.IsZero() && !p.CanPublishEmail {
			return cur.state(), t.flowTierError(op)
		}
		if err := t.publishEmailOnce(ctx, op+" (publishing its email "+id+")", id); err != nil {
			var tb *tierBlocked
			if errors.As(err, &tb) {
				return cur.state(), t.flowTierError(op)
			}
			return cur.state(), err
		}
	}
	return t.putFlowRevisionFrom(ctx, op, live.ID, cur, raw, func(cur hsFlow, raw map[string]any) map[string]any {
		if cur.IsEnabled {
			return nil
		}
		body := putBody(raw)
		body["isEnabled"] = true
		return body
	})
}

// putFields are the properties of ApiContactFlowPutRequest. A PUT
// replaces the flow: a property left out (a description written in
// HubSpot) would be erased.
var putFields = []string{"actions", "blockedDates", "canEnrollFromSalesforce", "customProperties", "description", "enrollmentCriteria",
	"enrollmentSchedule", "eventAnchor", "goalFilterBranch", "isEnabled", "name", "startActionId", "suppressionListIds",
	"timeWindows", "type", "unEnrollmentSetting", "uuid"}

// putBody turns a flow as read into a PUT body: read-only fields go.
func putBody(raw map[string]any) map[string]any {
	body := map[string]any{}
	for _, k := range putFields {
		if v, ok := raw[k]; ok {
			body[k] = v
		}
	}
	return body
}

func (t *Target) flowTierError(op string) error {
	return failure(op, "the workflow stays off: HubSpot only runs a workflow whose emails are published, and this portal's tier cannot publish email through the API; publish the emails and turn the workflow on in HubSpot", nil, ErrTierCannotSend, sandbox.ErrNotSupported)
}

func (t *Target) assessFlow(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	wf := obj.Workflow
	if wf == nil {
		return wrongKind(obj)
	}
	plan := t.planFlow(obj, true)
	a.Problems = append(a.Problems, plan.problems...)
	a.Notes = append(a.Notes, plan.notes...)
	if wf.Activate {
		a.Notes = append(a.Notes, "HubSpot gets the workflow turned off; lastmile turns it on as the last step of the promotion, after its emails are published")
		if p := t.portalInfo(); len(plan.emails) > 0 && !p.ProbedAt.IsZero() && !p.CanPublishEmail {
			a.Notes = append(a.Notes, "The workflow will stay off: HubSpot only runs a workflow whose emails are published, and this portal's tier cannot publish email through the API")
		}
	} else {
		a.Notes = append(a.Notes, "HubSpot gets the workflow turned off (activate is false); turn it on in HubSpot or stage it with activate")
	}
	if len(plan.emails) > 0 {
		a.Notes = append(a.Notes, "HubSpot workflows send automated emails only: an email this workflow sends that also has an audience or a send time gets an automated copy, which the workflow sends")
	}
	// Emails already live must exist. A regular one is sent through its
	// automated copy, which the email's own step makes when it is missing
	// (its assessment asks for it: assessEmailForms).
	for _, id := range plan.emails {
		if id == pendingRef {
			continue
		}
		_, err := t.getEmail(ctx, id)
		if rest.StatusOf(err) == http.StatusNotFound {
			a.Problems = append(a.Problems, fmt.Sprintf("email %s sent by the workflow no longer exists in HubSpot", id))
			continue
		}
		if err != nil {
			return t.fail("check the emails of workflow "+quote(wf.Name), err)
		}
	}
	return nil
}

// disableFlow turns the workflow off: a PUT of the flow as read, with
// isEnabled false and its current revisionId (a stale one is read again and
// the PUT retried). A flow already off is left alone.
func (t *Target) disableFlow(ctx context.Context, name string, live sandbox.LiveState) (sandbox.LiveState, error) {
	return t.putFlowRevision(ctx, "turn off workflow "+name, live.ID, func(cur hsFlow, raw map[string]any) map[string]any {
		if !cur.IsEnabled {
			return nil
		}
		body := putBody(raw)
		body["isEnabled"] = false
		return body
	})
}
