package hubspot

import (
	"context"
	"fmt"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// retireEffects say, in HubSpot's terms, what each retirement HubSpot's API
// can take does there. The approver reads them in the plan.
var retireEffects = map[sandbox.Kind]map[string]string{
	sandbox.KindEmail: {
		sandbox.OpUnschedule: "HubSpot cancels the scheduled send and keeps the email as a draft; once HubSpot has begun sending, it cannot be cancelled",
		sandbox.OpArchive:    "HubSpot archives the marketing email (a send still scheduled is cancelled first); what was sent stays sent",
	},
	sandbox.KindSegment: {
		sandbox.OpArchive: "HubSpot deletes the contact list, restorable in HubSpot for 90 days; its contacts stay in the CRM",
	},
	sandbox.KindWorkflow: {
		sandbox.OpDeactivate: "HubSpot turns the workflow off: it enrolls nobody new and enrolled contacts go no further while it is off",
	},
}

// errPageUnpublish is why HubSpot cannot unpublish a landing page through
// lastmile: CMS Pages v3 (and its 2026-03 successor) has routes to
// schedule, push a draft live and delete a page, none to take a published
// one back to draft, and it documents no write of state that does.
var errPageUnpublish = fmt.Errorf("hubspot: HubSpot's CMS Pages API cannot unpublish a landing page: it has no route that takes a published page back to draft (only schedule, push-live and delete); unpublish it in HubSpot's page editor: %w", sandbox.ErrNotSupported)

// CanRetire says whether HubSpot's API can take op on objects of kind k,
// and what HubSpot does then.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if k == sandbox.KindPage && op == sandbox.OpUnpublish {
		return "", errPageUnpublish
	}
	effect, ok := retireEffects[k][op]
	if !ok {
		return "", fmt.Errorf("hubspot: lastmile cannot %s a %s on HubSpot: %w", op, k, sandbox.ErrNotSupported)
	}
	if !t.Capabilities().Supports(k) {
		return "", fmt.Errorf("hubspot: %s: %w", t.capabilityProblemTo(op, k), sandbox.ErrNotSupported)
	}
	if k == sandbox.KindEmail && op == sandbox.OpUnschedule {
		if p := t.portalInfo(); !p.ProbedAt.IsZero() && !p.CanPublishEmail {
			why := "this portal lacks"
			if m := p.MissingScopes["publish"]; len(m) > 0 {
				why = "this connection lacks the scope " + strings.Join(m, ", ") + " that comes with them"
			}
			return "", fmt.Errorf("hubspot: HubSpot cancels a scheduled send through the API only for Marketing Hub Enterprise portals or with the transactional email add-on, which %s: unschedule the email in HubSpot: %w", why, sandbox.ErrNotSupported)
		}
	}
	return effect, nil
}

// Retire takes op on the live object. Each op reads the object first, so
// taking it again does nothing: a draft is not unscheduled again, a flow
// that is off is not saved again, and archiving what is gone succeeds.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	if live.ID == "" {
		return sandbox.LiveState{}, fmt.Errorf("hubspot: %s %s %s: it has no HubSpot id", op, obj.Kind, obj.ArtifactID)
	}
	switch {
	case obj.Kind == sandbox.KindEmail && op == sandbox.OpUnschedule:
		return t.unscheduleEmail(ctx, retireName(obj, live), live)
	case obj.Kind == sandbox.KindEmail && op == sandbox.OpArchive:
		return t.archiveEmail(ctx, retireName(obj, live), live)
	case obj.Kind == sandbox.KindSegment && op == sandbox.OpArchive:
		return t.archiveList(ctx, retireName(obj, live), live)
	case obj.Kind == sandbox.KindWorkflow && op == sandbox.OpDeactivate:
		return t.disableFlow(ctx, retireName(obj, live), live)
	}
	return sandbox.LiveState{}, fmt.Errorf("hubspot: lastmile cannot %s a %s on HubSpot: %w", op, obj.Kind, sandbox.ErrNotSupported)
}

// retireName is how errors name the object: the artifact's name, else the
// HubSpot id.
func retireName(obj sandbox.Object, live sandbox.LiveState) string {
	switch {
	case obj.Email != nil && obj.Email.Name != "":
		return quote(obj.Email.Name)
	case obj.Segment != nil && obj.Segment.Name != "":
		return quote(obj.Segment.Name)
	case obj.Workflow != nil && obj.Workflow.Name != "":
		return quote(obj.Workflow.Name)
	}
	return live.ID
}
