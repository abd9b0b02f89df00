package mailchimp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

// sweepPages bounds how many pages of 1000 Marked and Discard read per
// collection: 10 000 campaigns or segments, newest campaigns first, which is
// where a stray from a late create is.
const sweepPages = 10

// markerOf returns the marker a name or title ends with ("… [lm-eml_1]"),
// or "" when it carries none.
func markerOf(name string) string {
	name = strings.TrimSpace(name)
	if !strings.HasSuffix(name, "]") {
		return ""
	}
	i := strings.LastIndex(name, " ["+sandbox.MarkerPrefix)
	if i < 0 {
		return ""
	}
	m := name[i+2 : len(name)-1]
	if len(m) <= len(sandbox.MarkerPrefix) || strings.ContainsAny(m, "[] ") {
		return ""
	}
	return m
}

// Marked lists the campaigns (of this target's audience) or segments whose
// title or name ends with a lastmile marker.
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	switch kind {
	case sandbox.KindEmail:
		camps, err := t.listCampaigns(ctx)
		if err != nil {
			return nil, fmt.Errorf("mailchimp: list marked campaigns: %w", err)
		}
		var out []sandbox.Marked
		for _, c := range camps {
			if m := markerOf(c.Settings.Title); m != "" {
				out = append(out, sandbox.Marked{Kind: kind, ArtifactID: strings.TrimPrefix(m, sandbox.MarkerPrefix),
					LiveID: c.ID, Name: c.Settings.Title, Status: c.Status, Reached: campaignReached(c.Status)})
			}
		}
		return out, nil
	case sandbox.KindSegment:
		segs, err := t.listSegments(ctx)
		if err != nil {
			return nil, fmt.Errorf("mailchimp: list marked segments: %w", err)
		}
		var out []sandbox.Marked
		var used map[int]string
		for _, s := range segs {
			m := markerOf(s.Name)
			if m == "" {
				continue
			}
			if used == nil {
				if used, err = t.segmentsSentTo(ctx); err != nil {
					return nil, fmt.Errorf("mailchimp: list marked segments: %w", err)
				}
			}
			_, reached := used[s.ID]
			out = append(out, sandbox.Marked{Kind: kind, ArtifactID: strings.TrimPrefix(m, sandbox.MarkerPrefix),
				LiveID: strconv.Itoa(s.ID), Name: s.Name, Status: s.Type, Reached: reached})
		}
		return out, nil
	}
	return nil, notSupported(kind)
}

// campaignReached: anything but a saved (never sent, never scheduled)
// campaign may have reached people or is about to. A paused or canceled
// campaign went out to some.
func campaignReached(status string) bool { return status != "save" }

// Discard deletes a saved campaign (DELETE /campaigns/{id}) or a segment
// that no sent, sending or scheduled campaign of the audience went to
// (DELETE /lists/{list_id}/segments/{id}). It refuses, with an error
// wrapping sandbox.ErrReachedPeople, anything else, and refuses an object
// that does not carry m's marker. An object already gone is not an error.
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	marker := sandbox.MarkerPrefix + m.ArtifactID
	switch m.Kind {
	case sandbox.KindEmail:
		fail := func(err error) error { return fmt.Errorf("mailchimp: discard campaign %s: %w", m.LiveID, err) }
		c, found, err := t.getCampaign(ctx, m.LiveID)
		if err != nil {
			return fail(err)
		}
		if !found {
			return nil
		}
		if !hasMarker(c.Settings.Title, marker) {
			return fail(fmt.Errorf("its title %q does not carry the marker %s, so lastmile did not make it for that artifact; it is left alone", c.Settings.Title, marker))
		}
		if campaignReached(c.Status) {
			return fail(fmt.Errorf("its status is %q: it was sent or scheduled, so a human decides what happens to it: %w", c.Status, sandbox.ErrReachedPeople))
		}
		if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.campaignPath(m.LiveID)}); err != nil && rest.StatusOf(err) != http.StatusNotFound {
			return fail(mapErr(err, t.name))
		}
		t.log.Info("mailchimp: discarded a saved campaign no artifact is bound to", "target", t.name, "campaign_id", m.LiveID, "marker", marker)
		return nil
	case sandbox.KindSegment:
		fail := func(err error) error { return fmt.Errorf("mailchimp: discard segment %s: %w", m.LiveID, err) }
		s, found, err := t.getSegment(ctx, m.LiveID)
		if err != nil {
			return fail(err)
		}
		if !found {
			return nil
		}
		if !hasMarker(s.Name, marker) {
			return fail(fmt.Errorf("its name %q does not carry the marker %s, so lastmile did not make it for that artifact; it is left alone", s.Name, marker))
		}
		used, err := t.segmentsSentTo(ctx)
		if err != nil {
			return fail(err)
		}
		if c, ok := used[s.ID]; ok {
			return fail(fmt.Errorf("campaign %s was sent or scheduled to it, so a human decides what happens to it: %w", c, sandbox.ErrReachedPeople))
		}
		if c, err := t.savedCampaignUsing(ctx, s.ID); err != nil {
			return fail(err)
		} else if c != "" {
			return fail(fmt.Errorf("the saved campaign %s goes to it; deleting the segment would change that campaign's audience: %w", c, sandbox.ErrConflict))
		}
		if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.segmentsPath() + "/" + url.PathEscape(m.LiveID)}); err != nil && rest.StatusOf(err) != http.StatusNotFound {
			return fail(mapErr(err, t.name))
		}
		t.log.Info("mailchimp: discarded a segment no artifact is bound to", "target", t.name, "segment_id", m.LiveID, "marker", marker)
		return nil
	}
	return notSupported(m.Kind)
}

