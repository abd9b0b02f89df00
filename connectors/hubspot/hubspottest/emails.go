package hubspottest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// paginate cuts items by the after cursor and limit. The cursor is opaque to
// clients; here it is the offset of the next item.
func paginate[T any](items []T, q *request, defLimit, maxLimit int) ([]T, map[string]any, *httpError) {
	limit := defLimit
	if v := q.query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, nil, validationErr(fmt.Sprintf("limit must be a positive integer, got %q", v))
		}
		limit = min(n, maxLimit)
	}
	start := 0
	if a := q.query("after"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return nil, nil, validationErr(fmt.Sprintf("after %q is not a cursor this API returned", a))
		}
		start = min(n, len(items))
	}
	end := min(start+limit, len(items))
	var paging map[string]any
	if end < len(items) {
		next := strconv.Itoa(end)
		u := *q.r.URL
		v := u.Query()
		v.Set("after", next)
		u.RawQuery = v.Encode()
		paging = map[string]any{"next": map[string]any{"after": next, "link": u.String()}}
	}
	return items[start:end], paging, nil
}

var emailDefaults = map[string]any{
	"isAb": false, "isTransactional": false, "archived": false, "isPublished": false,
	"createdById": "1", "updatedById": "1",
}

func (s *Server) createEmail(q *request) (int, any, *httpError) {
	var body map[string]any
	if e := q.decode(schemaEmailCreate, &body); e != nil {
		return 0, nil, e
	}
	if st := str(body["state"]); st != "" && st != "DRAFT" && st != "AUTOMATED_DRAFT" {
		return 0, nil, validationErr(fmt.Sprintf("state %s cannot be set at creation: create a draft and publish it", st),
			ErrorDetail{Message: "state must be DRAFT or AUTOMATED_DRAFT", In: "state", Code: "INVALID"})
	}
	id := s.st.newID(baseEmail)
	doc := clone(body)
	for k, v := range emailDefaults {
		doc[k] = v
	}
	if str(doc["subcategory"]) == "" {
		doc["subcategory"] = "batch"
	}
	if doc["subcategory"] == "automated" {
		doc["type"], doc["state"] = "AUTOMATED_EMAIL", "AUTOMATED_DRAFT"
	} else {
		doc["type"], doc["state"] = "BATCH_EMAIL", "DRAFT"
	}
	doc["id"] = id
	doc["createdAt"], doc["updatedAt"] = ts(q.now), ts(q.now)
	s.st.Emails[id] = &emailObj{Doc: doc}
	q.setHeader("Location", q.r.URL.Path+"/"+id)
	return http.StatusCreated, doc, nil
}

func (s *Server) email(id string) (*emailObj, *httpError) {
	e, ok := s.st.Emails[id]
	if !ok {
		return nil, notFound("Email", id)
	}
	return e, nil
}

func (s *Server) emailView(e *emailObj, withStats bool) map[string]any {
	d := clone(e.Doc)
	if withStats {
		d["stats"] = statsData(e.Counters, e.Ratios)
	}
	return d
}

func statsData(c map[string]int64, r map[string]float64) map[string]any {
	counters := map[string]any{}
	for k, v := range c {
		counters[k] = v
	}
	ratios := map[string]any{}
	for k, v := range r {
		ratios[k] = v
	}
	return map[string]any{"counters": counters, "ratios": ratios, "deviceBreakdown": map[string]any{}, "qualifierStats": map[string]any{}}
}

func (s *Server) getEmail(q *request) (int, any, *httpError) {
	if q.query("archived") == "true" {
		// "Whether to return only results that have been archived."
		e, ok := s.st.ArchivedEmails[q.path("emailId")]
		if !ok {
			return 0, nil, notFound("Email", q.path("emailId"))
		}
		return http.StatusOK, s.emailView(e, q.query("includeStats") == "true"), nil
	}
	e, herr := s.email(q.path("emailId"))
	if herr != nil {
		return 0, nil, herr
	}
	return http.StatusOK, s.emailView(e, q.query("includeStats") == "true"), nil
}

