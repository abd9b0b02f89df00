package wordpress

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

// sweepPages bounds Marked: at most this many pages of 100 results.
const sweepPages = 20

var markerRE = regexp.MustCompile(`<!-- lastmile:marker (` + regexp.QuoteMeta(sandbox.MarkerPrefix) + `[A-Za-z0-9_.:-]+) -->`)

// markerIn returns the marker in raw page content, or "".
func markerIn(raw string) string {
	if m := markerRE.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	return ""
}

// pageReached: a page that is public, scheduled to be, or visible to the
// site's logged-in users.
func pageReached(status string) bool {
	return status == "publish" || status == "future" || status == "private"
}

// Marked lists the pages (any status but trash) whose content carries a
// lastmile marker. lastmile makes pages only, never posts. WordPress's
// search covers the content, so one query with the marker comment's fixed
// part finds them, in id order, at most sweepPages × 100.
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	if kind != sandbox.KindPage {
		return nil, failf("list marked "+string(kind), []error{sandbox.ErrNotSupported}, "WordPress targets hold pages only")
	}
	op := "list marked pages"
	var out []sandbox.Marked
	for n := 1; n <= sweepPages; n++ {
		q := url.Values{"search": {"lastmile:marker"}, "page": {strconv.Itoa(n)}}
		pages, resp, err := t.listPages(ctx, op, q)
		if err != nil {
			return nil, err
		}
		for _, p := range pages {
			m := markerIn(p.Content.Raw)
			if m == "" {
				continue
			}
			out = append(out, sandbox.Marked{Kind: sandbox.KindPage, ArtifactID: strings.TrimPrefix(m, sandbox.MarkerPrefix),
				LiveID: strconv.Itoa(p.ID), Name: p.Title.Raw, Status: p.Status, Reached: pageReached(p.Status)})
		}
		total, _ := strconv.Atoi(resp.Header.Get("X-WP-TotalPages"))
		if n >= total || len(pages) < 100 {
			return out, nil
		}
	}
	t.log.Warn("wordpress: the site has more marked pages than lastmile looks through for strays; the rest were not checked",
		"target", t.name, "checked", len(out))
	return out, nil
}

// Discard deletes (for good, not to the trash, where it would keep its
// slug reserved) a draft or pending page that carries m's marker. A
// published, scheduled or private page is refused with an error wrapping
// sandbox.ErrReachedPeople. A page already gone is not an error.
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	op := "discard page " + m.LiveID
	if m.Kind != sandbox.KindPage {
		return failf(op, []error{sandbox.ErrNotSupported}, "WordPress targets hold pages only")
	}
	p, found, _, err := t.getPage(ctx, op, m.LiveID)
	if err != nil || !found {
		return err
	}
	marker := sandbox.MarkerPrefix + m.ArtifactID
	if !hasMarker(p.Content.Raw, marker) {
		return failf(op, nil, "page %d does not carry the marker %s, so lastmile did not make it for that artifact; it is left alone", p.ID, marker)
	}
	if pageReached(p.Status) {
		return failf(op, []error{sandbox.ErrReachedPeople}, "page %d is %s at %s: it reached the public, so a human decides what happens to it", p.ID, p.Status, p.url())
	}
	if err := t.deletePage(ctx, op, p.ID); err != nil {
		return err
	}
	t.log.Info("wordpress: discarded a draft page no artifact is bound to", "target", t.name, "page", p.ID, "marker", marker)
	return nil
}

// deletePage deletes a page for good (force=true: past the trash).
func (t *Target) deletePage(ctx context.Context, op string, id int) error {
	_, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete,
		Path: t.path("/wp/v2/pages/"+strconv.Itoa(id), url.Values{"force": {"true"}})})
	if err != nil {
		if _, found, _, gerr := t.getPage(ctx, op, strconv.Itoa(id)); gerr == nil && !found {
			return nil
		}
		return t.fail(op, err)
	}
	return nil
}
