package wordpress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// The fields lastmile reads; _fields also spares WordPress rendering the rest.
const pageFields = "id,slug,status,link,parent,date_gmt,modified_gmt,permalink_template,title.raw,content.raw,excerpt.raw"

// wpPage is a page as the REST API returns it with context=edit.
type wpPage struct {
	ID                int    `json:"id"`
	Slug              string `json:"slug"`
	Status            string `json:"status"`
	Link              string `json:"link"`
	Parent            int    `json:"parent"`
	DateGMT           string `json:"date_gmt"`
	ModifiedGMT       string `json:"modified_gmt"`
	PermalinkTemplate string `json:"permalink_template"`
	Title             struct {
		Raw string `json:"raw"`
	} `json:"title"`
	Content struct {
		Raw string `json:"raw"`
	} `json:"content"`
	Excerpt struct {
		Raw string `json:"raw"`
	} `json:"excerpt"`
}

const wpTime = "2006-01-02T15:04:05"

func (p *wpPage) state() sandbox.LiveState {
	return sandbox.LiveState{ID: strconv.Itoa(p.ID), URL: p.url(), Version: p.version(), Status: p.Status}
}

// version is modified_gmt plus a digest of what the page shows. WordPress's
// modified_gmt has one-second resolution, so two changes within a second
// (ours and someone else's) would otherwise look the same.
func (p *wpPage) version() string {
	h := sha256.New()
	for _, s := range []string{p.Slug, p.Status, p.DateGMT, strconv.Itoa(p.Parent), p.Title.Raw, p.Excerpt.Raw, p.Content.Raw} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return p.ModifiedGMT + "~" + hex.EncodeToString(h.Sum(nil)[:6])
}

// url is where the page is (published) or will be (draft, scheduled): for
// those WordPress's link is ?page_id=N, so build the pretty one.
func (p *wpPage) url() string {
	if p.Status == "publish" || p.Slug == "" {
		return p.Link
	}
	for _, tag := range []string{"%pagename%", "%postname%"} {
		if strings.Contains(p.PermalinkTemplate, tag) {
			return strings.Replace(p.PermalinkTemplate, tag, p.Slug, 1)
		}
	}
	return p.Link
}

// getPage reads one page; found is false when it does not exist or is in
// the trash.
func (t *Target) getPage(ctx context.Context, op string, id string) (wpPage, bool, *rest.Response, error) {
	if _, err := strconv.Atoi(id); err != nil || id == "" {
		return wpPage{}, false, nil, failf(op, nil, "%q is not a WordPress page id", id)
	}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
		Path: t.path("/wp/v2/pages/"+id, url.Values{"context": {"edit"}, "_fields": {pageFields}})})
	if err != nil {
		var he *rest.HTTPError
		if errors.As(err, &he) && he.Status == http.StatusNotFound {
			if env, ok := parseEnvelope(he.Body); ok && env.Code == "rest_post_invalid_id" {
				return wpPage{}, false, nil, nil
			}
		}
		return wpPage{}, false, nil, t.fail(op, err)
	}
	var p wpPage
	if err := resp.Decode(&p); err != nil {
		return wpPage{}, false, nil, failf(op, nil, "the site answered with something that is not a page: %v", err)
	}
	if p.Status == "trash" {
		return p, false, resp, nil
	}
	return p, true, resp, nil
}

// pagesBySlug lists the pages (any status but trash) whose slug is slug.
func (t *Target) pagesBySlug(ctx context.Context, op, slug string) ([]wpPage, *rest.Response, error) {
	return t.listPages(ctx, op, url.Values{"slug": {slug}})
}

func (t *Target) listPages(ctx context.Context, op string, q url.Values) ([]wpPage, *rest.Response, error) {
	q.Set("status", "any")
	q.Set("context", "edit")
	q.Set("per_page", "100")
	q.Set("orderby", "id")
	q.Set("order", "asc")
	q.Set("_fields", pageFields)
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: t.path("/wp/v2/pages", q)})
	if err != nil {
		return nil, nil, t.fail(op, err)
	}
	var pages []wpPage
	if err := resp.Decode(&pages); err != nil {
		return nil, nil, failf(op, nil, "the site answered with something that is not a list of pages: %v", err)
	}
	return pages, resp, nil
}