func (s *Server) listEmails(q *request) (int, any, *httpError) {
	ids := sortedIDs(s.st.Emails)
	// The spec's type filter (AUTOMATED_EMAIL, BATCH_EMAIL, …).
	if ty := q.query("type"); ty != "" {
		var keep []string
		for _, id := range ids {
			if str(s.st.Emails[id].Doc["type"]) == ty {
				keep = append(keep, id)
			}
		}
		ids = keep
	}
	page, paging, herr := paginate(ids, q, 10, 100)
	if herr != nil {
		return 0, nil, herr
	}
	stats := q.query("includeStats") == "true"
	results := make([]any, 0, len(page))
	for _, id := range page {
		results = append(results, s.emailView(s.st.Emails[id], stats))
	}
	out := map[string]any{"results": results, "total": len(ids)}
	if paging != nil {
		out["paging"] = paging
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateEmail(q *request) (int, any, *httpError) {
	e, herr := s.email(q.path("emailId"))
	if herr != nil {
		return 0, nil, herr
	}
	var body map[string]any
	if herr := q.decode(schemaEmailUpdate, &body); herr != nil {
		return 0, nil, herr
	}
	switch str(e.Doc["state"]) {
	case "PUBLISHED", "PROCESSING", "PRE_PROCESSING":
		return 0, nil, validationErr("This email has been sent and can no longer be edited. Clone it to make changes.")
	case "SCHEDULED":
		return 0, nil, validationErr("This email is scheduled. Unpublish it before editing.")
	}
	delete(body, "state")
	merge(e.Doc, body)
	e.Doc["updatedAt"] = ts(q.now)
	return http.StatusOK, s.emailView(e, false), nil
}

// deleteEmail is DELETE …/{emailId}, which the spec's operation id calls
// archive: the email leaves the API's reads and listings (GET answers 404)
// and is kept among the archived ones (GET ?archived=true).
func (s *Server) deleteEmail(q *request) (int, any, *httpError) {
	id := q.path("emailId")
	e, herr := s.email(id)
	if herr != nil {
		return 0, nil, herr
	}
	e.Doc["archived"] = true
	e.Doc["archivedAt"] = ts(q.now)
	e.Doc["updatedAt"] = ts(q.now)
	s.st.ArchivedEmails[id] = e
	delete(s.st.Emails, id)
	return http.StatusNoContent, nil, nil
}

// TierMessage is the fake's answer when a portal's tier cannot publish.
const TierMessage = "Publishing marketing email through the API requires Marketing Hub Enterprise or the transactional email add-on."

func (s *Server) publishEmail(q *request) (int, any, *httpError) {
	// The tier gate comes before the lookup, as an entitlement check does.
	if s.opts.Tier != TierEnterprise && !s.opts.TransactionalAddon {
		e := apiErr(http.StatusForbidden, "FORBIDDEN", TierMessage)
		e.env.SubCategory = "MarketingEmailPublicApiError.PORTAL_NOT_ENTITLED"
		return 0, nil, e
	}
	e, herr := s.email(q.path("emailId"))
	if herr != nil {
		return 0, nil, herr
	}
	d := e.Doc
	if d["isPublished"] == true {
		return 0, nil, validationErr(fmt.Sprintf("Email %s is already published (state %s)", d["id"], d["state"]))
	}
	var problems []ErrorDetail
	need := func(ok bool, field, msg string) {
		if !ok {
			problems = append(problems, ErrorDetail{Message: msg, In: field, Code: "MISSING_REQUIRED_FIELD", Context: map[string][]string{"propertyName": {field}}})
		}
	}
	from, _ := d["from"].(map[string]any)
	need(str(d["subject"]) != "", "subject", "The email needs a subject")
	need(str(from["fromName"]) != "", "from.fromName", "The email needs a from name")
	need(str(from["replyTo"]) != "", "from.replyTo", "The email needs a from address")
	automated := d["type"] == "AUTOMATED_EMAIL"
	include, exclude := audienceOf(d)
	if !automated {
		need(len(include) > 0, "to.contactIlsLists.include", "A batch email needs at least one recipient list")
	}
	for _, id := range append(slices.Clone(include), exclude...) {
		if _, ok := s.st.Lists[id]; !ok {
			problems = append(problems, ErrorDetail{Message: fmt.Sprintf("List %s does not exist", id), In: "to.contactIlsLists", Code: "INVALID"})
		}
	}
	if len(problems) > 0 {
		return 0, nil, validationErr("The email cannot be published: "+problems[0].Message, problems...)
	}
	if herr := s.checkABPublish(e); herr != nil {
		return 0, nil, herr
	}
	d["isPublished"] = true
	d["updatedAt"] = ts(q.now)
	s.giveCampaign(e)
	switch {
	case automated:
		d["state"] = "AUTOMATED"
		d["publishedAt"] = ts(q.now)
	default:
		at := q.now
		if pd, err := time.Parse(time.RFC3339, str(d["publishDate"])); err == nil && pd.After(q.now) {
			at = pd
			d["state"] = "SCHEDULED"
		} else {
			d["state"] = "PUBLISHED"
			d["publishDate"] = ts(q.now)
		}
		d["publishedAt"] = ts(at)
		if d["state"] == "PUBLISHED" {
			s.send(e, q.now) // a scheduled one sends at its publishDate (settleEmails)
		}
		s.publishVariation(e, at)
	}
	return http.StatusNoContent, nil, nil
}

// audience counts the distinct members of the include lists not in an
// exclude list (dynamic lists count their SetListSize).
func (s *Server) audience(include, exclude []string) int64 {
	ex := map[string]bool{}
	for _, id := range exclude {
		if l, ok := s.st.Lists[id]; ok {
			for _, m := range l.Members {
				ex[m] = true
			}
		}
	}
	seen := map[string]bool{}
	var n int64
	for _, id := range include {
		l, ok := s.st.Lists[id]
		if !ok {
			continue
		}
		if l.Size != nil {
			n += *l.Size
			continue
		}
		for _, m := range l.Members {
			if !seen[m] && !ex[m] {
				seen[m] = true
				n++
			}
		}
	}
	return n
}

// unpublishEmail is POST …/{emailId}/unpublish. The spec: "you can use
// this endpoint to unpublish an automated email or cancel a regular email.
// If the email is already in the process of being sent, canceling might not
// be possible"; it carries the same entitlement as publish. A cancelled
// scheduled email goes back to DRAFT, an unpublished automated one to
// AUTOMATED_DRAFT.
func (s *Server) unpublishEmail(q *request) (int, any, *httpError) {
	if s.opts.Tier != TierEnterprise && !s.opts.TransactionalAddon {
		e := apiErr(http.StatusForbidden, "FORBIDDEN", TierMessage)
		e.env.SubCategory = "MarketingEmailPublicApiError.PORTAL_NOT_ENTITLED"
		return 0, nil, e
	}
	e, herr := s.email(q.path("emailId"))
	if herr != nil {
		return 0, nil, herr
	}
	switch str(e.Doc["state"]) {
	case "SCHEDULED":
		e.Doc["state"] = "DRAFT"
	case "AUTOMATED":
		e.Doc["state"] = "AUTOMATED_DRAFT"
	case "PROCESSING", "PRE_PROCESSING":
		return 0, nil, validationErr("This email is being sent; it can no longer be cancelled.")
	case "PUBLISHED":
		return 0, nil, validationErr("This email has been sent; it cannot be unpublished.")
	default:
		return 0, nil, validationErr("This email is not published.")
	}
	e.Doc["isPublished"] = false
	delete(e.Doc, "publishedAt")
	e.Doc["unpublishedAt"] = ts(q.now)
	e.Doc["updatedAt"] = ts(q.now)
	return http.StatusNoContent, nil, nil
}

func (s *Server) emailStats(q *request) (int, any, *httpError) {
	var ids []string
	for _, v := range q.r.URL.Query()["emailIds"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				if _, err := strconv.ParseInt(p, 10, 64); err != nil {
					return 0, nil, validationErr(fmt.Sprintf("emailIds: %q is not an integer", p))
				}
				ids = append(ids, p)
			}
		}
	}
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"startTimestamp": &from, "endTimestamp": &to} {
		if v := q.query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return 0, nil, validationErr(fmt.Sprintf("%s: %q is not an ISO 8601 timestamp", name, v))
			}
			*dst = t
		}
	}
	counters := map[string]int64{}
	ratios := map[string]float64{}
	emails := []any{}
	for _, id := range ids {
		e, ok := s.st.Emails[id]
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		emails = append(emails, n)
		// Statistics accrue at the send; outside the window they are zero.
		if at, err := time.Parse(time.RFC3339, str(e.Doc["publishedAt"])); err == nil {
			if (!from.IsZero() && at.Before(from)) || (!to.IsZero() && at.After(to)) {
				continue
			}
		}
		for k, v := range e.Counters {
			counters[k] += v
		}
		for k, v := range e.Ratios {
			ratios[k] = v // a ratio of one email; the fake does not re-weight
		}
	}
	return http.StatusOK, map[string]any{
		"aggregate":            statsData(counters, ratios),
		"campaignAggregations": map[string]any{},
		"emails":               emails,
	}, nil
}
