package webflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.OutcomeReader = (*Target)(nil)

// How submissions are tied to pages. A lastmile page is an item of a
// collection, and every item is shown by the collection's one template
// page: a form on it is one form for all items, and a submission names the
// form, not the item (the Data API's submission has formId, dateSubmitted
// and formResponse, no page URL). So a submission is tied to a page only
// when the template's form posts the item's slug in a hidden field, named
// by form_item_field in the target's config; a submission whose field holds
// the slug (or the id) of one of the request's items is that page's, and
// any other submission is not lastmile's and is skipped.

// submissionPages bounds one read: at most this many pages of 100.
const submissionPages = 50

type wfSubmission struct {
	ID            string         `json:"id"`
	FormID        string         `json:"formId"`
	DisplayName   string         `json:"displayName"`
	DateSubmitted time.Time      `json:"dateSubmitted"`
	FormResponse  map[string]any `json:"formResponse"`
}

// submissionsCursor is where the last read ended: the latest dateSubmitted
// seen, and the ids seen at exactly that time.
type submissionsCursor struct {
	After time.Time `json:"after"`
	IDs   []string  `json:"ids,omitempty"`
}

// submissions reads every form submission of the site, oldest pages first,
// at most submissionPages × 100.
func (t *Target) submissions(ctx context.Context, op string) ([]wfSubmission, error) {
	var out []wfSubmission
	for n := range submissionPages {
		q := url.Values{"offset": {strconv.Itoa(n * 100)}, "limit": {"100"}}
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/sites/" + url.PathEscape(t.cfg.SiteID) + "/form_submissions?" + q.Encode()})
		if err != nil {
			return out, t.fail(op, err)
		}
		var page struct {
			FormSubmissions []wfSubmission `json:"formSubmissions"`
			Pagination      struct {
				Total int `json:"total"`
			} `json:"pagination"`
		}
		if err := resp.Decode(&page); err != nil {
			return out, failf(op, nil, "Webflow answered with something that is not a list of form submissions: %v", err)
		}
		out = append(out, page.FormSubmissions...)
		if len(page.FormSubmissions) < 100 || (n+1)*100 >= page.Pagination.Total {
			return out, nil
		}
	}
	t.log.Warn("webflow: the site has more form submissions than lastmile reads at once; the rest were not read", "target", t.name, "read", len(out))
	return out, nil
}

// pageKeys maps what a submission's item field may hold (an item's slug or
// id) to the item id, for the page items of req.
func (t *Target) pageKeys(ctx context.Context, op string, items []sandbox.MetricsItem) (map[string]string, error) {
	keys := map[string]string{}
	for _, it := range items {
		if it.Kind != sandbox.KindPage || it.LiveID == "" {
			continue
		}
		keys[it.LiveID] = it.LiveID
		t.slugsMu.Lock()
		slug, ok := t.slugs[it.LiveID]
		t.slugsMu.Unlock()
		if !ok {
			wi, found, err := t.getItem(ctx, op, it.LiveID, false)
			if err != nil {
				return keys, err
			}
			if !found {
				continue
			}
			t.remember(wi)
			slug = wi.slug()
		}
		if slug != "" {
			keys[slug] = it.LiveID
		}
	}
	return keys, nil
}

func (t *Target) itemOf(sub wfSubmission, keys map[string]string) string {
	v, _ := sub.FormResponse[t.cfg.FormItemField].(string)
	return keys[strings.TrimSpace(v)]
}

// contactOf is the submitted email address, lower case, if the form has one.
func contactOf(sub wfSubmission) string {
	names := make([]string, 0, len(sub.FormResponse))
	for k := range sub.FormResponse {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v, _ := sub.FormResponse[k].(string)
		if strings.Contains(strings.ToLower(k), "email") && strings.Contains(v, "@") {
			return strings.ToLower(strings.TrimSpace(v))
		}
	}
	return ""
}

// Outcomes reads the site's form submissions after req.Cursor as
// form_submission events of the pages in req.Items (see the comment at the
// top of this file). Each submission is one event, by its Webflow id.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	if t.cfg.FormItemField == "" {
		return nil, req.Cursor, nil
	}
	op := "read form submissions"
	var cur submissionsCursor
	if req.Cursor != "" {
		if err := json.Unmarshal([]byte(req.Cursor), &cur); err != nil {
			return nil, req.Cursor, fmt.Errorf("webflow: outcomes cursor is not one this connector made (%v): pass it back as returned, or empty to read every submission again", err)
		}
	}
	keys, err := t.pageKeys(ctx, op, req.Items)
	if err != nil {
		return nil, req.Cursor, err
	}
	subs, err := t.submissions(ctx, op)
	if err != nil {
		return nil, req.Cursor, err
	}
	next := cur
	var out []outcomes.Event
	for _, sub := range subs {
		at := sub.DateSubmitted.UTC()
		if at.Before(cur.After) || (at.Equal(cur.After) && slices.Contains(cur.IDs, sub.ID)) {
			continue
		}
		switch {
		case at.After(next.After):
			next = submissionsCursor{After: at, IDs: []string{sub.ID}}
		case at.Equal(next.After) && !slices.Contains(next.IDs, sub.ID):
			next.IDs = append(next.IDs, sub.ID)
		}
		id := t.itemOf(sub, keys)
		if id == "" {
			continue
		}
		t.slugsMu.Lock()
		slug := t.slugs[id]
		t.slugsMu.Unlock()
		out = append(out, outcomes.Event{ID: "webflow:submission:" + sub.ID, Type: outcomes.FormSubmission, Source: "webflow:form_submissions",
			Contact: contactOf(sub), Target: t.name, LiveID: id, At: at, URL: t.pageURL(slug)})
	}
	if next.After.Equal(cur.After) && len(next.IDs) == len(cur.IDs) {
		return out, req.Cursor, nil
	}
	data, _ := json.Marshal(next)
	return out, string(data), nil
}

// Metrics counts form submissions per page (MetricFormSubmissions), tied to
// pages as Outcomes does. Webflow's Data API has no page views.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	if t.cfg.FormItemField == "" {
		return nil, failf("fetch metrics", []error{sandbox.ErrNotSupported},
			"Webflow's Data API has no page analytics, and no form_item_field is configured to tie form submissions to pages; read visits in Webflow Analyze or your analytics tool")
	}
	op := "fetch metrics"
	keys, err := t.pageKeys(ctx, op, req.Items)
	if err != nil {
		return nil, err
	}
	subs, err := t.submissions(ctx, op)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, sub := range subs {
		if !req.Since.IsZero() && sub.DateSubmitted.Before(req.Since) {
			continue
		}
		if id := t.itemOf(sub, keys); id != "" {
			counts[id]++
		}
	}
	now := t.now().UTC()
	var out []sandbox.Metrics
	for _, it := range req.Items {
		if it.Kind != sandbox.KindPage {
			continue
		}
		out = append(out, sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID, Source: "webflow:form_submissions", FetchedAt: now,
			Counters: map[string]int64{sandbox.MetricFormSubmissions: counts[it.LiveID]}})
	}
	return out, nil
}
