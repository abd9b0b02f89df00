package webflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// wfItem is a CMS item as the Data API returns it.
type wfItem struct {
	ID            string         `json:"id"`
	LastPublished *string        `json:"lastPublished"`
	LastUpdated   string         `json:"lastUpdated"`
	CreatedOn     string         `json:"createdOn"`
	IsDraft       bool           `json:"isDraft"`
	IsArchived    bool           `json:"isArchived"`
	FieldData     map[string]any `json:"fieldData"`
}

func (it wfItem) str(field string) string {
	if field == "" {
		return ""
	}
	s, _ := it.FieldData[field].(string)
	return s
}

func (it wfItem) slug() string { return it.str("slug") }

// itemState is the staged item and, when it is live, the published copy.
type itemState struct {
	staged wfItem
	live   *wfItem
}

// status is Webflow's state of the item in one word: draft (never
// published), queued (goes live at the next site publish), published,
// draft-changes (live, with staged edits), unpublished (was live, is not),
// archived.
func (s itemState) status(t *Target) string {
	it := s.staged
	switch {
	case it.IsArchived:
		return "archived"
	case s.live != nil:
		if it.IsDraft || !sameContent(t, it, *s.live) {
			return "draft-changes"
		}
		return "published"
	case it.LastPublished == nil && !it.IsDraft:
		return "queued"
	case it.LastPublished != nil:
		return "unpublished"
	}
	return "draft"
}

func sameContent(t *Target, a, b wfItem) bool {
	for _, f := range t.fields() {
		if a.str(f) != b.str(f) {
			return false
		}
	}
	return true
}

// fields are the field slugs lastmile writes.
func (t *Target) fields() []string {
	out := []string{"name", "slug", t.cfg.BodyField}
	if t.cfg.MetaField != "" {
		out = append(out, t.cfg.MetaField)
	}
	if t.cfg.MarkerField != "" {
		out = append(out, t.cfg.MarkerField)
	}
	return out
}

// version changes with the staged content, the draft flag and what is live.
func (s itemState) version(t *Target) string {
	h := sha256.New()
	write := func(v string) { fmt.Fprintf(h, "%d:%s", len(v), v) }
	it := s.staged
	for _, f := range t.fields() {
		write(it.str(f))
	}
	write(fmt.Sprint(it.IsDraft, it.IsArchived, s.live != nil))
	if it.LastPublished != nil {
		write(*it.LastPublished)
	}
	if s.live != nil {
		for _, f := range t.fields() {
			write(s.live.str(f))
		}
	}
	return it.LastUpdated + "~" + hex.EncodeToString(h.Sum(nil)[:8])
}

func (s itemState) state(t *Target) sandbox.LiveState {
	return sandbox.LiveState{ID: s.staged.ID, URL: t.pageURL(s.staged.slug()), Version: s.version(t), Status: s.status(t)}
}

func (t *Target) pageURL(slug string) string {
	if t.cfg.URLPrefix == "" || slug == "" {
		return ""
	}
	return strings.TrimRight(t.cfg.URLPrefix, "/") + "/" + slug
}

func (t *Target) itemsPath() string {
	return "/collections/" + url.PathEscape(t.cfg.CollectionID) + "/items"
}

func (t *Target) itemPath(id string) string { return t.itemsPath() + "/" + url.PathEscape(id) }

