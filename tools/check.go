package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

type checkIn struct {
	CampaignID string `json:"campaign_id,omitempty" jsonschema_description:"A campaign (cmp_…), all of it; or give artifact_id."`
	ArtifactID string `json:"artifact_id,omitempty" jsonschema_description:"One artifact (eml_…, seg_…, wf_…, pg_…)."`
}

type checkOut struct {
	Findings    []governance.Finding `json:"findings"`
	Errors      int                  `json:"errors"`
	Warnings    int                  `json:"warnings"`
	Suggestions int                  `json:"suggestions"`
	Passed      bool                 `json:"passed" jsonschema_description:"True when nothing blocks promotion (no error-level finding)."`
	PolicyHash  string               `json:"policy_hash"`
	Configured  bool                 `json:"policy_configured"`
	BrandUnset  []string             `json:"brand_unset,omitempty" jsonschema_description:"Brand values the policy does not set (brand.footer.company, postal_address, contact_url). Only a human can set them, by running lastmile init; never invent them."`
}

type sendTestIn struct {
	ArtifactID string   `json:"artifact_id" jsonschema_description:"The email (eml_…)." jsonschema:"minLength=1"`
	To         []string `json:"to" jsonschema_description:"Addresses on the policy's test_sends seed list or internal domains." jsonschema:"minItems=1,maxItems=10"`
}

type sendTestOut struct {
	sandbox.TestSendResult
}

func checkTools(d deps) []Tool {
	return []Tool{spec[checkIn, checkOut]{
		name:  "check_campaign",
		title: "Check brand and compliance",
		description: "Check staged content as it will go live (UTM applied) against the policy (lastmile://policy). " +
			"Findings have rule, level (error blocks promotion; warning needs the approver's acknowledgement; suggestion), artifact, field, line, column, excerpt and fix.",
		hints: hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
		run: func(ctx context.Context, _ mcp.CallToolRequest, in checkIn) (checkOut, string, error) {
			if (in.CampaignID == "") == (in.ArtifactID == "") {
				return checkOut{}, "", &sandbox.ValidationError{What: "check", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "campaign_id", Message: "give exactly one of campaign_id and artifact_id"}}}
			}
			rep, pol, err := d.sb.Check(ctx, sandbox.CheckScope{CampaignID: in.CampaignID, ArtifactID: in.ArtifactID})
			if err != nil {
				return checkOut{}, "", err
			}
			out := checkOut{Findings: rep.Findings, Errors: rep.Errors, Warnings: rep.Warnings, Suggestions: rep.Suggestions, Passed: rep.Passed, PolicyHash: pol.Hash(), Configured: len(pol.Rules()) > 0, BrandUnset: pol.Unset()}
			if out.Findings == nil {
				out.Findings = []governance.Finding{}
			}
			if !out.Configured {
				return out, "No policy is configured, so nothing was checked. A human can add one: lastmile init writes a baseline policy with the company's brand.", nil
			}
			text := fmt.Sprintf("Governance: %s.", sandbox.Summarize(rep))
			if note := pol.UnsetNote(); note != "" {
				text += " " + note
			}
			return out, text, nil
		},
	}.build(d), spec[sendTestIn, sendTestOut]{
		name:  "send_test",
		title: "Send a test",
		description: "Send a proof of an email's current revision, marked as a test and never counted, to the team only (lastmile://policy test_sends). " +
			"No approval: nothing goes live. Refused while the email has governance errors unless the policy allows drafts.",
		hints: hints{readOnly: false, destructive: false, idempotent: false, openWorld: true},
		run: func(ctx context.Context, _ mcp.CallToolRequest, in sendTestIn) (sendTestOut, string, error) {
			res, err := d.sb.SendTest(ctx, actor(ctx), in.ArtifactID, in.To)
			if err != nil {
				return sendTestOut{}, "", err
			}
			return sendTestOut{*res}, fmt.Sprintf("Test of %s (revision %d) sent to %s through %s: %s.", res.ArtifactID, res.Revision, strings.Join(res.To, ", "), res.Target, res.Where), nil
		},
	}.build(d)}
}
