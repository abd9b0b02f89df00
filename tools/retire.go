package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

type retireIn struct {
	ArtifactID string `json:"artifact_id" jsonschema:"minLength=1" jsonschema_description:"A live artifact (eml_…, seg_…, pg_…, wf_…)."`
	Action     string `json:"action" jsonschema:"enum=unschedule,enum=unpublish,enum=deactivate,enum=archive,enum=cancel" jsonschema_description:"unschedule a scheduled email; unpublish a page; deactivate a workflow; archive an email or segment on its platform; cancel withdraws a retirement staged before."`
}

type retireOut struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	CampaignID string `json:"campaign_id"`
	Action     string `json:"action"`
	Status     string `json:"status" jsonschema_description:"retirement staged, or the artifact's status after a cancel."`
	Target     string `json:"target"`
	Effect     string `json:"effect,omitempty" jsonschema_description:"What the platform does when the plan is promoted."`
	Next       string `json:"next"`
}

func retireTools(d deps) []Tool {
	return []Tool{spec[retireIn, retireOut]{
		name:  "retire_artifact",
		title: "Stage taking back something live",
		description: "Stage an unschedule (email scheduled), unpublish (page), deactivate (workflow) or archive (email, segment) of a LIVE artifact: nothing changes on the platform until a human approves the plan (plan_promotion) and you confirm it. " +
			"Staged work that never went live leaves its campaign with archive_artifact instead. Action cancel withdraws a staged retirement.",
		hints: hints{readOnly: false, destructive: false, idempotent: true, openWorld: false},
		run: func(ctx context.Context, _ mcp.CallToolRequest, in retireIn) (retireOut, string, error) {
			res, err := d.sb.StageRetire(ctx, actor(ctx), in.ArtifactID, in.Action)
			if err != nil {
				return retireOut{}, "", err
			}
			a := res.Artifact
			out := retireOut{ID: a.ID, Kind: string(a.Kind), CampaignID: a.CampaignID, Action: in.Action, Status: a.Status(), Target: a.Target, Effect: res.Effect,
				Next: fmt.Sprintf("Call plan_promotion with campaign_id %s: the plan shows the %s for a human to approve.", a.CampaignID, in.Action)}
			if res.Cancelled {
				out.Next = "Nothing is staged to take back; the next plan leaves it as it is."
				return out, fmt.Sprintf("Cancelled the retirement staged on %s %s.", a.Kind, a.ID), nil
			}
			return out, fmt.Sprintf("Staged: %s %s %s on %s — not done yet. %s", in.Action, a.Kind, a.ID, a.Target, res.Effect), nil
		},
	}.build(d)}
}