var objectID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{24}$`) })

// getItem reads the staged item (live false) or its published copy;
// found is false on 404.
func (t *Target) getItem(ctx context.Context, op, id string, live bool) (wfItem, bool, error) {
	if !objectID().MatchString(id) {
		return wfItem{}, false, failf(op, nil, "%q is not a Webflow item id (24 hex digits)", id)
	}
	p := t.itemPath(id)
	if live {
		p += "/live"
	}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: p})
	if err != nil {
		if rest.StatusOf(err) == http.StatusNotFound {
			if env, _ := envelopeOf(err); env.Code == "item_not_found" || env.Code == "resource_not_found" {
				return wfItem{}, false, nil
			}
		}
		return wfItem{}, false, t.fail(op, err)
	}
	var it wfItem
	if err := resp.Decode(&it); err != nil || it.ID == "" {
		return wfItem{}, false, failf(op, nil, "Webflow answered with something that is not an item")
	}
	return it, true, nil
}

// withLive completes a staged item with its published copy, when it may
// have one (it was published at some point).
func (t *Target) withLive(ctx context.Context, op string, it wfItem) (itemState, error) {
	s := itemState{staged: it}
	t.remember(it)
	if it.LastPublished == nil {
		return s, nil
	}
	live, found, err := t.getItem(ctx, op, it.ID, true)
	if err != nil {
		return s, err
	}
	if found {
		s.live = &live
	}
	return s, nil
}

func (t *Target) itemState(ctx context.Context, op, id string) (itemState, bool, error) {
	it, found, err := t.getItem(ctx, op, id, false)
	if err != nil || !found {
		return itemState{}, found, err
	}
	s, err := t.withLive(ctx, op, it)
	return s, true, err
}

func (t *Target) remember(it wfItem) {
	if sl := it.slug(); sl != "" {
		t.slugsMu.Lock()
		t.slugs[it.ID] = sl
		t.slugsMu.Unlock()
	}
}

type itemList struct {
	Items      []wfItem `json:"items"`
	Pagination struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
		Total  int `json:"total"`
	} `json:"pagination"`
}

// listItems reads one page of the collection's items.
func (t *Target) listItems(ctx context.Context, op string, q url.Values) (itemList, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: t.itemsPath() + "?" + q.Encode()})
	if err != nil {
		return itemList{}, t.fail(op, err)
	}
	var l itemList
	if err := resp.Decode(&l); err != nil {
		return itemList{}, failf(op, nil, "Webflow answered with something that is not a list of items: %v", err)
	}
	return l, nil
}

// bySlug lists the items whose slug is exactly slug (one, slugs being
// unique in a collection; the list is read whole anyway).
func (t *Target) bySlug(ctx context.Context, op, slug string) ([]wfItem, error) {
	l, err := t.listItems(ctx, op, url.Values{"slug": {slug}, "limit": {"100"}})
	if err != nil {
		return nil, err
	}
	var out []wfItem
	for _, it := range l.Items {
		if it.slug() == slug {
			out = append(out, it)
		}
	}
	return out, nil
}

// ours reports whether the item is obj's: it carries obj's marker, or, with
// no marker field configured, it has obj's slug.
func (t *Target) ours(it wfItem, obj sandbox.Object) bool {
	if t.cfg.MarkerField == "" {
		return it.slug() == obj.Page.Slug
	}
	return obj.Marker != "" && it.str(t.cfg.MarkerField) == obj.Marker
}

func (t *Target) findItem(ctx context.Context, op string, obj sandbox.Object) (itemState, bool, error) {
	if obj.Page.Slug == "" {
		return itemState{}, false, nil
	}
	items, err := t.bySlug(ctx, op, obj.Page.Slug)
	if err != nil {
		return itemState{}, false, err
	}
	for _, it := range items {
		if t.ours(it, obj) {
			s, err := t.withLive(ctx, op, it)
			return s, err == nil, err
		}
	}
	return itemState{}, false, nil
}

// Slugs.

var validSlug = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`) })

var nonSlug = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9]+`) })

func slugProblem(slug string) string {
	switch {
	case slug == "":
		return "a Webflow CMS item needs a slug (its URL path): set slug on the page"
	case len(slug) > 256:
		return fmt.Sprintf("the slug is %d characters long; Webflow keeps at most 256", len(slug))
	case !validSlug().MatchString(slug):
		s := strings.Trim(nonSlug().ReplaceAllString(strings.ToLower(slug), "-"), "-")
		if s == "" {
			s = "landing-page"
		}
		return fmt.Sprintf("Webflow slugs are lower-case letters, digits and single hyphens (%q is not): use %q", slug, s)
	}
	return ""
}

func scheduleProblem(p sandbox.Page) string {
	at := ""
	if p.PublishAt != nil {
		at = " for " + p.PublishAt.UTC().Format(time.RFC3339)
	}
	return "Webflow cannot schedule a CMS item's publish through its API (publish_at" + at + "): remove publish_at so the page goes live when the plan is confirmed, and confirm it at the time you want it live"
}

// body is what goes into the RichText field: the body HTML (UTM applied),
// forms left out (a RichText field cannot hold one), personalization filled
// as for an anonymous visitor (the page is the same for every visitor).
func body(p *sandbox.Page) (html string, forms int) {
	b := p.Body
	if strings.TrimSpace(b) == "" {
		b = content.BodyOf(p.HTML)
	}
	b, forms = dropForms(b)
	if p.Form != nil && forms == 0 {
		forms = 1
	}
	return strings.TrimSpace(anonymous(b)), forms
}

var formRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?is)<section class="lm-form-section">\s*<form\b.*?</form>\s*</section>\s*|<form\b.*?</form>\s*`)
})

