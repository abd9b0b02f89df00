package webflow

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

// sweepPages bounds Marked: at most this many pages of 100 items.
const sweepPages = 50

// reached: the item was live at some point, or goes live at the next site
// publish (queued). Only a draft never published reached nobody.
func reached(it wfItem) bool { return it.LastPublished != nil || !it.IsDraft }

// Marked lists the collection's items whose marker field carries a lastmile
// marker, reading the collection 100 items at a time (at most sweepPages).
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	if kind != sandbox.KindPage {
		return nil, failf("list marked "+string(kind), []error{sandbox.ErrNotSupported}, "Webflow targets hold pages only")
	}
	if t.cfg.MarkerField == "" {
		t.log.Warn("webflow: the collection has no marker field, so lastmile cannot tell its items from others; nothing is swept", "target", t.name)
		return nil, nil
	}
	op := "list marked pages"
	var out []sandbox.Marked
	for n := range sweepPages {
		l, err := t.listItems(ctx, op, url.Values{"offset": {strconv.Itoa(n * 100)}, "limit": {"100"}})
		if err != nil {
			return nil, err
		}
		for _, it := range l.Items {
			m := it.str(t.cfg.MarkerField)
			if !strings.HasPrefix(m, sandbox.MarkerPrefix) {
				continue
			}
			st := itemState{staged: it}.status(t)
			if it.LastPublished != nil {
				st = "published before"
			}
			out = append(out, sandbox.Marked{Kind: sandbox.KindPage, ArtifactID: strings.TrimPrefix(m, sandbox.MarkerPrefix),
				LiveID: it.ID, Name: it.str("name"), Reached: reached(it), Status: st})
		}
		if len(l.Items) < 100 || (n+1)*100 >= l.Pagination.Total {
			return out, nil
		}
	}
	t.log.Warn("webflow: the collection has more items than lastmile looks through for strays; the rest were not checked", "target", t.name, "checked", len(out))
	return out, nil
}

// Discard deletes an item that carries m's marker and was never published
// nor queued. Anything else is refused with sandbox.ErrReachedPeople. An
// item already gone is not an error.
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	op := "discard page " + m.LiveID
	if m.Kind != sandbox.KindPage {
		return failf(op, []error{sandbox.ErrNotSupported}, "Webflow targets hold pages only")
	}
	it, found, err := t.getItem(ctx, op, m.LiveID, false)
	if err != nil || !found {
		return err
	}
	marker := sandbox.MarkerPrefix + m.ArtifactID
	if t.cfg.MarkerField == "" || it.str(t.cfg.MarkerField) != marker {
		return failf(op, nil, "item %s does not carry the marker %s, so lastmile did not make it for that artifact; it is left alone", it.ID, marker)
	}
	if reached(it) {
		return failf(op, []error{sandbox.ErrReachedPeople}, "item %s (%q) was published or is queued to publish at %s: a human decides what happens to it", it.ID, it.str("name"), t.pageURL(it.slug()))
	}
	if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.itemPath(it.ID)}); err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return t.fail(op, err)
	}
	t.log.Info("webflow: discarded a draft item no artifact is bound to", "target", t.name, "item", it.ID, "marker", marker)
	return nil
}
