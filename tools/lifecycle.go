package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
)

// utmNested describes the utm object's fields, for create_campaign and
// update_campaign alike.
var utmNested = map[string]string{
	"utm.source":      "utm_source, e.g. newsletter.",
	"utm.medium":      "utm_medium of emails' links, e.g. email.",
	"utm.campaign":    "utm_campaign, e.g. spring_launch.",
	"utm.content":     "utm_content, after the artifact's id (eml_….hero), so clicks still credit the email or page.",
	"utm.term":        "utm_term, e.g. a paid keyword.",
	"utm.page_medium": "utm_medium of pages' links; default " + sandbox.DefaultPageMedium + " when medium is set.",
}

type updateCampaignIn struct {
	CampaignID string       `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	Name       string       `json:"name,omitempty" jsonschema:"maxLength=200" jsonschema_description:"New name."`
	Brief      string       `json:"brief,omitempty" jsonschema_description:"New brief."`
	Goal       string       `json:"goal,omitempty" jsonschema_description:"New goal."`
	Markets    []string     `json:"markets,omitempty" jsonschema_description:"The markets, replacing the list (ISO 3166-1 alpha-2)."`
	Industry   string       `json:"industry,omitempty" jsonschema_description:"New industry."`
	UTM        *sandbox.UTM `json:"utm,omitempty" jsonschema_description:"UTM parameters to change; the others are kept."`
}

type updateCampaignOut struct {
	ID          string           `json:"id"`
	Revision    int              `json:"revision"`
	Staged      bool             `json:"staged"`
	Unchanged   bool             `json:"unchanged,omitempty" jsonschema_description:"True when nothing given differs: nothing new was staged."`
	Changed     []string         `json:"changed,omitempty" jsonschema_description:"Fields this revision changed."`
	Campaign    sandbox.Campaign `json:"campaign"`
	Governance  string           `json:"governance" jsonschema_description:"Every artifact checked under the new settings; check_campaign gives the findings."`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Suggestions int              `json:"suggestions"`
	Next        string           `json:"next"`
}

type archiveArtifactIn struct {
	ArtifactID string `json:"artifact_id" jsonschema:"minLength=1" jsonschema_description:"The artifact (eml_…, seg_…, wf_…, pg_…); it must never have gone live."`
}

type archiveArtifactOut struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	Status     string `json:"status" jsonschema:"enum=archived"`
	Unchanged  bool   `json:"unchanged,omitempty" jsonschema_description:"True when it was archived already."`
	Next       string `json:"next"`
}

func lifecycleTools(d deps) []Tool {
	return []Tool{
		spec[updateCampaignIn, updateCampaignOut]{
			name:  "update_campaign",
			title: "Update a campaign",
			description: "Change a campaign's name, brief, goal, markets, industry or UTM; fields not given are kept. " +
				"Stages a new campaign revision: the next plan shows what it changes, and plans made before are stale. Rechecks every artifact.",
			hints:  hints{readOnly: false, destructive: false, idempotent: true, openWorld: false},
			nested: utmNested,
			run: func(ctx context.Context, _ mcp.CallToolRequest, in updateCampaignIn) (updateCampaignOut, string, error) {
				u := sandbox.CampaignUpdate{CampaignID: in.CampaignID, Name: in.Name, Brief: in.Brief, Goal: in.Goal, Markets: in.Markets, Industry: in.Industry}
				if in.UTM != nil {
					u.UTM = *in.UTM
				}
				res, err := d.sb.UpdateCampaign(ctx, actor(ctx), u)
				if err != nil {
					return updateCampaignOut{}, "", err
				}
				c := res.Campaign
				out := updateCampaignOut{ID: c.ID, Revision: c.Revision, Staged: true, Unchanged: res.Unchanged, Changed: res.Changed, Campaign: *c, Governance: res.Governance,
					Next: fmt.Sprintf("Fix any errors check_campaign lists, then call plan_promotion with campaign_id %s: a plan made before this revision is stale.", c.ID)}
				if r := res.Report; r != nil {
					out.Errors, out.Warnings, out.Suggestions = r.Errors, r.Warnings, r.Suggestions
				}
				what := fmt.Sprintf("Staged campaign %s revision %d (%s)", c.ID, c.Revision, strings.Join(res.Changed, ", "))
				if res.Unchanged {
					what = fmt.Sprintf("Unchanged: campaign %s is already at revision %d with these settings", c.ID, c.Revision)
				}
				return out, fmt.Sprintf("%s — not live. %s", what, res.Governance), nil
			},
		}.build(d),

		spec[archiveArtifactIn, archiveArtifactOut]{
			name:  "archive_artifact",
			title: "Archive an artifact",
			description: "Take an artifact that never went live out of its campaign: no longer listed, checked, planned or promoted; its revisions are kept (lastmile://campaigns/{id} lists it under archived; lastmile://artifacts/{id} reads it). " +
				"Refused for a live artifact (retire_artifact takes it back through a plan a human approves) and for one another artifact references.",
			hints: hints{readOnly: false, destructive: false, idempotent: true, openWorld: false},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in archiveArtifactIn) (archiveArtifactOut, string, error) {
				res, err := d.sb.ArchiveArtifact(ctx, actor(ctx), in.ArtifactID)
				if err != nil {
					return archiveArtifactOut{}, "", err
				}
				a := res.Artifact
				out := archiveArtifactOut{ID: a.ID, CampaignID: a.CampaignID, Status: a.Status(), Unchanged: res.Unchanged,
					Next: fmt.Sprintf("A plan made before that included it is stale: call plan_promotion with campaign_id %s again.", a.CampaignID)}
				what := fmt.Sprintf("Archived %s %s: out of campaign %s, revisions kept", a.Kind, a.ID, a.CampaignID)
				if res.Unchanged {
					what = fmt.Sprintf("Unchanged: %s %s was archived already", a.Kind, a.ID)
				}
				return out, what + ". Nothing live changed.", nil
			},
		}.build(d),
	}
}