func dropForms(s string) (string, int) {
	n := len(formRE().FindAllStringIndex(s, -1))
	if n == 0 {
		return s, 0
	}
	return formRE().ReplaceAllString(s, ""), n
}

func anonymous(s string) string { return liquid.Render(s, nil, "", true) }

// fieldData is what lastmile writes of a page.
func (t *Target) fieldData(obj sandbox.Object) map[string]any {
	p := obj.Page
	html, _ := body(p)
	fd := map[string]any{"name": anonymous(p.Title), "slug": p.Slug, t.cfg.BodyField: html}
	if t.cfg.MetaField != "" {
		fd[t.cfg.MetaField] = anonymous(p.MetaDescription)
	}
	if t.cfg.MarkerField != "" {
		fd[t.cfg.MarkerField] = obj.Marker
	}
	return fd
}

// assessPage checks a page at planning time.
func (t *Target) assessPage(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	p := obj.Page
	op := pageOp("plan", obj)
	if strings.TrimSpace(p.Title) == "" {
		a.Problems = append(a.Problems, "a Webflow CMS item needs a name: set title on the page")
	} else if n := len([]rune(p.Title)); n > 256 {
		a.Problems = append(a.Problems, fmt.Sprintf("the title is %d characters long; a Webflow item name holds at most 256", n))
	}
	slugOK := true
	if msg := slugProblem(p.Slug); msg != "" {
		a.Problems = append(a.Problems, msg)
		slugOK = false
	}
	if p.PublishAt != nil {
		a.Problems = append(a.Problems, scheduleProblem(*p))
	}
	if _, forms := body(p); forms > 0 {
		a.Notes = append(a.Notes, "the form is left out: a Webflow CMS rich-text field cannot hold a form; put the form on the collection's template page in the Designer (with a hidden field "+
			orText(t.cfg.FormItemField, "lastmile-item")+" set to the item's slug, so lastmile can tie submissions to this page)")
	}
	if p.MetaDescription != "" && t.cfg.MetaField == "" {
		a.Notes = append(a.Notes, "the meta description is left out: the collection has no PlainText field for it (set meta_field in the target's config)")
	}
	for _, text := range []struct{ field, s string }{{"title", p.Title}, {"html", p.Body + p.MetaDescription}} {
		for _, u := range liquid.Unrenderable("", text.s) {
			a.Problems = append(a.Problems, fmt.Sprintf("webflow cannot render %s in %s: %s; every visitor would see it as written", rest.Clip(u.Text, 60), text.field, u.Why))
		}
	}
	if strings.Contains(p.Body+p.Title, "{{") || strings.Contains(p.Body+p.Title, "{%") {
		a.Notes = append(a.Notes, "Webflow pages are the same for every visitor: personalization shows its fallback text, as the review page shows")
	}
	if lower := strings.ToLower(p.Body); strings.Contains(lower, "<script") || strings.Contains(lower, "<style") || strings.Contains(lower, "<iframe") {
		a.Notes = append(a.Notes, "Webflow's rich-text field keeps text, links, lists, images and headings: <script>, <style> and <iframe> in the body may be dropped or shown as text")
	}
	if t.cfg.MarkerField == "" {
		a.Notes = append(a.Notes, "the collection has no marker field, so lastmile knows its item by the slug alone; run lastmile connect webflow again to create one")
	}
	site, err := t.getSite(ctx, op)
	if err != nil {
		return a, err
	}
	if site.LastPublished == nil {
		a.Notes = append(a.Notes, fmt.Sprintf("site %s has never been published, so the collection's template page is not live: publishing this page publishes the whole site once (every page and every CMS item that is not a draft) to %s",
			site.ShortName, strings.Join(site.targets(), " and ")))
	}
	if !slugOK {
		return a, nil
	}
	if id := obj.Refs[obj.ArtifactID]; id != "" && objectID().MatchString(id) {
		if cur, found, err := t.getItem(ctx, op, id, false); err != nil {
			return a, err
		} else if found && cur.slug() != p.Slug && cur.LastPublished != nil {
			a.Notes = append(a.Notes, fmt.Sprintf("the page moves from %s to %s: links to the old address break (Webflow keeps no redirect unless you add one in Site settings → Publishing → 301 redirects)",
				t.pageURL(cur.slug()), t.pageURL(p.Slug)))
		}
	}
	items, err := t.bySlug(ctx, op, p.Slug)
	if err != nil {
		return a, err
	}
	for _, it := range items {
		if t.ours(it, obj) {
			if t.cfg.MarkerField == "" && obj.Refs[obj.ArtifactID] != it.ID {
				// Without a marker an item at the slug that is not the bound
				// one cannot be told from someone else's.
				a.Problems = append(a.Problems, takenBy(p.Slug, it, t))
				continue
			}
			if s, err := t.withLive(ctx, op, it); err != nil {
				return a, err
			} else if s.live != nil {
				a.Notes = append(a.Notes, "the page is live at "+t.pageURL(p.Slug)+": lastmile publishes the update at once on approval, so the live page is the approved revision")
			}
			continue
		}
		a.Problems = append(a.Problems, takenBy(p.Slug, it, t))
	}
	return a, nil
}

