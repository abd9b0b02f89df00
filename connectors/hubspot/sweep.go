package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

// markerRE finds the marker lastmile ends names with: "Name [lm-<artifact id>]".
var markerRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\[` + regexp.QuoteMeta(sandbox.MarkerPrefix) + `([A-Za-z0-9_-]+)\]`)
})

// markedArtifact is the artifact id a name's marker names, if it has one.
func markedArtifact(name string) (string, bool) {
	m := markerRE().FindAllStringSubmatch(name, -1)
	if len(m) == 0 {
		return "", false
	}
	return m[len(m)-1][1], true // the suffix lastmile wrote is the last one
}

// Marked lists the portal's objects of kind whose name carries a lastmile
// marker: every email, workflow and landing page (paged through, as Find
// does), and the lists HubSpot's list search finds for the marker prefix.
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	var out []sandbox.Marked
	add := func(name, id, status string, reached bool) {
		if art, ok := markedArtifact(name); ok {
			out = append(out, sandbox.Marked{Kind: kind, ArtifactID: art, LiveID: id, Name: name, Reached: reached, Status: status})
		}
	}
	var err error
	switch kind {
	case sandbox.KindEmail:
		err = t.eachEmail(ctx, func(e sweptEmail) { add(e.Name, e.ID, strings.ToLower(e.State), e.sent()) })
	case sandbox.KindWorkflow:
		err = t.eachFlow(ctx, func(f hsFlow) { add(f.Name, f.ID, f.state().Status, f.IsEnabled) })
	case sandbox.KindPage:
		err = t.eachPage(ctx, func(p hsPage) { add(p.Name, p.ID, p.state().Status, pageReached(p)) })
	case sandbox.KindSegment:
		// Whether a list is in use takes reading every workflow that is on,
		// a request each, while nearly every marked list is bound and never
		// discarded. Marked leaves it to Discard, which reads it for the one
		// stray it is asked about and refuses a list in use.
		err = t.eachMarkedList(ctx, func(l hsList) { add(l.Name, l.ListID, l.state().Status, false) })
	default:
		return nil, fmt.Errorf("hubspot: cannot list objects of kind %q: %w", kind, sandbox.ErrNotSupported)
	}
	if err != nil {
		return nil, t.fail(fmt.Sprintf("list the %ss lastmile made", kind), err)
	}
	return out, nil
}

// Discard deletes an object lastmile made that never reached anyone: a
// draft email (automated ones too, while off), a workflow that is off, a
// landing page never published or scheduled, a list no sent or scheduled
// email and no workflow that is on uses. The object is read again first,
// so a send since Marked listed it is seen; one that has gone already is
// not an error. HubSpot keeps a deleted list restorable for 90 days.
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	op := fmt.Sprintf("discard %s %s", m.Kind, m.LiveID)
	if m.LiveID == "" {
		return fmt.Errorf("hubspot: %s: no HubSpot id", op)
	}
	name, reached, path, found, err := t.sweepState(ctx, m.Kind, m.LiveID)
	if err != nil {
		return t.fail(op, err)
	}
	if !found {
		return nil
	}
	if art, ok := markedArtifact(name); !ok || art != m.ArtifactID {
		return failure(op, fmt.Sprintf("HubSpot's object is now named %q, without the marker %s%s: lastmile leaves it alone", name, sandbox.MarkerPrefix, m.ArtifactID), nil, sandbox.ErrConflict)
	}
	if reached {
		return failure(op, fmt.Sprintf("%q has reached people (%s); lastmile does not remove it: decide in HubSpot whether it stays", name, reachedWhat(m.Kind)), nil, sandbox.ErrReachedPeople)
	}
	_, err = t.do(ctx, call{method: http.MethodDelete, path: path, idempotent: true}, nil)
	if err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return t.fail(op, err)
	}
	t.log.Info("hubspot: discarded an object lastmile made that no artifact is bound to", "target", t.name, "kind", m.Kind, "id", m.LiveID)
	return nil
}

func reachedWhat(k sandbox.Kind) string {
	return map[sandbox.Kind]string{
		sandbox.KindEmail:    "it was sent or scheduled, or is an automated email that is on",
		sandbox.KindWorkflow: "the workflow is on",
		sandbox.KindPage:     "the page is published or scheduled",
		sandbox.KindSegment:  "a sent or scheduled email, or a workflow that is on, uses the list",
	}[k]
}

// sweepState reads one object now: its name, whether it reached people,
// and the path that deletes it.
func (t *Target) sweepState(ctx context.Context, kind sandbox.Kind, id string) (name string, reached bool, path string, found bool, err error) {
	switch kind {
	case sandbox.KindEmail:
		var e sweptEmail
		path = t.paths.emails + "/" + id
		_, err = t.do(ctx, call{method: http.MethodGet, path: path}, &e)
		name, reached = e.Name, e.sent()
	case sandbox.KindWorkflow:
		var f hsFlow
		f, _, err = t.getFlow(ctx, id)
		name, reached, path = f.Name, f.IsEnabled, t.paths.flows+"/"+id
	case sandbox.KindPage:
		var p hsPage
		p, err = t.getPage(ctx, id)
		name, reached, path = p.Name, pageReached(p), t.paths.pages+"/"+id
	case sandbox.KindSegment:
		var l hsList
		if l, err = t.getList(ctx, id, false); err == nil {
			var used map[string]bool
			used, err = t.listsInUse(ctx)
			name, reached = l.Name, used[id]
		}
		path = t.paths.lists + "/" + id
	default:
		return "", false, "", false, fmt.Errorf("hubspot: cannot discard objects of kind %q: %w", kind, sandbox.ErrNotSupported)
	}
	if rest.StatusOf(err) == http.StatusNotFound {
		return "", false, "", false, nil
	}
	return name, reached, path, err == nil, err
}

func pageReached(p hsPage) bool {
	st := strings.ToUpper(firstNonEmpty(p.CurrentState, p.State))
	return p.CurrentlyPublished || strings.Contains(st, "PUBLISHED") || strings.Contains(st, "SCHEDULED")
}

// sweptEmail is an email with its recipient lists.
type sweptEmail struct {
	hsEmail
	To struct {
		ContactIlsLists struct {
			Include []json.Number `json:"include"`
			Exclude []json.Number `json:"exclude"`
		} `json:"contactIlsLists"`
	} `json:"to"`
}

func (t *Target) eachEmail(ctx context.Context, visit func(sweptEmail)) error {
	return t.pageThrough(ctx, t.paths.emails+"?limit=100", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []sweptEmail `json:"results"`
			Paging  *paging      `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for _, e := range page.Results {
			visit(e)
		}
		return page.Paging.after(), false, nil
	})
}