func pageOp(verb string, obj sandbox.Object) string {
	if obj.Page != nil && obj.Page.Title != "" {
		return fmt.Sprintf("%s page %q", verb, obj.Page.Title)
	}
	return fmt.Sprintf("%s page %s", verb, obj.ArtifactID)
}

// assessPage checks a page at planning time: that WordPress will keep its
// slug (and no page lastmile did not create holds it), that a publish time
// is in the future, and what WordPress cannot do (forms, personalization).
func (t *Target) assessPage(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	p := obj.Page
	if !validMarker().MatchString(obj.Marker) || strings.Contains(obj.Marker, "--") {
		a.Problems = append(a.Problems, fmt.Sprintf("internal: the marker %q cannot be stored in an HTML comment", obj.Marker))
	}
	if strings.TrimSpace(p.Title) == "" {
		a.Problems = append(a.Problems, "a WordPress page needs a title")
	}
	slugOK := true
	if msg := slugProblem(p.Slug); msg != "" {
		a.Problems = append(a.Problems, msg)
		slugOK = false
	}
	if p.PublishAt != nil {
		if now := t.now(); !p.PublishAt.After(now) {
			a.Problems = append(a.Problems, fmt.Sprintf("publish_at %s is not in the future: WordPress would publish the page at once instead of scheduling it; set a later publish_at, or remove it to publish on approval",
				p.PublishAt.UTC().Format(time.RFC3339)))
		} else {
			a.Notes = append(a.Notes, fmt.Sprintf("the page is scheduled in WordPress for %s; WordPress publishes scheduled pages through WP-Cron, which runs when the site gets a visit (or from a system cron job), so it may appear a little after that time",
				p.PublishAt.UTC().Format(time.RFC3339)))
		}
	}
	pc := buildContent(p, obj.Marker, t.cfg.FormAction)
	switch {
	case pc.Forms > 0 && pc.FormsWired == 0:
		a.Notes = append(a.Notes, "the form is left out: WordPress has no forms; set form_action in the target config")
	case pc.FormsWired > 0:
		a.Notes = append(a.Notes, fmt.Sprintf("the form posts to %s (form_action in the target config): WordPress itself stores no submissions", t.cfg.FormAction))
	}
	_, _, titleProblems := personalization("title", p.Title)
	a.Problems = append(append(a.Problems, titleProblems...), pc.Problems...)
	var filled []string
	if pc.Tokens > 0 {
		filled = append(filled, fmt.Sprintf("%d personalization token(s) show their fallback text", pc.Tokens))
	}
	if pc.Conditions > 0 {
		filled = append(filled, fmt.Sprintf("%d condition(s) are decided for a visitor with no contact properties, as the review page shows", pc.Conditions))
	}
	if len(filled) > 0 {
		a.Notes = append(a.Notes, "WordPress pages are the same for every visitor: "+strings.Join(filled, ", and "))
	}
	if note := t.filteredNote(ctx, pc.Raw); note != "" {
		a.Notes = append(a.Notes, note)
	}
	if !slugOK {
		return a, nil
	}
	pages, _, err := t.pagesBySlug(ctx, pageOp("plan", obj), p.Slug)
	if err != nil {
		return a, err
	}
	var ours *wpPage
	for i := range pages {
		if hasMarker(pages[i].Content.Raw, obj.Marker) {
			ours = &pages[i]
			break
		}
	}
	parent := 0
	if ours != nil {
		parent = ours.Parent
	}
	for _, q := range pages {
		if ours != nil && q.ID == ours.ID || q.Parent != parent {
			continue
		}
		a.Problems = append(a.Problems, fmt.Sprintf("the slug %q is taken by WordPress page %d (%q, %s) at %s, which lastmile did not create: WordPress would publish this page as %s-2; choose another slug, or rename or delete that page",
			p.Slug, q.ID, q.Title.Raw, q.Status, q.url(), p.Slug))
	}
	return a, nil
}