func takenBy(slug string, it wfItem, t *Target) string {
	return fmt.Sprintf("the slug %q is taken by Webflow item %s (%q) in collection %s, which lastmile did not create: choose another slug, or rename or delete that item in Webflow, and re-plan",
		slug, it.ID, it.str("name"), orText(t.cfg.CollectionSlug, t.cfg.CollectionID))
}

// createItem creates the item as a draft. A lost answer, or a refusal
// because the slug is taken, is reconciled by slug and marker.
func (t *Target) createItem(ctx context.Context, op string, obj sandbox.Object) (sandbox.LiveState, error) {
	p := obj.Page
	if msg := slugProblem(p.Slug); msg != "" {
		return sandbox.LiveState{}, failf(op, nil, "%s", msg)
	}
	if obj.Marker == "" && t.cfg.MarkerField != "" {
		return sandbox.LiveState{}, failf(op, nil, "the object has no marker to store")
	}
	body := map[string]any{"isDraft": true, "isArchived": false, "fieldData": t.fieldData(obj)}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.itemsPath(), Body: body})
	if err != nil {
		env, status := envelopeOf(err)
		taken := status == http.StatusBadRequest && env.slugTaken()
		if taken || errors.Is(err, rest.ErrAmbiguous) {
			// An earlier attempt (or this one, its answer lost) may have
			// made it: adopt it when it carries our marker.
			if s, found, ferr := t.findItem(ctx, op, obj); ferr == nil && found && t.cfg.MarkerField != "" {
				t.log.Info("webflow: create page: the item exists already with our marker; adopting it", "target", t.name, "item", s.staged.ID)
				return s.state(t), nil
			}
		}
		if taken {
			items, _ := t.bySlug(ctx, op, p.Slug)
			msg := fmt.Sprintf("the slug %q is taken in collection %s", p.Slug, orText(t.cfg.CollectionSlug, t.cfg.CollectionID))
			if len(items) > 0 {
				msg = takenBy(p.Slug, items[0], t)
			}
			return sandbox.LiveState{}, &rest.Error{Platform: Platform, Op: op, Status: status, Code: env.Code, Message: msg, Kinds: []error{sandbox.ErrConflict}, Cause: err}
		}
		return sandbox.LiveState{}, t.fail(op, err)
	}
	var it wfItem
	if err := resp.Decode(&it); err != nil || it.ID == "" {
		return sandbox.LiveState{}, failf(op, nil, "Webflow answered the create with something that is not an item")
	}
	t.remember(it)
	return itemState{staged: it}.state(t), nil
}

