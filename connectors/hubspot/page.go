package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// hsPage is the part of HubSpot's Page lastmile reads.
type hsPage struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Slug               string `json:"slug"`
	URL                string `json:"url"`
	State              string `json:"state"`
	CurrentState       string `json:"currentState"`
	CurrentlyPublished bool   `json:"currentlyPublished"`
	PublishDate        string `json:"publishDate"`
	Updated            string `json:"updated"`
}

func (p hsPage) state() sandbox.LiveState {
	return sandbox.LiveState{ID: p.ID, URL: p.URL, Version: p.Updated, Status: strings.ToLower(firstNonEmpty(p.CurrentState, p.State))}
}

func normSlug(s string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(s), "/")) }

// pageBody is the create/update body. The page body goes into a rich-text
// module named lastmile_body; the template (page_template_path) decides the
// rest of the page.
func (t *Target) pageBody(obj sandbox.Object) map[string]any {
	pg := obj.Page
	body := map[string]any{
		"name":            markedName(pg.Title, obj.Marker),
		"htmlTitle":       toHubL(pg.Title),
		"slug":            normSlug(pg.Slug),
		"metaDescription": pg.MetaDescription,
		"templatePath":    t.cfg.PageTemplatePath,
		"widgets": map[string]any{
			"lastmile_body": map[string]any{
				"type": "module", "name": "lastmile_body", "id": "lastmile_body",
				"body": map[string]any{"html": toHubL(firstNonEmpty(pg.Body, strings.TrimSpace(content.BodyOf(pg.HTML)))), "path": "@hubspot/rich_text"},
			},
		},
	}
	if t.cfg.PageDomain != "" {
		body["domain"] = t.cfg.PageDomain
	}
	return body
}

func (t *Target) getPage(ctx context.Context, id string) (hsPage, error) {
	var p hsPage
	_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.pages + "/" + id}, &p)
	return p, err
}

func (t *Target) livePage(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	p, err := t.getPage(ctx, id)
	if rest.StatusOf(err) == http.StatusNotFound {
		return sandbox.LiveState{}, false, nil
	}
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("read landing page "+id, err)
	}
	return p.state(), true, nil
}