// filteredNote warns when the user lacks unfiltered_html and the content has
// what WordPress then strips. Best effort: no note when it cannot tell.
func (t *Target) filteredNote(ctx context.Context, raw string) string {
	lower := strings.ToLower(raw)
	var stripped []string
	for _, tag := range []string{"script", "style", "form", "iframe", "input", "button"} {
		if strings.Contains(lower, "<"+tag) {
			stripped = append(stripped, "<"+tag+">")
		}
	}
	if len(stripped) == 0 {
		return ""
	}
	caps, err := t.capabilities(ctx)
	if err != nil || caps == nil || caps["unfiltered_html"] {
		return ""
	}
	return fmt.Sprintf("user %s lacks WordPress's unfiltered_html capability, so WordPress will remove %s from the page: connect as an Administrator (or Editor on a single site)",
		t.user, strings.Join(stripped, ", "))
}

// livePage reads a page. found is false when it was deleted or trashed.
func (t *Target) livePage(ctx context.Context, liveID string) (sandbox.LiveState, bool, error) {
	p, found, _, err := t.getPage(ctx, "read page "+liveID, liveID)
	if err != nil || !found {
		return sandbox.LiveState{}, false, err
	}
	return p.state(), true, nil
}

// findPage looks for the page an interrupted attempt may have created: by
// slug, then by WordPress's search over content (in case the slug changed),
// and in both cases only a page whose content carries obj's marker.
func (t *Target) findPage(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Marker == "" {
		return sandbox.LiveState{}, false, failf(pageOp("find", obj), nil, "the object has no marker to look for")
	}
	op := pageOp("find", obj)
	if obj.Page.Slug != "" {
		pages, _, err := t.pagesBySlug(ctx, op, obj.Page.Slug)
		if err != nil {
			return sandbox.LiveState{}, false, err
		}
		for _, p := range pages {
			if hasMarker(p.Content.Raw, obj.Marker) {
				return p.state(), true, nil
			}
		}
	}
	pages, _, err := t.listPages(ctx, op, url.Values{"search": {obj.Marker}})
	if err != nil {
		return sandbox.LiveState{}, false, err
	}
	for _, p := range pages {
		if hasMarker(p.Content.Raw, obj.Marker) {
			return p.state(), true, nil
		}
	}
	return sandbox.LiveState{}, false, nil
}