// updateItem PATCHes the staged item. When the item is live the update is
// published at once, so the live page is the revision the human approved
// (Assess says so in the plan).
func (t *Target) updateItem(ctx context.Context, op string, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if msg := slugProblem(obj.Page.Slug); msg != "" {
		return sandbox.LiveState{}, failf(op, nil, "%s", msg)
	}
	cur, found, err := t.itemState(ctx, op, liveID)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, failf(op, nil, "item %s no longer exists in collection %s (deleted in Webflow); re-plan to create the page again", liveID, orText(t.cfg.CollectionSlug, t.cfg.CollectionID))
	}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPatch, Path: t.itemPath(liveID),
		Body: map[string]any{"fieldData": t.fieldData(obj)},
		// The same fieldData again gives the same item.
		Idempotent: true})
	if err != nil {
		if env, status := envelopeOf(err); status == http.StatusBadRequest && env.slugTaken() {
			items, _ := t.bySlug(ctx, op, obj.Page.Slug)
			msg := fmt.Sprintf("the slug %q is taken in collection %s", obj.Page.Slug, orText(t.cfg.CollectionSlug, t.cfg.CollectionID))
			for _, it := range items {
				if it.ID != liveID {
					msg = takenBy(obj.Page.Slug, it, t)
				}
			}
			return cur.state(t), &rest.Error{Platform: Platform, Op: op, Status: status, Code: env.Code, Message: msg, Kinds: []error{sandbox.ErrConflict}, Cause: err}
		}
		return cur.state(t), t.fail(op, err)
	}
	var it wfItem
	if err := resp.Decode(&it); err != nil || it.ID == "" {
		return cur.state(t), failf(op, nil, "Webflow answered the update with something that is not an item")
	}
	if cur.live == nil {
		s, err := t.withLive(ctx, op, it)
		return s.state(t), err
	}
	if err := t.publishItems(ctx, op, liveID); err != nil {
		return cur.state(t), err
	}
	s, _, err := t.itemState(ctx, op, liveID)
	return s.state(t), err
}

// publishItems publishes one item (POST …/items/publish).
func (t *Target) publishItems(ctx context.Context, op, id string) error {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.itemsPath() + "/publish",
		Body: map[string]any{"itemIds": []string{id}},
		// Publishing the staged item again publishes the same content.
		Idempotent: true})
	if err != nil {
		return t.fail(op, err)
	}
	var out struct {
		PublishedItemIDs []string `json:"publishedItemIds"`
		Errors           []string `json:"errors"`
	}
	if err := resp.Decode(&out); err != nil {
		return failf(op, nil, "Webflow answered the publish with something unreadable: %v", err)
	}
	if !slices.Contains(out.PublishedItemIDs, id) {
		why := strings.Join(out.Errors, "; ")
		if why == "" {
			why = "it did not list the item as published"
		}
		return failf(op, nil, "Webflow did not publish item %s: %s", id, rest.Clip(why, 300))
	}
	return nil
}

// publishItem publishes the item, and the site when it was never
// published. Idempotent: a published item without staged changes on a
// published site is left alone.
func (t *Target) publishItem(ctx context.Context, op string, obj sandbox.Object, live sandbox.LiveState) (sandbox.LiveState, error) {
	cur, found, err := t.itemState(ctx, op, live.ID)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, failf(op, nil, "item %s no longer exists in collection %s; re-plan to create the page again", live.ID, orText(t.cfg.CollectionSlug, t.cfg.CollectionID))
	}
	if cur.staged.IsArchived {
		return cur.state(t), failf(op, nil, "item %s is archived in Webflow, and an archived item is not published: unarchive it in Webflow and confirm again", live.ID)
	}
	if cur.staged.slug() != obj.Page.Slug {
		return cur.state(t), conflict(op, fmt.Sprintf("item %s has the slug %q, not the approved %q (someone changed it in Webflow): set it back, or re-plan", live.ID, cur.staged.slug(), obj.Page.Slug))
	}
	site, err := t.getSite(ctx, op)
	if err != nil {
		return cur.state(t), err
	}
	if cur.status(t) != "published" {
		if err := t.publishItems(ctx, op, live.ID); err != nil {
			return cur.state(t), err
		}
	}
	if site.LastPublished == nil {
		if err := t.publishSite(ctx, op); err != nil {
			s, _, _ := t.itemState(ctx, op, live.ID)
			return s.state(t), err
		}
	}
	s, _, err := t.itemState(ctx, op, live.ID)
	return s.state(t), err
}

