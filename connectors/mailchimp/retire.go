package mailchimp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// retireEffects says what Mailchimp does on each retirement, for the
// approver: Mailchimp's words, and what cannot be had back.
var retireEffects = map[sandbox.Kind]map[string]string{
	sandbox.KindEmail: {
		sandbox.OpUnschedule: "Mailchimp unschedules the campaign: it goes back to a draft (status save) and goes to nobody",
		sandbox.OpArchive: "Mailchimp has no archive for campaigns: the campaign is deleted for good (unscheduled first if scheduled), " +
			"a sent one with its report and archive page; the people it reached keep the email, and lastmile keeps the metrics it read",
	},
	sandbox.KindSegment: {
		sandbox.OpArchive: "Mailchimp has no archive for segments: the segment (or tag) is deleted for good; " +
			"its contacts stay in the audience and sent campaigns keep their reports",
	},
}

// CanRetire: a campaign can be unscheduled or deleted, a segment deleted.
// The connector holds no pages or workflows, so it has nothing of them to
// take back.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if e, ok := retireEffects[k][op]; ok {
		return e, nil
	}
	switch k {
	case sandbox.KindPage, sandbox.KindWorkflow:
		return "", fmt.Errorf("mailchimp cannot %s a %s: lastmile's Mailchimp connector holds no %ss: %w", op, k, k, sandbox.ErrNotSupported)
	}
	return "", fmt.Errorf("mailchimp cannot %s a %s: %w", op, k, sandbox.ErrNotSupported)
}

// Retire takes op on the live campaign or segment. Each op looks at what
// is live first, so taking it again does nothing: a campaign already back
// in draft is not unscheduled again, and one already deleted (a 404) is
// gone as asked.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	if live.ID == "" {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: %s %s %s: no live id: nothing of it is on Mailchimp", op, obj.Kind, obj.ArtifactID)
	}
	switch {
	case obj.Kind == sandbox.KindEmail && op == sandbox.OpUnschedule:
		return t.unscheduleEmail(ctx, obj, live)
	case obj.Kind == sandbox.KindEmail:
		return t.deleteEmail(ctx, obj, live)
	default:
		return t.deleteSegment(ctx, obj, live)
	}
}

// retireName is how errors name the artifact: its name, else its id.
func retireName(obj sandbox.Object) string {
	switch {
	case obj.Email != nil && obj.Email.Name != "":
		return fmt.Sprintf("%q", obj.Email.Name)
	case obj.Segment != nil && obj.Segment.Name != "":
		return fmt.Sprintf("%q", obj.Segment.Name)
	}
	return obj.ArtifactID
}

// unscheduleEmail puts a scheduled campaign back to draft
// (POST /campaigns/{id}/actions/unschedule).
func (t *Target) unscheduleEmail(ctx context.Context, obj sandbox.Object, live sandbox.LiveState) (sandbox.LiveState, error) {
	fail := func(err error) (sandbox.LiveState, error) {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: unschedule email %s (campaign %s): %w", retireName(obj), live.ID, err)
	}
	c, found, err := t.getCampaign(ctx, live.ID)
	if err != nil {
		return fail(err)
	}
	if !found {
		return fail(fmt.Errorf("the campaign no longer exists in Mailchimp: there is nothing to unschedule"))
	}
	switch {
	case c.Status == "save" || c.Status == "paused":
		// Not scheduled (any more): nothing to do.
		return t.retiredState(ctx, c)
	case c.Status != "schedule":
		return fail(notUnschedulable(c))
	}
	c, err = t.unscheduleCampaign(ctx, c)
	if err != nil {
		return fail(err)
	}
	return t.retiredState(ctx, c)
}

