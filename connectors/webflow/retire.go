package webflow

import (
	"context"
	"net/http"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// unpublishEffect is what the approver is told unpublishing does.
const unpublishEffect = "the CMS item is taken off the live site (DELETE …/items/{id}/live) and stays in Webflow as a draft, with its content, marker and slug: visitors get 404 at its URL (a CDN may serve the old copy for a while)"

// CanRetire: a Webflow target holds only pages, and a page can only be
// unpublished.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if k == sandbox.KindPage && op == sandbox.OpUnpublish {
		return unpublishEffect, nil
	}
	if k == sandbox.KindPage {
		return "", failf(op+" page", []error{sandbox.ErrNotSupported},
			"webflow: lastmile can only unpublish pages (they stay in Webflow as drafts); to %s one, do it in Webflow", op)
	}
	return "", failf(op+" "+string(k), []error{sandbox.ErrNotSupported}, "webflow holds only pages: it has no %s to %s", k, op)
}

// Retire unpublishes the item. It reads the item first: one that is not
// live is left alone, so a second call does nothing.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	rop := pageOp("unpublish", obj)
	cur, found, err := t.itemState(ctx, rop, live.ID)
	switch {
	case err != nil:
		return sandbox.LiveState{}, err
	case !found:
		return sandbox.LiveState{}, failf(rop, nil, "item %s no longer exists in Webflow (deleted), so there is nothing to unpublish: visitors get 404 already; withdraw the retirement with retire_artifact action cancel", live.ID)
	case cur.live == nil:
		return cur.state(t), nil
	}
	if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.itemPath(live.ID) + "/live"}); err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return cur.state(t), t.fail(rop, err)
	}
	s, _, err := t.itemState(ctx, rop, live.ID)
	return s.state(t), err
}