// Sites.

type wfSite struct {
	ID            string  `json:"id"`
	DisplayName   string  `json:"displayName"`
	ShortName     string  `json:"shortName"`
	LastPublished *string `json:"lastPublished"`
	CustomDomains []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"customDomains"`
}

// targets are where a site publish goes: every custom domain, and the
// webflow.io subdomain.
func (s wfSite) targets() []string {
	var out []string
	for _, d := range s.CustomDomains {
		out = append(out, d.URL)
	}
	return append(out, s.ShortName+".webflow.io")
}

func (t *Target) getSite(ctx context.Context, op string) (wfSite, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/sites/" + url.PathEscape(t.cfg.SiteID)})
	if err != nil {
		return wfSite{}, t.fail(op, err)
	}
	var s wfSite
	if err := resp.Decode(&s); err != nil || s.ID == "" {
		return wfSite{}, failf(op, nil, "Webflow answered with something that is not a site")
	}
	return s, nil
}

// publishSite publishes the whole site to every custom domain and the
// webflow.io subdomain, at most once a minute (Webflow's limit; the gate
// spaces this process's publishes, and a 429 is waited out as told). It
// reads the site again under the gate: a publish someone else made
// meanwhile is enough.
func (t *Target) publishSite(ctx context.Context, op string) error {
	next, release, err := t.gate.hold(ctx)
	if err != nil {
		return failWith(op, err)
	}
	ok := false
	defer func() { release(ok, t.now()) }()
	site, err := t.getSite(ctx, op)
	if err != nil {
		return err
	}
	if site.LastPublished != nil {
		return nil
	}
	if d := next.Sub(t.now()); d > 0 {
		if err := t.sleep(ctx, d); err != nil {
			return failWith(op, err)
		}
	}
	domains := []string{}
	for _, d := range site.CustomDomains {
		domains = append(domains, d.ID)
	}
	// One attempt at a time: after a 429 or a lost answer the site is read
	// again, since a publish that landed (ours or someone else's) is enough,
	// and a second one within the minute would only be refused.
	once := *t.client
	once.MaxAttempts = 1
	var resp *rest.Response
	for attempt := 1; ; attempt++ {
		resp, err = once.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/sites/" + url.PathEscape(t.cfg.SiteID) + "/publish",
			Body: map[string]any{"customDomains": domains, "publishToWebflowSubdomain": true}, Idempotent: true})
		if err == nil {
			break
		}
		status := rest.StatusOf(err)
		if (status != http.StatusTooManyRequests && status < 500 && status != 0) || attempt >= 3 || ctx.Err() != nil {
			return t.fail(op+": publish site "+site.ShortName, err)
		}
		if again, gerr := t.getSite(ctx, op); gerr == nil && again.LastPublished != nil {
			ok = true
			return nil
		}
		wait := 5 * time.Second
		if status == http.StatusTooManyRequests {
			var he *rest.HTTPError
			if errors.As(err, &he) && rest.RetryAfter(he.Header) > 0 {
				wait = rest.RetryAfter(he.Header)
			}
		}
		if wait > sitePublishEvery+5*time.Second {
			return t.fail(op+": publish site "+site.ShortName, err)
		}
		if serr := t.sleep(ctx, wait); serr != nil {
			return failWith(op, serr)
		}
	}
	var out json.RawMessage
	_ = resp.Decode(&out)
	ok = true
	t.log.Info("webflow: published the site (it had never been published)", "target", t.name, "site", t.cfg.SiteID)
	return nil
}
