package hubspottest

import (
	"fmt"
	"strconv"
)

// Rules the fake enforces beyond the published schemas. They come from
// HubSpot's documentation and observed behaviour ([docs]/[mem] in the
// platform notes); where HubSpot's exact answer is not documented, the
// status and category chosen are stated here.
//
//   - Lists: a list name is unique (case-insensitive) among the portal's
//     lists: 400 VALIDATION_ERROR, subCategory ILS.DUPLICATE_LIST_NAMES.
//     DYNAMIC and SNAPSHOT lists need a filterBranch and MANUAL lists take
//     none. A filterBranch is an OR branch without filters of its own whose
//     children are AND branches holding the filters (HubSpot's normal form);
//     an IN_LIST filter names an existing list.
//   - Memberships can only be changed on MANUAL and SNAPSHOT lists.
//   - Emails: publishing needs Marketing Hub Enterprise or the transactional
//     add-on (403, category FORBIDDEN, before the email is looked up), a
//     subject, a from name and address, and for a batch email at least one
//     include list. Publishing an already published email is a 400. A sent
//     email cannot be edited; a scheduled one must be unpublished first.
//     Unpublish carries publish's entitlement (403 FORBIDDEN first); it
//     takes a SCHEDULED email back to DRAFT and an AUTOMATED one to
//     AUTOMATED_DRAFT; of a sent email, one being sent (PROCESSING,
//     PRE_PROCESSING) or a draft it is a 400 (the spec: "If the email is
//     already in the process of being sent, canceling might not be
//     possible"; HubSpot's exact answer is not documented). DELETE
//     archives: GET answers 404, GET ?archived=true the archived email.
//   - Lists: DELETE keeps the list among the archived ones (HubSpot keeps
//     it restorable for 90 days); GET answers 404.
//   - Workflows: action ids are unique; every nextActionId and startActionId
//     names an action; an action is the target of at most one STANDARD edge
//     (further edges into it are GOTO); a send-email action (0-4) names an
//     automated email, a static-list action (0-63809083, 0-63863438) a
//     MANUAL list, a delay (0-1) a whole number of MINUTES, HOURS or DAYS. A
//     workflow can only be enabled when every email it sends is published.
//     PUT needs the current revisionId: a stale one is 409 CONFLICT.
//   - Pages: a create needs name and templatePath; a slug is unique among
//     the portal's landing pages (409 CONFLICT).
//   - Deals and associations: a deals batch read takes at most 100 ids, an
//     associations batch read at most 1000; each needs the read scope of
//     every object type it touches (contacts to deals: both). A contact
//     without deals is a 207 error entry OBJECT_NOT_FOUND, subCategory
//     crm.associations.NO_ASSOCIATIONS_FOUND (the subCategory is the
//     fake's choice); associations page AssociationPage at a time per
//     contact, with an opaque after.
//   - Email events: limit is 1 to 1000 (default 10), campaignId, appId and
//     the timestamps integers, eventType one of EventTypes (case-sensitive),
//     excludeFilteredEvents true or false; anything else is a 400
//     VALIDATION_ERROR naming the parameter (HubSpot's exact answer to a
//     bad parameter is not documented). Events come newest first, those of
//     one millisecond in id order; the offset names the last event of the
//     page, so events recorded since do not shift the pages after it. A
//     published email gets one email campaign (primaryEmailCampaignId, and
//     allEmailCampaignIds holding it); appId 113 and appName Batch or
//     Automated are the fake's choice. A STATUSCHANGE the fake records is
//     an unsubscribe from all email by the recipient.
//   - Contacts batch read: propertiesWithHistory is answered per result,
//     each property asked with its versions newest first ([] for none).
//     Whether HubSpot takes fewer than 100 inputs when history is asked is
//     not documented; the fake takes 100.
//   - OAuth: client_id and client_secret travel in the form body; an
//     authorization code is single-use, bound to its redirect_uri and, when
//     the authorization carried a code_challenge, to its S256 code_verifier.

// checkFilterBranch enforces the OR-of-ANDs normal form and list references.
func (s *Server) checkFilterBranch(fb map[string]any, where string) []ErrorDetail {
	var out []ErrorDetail
	bad := func(msg string) {
		out = append(out, ErrorDetail{Message: msg, In: where, Code: "INVALID_FILTER_BRANCH"})
	}
	if str(fb["filterBranchType"]) != "OR" {
		bad(fmt.Sprintf("%s must be an OR branch at the root, got %s", where, fb["filterBranchType"]))
		return out
	}
	if f, _ := fb["filters"].([]any); len(f) > 0 {
		bad(where + ": the root OR branch cannot hold filters; put them in AND branches")
	}
	children, _ := fb["filterBranches"].([]any)
	if len(children) == 0 {
		bad(where + ": the root OR branch needs at least one AND branch")
	}
	for i, c := range children {
		cb, _ := c.(map[string]any)
		loc := fmt.Sprintf("%s.filterBranches[%d]", where, i)
		if str(cb["filterBranchType"]) != "AND" {
			bad(fmt.Sprintf("%s must be an AND branch, got %s", loc, cb["filterBranchType"]))
			continue
		}
		if nested, _ := cb["filterBranches"].([]any); len(nested) > 0 {
			bad(loc + ": AND branches under the root cannot nest further branches")
		}
		filters, _ := cb["filters"].([]any)
		if len(filters) == 0 {
			bad(loc + ": an AND branch needs at least one filter")
		}
		for j, f := range filters {
			fm, _ := f.(map[string]any)
			if str(fm["filterType"]) == "IN_LIST" {
				id := str(fm["listId"])
				if _, ok := s.st.Lists[id]; !ok {
					bad(fmt.Sprintf("%s.filters[%d]: list %s does not exist", loc, j, id))
				}
				if op := str(fm["operator"]); op != "IN_LIST" && op != "NOT_IN_LIST" {
					bad(fmt.Sprintf("%s.filters[%d]: operator must be IN_LIST or NOT_IN_LIST", loc, j))
				}
			}
		}
	}
	return out
}