// putPage creates the page as a draft (liveID empty) or updates it. An
// update leaves the page's status alone: a published page changes at once.
func (t *Target) putPage(ctx context.Context, op string, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	create := liveID == ""
	p := obj.Page
	if msg := slugProblem(p.Slug); msg != "" {
		return sandbox.LiveState{}, failf(op, nil, "%s", msg)
	}
	if !validMarker().MatchString(obj.Marker) || strings.Contains(obj.Marker, "--") {
		return sandbox.LiveState{}, failf(op, nil, "the marker %q cannot be stored in an HTML comment", obj.Marker)
	}
	title := anonymous(p.Title)
	body := map[string]any{
		"title":   title,
		"content": buildContent(p, obj.Marker, t.cfg.FormAction).Raw,
		"slug":    p.Slug,
		"excerpt": p.MetaDescription,
	}
	if t.cfg.Template != "" {
		body["template"] = t.cfg.Template
	}
	q := url.Values{"context": {"edit"}, "_fields": {pageFields}}
	if create {
		body["status"] = "draft"
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("/wp/v2/pages", q), Body: body})
		if err != nil {
			if errors.Is(err, rest.ErrAmbiguous) {
				// The page may exist: adopt it if it carries our marker.
				if st, found, ferr := t.findPage(ctx, obj); ferr == nil && found {
					t.log.Info("wordpress: create page: the answer was lost but the page exists; adopting it", "target", t.name, "page", st.ID)
					return st, nil
				}
			}
			return sandbox.LiveState{}, t.fail(op, err)
		}
		var page wpPage
		if err := resp.Decode(&page); err != nil || page.ID == 0 {
			return sandbox.LiveState{}, failf(op, nil, "the site answered the create with something that is not a page")
		}
		if page.Slug != p.Slug {
			// The REST API makes even a draft's slug unique: another page
			// holds it. When that page carries our marker, it is an earlier
			// attempt's create that landed late (after its request timed
			// out, or after the promoter died): this second draft, which
			// nobody has seen, goes, and the first is used.
			msg := fmt.Sprintf("WordPress created the draft %d as %q because %q is taken (it suffixes duplicates silently)", page.ID, page.Slug, p.Slug)
			if pages, _, err := t.pagesBySlug(ctx, op, p.Slug); err == nil {
				if other := slugHolder(pages, page.ID, page.Parent); other != nil && hasMarker(other.Content.Raw, obj.Marker) {
					if err := t.deletePage(ctx, op, page.ID); err != nil {
						return page.state(), err
					}
					t.log.Info("wordpress: create page: an earlier attempt's page holds the slug; deleted the second draft and adopting the first",
						"target", t.name, "page", other.ID, "deleted", page.ID)
					return other.state(), nil
				}
				// Otherwise the draft stays (it carries the marker, so the
				// next attempt finds it instead of creating another).
				if other := slugHolder(pages, page.ID, page.Parent); other != nil {
					msg = fmt.Sprintf("WordPress created the draft %d as %q because %q is held by page %d (%q, %s) at %s", page.ID, page.Slug, p.Slug, other.ID, other.Title.Raw, other.Status, other.url())
				}
			}
			return page.state(), conflict(op, msg+": choose another slug, or rename or delete that page, and confirm again; the draft is kept and will be reused")
		}
		return page.state(), nil
	}

	// Update: refuse a slug another page holds before writing, since on a
	// published page WordPress would silently move ours to slug-2.
	id, err := strconv.Atoi(liveID)
	if err != nil {
		return sandbox.LiveState{}, failf(op, nil, "%q is not a WordPress page id", liveID)
	}
	pages, _, err := t.pagesBySlug(ctx, op, p.Slug)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if other := slugHolder(pages, id, -1); other != nil {
		return sandbox.LiveState{}, conflict(op, slugTaken(p.Slug, other))
	}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("/wp/v2/pages/"+liveID, q), Body: body,
		// Same body, same result: safe to repeat.
		Idempotent: true})
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	var page wpPage
	if err := resp.Decode(&page); err != nil || page.ID == 0 {
		return sandbox.LiveState{}, failf(op, nil, "the site answered the update with something that is not a page")
	}
	if page.Status == "trash" {
		return page.state(), failf(op, nil, "page %d is in WordPress's trash: restore it there, or re-plan to create the page again", page.ID)
	}
	if page.Slug != p.Slug {
		return page.state(), conflict(op, fmt.Sprintf("WordPress changed the slug to %q because %q is taken (it suffixes duplicates silently); the page is %s at %s: free the slug %q and confirm again",
			page.Slug, p.Slug, page.Status, page.url(), p.Slug))
	}
	return page.state(), nil
}

// slugHolder returns a page other than id that holds the slug under the same
// parent (parent -1: any the lookup returned with parent 0, or id's own).
func slugHolder(pages []wpPage, id, parent int) *wpPage {
	if parent < 0 {
		parent = 0
		for _, p := range pages {
			if p.ID == id {
				parent = p.Parent
			}
		}
	}
	for i := range pages {
		if pages[i].ID != id && pages[i].Parent == parent {
			return &pages[i]
		}
	}
	return nil
}

func slugTaken(slug string, other *wpPage) string {
	return fmt.Sprintf("the slug %q is taken by WordPress page %d (%q, %s) at %s, which is not this page: WordPress would silently publish this one as %s-2; choose another slug, or rename or delete page %d, and re-plan",
		slug, other.ID, other.Title.Raw, other.Status, other.url(), slug, other.ID)
}