// listCampaigns pages through the audience's campaigns, newest first, at
// most sweepPages pages.
func (t *Target) listCampaigns(ctx context.Context) ([]campaignResponse, error) {
	const count = 1000
	var out []campaignResponse
	for p := 0; p < sweepPages; p++ {
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
			Path: fmt.Sprintf("/campaigns?list_id=%s&count=%d&offset=%d&sort_field=create_time&sort_dir=DESC&fields=total_items,campaigns.id,campaigns.status,campaigns.settings.title,campaigns.recipients.segment_opts",
				url.QueryEscape(t.cfg.ListID), count, p*count)})
		if err != nil {
			return nil, mapErr(err, t.name)
		}
		var page struct {
			Campaigns  []campaignResponse `json:"campaigns"`
			TotalItems int                `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return nil, fmt.Errorf("decoding campaigns: %w", err)
		}
		out = append(out, page.Campaigns...)
		if len(page.Campaigns) < count || (p+1)*count >= page.TotalItems {
			return out, nil
		}
	}
	t.log.Warn("mailchimp: the audience has more campaigns than lastmile looks through for strays; the oldest were not checked",
		"target", t.name, "checked", len(out))
	return out, nil
}

// listSegments pages through the audience's segments, at most sweepPages pages.
func (t *Target) listSegments(ctx context.Context) ([]segmentResponse, error) {
	const count = 1000
	var out []segmentResponse
	for p := 0; p < sweepPages; p++ {
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
			Path: fmt.Sprintf("%s?count=%d&offset=%d&fields=total_items,segments.id,segments.name,segments.type", t.segmentsPath(), count, p*count)})
		if err != nil {
			return nil, mapErr(err, t.name)
		}
		var page struct {
			Segments   []segmentResponse `json:"segments"`
			TotalItems int               `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return nil, fmt.Errorf("decoding segments: %w", err)
		}
		out = append(out, page.Segments...)
		if len(page.Segments) < count || (p+1)*count >= page.TotalItems {
			return out, nil
		}
	}
	t.log.Warn("mailchimp: the audience has more segments than lastmile looks through for strays; the rest were not checked",
		"target", t.name, "checked", len(out))
	return out, nil
}

// segmentIDs returns the segments a campaign's segment_opts names: its
// saved_segment_id and the static segments of its conditions.
func segmentIDs(raw json.RawMessage) []int {
	if len(raw) == 0 {
		return nil
	}
	var o struct {
		SavedSegmentID int `json:"saved_segment_id"`
		Conditions     []struct {
			ConditionType string `json:"condition_type"`
			Value         any    `json:"value"`
		} `json:"conditions"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	var ids []int
	if o.SavedSegmentID != 0 {
		ids = append(ids, o.SavedSegmentID)
	}
	for _, c := range o.Conditions {
		if c.ConditionType != "StaticSegment" {
			continue
		}
		if f, ok := c.Value.(float64); ok {
			ids = append(ids, int(f))
		}
	}
	return ids
}

// segmentsSentTo maps each segment that a campaign of the audience was
// sent, is sending or is scheduled to, to one such campaign.
func (t *Target) segmentsSentTo(ctx context.Context) (map[int]string, error) {
	camps, err := t.listCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	used := map[int]string{}
	for _, c := range camps {
		if !campaignReached(c.Status) {
			continue
		}
		for _, id := range segmentIDs(c.Recipients.SegmentOpts) {
			used[id] = c.ID
		}
	}
	return used, nil
}

// savedCampaignUsing returns a saved campaign that goes to the segment, or "".
func (t *Target) savedCampaignUsing(ctx context.Context, id int) (string, error) {
	camps, err := t.listCampaigns(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range camps {
		if campaignReached(c.Status) {
			continue
		}
		for _, sid := range segmentIDs(c.Recipients.SegmentOpts) {
			if sid == id {
				return c.ID, nil
			}
		}
	}
	return "", nil
}
