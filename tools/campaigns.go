package tools

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
)

type createCampaignIn struct {
	Name     string     `json:"name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Short campaign name, e.g. \"Spring launch 2027\"."`
	Brief    string     `json:"brief,omitempty" jsonschema_description:"What it is about and for whom, for reviewers."`
	Goal     string     `json:"goal,omitempty" jsonschema_description:"The outcome it should achieve, e.g. \"200 demo requests\"."`
	Markets  []string   `json:"markets,omitempty" jsonschema_description:"Countries it reaches (ISO 3166-1 alpha-2: US, GB, DE); compliance depends on them."`
	Industry string     `json:"industry,omitempty" jsonschema_description:"Industry, for policy rules: finserv, health, retail…"`
	Target   string     `json:"target,omitempty" jsonschema_description:"Target its artifacts go live on (local, hubspot…); default from the configuration."`
	UTM      *createUTM `json:"utm,omitempty" jsonschema_description:"UTM parameters added to every link at promotion."`
}

// createUTM is what create_campaign takes of the UTM: the three every
// campaign sets. update_campaign takes the rest (content, term,
// page_medium); keeping them out of here keeps tools/list in its budget.
type createUTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
}

type campaignOut struct {
	ID       string           `json:"id"`
	Staged   bool             `json:"staged"`
	Campaign sandbox.Campaign `json:"campaign"`
	Next     string           `json:"next"`
}

type getCampaignIn struct {
	CampaignID string `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	Cursor     string `json:"cursor,omitempty" jsonschema_description:"next_cursor of an earlier answer."`
}

// artifactsPerPage bounds get_campaign's answer: a campaign holds up to
// sandbox.MaxArtifactsPerCampgn artifacts.
const artifactsPerPage = 100

type liveOut struct {
	LiveID      string     `json:"live_id"`
	URL         string     `json:"url,omitempty"`
	Revision    int        `json:"revision"`
	PromotedAt  time.Time  `json:"promoted_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

type artifactOut struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Revision  int       `json:"revision"`
	Status    string    `json:"status" jsonschema:"enum=staged,enum=live,enum=changed since live,enum=retirement staged,enum=retired,enum=archived"`
	Target    string    `json:"target"`
	UpdatedAt time.Time `json:"updated_at"`
	Live      *liveOut  `json:"live,omitempty"`
}

type getCampaignOut struct {
	Campaign   sandbox.Campaign `json:"campaign"`
	Counts     map[string]int   `json:"counts" jsonschema_description:"Artifacts by kind and by status, over the whole campaign."`
	Artifacts  []artifactOut    `json:"artifacts" jsonschema_description:"One page, oldest first."`
	NextCursor string           `json:"next_cursor,omitempty" jsonschema_description:"Pass as cursor for the next page of artifacts."`
}

type listCampaignsIn struct {
	Cursor string `json:"cursor,omitempty" jsonschema_description:"next_cursor from the previous page; empty for the first page."`
	Limit  int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" jsonschema_description:"Campaigns per page (default 20, at most 100)."`
}

func artifactView(a *sandbox.Artifact) artifactOut {
	o := artifactOut{ID: a.ID, Kind: string(a.Kind), Name: a.Name, Revision: a.Revision, Status: a.Status(), Target: a.Target, UpdatedAt: a.UpdatedAt}
	if a.Live != nil {
		o.Live = &liveOut{LiveID: a.Live.LiveID, URL: a.Live.URL, Revision: a.Live.Revision, PromotedAt: a.Live.PromotedAt, SentAt: a.Live.SentAt, PublishedAt: a.Live.PublishedAt}
	}
	return o
}

