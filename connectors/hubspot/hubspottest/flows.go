package hubspottest

import (
	"fmt"
	"net/http"
	"strconv"
)

func (s *Server) createFlow(q *request) (int, any, *httpError) {
	var body map[string]any
	if e := q.decode(schemaFlowCreate, &body); e != nil {
		return 0, nil, e
	}
	if str(body["type"]) != "CONTACT_FLOW" {
		return 0, nil, validationErr("this fake supports CONTACT_FLOW workflows only")
	}
	if d := s.checkFlow(body); len(d) > 0 {
		return 0, nil, validationErr("Invalid workflow: "+d[0].Message, d...)
	}
	id := s.st.newID(baseFlow)
	doc := clone(body)
	doc["id"] = id
	doc["revisionId"] = "1"
	doc["createdAt"], doc["updatedAt"] = ts(q.now), ts(q.now)
	doc["crmObjectCreationStatus"] = "COMPLETE"
	doc["nextAvailableActionId"] = nextActionID(doc)
	s.st.Flows[id] = &flowObj{Doc: doc}
	q.setHeader("Location", q.r.URL.Path+"/"+id)
	return http.StatusCreated, clone(doc), nil
}

func nextActionID(doc map[string]any) string {
	n := 0
	actions, _ := doc["actions"].([]any)
	for _, a := range actions {
		am, _ := a.(map[string]any)
		if v, err := strconv.Atoi(str(am["actionId"])); err == nil && v > n {
			n = v
		}
	}
	return strconv.Itoa(n + 1)
}

func (s *Server) flow(id string) (*flowObj, *httpError) {
	f, ok := s.st.Flows[id]
	if !ok {
		return nil, notFound("Flow", id)
	}
	return f, nil
}

func (s *Server) getFlow(q *request) (int, any, *httpError) {
	f, herr := s.flow(q.path("flowId"))
	if herr != nil {
		return 0, nil, herr
	}
	return http.StatusOK, clone(f.Doc), nil
}

func (s *Server) listFlows(q *request) (int, any, *httpError) {
	ids := sortedIDs(s.st.Flows)
	page, paging, herr := paginate(ids, q, 100, 100)
	if herr != nil {
		return 0, nil, herr
	}
	results := make([]any, 0, len(page))
	for _, id := range page {
		d := s.st.Flows[id].Doc
		item := map[string]any{}
		for _, k := range []string{"id", "name", "isEnabled", "flowType", "objectTypeId", "revisionId", "createdAt", "updatedAt", "uuid"} {
			if v, ok := d[k]; ok {
				item[k] = v
			}
		}
		results = append(results, item)
	}
	out := map[string]any{"results": results}
	if paging != nil {
		out["paging"] = paging
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateFlow(q *request) (int, any, *httpError) {
	f, herr := s.flow(q.path("flowId"))
	if herr != nil {
		return 0, nil, herr
	}
	var body map[string]any
	if e := q.decode(schemaFlowPut, &body); e != nil {
		return 0, nil, e
	}
	if rev := str(body["revisionId"]); rev != str(f.Doc["revisionId"]) {
		return 0, nil, conflict(fmt.Sprintf("The flow has changed: revisionId %s is not the current revision (%s). Fetch the flow and retry with its revisionId.", rev, f.Doc["revisionId"]))
	}
	if d := s.checkFlow(body); len(d) > 0 {
		return 0, nil, validationErr("Invalid workflow: "+d[0].Message, d...)
	}
	doc := clone(body)
	for _, k := range []string{"id", "createdAt", "crmObjectCreationStatus", "flowType", "objectTypeId", "dataSources"} {
		if v, ok := f.Doc[k]; ok {
			if _, set := doc[k]; !set || k == "id" || k == "createdAt" {
				doc[k] = v
			}
		}
	}
	n, _ := strconv.Atoi(str(f.Doc["revisionId"]))
	doc["revisionId"] = strconv.Itoa(n + 1)
	doc["updatedAt"] = ts(q.now)
	doc["nextAvailableActionId"] = nextActionID(doc)
	f.Doc = doc
	return http.StatusOK, clone(doc), nil
}

func (s *Server) deleteFlow(q *request) (int, any, *httpError) {
	id := q.path("flowId")
	if _, herr := s.flow(id); herr != nil {
		return 0, nil, herr
	}
	delete(s.st.Flows, id)
	return http.StatusNoContent, nil, nil
}