// checkFlow enforces the workflow graph and reference rules.
func (s *Server) checkFlow(doc map[string]any) []ErrorDetail {
	var out []ErrorDetail
	bad := func(in, msg string) {
		out = append(out, ErrorDetail{Message: msg, In: in, Code: "INVALID_ACTION"})
	}
	actions, _ := doc["actions"].([]any)
	ids := map[string]bool{}
	for i, a := range actions {
		am, _ := a.(map[string]any)
		id := str(am["actionId"])
		if ids[id] {
			bad(fmt.Sprintf("actions[%d].actionId", i), fmt.Sprintf("action id %s is used twice", id))
		}
		ids[id] = true
	}
	standard := map[string]int{}
	edge := func(in string, c any) {
		cm, ok := c.(map[string]any)
		if !ok {
			return
		}
		next := str(cm["nextActionId"])
		if !ids[next] {
			bad(in, fmt.Sprintf("nextActionId %s names no action", next))
		}
		if str(cm["edgeType"]) == "STANDARD" {
			standard[next]++
			if standard[next] == 2 {
				bad(in, fmt.Sprintf("action %s is the target of more than one STANDARD connection; use GOTO for the others", next))
			}
		}
	}
	if start := str(doc["startActionId"]); start != "" && !ids[start] {
		bad("startActionId", fmt.Sprintf("startActionId %s names no action", start))
	}
	for i, a := range actions {
		am, _ := a.(map[string]any)
		in := fmt.Sprintf("actions[%d]", i)
		edge(in+".connection", am["connection"])
		edge(in+".defaultBranch", am["defaultBranch"])
		if lb, ok := am["listBranches"].([]any); ok {
			for j, b := range lb {
				bm, _ := b.(map[string]any)
				edge(fmt.Sprintf("%s.listBranches[%d].connection", in, j), bm["connection"])
				if fb, ok := bm["filterBranch"].(map[string]any); ok {
					out = append(out, s.checkFilterBranch(fb, fmt.Sprintf("%s.listBranches[%d].filterBranch", in, j))...)
				}
			}
		}
		fields, _ := am["fields"].(map[string]any)
		switch str(am["actionTypeId"]) {
		case "0-4":
			id := str(fields["content_id"])
			e, ok := s.st.Emails[id]
			switch {
			case !ok:
				bad(in+".fields.content_id", fmt.Sprintf("email %s does not exist", id))
			case e.Doc["type"] != "AUTOMATED_EMAIL":
				bad(in+".fields.content_id", fmt.Sprintf("email %s is a %s; workflows can only send automated emails", id, e.Doc["type"]))
			case doc["isEnabled"] == true && e.Doc["isPublished"] != true:
				bad(in+".fields.content_id", fmt.Sprintf("email %s must be published before the workflow can be turned on", id))
			}
		case "0-1":
			if _, err := strconv.Atoi(str(fields["delta"])); err != nil {
				bad(in+".fields.delta", fmt.Sprintf("delta %v is not a whole number", fields["delta"]))
			}
			switch str(fields["time_unit"]) {
			case "MINUTES", "HOURS", "DAYS":
			default:
				bad(in+".fields.time_unit", fmt.Sprintf("time_unit %v is not MINUTES, HOURS or DAYS", fields["time_unit"]))
			}
		case "0-63809083", "0-63863438":
			id := str(fields["listId"])
			l, ok := s.st.Lists[id]
			switch {
			case !ok:
				bad(in+".fields.listId", fmt.Sprintf("list %s does not exist", id))
			case l.Doc["processingType"] != "MANUAL":
				bad(in+".fields.listId", fmt.Sprintf("list %s is %s; only MANUAL lists take contacts from a workflow", id, l.Doc["processingType"]))
			}
		case "0-5":
			if str(fields["property_name"]) == "" {
				bad(in+".fields.property_name", "a set-property action needs property_name")
			}
		}
	}
	if ec, ok := doc["enrollmentCriteria"].(map[string]any); ok && str(ec["type"]) == "LIST_BASED" {
		if fb, ok := ec["listFilterBranch"].(map[string]any); ok {
			out = append(out, s.checkFilterBranch(fb, "enrollmentCriteria.listFilterBranch")...)
		}
	}
	return out
}