// publishPage makes the page public now (at zero) or schedules it (status
// future, date_gmt at). Idempotent: it reads the page first and does nothing
// when it is already published, or scheduled for at.
func (t *Target) publishPage(ctx context.Context, op string, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	id, err := strconv.Atoi(live.ID)
	if err != nil {
		return sandbox.LiveState{}, failf(op, nil, "%q is not a WordPress page id", live.ID)
	}
	slug := obj.Page.Slug

	// One lookup by slug gives both our page's current state and any other
	// page holding the slug.
	pages, resp, err := t.pagesBySlug(ctx, op, slug)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	var cur *wpPage
	for i := range pages {
		if pages[i].ID == id {
			cur = &pages[i]
		}
	}
	if cur == nil {
		p, found, r, err := t.getPage(ctx, op, live.ID)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		if !found {
			return sandbox.LiveState{}, failf(op, nil, "page %d no longer exists on %s (deleted or trashed); re-plan to create it again", id, t.site)
		}
		cur, resp = &p, r
	}
	now := t.serverNow(resp)

	// Already done?
	switch {
	case cur.Status == "publish":
		if cur.Slug != slug {
			return cur.state(), conflict(op, fmt.Sprintf("page %d is already published, but at %s (slug %q, not %q): free the slug %q, set it on the page and confirm again",
				id, cur.url(), cur.Slug, slug, slug))
		}
		return cur.state(), nil
	case !at.IsZero() && cur.Status == "future" && sameSecond(cur.DateGMT, at) && cur.Slug == slug:
		return cur.state(), nil
	}
	if other := slugHolder(pages, id, cur.Parent); other != nil {
		return cur.state(), conflict(op, slugTaken(slug, other))
	}

	// The slug goes along: a draft created while the slug was taken holds
	// slug-2 and takes the slug now that it is free.
	body := map[string]any{"status": "publish", "slug": slug}
	if at.IsZero() {
		// A page dated in the future would be scheduled, not published:
		// date it now, by the site's clock.
		if d, err := time.Parse(wpTime, cur.DateGMT); err == nil && (cur.Status == "future" || d.After(now)) {
			body["date_gmt"] = now.Format(wpTime)
		}
	} else {
		if !at.After(now) {
			return cur.state(), failf(op, nil, "the publish time %s has passed (the site's clock says %s): WordPress would publish the page at once instead of scheduling it; re-plan with a later publish_at, or without one to publish on approval",
				at.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		body["status"] = "future"
		body["date_gmt"] = at.UTC().Format(wpTime)
	}
	q := url.Values{"context": {"edit"}, "_fields": {pageFields}}
	resp, err = t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("/wp/v2/pages/"+live.ID, q), Body: body, Idempotent: true})
	if err != nil {
		return cur.state(), t.fail(op, err)
	}
	var page wpPage
	if err := resp.Decode(&page); err != nil || page.ID == 0 {
		return cur.state(), failf(op, nil, "the site answered with something that is not a page")
	}
	if page.Slug != slug {
		// Someone took the slug between the check and the write (or an
		// attachment holds it): do not leave the page public at a URL nobody
		// approved.
		msg := fmt.Sprintf("WordPress gave the page the slug %q because %q is taken (it suffixes duplicates silently)", page.Slug, slug)
		state := page.state()
		rresp, rerr := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("/wp/v2/pages/"+live.ID, q),
			Body: map[string]any{"status": "draft"}, Idempotent: true})
		var reverted wpPage
		if rerr == nil && rresp.Decode(&reverted) == nil && reverted.Status == "draft" {
			msg += "; lastmile put it back to draft"
			state = reverted.state()
		} else {
			why := "WordPress did not take the change"
			if rerr != nil {
				why = t.fail(op, rerr).Error()
			}
			msg += fmt.Sprintf("; putting it back to draft failed too (%s), so it is %s at %s: unpublish it in WordPress", why, page.Status, page.Link)
		}
		return state, conflict(op, msg+fmt.Sprintf(": free the slug %q (a page or media item holds it) and confirm again", slug))
	}
	if !at.IsZero() && page.Status == "publish" {
		t.log.Info("wordpress: WordPress published the page at once: the publish time was less than a minute away", "target", t.name, "page", page.ID)
	}
	return page.state(), nil
}

func sameSecond(wp string, at time.Time) bool {
	d, err := time.Parse(wpTime, wp)
	return err == nil && d.Equal(at.UTC().Truncate(time.Second))
}