func campaignTools(d deps) []Tool {
	return []Tool{
		spec[createCampaignIn, campaignOut]{
			name:  "create_campaign",
			title: "Create a campaign",
			description: "Create a campaign, the container for the emails, segments, workflows and pages you stage. " +
				"Read lastmile://policy first to write on-brand.",
			hints: hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			nested: map[string]string{
				"utm.source":   utmNested["utm.source"],
				"utm.medium":   "utm_medium, e.g. email.",
				"utm.campaign": utmNested["utm.campaign"],
			},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in createCampaignIn) (campaignOut, string, error) {
				ci := sandbox.CampaignInput{Name: in.Name, Brief: in.Brief, Goal: in.Goal, Markets: in.Markets, Industry: in.Industry, Target: in.Target}
				if in.UTM != nil {
					ci.UTM = sandbox.UTM{Source: in.UTM.Source, Medium: in.UTM.Medium, Campaign: in.UTM.Campaign}
				}
				c, err := d.sb.CreateCampaign(ctx, actor(ctx), ci)
				if err != nil {
					return campaignOut{}, "", err
				}
				next := fmt.Sprintf("Stage artifacts with campaign_id %s: build_segment, create_email, publish_page, configure_workflow, build_ad_campaign. Then plan_promotion.", c.ID)
				return campaignOut{ID: c.ID, Staged: true, Campaign: *c, Next: next},
					fmt.Sprintf("Created campaign %s %q (target %s). Staged only — nothing is live.", c.ID, c.Name, c.Target), nil
			},
		}.build(d),

		spec[getCampaignIn, getCampaignOut]{
			name:        "get_campaign",
			title:       "Get a campaign",
			description: "Get a campaign and its artifacts (kind, name, revision, target, status, where live), a page at a time; counts cover all.",
			hints:       hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
			cached:      true,
			run: func(ctx context.Context, _ mcp.CallToolRequest, in getCampaignIn) (getCampaignOut, string, error) {
				first, err := parseCursor(in.Cursor)
				if err != nil {
					return getCampaignOut{}, "", err
				}
				v, err := d.sb.GetCampaign(ctx, in.CampaignID)
				if err != nil {
					return getCampaignOut{}, "", err
				}
				out := getCampaignOut{Campaign: v.Campaign, Artifacts: []artifactOut{}, Counts: map[string]int{}}
				for i, a := range v.Artifacts {
					out.Counts[string(a.Kind)]++
					out.Counts[a.Status()]++
					switch n := i + 1; {
					case n < first:
					case len(out.Artifacts) < artifactsPerPage:
						out.Artifacts = append(out.Artifacts, artifactView(a))
					case out.NextCursor == "":
						out.NextCursor = strconv.Itoa(n)
					}
				}
				more := ""
				if out.NextCursor != "" {
					more = " More artifacts: pass next_cursor as cursor."
				}
				if n := len(v.Archived); n > 0 {
					// Counted, not listed: archived artifacts are out of the
					// campaign. The campaign's resource lists them (a
					// parameter here would not fit tools/list's budget).
					out.Counts[sandbox.StatusArchived] = n
					more += fmt.Sprintf(" %d archived, out of the campaign (lastmile://campaigns/%s lists them).", n, v.Campaign.ID)
				}
				return out, fmt.Sprintf("Campaign %s %q: %d artifacts (%d staged, %d live, %d changed since live).%s",
					v.Campaign.ID, v.Campaign.Name, len(v.Artifacts), out.Counts[sandbox.StatusStaged], out.Counts[sandbox.StatusLive], out.Counts[sandbox.StatusChanged], more), nil
			},
		}.build(d),

		spec[listCampaignsIn, sandbox.CampaignPage]{
			name:        "list_campaigns",
			title:       "List campaigns",
			description: "List campaigns, newest first, a page at a time (next_cursor).",
			hints:       hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
			cached:      true,
			run: func(ctx context.Context, _ mcp.CallToolRequest, in listCampaignsIn) (sandbox.CampaignPage, string, error) {
				p, err := d.sb.ListCampaigns(ctx, in.Cursor, in.Limit)
				if err != nil {
					return sandbox.CampaignPage{}, "", err
				}
				more := ""
				if p.NextCursor != "" {
					more = " More: pass next_cursor as cursor."
				}
				return *p, fmt.Sprintf("%d campaigns.%s", len(p.Campaigns), more), nil
			},
		}.build(d),
	}
}