// unscheduleCampaign unschedules c, which was scheduled when read, and
// returns it as it is after. A refused or failed request is settled by
// reading the status again: back in draft means done (an earlier attempt's
// unschedule landed); sent or sending means the send time came first.
func (t *Target) unscheduleCampaign(ctx context.Context, c campaignResponse) (campaignResponse, error) {
	// Idempotent: asking twice leaves it in draft either way, and a second
	// ask after the first landed is refused, which the status settles.
	_, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Idempotent: true, Path: t.campaignPath(c.ID) + "/actions/unschedule"})
	if err == nil {
		c.Status = "save"
		return c, nil
	}
	switch rest.StatusOf(err) {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return c, mapErr(err, t.name)
	case http.StatusNotFound:
		return c, fmt.Errorf("the campaign no longer exists in Mailchimp: %w", mapErr(err, t.name))
	}
	now, found, gerr := t.getCampaign(ctx, c.ID)
	switch {
	case gerr != nil:
		return c, fmt.Errorf("%w (and reading its status failed: %v)", mapErr(err, t.name), gerr)
	case !found:
		return c, fmt.Errorf("the campaign no longer exists in Mailchimp: %w", mapErr(err, t.name))
	case now.Status == "save" || now.Status == "paused":
		return now, nil
	case campaignSent(now.Status):
		return c, fmt.Errorf("%w: %w", notUnschedulable(now), mapErr(err, t.name))
	}
	return c, mapErr(err, t.name)
}

// notUnschedulable is why a campaign in c's status cannot be unscheduled.
func notUnschedulable(c campaignResponse) error {
	if campaignSent(c.Status) {
		when := ""
		if c.SendTime != "" {
			when = " at " + c.SendTime
		}
		return fmt.Errorf("its status in Mailchimp is %q: it went out%s, and a sent campaign cannot be unsent; archive it to delete it from Mailchimp (the people it reached keep it): %w",
			c.Status, when, sandbox.ErrConflict)
	}
	return fmt.Errorf("its status in Mailchimp is %q, which is not scheduled, so lastmile will not touch it; look at it in Mailchimp: %w", c.Status, sandbox.ErrConflict)
}

// retiredState is c's live state: the version hashes what lastmile
// controls, which an unschedule does not change.
func (t *Target) retiredState(ctx context.Context, c campaignResponse) (sandbox.LiveState, error) {
	content, err := t.getContent(ctx, c.ID)
	if err != nil {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: reading campaign %s: %w", c.ID, err)
	}
	return t.campaignState(c, campaignVersion(c, content)), nil
}

// deleteEmail deletes the campaign (DELETE /campaigns/{id}): Mailchimp
// has no archive for campaigns. A scheduled one is unscheduled first; one
// sending now is left to finish.
func (t *Target) deleteEmail(ctx context.Context, obj sandbox.Object, live sandbox.LiveState) (sandbox.LiveState, error) {
	fail := func(err error) (sandbox.LiveState, error) {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: archive email %s (delete campaign %s): %w", retireName(obj), live.ID, err)
	}
	gone := sandbox.LiveState{ID: live.ID, Status: "deleted"}
	c, found, err := t.getCampaign(ctx, live.ID)
	if err != nil {
		return fail(err)
	}
	if !found {
		return gone, nil
	}
	switch c.Status {
	case "sending":
		return fail(fmt.Errorf("its status in Mailchimp is \"sending\", and a campaign cannot be deleted while it sends; confirm the plan again once it is sent: %w", sandbox.ErrConflict))
	case "schedule":
		if _, err := t.unscheduleCampaign(ctx, c); err != nil {
			return fail(fmt.Errorf("unscheduling it before deleting it: %w", err))
		}
	}
	_, err = t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.campaignPath(live.ID)})
	switch {
	case err == nil, rest.StatusOf(err) == http.StatusNotFound:
		t.log.Info("mailchimp: deleted a campaign lastmile made, as a promoted plan asked", "target", t.name, "campaign_id", live.ID, "status_was", c.Status)
		return gone, nil
	case rest.StatusOf(err) == http.StatusBadRequest:
		return fail(fmt.Errorf("%w (its status was %q): %w", mapErr(err, t.name), c.Status, sandbox.ErrConflict))
	}
	return fail(mapErr(err, t.name))
}

// deleteSegment deletes the segment (DELETE /lists/{list_id}/segments/{id}):
// Mailchimp has no archive for segments. A 404 is a segment gone already.
func (t *Target) deleteSegment(ctx context.Context, obj sandbox.Object, live sandbox.LiveState) (sandbox.LiveState, error) {
	_, err := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Path: t.segmentsPath() + "/" + url.PathEscape(live.ID)})
	if err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: archive segment %s (delete segment %s of audience %s): %w", retireName(obj), live.ID, t.cfg.ListID, mapErr(err, t.name))
	}
	if err == nil {
		t.log.Info("mailchimp: deleted a segment lastmile made, as a promoted plan asked", "target", t.name, "segment_id", live.ID)
	}
	return sandbox.LiveState{ID: live.ID, Status: "deleted"}, nil
}
