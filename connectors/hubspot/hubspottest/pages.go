package hubspottest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// pageDefaults fills every property the Page schema lists, so responses look
// like HubSpot's (which always carry them all).
func pageDefaults(id string, now time.Time) map[string]any {
	return map[string]any{
		"id": id, "abStatus": "master", "abTestId": "", "archivedAt": ts(time.Unix(0, 0)), "archivedInDashboard": false,
		"attachedStylesheets": []any{}, "authorName": "", "campaign": "", "categoryId": 1, "contentGroupId": "",
		"contentTypeCategory": "1", "created": ts(now), "createdById": "1", "currentState": "DRAFT",
		"currentlyPublished": false, "domain": "", "dynamicPageDataSourceId": "", "dynamicPageDataSourceType": 0,
		"dynamicPageHubDbTableId": "", "enableDomainStylesheets": false, "enableLayoutStylesheets": false,
		"featuredImage": "", "featuredImageAltText": "", "folderId": "", "footerHtml": "", "headHtml": "",
		"htmlTitle": "", "includeDefaultCustomCss": false, "language": "en", "layoutSections": map[string]any{},
		"linkRelCanonicalUrl": "", "mabExperimentId": "", "metaDescription": "", "name": "", "pageExpiryDate": 0,
		"pageExpiryEnabled": false, "pageExpiryRedirectId": 0, "pageExpiryRedirectUrl": "", "pageRedirected": false,
		"password": "", "publicAccessRules": []any{}, "publicAccessRulesEnabled": false, "publishDate": ts(now),
		"publishImmediately": false, "slug": "", "state": "DRAFT", "subcategory": "landing_page", "templatePath": "",
		"themeSettingsValues": map[string]any{}, "translatedFromId": "", "translations": map[string]any{},
		"updated": ts(now), "updatedById": "1", "url": "", "useFeaturedImage": false, "widgetContainers": map[string]any{},
		"widgets": map[string]any{},
	}
}

func (s *Server) pageURL(d map[string]any) string {
	domain := str(d["domain"])
	if domain == "" {
		domain = s.opts.Domain
	}
	return "https://" + domain + "/" + strings.TrimPrefix(str(d["slug"]), "/")
}

func (s *Server) slugTaken(slug, except string) bool {
	for id, p := range s.st.Pages {
		if id != except && strings.EqualFold(str(p.Draft["slug"]), slug) {
			return true
		}
	}
	return false
}

func (s *Server) createPage(q *request) (int, any, *httpError) {
	var body map[string]any
	if e := q.decode(schemaPage, &body); e != nil {
		return 0, nil, e
	}
	var missing []ErrorDetail
	for _, f := range []string{"name", "templatePath"} {
		if strings.TrimSpace(str(body[f])) == "" {
			missing = append(missing, ErrorDetail{Message: f + " is required", In: f, Code: "REQUIRED", Context: map[string][]string{"propertyName": {f}}})
		}
	}
	if len(missing) > 0 {
		return 0, nil, validationErr("Missing required fields: "+missing[0].Message, missing...)
	}
	if slug := str(body["slug"]); slug != "" && s.slugTaken(slug, "") {
		return 0, nil, conflict(fmt.Sprintf("The slug '%s' is already in use by another page on this domain.", slug))
	}
	id := s.st.newID(basePage)
	doc := pageDefaults(id, q.now)
	for _, k := range []string{"state", "currentState", "currentlyPublished", "publishDate", "id", "created", "updated", "url"} {
		delete(body, k)
	}
	merge(doc, body)
	doc["url"] = s.pageURL(doc)
	s.st.Pages[id] = &pageObj{Live: doc, Draft: clone(doc)}
	return http.StatusCreated, clone(doc), nil
}

func (s *Server) page(id string) (*pageObj, *httpError) {
	p, ok := s.st.Pages[id]
	if !ok {
		return nil, notFound("Page", id)
	}
	return p, nil
}

// settlePage publishes a scheduled page whose time has come.
func (s *Server) settlePage(p *pageObj, now time.Time) {
	if str(p.Live["currentState"]) != "SCHEDULED" {
		return
	}
	at, err := time.Parse(time.RFC3339, str(p.Live["publishDate"]))
	if err != nil || at.After(now) {
		return
	}
	s.publishPage(p, at)
}