func (t *Target) eachFlow(ctx context.Context, visit func(hsFlow)) error {
	return t.pageThrough(ctx, t.paths.flows+"?limit=100", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsFlow `json:"results"`
			Paging  *paging  `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for _, f := range page.Results {
			visit(f)
		}
		return page.Paging.after(), false, nil
	})
}

func (t *Target) eachPage(ctx context.Context, visit func(hsPage)) error {
	return t.pageThrough(ctx, t.paths.pages+"?limit=100", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsPage `json:"results"`
			Paging  *paging  `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for _, p := range page.Results {
			visit(p)
		}
		return page.Paging.after(), false, nil
	})
}

// eachMarkedList visits the lists HubSpot's search finds for the marker
// prefix (the search matches names; the caller checks the whole marker).
func (t *Target) eachMarkedList(ctx context.Context, visit func(hsList)) error {
	for offset, pages := 0, 0; pages < 10000; pages++ {
		var res struct {
			Lists   []hsList `json:"lists"`
			Offset  int      `json:"offset"`
			HasMore bool     `json:"hasMore"`
		}
		body := map[string]any{"query": sandbox.MarkerPrefix, "offset": offset, "count": 100, "additionalProperties": []string{}, "processingTypes": []string{"MANUAL", "DYNAMIC", "SNAPSHOT"}}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.lists + "/search", body: body, idempotent: true}, &res); err != nil {
			return err
		}
		for _, l := range res.Lists {
			visit(l)
		}
		if !res.HasMore || res.Offset <= offset {
			return nil
		}
		offset = res.Offset
	}
	return fmt.Errorf("HubSpot's list search did not end after 10000 pages")
}

// listsInUse are the lists that reached people: the recipient lists
// (included or excluded) of every sent or scheduled email, and every list a
// workflow that is on refers to (enrollment, branches, list actions).
func (t *Target) listsInUse(ctx context.Context) (map[string]bool, error) {
	used := map[string]bool{}
	err := t.eachEmail(ctx, func(e sweptEmail) {
		if !e.sent() {
			return
		}
		for _, id := range append(e.To.ContactIlsLists.Include, e.To.ContactIlsLists.Exclude...) {
			used[id.String()] = true
		}
	})
	if err != nil {
		return nil, err
	}
	var on []string
	if err := t.eachFlow(ctx, func(f hsFlow) {
		if f.IsEnabled {
			on = append(on, f.ID)
		}
	}); err != nil {
		return nil, err
	}
	// The listing leaves a flow's body out: read each one that is on.
	for _, id := range on {
		_, raw, err := t.getFlow(ctx, id)
		if err != nil {
			return nil, err
		}
		collectListIDs(raw, used)
	}
	return used, nil
}

// collectListIDs adds every "listId" value in a flow body.
func collectListIDs(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "listId" {
				switch id := val.(type) {
				case string:
					into[id] = true
				case float64:
					into[fmt.Sprint(int64(id))] = true
				}
			}
			collectListIDs(val, into)
		}
	case []any:
		for _, val := range x {
			collectListIDs(val, into)
		}
	}
}
