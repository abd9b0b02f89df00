package wordpress

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// unpublishEffect is what the approver is told unpublishing does. The page
// is not deleted: it stays in WordPress as a draft, with its content, its
// marker and its slug, so nothing is lost and a new revision can publish
// it again.
const unpublishEffect = "it becomes a draft in WordPress: visitors get 404 at its URL (a redirect plugin may send them elsewhere, and a page cache or CDN may serve the old copy until it expires)"

// CanRetire: a WordPress target holds only pages, and a page can only be
// unpublished.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if k == sandbox.KindPage && op == sandbox.OpUnpublish {
		return unpublishEffect, nil
	}
	if k == sandbox.KindPage {
		return "", failf(op+" page", []error{sandbox.ErrNotSupported},
			"wordpress holds only pages, and lastmile can only unpublish them (they stay in WordPress as drafts); to %s one, do it in WordPress", op)
	}
	return "", failf(op+" "+string(k), []error{sandbox.ErrNotSupported},
		"wordpress holds only pages: it has no %s to %s", k, op)
}

// Retire unpublishes a page: a published or scheduled (future) page goes
// back to draft, with only its status changed (content, marker, slug and
// date stay as they are). It reads the page first, so a page that is a
// draft already, pending review, or in the trash is left alone: a second
// call does nothing.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	return t.unpublishPage(ctx, pageOp("unpublish", obj), live)
}

func (t *Target) unpublishPage(ctx context.Context, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	id, err := strconv.Atoi(live.ID)
	if err != nil || id <= 0 {
		return sandbox.LiveState{}, failf(op, nil, "%q is not a WordPress page id", live.ID)
	}
	cur, found, _, err := t.getPage(ctx, op, live.ID)
	switch {
	case err != nil:
		return sandbox.LiveState{}, err
	case !found && cur.ID != 0:
		// In the trash: nobody sees it, and restoring it from there makes
		// it a draft (WordPress 5.6 and later).
		return cur.state(), nil
	case !found:
		return sandbox.LiveState{}, failf(op, nil, "page %d no longer exists on %s (it was deleted for good), so there is nothing to unpublish: visitors get 404 already; withdraw the retirement with retire_artifact action cancel", id, t.site)
	}
	switch cur.Status {
	case "publish", "future", "private":
		// private: someone made it visible to the site's logged-in users
		// only; unpublishing takes it from them too.
	default:
		// draft, pending: not public, nothing to do.
		return cur.state(), nil
	}
	// Only the status: WordPress keeps everything the body leaves out, so
	// the content (and the marker in it) stays as promotion wrote it.
	q := url.Values{"context": {"edit"}, "_fields": {pageFields}}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.path("/wp/v2/pages/"+live.ID, q),
		Body: map[string]any{"status": "draft"},
		// Same body, same result: safe to repeat.
		Idempotent: true})
	if err != nil {
		return cur.state(), t.fail(op, err)
	}
	var page wpPage
	if err := resp.Decode(&page); err != nil || page.ID == 0 {
		return cur.state(), failf(op, nil, "the site answered with something that is not a page")
	}
	if page.Status != "draft" {
		// A plugin may veto the change (a workflow or membership plugin
		// filtering wp_insert_post_data): say so rather than report a
		// page public at its URL as unpublished.
		return page.state(), failf(op, nil, "WordPress kept page %d %s at %s instead of making it a draft (a plugin may prevent the change): unpublish it in WordPress, then confirm again",
			page.ID, page.Status, page.url())
	}
	return page.state(), nil
}
