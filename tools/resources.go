package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/sandbox"
)

// templateArg reads a URI template variable; mcp-go passes them as []string.
func templateArg(req mcp.ReadResourceRequest, name string) string {
	switch v := req.Params.Arguments[name].(type) {
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	case string:
		return v
	}
	return ""
}

func jsonContents(uri string, v any) ([]mcp.ResourceContents, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "application/json", Text: string(data)}}, nil
}

// addResources adds the resources (all of them read) and, when the server
// can write, the prompt that walks an agent through building a campaign.
func addResources(s *server.MCPServer, sb *sandbox.Sandbox, writes bool) {
	s.AddResource(mcp.NewResource("lastmile://policy", "Brand and compliance policy",
		mcp.WithResourceDescription("The brand tokens (colours, fonts, logo, footer identity), the defaults campaigns inherit (industry, markets, sender), the brand values a human still has to set with lastmile init, and every rule staged content is checked against before promotion. Read it before writing content."),
		mcp.WithMIMEType("text/markdown")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			p, err := sb.Policy()
			text := ""
			if err != nil {
				text = "# Policy\n\nThe policy file has errors, so nothing can be promoted until it is fixed:\n\n" + err.Error() + "\n"
			} else {
				text = p.Summary()
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/markdown", Text: text}}, nil
		})

	s.AddResourceTemplate(mcp.NewResourceTemplate("lastmile://campaigns/{id}", "Campaign",
		mcp.WithTemplateDescription("A campaign with its artifacts and their status; archived ones (archive_artifact) under archived."),
		mcp.WithTemplateMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			v, err := sb.GetCampaign(ctx, templateArg(req, "id"))
			if err != nil {
				return nil, err
			}
			return jsonContents(req.Params.URI, v)
		})

	s.AddResourceTemplate(mcp.NewResourceTemplate("lastmile://plans/{id}/preview", "Plan preview",
		mcp.WithTemplateDescription("A plan's finished campaign, rendered as the review page shows it (emails as a sample recipient sees them, segments, workflow diagrams, pages, findings), read-only, to show the human; approving happens on the review page."),
		mcp.WithTemplateMIMEType("text/html")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			doc, err := review.Preview(ctx, sb, templateArg(req, "id"))
			if err != nil {
				return nil, err
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/html", Text: doc}}, nil
		})

	s.AddResourceTemplate(mcp.NewResourceTemplate("lastmile://artifacts/{id}{?revision}", "Artifact",
		mcp.WithTemplateDescription("An email, segment, workflow or page with the full content of its current revision; ?revision=N for an older one."),
		mcp.WithTemplateMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			id, rev := templateArg(req, "id"), 0
			if v := templateArg(req, "revision"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("revision %q is not a revision number (1, 2, …)", v)
				}
				rev = n
			}
			v, err := sb.GetArtifact(ctx, id, rev)
			if err != nil {
				return nil, err
			}
			return jsonContents(req.Params.URI, v)
		})

	s.AddResourceTemplate(mcp.NewResourceTemplate("lastmile://artifacts/{id}/metrics{?limit}", "Metrics history",
		mcp.WithTemplateDescription("Every metrics snapshot fetch_metrics kept for a live email, page or workflow, oldest first: its figures over time; ?limit=N for the first N (default 1000)."),
		mcp.WithTemplateMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			limit := 1000
			if v := templateArg(req, "limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 10000 {
					return nil, fmt.Errorf("limit %q is not a number from 1 to 10000", v)
				}
				limit = n
			}
			id := templateArg(req, "id")
			if _, err := sb.GetArtifact(ctx, id, 0); err != nil {
				return nil, err
			}
			hist, err := sb.MetricsHistory(ctx, id, limit)
			if err != nil {
				return nil, err
			}
			if hist == nil {
				hist = []sandbox.ArtifactMetrics{}
			}
			return jsonContents(req.Params.URI, map[string]any{"artifact_id": id, "snapshots": hist})
		})

	s.AddResource(mcp.NewResource("lastmile://insights", "Insights",
		mcp.WithResourceDescription("What worked in this workspace's own emails (as get_insights answers): rates by subject, send time, segment, CTA and template against the rest, with sample sizes and 95% Wilson intervals, and only the differences whose intervals separate."),
		mcp.WithMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			ins, err := sb.Insights(ctx)
			if err != nil {
				return nil, err
			}
			return jsonContents(req.Params.URI, ins)
		})

	if !writes {
		return
	}
	s.AddPrompt(mcp.NewPrompt("build_campaign",
		mcp.WithPromptDescription("Walk through building a campaign with lastmile, from brief to approved promotion."),
		mcp.WithArgument("brief", mcp.RequiredArgument(), mcp.ArgumentDescription("What the campaign is for, for whom, and when."))),
		func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			brief := req.Params.Arguments["brief"]
			text := "Build this campaign with lastmile: " + brief + "\n\n" + instructions
			if note, err := sb.HistoryNote(ctx, ""); err == nil && note != "" {
				text += "\n\n" + note + " (get_insights has the rest.)"
			}
			text += "\n\nWork step by step, show me the plan_promotion summary, and stop for my approval before confirm_promotion."
			return mcp.NewGetPromptResult("Build a campaign", []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
		})
}