func (s *Server) publishPage(p *pageObj, at time.Time) {
	live := clone(p.Draft)
	live["currentlyPublished"] = true
	live["state"], live["currentState"] = "PUBLISHED", "PUBLISHED"
	live["publishDate"] = ts(at)
	live["url"] = s.pageURL(live)
	p.Live = live
	p.Draft = clone(live)
}

func (s *Server) getPage(draft bool) handler {
	return func(q *request) (int, any, *httpError) {
		p, herr := s.page(q.path("objectId"))
		if herr != nil {
			return 0, nil, herr
		}
		s.settlePage(p, q.now)
		if draft {
			return http.StatusOK, clone(p.Draft), nil
		}
		return http.StatusOK, clone(p.Live), nil
	}
}

func (s *Server) listPages(q *request) (int, any, *httpError) {
	ids := sortedIDs(s.st.Pages)
	page, paging, herr := paginate(ids, q, 20, 100)
	if herr != nil {
		return 0, nil, herr
	}
	results := make([]any, 0, len(page))
	for _, id := range page {
		p := s.st.Pages[id]
		s.settlePage(p, q.now)
		results = append(results, clone(p.Live))
	}
	out := map[string]any{"results": results, "total": len(ids)}
	if paging != nil {
		out["paging"] = paging
	}
	return http.StatusOK, out, nil
}

func (s *Server) updatePage(draft bool) handler {
	return func(q *request) (int, any, *httpError) {
		id := q.path("objectId")
		p, herr := s.page(id)
		if herr != nil {
			return 0, nil, herr
		}
		var body map[string]any
		if e := q.decode(schemaPage, &body); e != nil {
			return 0, nil, e
		}
		if slug := str(body["slug"]); slug != "" && s.slugTaken(slug, id) {
			return 0, nil, conflict(fmt.Sprintf("The slug '%s' is already in use by another page on this domain.", slug))
		}
		for _, k := range []string{"state", "currentState", "currentlyPublished", "publishDate", "id", "created", "updated", "url"} {
			delete(body, k)
		}
		merge(p.Draft, body)
		p.Draft["updated"] = ts(q.now)
		if !draft {
			merge(p.Live, body)
			p.Live["updated"] = ts(q.now)
			p.Live["url"] = s.pageURL(p.Live)
		}
		p.Draft["url"] = s.pageURL(p.Draft)
		if draft {
			return http.StatusOK, clone(p.Draft), nil
		}
		return http.StatusOK, clone(p.Live), nil
	}
}

func (s *Server) deletePage(q *request) (int, any, *httpError) {
	id := q.path("objectId")
	if _, herr := s.page(id); herr != nil {
		return 0, nil, herr
	}
	delete(s.st.Pages, id)
	return http.StatusNoContent, nil, nil
}

func (s *Server) pushLive(q *request) (int, any, *httpError) {
	p, herr := s.page(q.path("objectId"))
	if herr != nil {
		return 0, nil, herr
	}
	if p.Live["currentlyPublished"] != true {
		// HubSpot pushes the draft into the (unpublished) live object.
		live := clone(p.Draft)
		p.Live = live
		return http.StatusNoContent, nil, nil
	}
	s.publishPage(p, q.now)
	return http.StatusNoContent, nil, nil
}

func (s *Server) schedulePage(q *request) (int, any, *httpError) {
	var body struct {
		ID          string `json:"id"`
		PublishDate string `json:"publishDate"`
	}
	if e := q.decode(schemaSchedule, &body); e != nil {
		return 0, nil, e
	}
	p, herr := s.page(body.ID)
	if herr != nil {
		return 0, nil, herr
	}
	at, err := time.Parse(time.RFC3339, body.PublishDate)
	if err != nil {
		return 0, nil, validationErr("publishDate must be an ISO 8601 date-time")
	}
	if !at.After(q.now) {
		s.publishPage(p, q.now)
		return http.StatusNoContent, nil, nil
	}
	for _, d := range []map[string]any{p.Live, p.Draft} {
		d["state"], d["currentState"] = "SCHEDULED", "SCHEDULED"
		d["publishDate"] = ts(at)
		d["updated"] = ts(q.now)
	}
	return http.StatusNoContent, nil, nil
}