// pageBySlug pages through the landing pages for the one with the slug (or,
// failing that, the one whose name carries the marker). ours reports whether
// the page carries the marker.
func (t *Target) pageBySlug(ctx context.Context, slug, marker string) (page hsPage, found, ours bool, err error) {
	slug = normSlug(slug)
	var byMarker *hsPage
	err = t.pageThrough(ctx, t.paths.pages+"?limit=100", func(raw []byte) (string, bool, error) {
		var res struct {
			Results []hsPage `json:"results"`
			Paging  *paging  `json:"paging"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return "", true, err
		}
		for i, p := range res.Results {
			if slug != "" && normSlug(p.Slug) == slug {
				page, found, ours = p, true, hasMarker(p.Name, marker)
				return "", true, nil
			}
			if byMarker == nil && hasMarker(p.Name, marker) {
				byMarker = &res.Results[i]
			}
		}
		return res.Paging.after(), false, nil
	})
	if err == nil && !found && byMarker != nil {
		return *byMarker, true, true, nil
	}
	return page, found, ours, err
}

func (t *Target) findPage(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Page == nil {
		return sandbox.LiveState{}, false, wrongKind(obj)
	}
	p, found, ours, err := t.pageBySlug(ctx, obj.Page.Slug, obj.Marker)
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("look for landing page "+quote(obj.Page.Slug)+" by its slug", err)
	}
	if !found || !ours {
		return sandbox.LiveState{}, false, nil
	}
	return p.state(), true, nil
}

func (t *Target) slugConflict(op, slug string, p hsPage) error {
	return failure(op, fmt.Sprintf("the slug %q is already used by HubSpot page %s (%q), which lastmile did not create: choose another slug or remove that page", slug, p.ID, p.Name), nil, sandbox.ErrConflict)
}

func (t *Target) putPage(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	pg := obj.Page
	if pg == nil {
		return sandbox.LiveState{}, wrongKind(obj)
	}
	verb := "create"
	if liveID != "" {
		verb = "update"
	}
	op := verb + " landing page " + quote(pg.Slug)
	body := t.pageBody(obj)
	slugTaken := func(err error) bool { return rest.StatusOf(err) == http.StatusConflict }
	if liveID == "" {
		st, err := t.create(ctx, op, sandbox.KindPage, func() (sandbox.LiveState, error) {
			var p hsPage
			_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.pages, body: body}, &p)
			return p.state(), err
		}, func() (sandbox.LiveState, bool, error) { return t.findPage(ctx, obj) }, slugTaken)
		if err != nil && slugTaken(err) {
			if p, found, ours, ferr := t.pageBySlug(ctx, pg.Slug, obj.Marker); ferr == nil && found && !ours {
				return sandbox.LiveState{}, t.slugConflict(op, pg.Slug, p)
			}
		}
		return st, err
	}
	cur, err := t.getPage(ctx, liveID)
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	// A published page changes through its draft, pushed live at once: the
	// promotion treats an update of a published page as live (no publish
	// step follows). Both calls set absolute state, so a retry is harmless.
	path := t.paths.pages + "/" + liveID
	if cur.CurrentlyPublished {
		path += "/draft"
	}
	var p hsPage
	if _, err := t.do(ctx, call{method: http.MethodPatch, path: path, body: body, idempotent: true}, &p); err != nil {
		if slugTaken(err) {
			if other, found, ours, ferr := t.pageBySlug(ctx, pg.Slug, obj.Marker); ferr == nil && found && !ours {
				return sandbox.LiveState{}, t.slugConflict(op, pg.Slug, other)
			}
		}
		return sandbox.LiveState{}, t.fail(op, err)
	}
	if !cur.CurrentlyPublished {
		return p.state(), nil
	}
	if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.pages + "/" + liveID + "/draft/push-live", idempotent: true}, nil); err != nil {
		return sandbox.LiveState{}, t.fail(op+" (pushing the change live)", err)
	}
	after, err := t.getPage(ctx, liveID)
	if err != nil {
		return sandbox.LiveState{}, t.fail(op+" (reading it back)", err)
	}
	return after.state(), nil
}

// publishPage makes the page public now (a schedule at the current time) or
// at a time. Both calls set an absolute state, so repeating them is
// harmless; a page already public, or already scheduled for that time, is
// left alone.
func (t *Target) publishPage(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	slug := live.ID
	if obj.Page != nil {
		slug = obj.Page.Slug
	}
	op := "publish landing page " + quote(slug)
	cur, err := t.getPage(ctx, live.ID)
	if err != nil {
		return live, t.fail(op, err)
	}
	now := t.now()
	future := !at.IsZero() && at.After(now)
	switch {
	case future:
		if strings.EqualFold(cur.CurrentState, "SCHEDULED") && sameInstant(cur.PublishDate, at) {
			return cur.state(), nil
		}
		op = "schedule landing page " + quote(slug)
		body := map[string]any{"id": live.ID, "publishDate": at.UTC().Format(time.RFC3339)}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.pages + "/schedule", body: body, idempotent: true}, nil); err != nil {
			return cur.state(), t.fail(op, err)
		}
	case cur.CurrentlyPublished:
		// Already public: putPage pushes an update of a public page live
		// itself, so there is nothing to publish. Pushing the draft again
		// would put live whatever was edited in HubSpot's editor since —
		// changes nobody approved.
		return cur.state(), nil
	default:
		body := map[string]any{"id": live.ID, "publishDate": now.UTC().Format(time.RFC3339)}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.pages + "/schedule", body: body, idempotent: true}, nil); err != nil {
			return cur.state(), t.fail(op, err)
		}
	}
	after, err := t.getPage(ctx, live.ID)
	if err != nil {
		return cur.state(), t.fail(op+" (reading it back)", err)
	}
	return after.state(), nil
}

func sameInstant(s string, at time.Time) bool {
	t, err := time.Parse(time.RFC3339, s)
	return err == nil && t.Truncate(time.Second).Equal(at.Truncate(time.Second))
}

func (t *Target) assessPage(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	pg := obj.Page
	if pg == nil {
		return wrongKind(obj)
	}
	a.Problems = append(a.Problems, unrenderable("visitors", map[string]string{"title": pg.Title, "html": firstNonEmpty(pg.Body, strings.TrimSpace(content.BodyOf(pg.HTML)))})...)
	if normSlug(pg.Slug) == "" {
		a.Problems = append(a.Problems, "HubSpot landing pages need a slug")
		return nil
	}
	p, found, ours, err := t.pageBySlug(ctx, pg.Slug, obj.Marker)
	if err != nil {
		return t.fail("check the slug of landing page "+quote(pg.Slug), err)
	}
	if found && !ours {
		a.Problems = append(a.Problems, fmt.Sprintf("the slug %q is already used by HubSpot page %s (%q), which lastmile did not create: choose another slug", pg.Slug, p.ID, p.Name))
	}
	a.Notes = append(a.Notes, fmt.Sprintf("HubSpot builds the page from the template %s; the content goes into its rich-text module lastmile_body (set page_template_path in the target config to use another template)", t.cfg.PageTemplatePath))
	if pg.Form != nil {
		a.Notes = append(a.Notes, "The page's form is kept as HTML: HubSpot records its submissions only if the portal's collected-forms setting captures them; lastmile does not create a HubSpot form")
	}
	if pg.PublishAt != nil {
		a.Notes = append(a.Notes, "HubSpot publishes the page at "+pg.PublishAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if ft := foreignTokens(pg.Body + pg.HTML); len(ft) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("HubSpot renders these tokens as HubL as they stand: %s", strings.Join(limitList(ft, 5), ", ")))
	}
	return nil
}
