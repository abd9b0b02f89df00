package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// stagedOut is the result of every write tool.
type stagedOut struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	CampaignID    string   `json:"campaign_id"`
	Revision      int      `json:"revision"`
	Staged        bool     `json:"staged"`
	Live          bool     `json:"live"`
	Unchanged     bool     `json:"unchanged,omitempty" jsonschema_description:"True when the content equals the current revision: nothing new was staged."`
	Status        string   `json:"status" jsonschema_description:"staged, live, changed since live, retirement staged (retire_artifact), or retired."`
	Target        string   `json:"target"`
	EstimatedSize *int     `json:"estimated_size,omitempty" jsonschema_description:"Members the segment has now, when its target can count."`
	Governance    string   `json:"governance" jsonschema_description:"One-line result of the brand and compliance checks; check_campaign gives the findings."`
	Notes         []string `json:"notes,omitempty"`
	// History is what this workspace's own results say about emails to
	// the audience's first segment (create_email), when there are any.
	History string `json:"history,omitempty"`
	Next    string `json:"next"`
}

func (d deps) staged(ctx context.Context, res *sandbox.StageResult) (stagedOut, string, error) {
	a := res.Artifact
	out := stagedOut{
		ID: a.ID, Kind: string(a.Kind), CampaignID: a.CampaignID, Revision: a.Revision, Staged: true,
		Live: a.Status() == sandbox.StatusLive, Unchanged: res.Unchanged, Status: a.Status(), Target: a.Target,
		EstimatedSize: res.EstimatedSize, Notes: res.Notes,
		Governance: d.sb.StagedGovernanceLine(ctx, res),
		Next:       fmt.Sprintf("When the campaign is ready, call plan_promotion with campaign_id %s.", a.CampaignID),
	}
	what := fmt.Sprintf("Staged %s %s revision %d", a.Kind, a.ID, a.Revision)
	if res.Unchanged {
		what = fmt.Sprintf("Unchanged: %s %s is already at revision %d with this content", a.Kind, a.ID, a.Revision)
	}
	size := ""
	if res.EstimatedSize != nil {
		size = fmt.Sprintf(" (%d members now)", *res.EstimatedSize)
	}
	return out, fmt.Sprintf("%s%s — not live. %s", what, size, out.Governance), nil
}

type createEmailIn struct {
	CampaignID  string           `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	EmailID     string           `json:"email_id,omitempty" jsonschema_description:"An email (eml_…) to replace with a new revision (every field); omit for a new one."`
	Name        string           `json:"name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Internal name of the email."`
	Subject     string           `json:"subject" jsonschema:"minLength=1,maxLength=250" jsonschema_description:"Subject line recipients see."`
	PreviewText string           `json:"preview_text,omitempty" jsonschema:"maxLength=250" jsonschema_description:"Preheader shown after the subject in the inbox."`
	FromName    string           `json:"from_name" jsonschema:"minLength=1,maxLength=100" jsonschema_description:"Sender name; the policy's default (lastmile://policy) when it has one."`
	FromEmail   string           `json:"from_email" jsonschema:"minLength=3" jsonschema_description:"Sender address; likewise the policy's default."`
	ReplyTo     string           `json:"reply_to,omitempty" jsonschema_description:"Reply-to address; default the sender."`
	HTML        string           `json:"html,omitempty" jsonschema_description:"The full email HTML (at most 1 MB)."`
	Blocks      []content.Block  `json:"blocks,omitempty" jsonschema_description:"Content blocks, rendered as responsive HTML in the brand's style with a compliant footer. Give html or blocks."`
	Text        string           `json:"text,omitempty" jsonschema_description:"Plain-text part; derived from the HTML when omitted."`
	Audience    sandbox.Audience `json:"audience,omitempty" jsonschema_description:"Segments it goes to at promotion (include minus exclude); omit for an email only a workflow sends."`
	SendAt      string           `json:"send_at,omitempty" jsonschema:"format=date-time" jsonschema_description:"When to send (RFC 3339, future); omit: at confirmation."`
	Target      string           `json:"target,omitempty" jsonschema_description:"Target overriding the campaign's."`
	// Send windows and time zones (issue 18 item 6).
	SendWindow        *sandbox.SendWindow `json:"send_window,omitempty" jsonschema_description:"With send_at: hours and days it may go out; a send_at outside moves forward to the next opening."`
	RecipientTimeZone bool                `json:"recipient_time_zone,omitempty" jsonschema_description:"With send_at: each recipient gets it at send_at's date and clock time as written, in their zone (contact property timezone); no valid zone: send_window.time_zone, else send_at's offset."`
	ABTest            *sandbox.ABTest     `json:"ab_test,omitempty" jsonschema_description:"An A/B test of a broadcast (needs audience): the email is variant a; test_percent of the audience gets the variants, the winner by opens or clicks after decide_after goes to the rest."`
}

type buildSegmentIn struct {
	CampaignID      string              `json:"campaign_id,omitempty" jsonschema_description:"Campaign id (cmp_…)."`
	Scope           string              `json:"scope,omitempty" jsonschema:"enum=campaign,enum=workspace" jsonschema_description:"workspace (no campaign_id): for any campaign to use; plan it as campaign cmp_workspace."`
	SegmentID       string              `json:"segment_id,omitempty" jsonschema_description:"A segment (seg_…) to revise; omit for a new one."`
	Name            string              `json:"name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Segment name; unique helps platforms that key lists by name."`
	Match           string              `json:"match,omitempty" jsonschema:"enum=all,enum=any" jsonschema_description:"all: every condition and group must hold (default); any: at least one."`
	Conditions      []sandbox.Condition `json:"conditions,omitempty" jsonschema_description:"Tests on contact properties."`
	Groups          []sandbox.Group     `json:"groups,omitempty" jsonschema_description:"Nested groups of conditions, each with its own match."`
	IncludeSegments []string            `json:"include_segments,omitempty" jsonschema_description:"Segments (seg_…) whose members are also in."`
	ExcludeSegments []string            `json:"exclude_segments,omitempty" jsonschema_description:"Segments (seg_…) whose members are left out."`
	StaticEmails    []string            `json:"static_emails,omitempty" jsonschema:"maxItems=10000" jsonschema_description:"Addresses always included."`
	Target          string              `json:"target,omitempty" jsonschema_description:"Target overriding the campaign's."`
}

type configureWorkflowIn struct {
	CampaignID string          `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	WorkflowID string          `json:"workflow_id,omitempty" jsonschema_description:"A workflow (wf_…) to revise; omit for a new one."`
	Name       string          `json:"name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Workflow name."`
	Trigger    sandbox.Trigger `json:"trigger" jsonschema_description:"What enrols a contact."`
	Steps      []sandbox.Step  `json:"steps" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Steps; the first is the entry; loops need a wait."`
	Activate   bool            `json:"activate,omitempty" jsonschema_description:"Switch it on when promoted (it enrols and sends); default off."`
	Reenrol    bool            `json:"reenrol,omitempty" jsonschema_description:"A finished contact enters again when the trigger fires anew; default off."`
	Target     string          `json:"target,omitempty" jsonschema_description:"Target overriding the campaign's."`
}

type publishPageIn struct {
	CampaignID      string          `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	PageID          string          `json:"page_id,omitempty" jsonschema_description:"A page (pg_…) to revise; omit for a new one."`
	Title           string          `json:"title" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Page title."`
	Slug            string          `json:"slug" jsonschema:"minLength=1,maxLength=100" jsonschema_description:"URL path: a-z, 0-9 and hyphens, e.g. spring-launch; unique per target."`
	HTML            string          `json:"html,omitempty" jsonschema_description:"The page HTML (at most 1 MB)."`
	Blocks          []content.Block `json:"blocks,omitempty" jsonschema_description:"Content blocks, rendered as clean HTML. Give html or blocks."`
	MetaDescription string          `json:"meta_description,omitempty" jsonschema:"maxLength=300" jsonschema_description:"Search-result description."`
	Form            *content.Form   `json:"form,omitempty" jsonschema_description:"A form; a form_submission workflow can start from it."`
	PublishAt       string          `json:"publish_at,omitempty" jsonschema:"format=date-time" jsonschema_description:"When it goes public (RFC 3339, future); omit: at confirmation."`
	Target          string          `json:"target,omitempty" jsonschema_description:"Target overriding the campaign's."`
}

type adBudgetIn struct {
	Period   string `json:"period" jsonschema:"enum=daily,enum=lifetime" jsonschema_description:"daily: an average per day; lifetime: for the whole flight (needs end_date)."`
	Amount   string `json:"amount" jsonschema:"minLength=1" jsonschema_description:"In currency units, e.g. \"150.00\"."`
	Currency string `json:"currency" jsonschema:"minLength=3,maxLength=3" jsonschema_description:"ISO 4217, the ad account's, e.g. USD."`
}

type adIn struct {
	Headlines    []string `json:"headlines,omitempty" jsonschema_description:"Google: 3–15 headlines of up to 30 characters."`
	Descriptions []string `json:"descriptions,omitempty" jsonschema_description:"Google: 2–4 descriptions of up to 90."`
	Path1        string   `json:"path1,omitempty" jsonschema_description:"Google: display path, up to 15."`
	Path2        string   `json:"path2,omitempty" jsonschema_description:"Google: after path1, up to 15."`
	PrimaryText  string   `json:"primary_text,omitempty" jsonschema_description:"Meta: the text above the image."`
	Headline     string   `json:"headline,omitempty" jsonschema_description:"Meta: the line under the image."`
	Description  string   `json:"description,omitempty" jsonschema_description:"Meta."`
	ImageURL     string   `json:"image_url,omitempty" jsonschema_description:"Meta: https:// image."`
	CallToAction string   `json:"call_to_action,omitempty" jsonschema_description:"Meta: e.g. LEARN_MORE (default), SHOP_NOW, SIGN_UP."`
	FinalURL     string   `json:"final_url,omitempty" jsonschema_description:"https:// landing page; or page_id."`
	PageID       string   `json:"page_id,omitempty" jsonschema_description:"A page (pg_…): its live URL, resolved at promotion."`
}

type adGroupIn struct {
	Name     string            `json:"name" jsonschema:"minLength=1" jsonschema_description:"Unique in the campaign."`
	MaxCPC   string            `json:"max_cpc,omitempty" jsonschema_description:"Most per click, currency units."`
	Keywords []sandbox.Keyword `json:"keywords,omitempty" jsonschema_description:"Google: {text, match: exact|phrase|broad}."`
	Ads      []adIn            `json:"ads" jsonschema:"minItems=1" jsonschema_description:"The group's ads."`
}

type buildAdCampaignIn struct {
	CampaignID       string      `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
	AdID             string      `json:"ad_id,omitempty" jsonschema_description:"An ad campaign (ad_…) to revise (budget, dates, copy); omit for a new one."`
	Name             string      `json:"name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"Campaign name on the platform."`
	Objective        string      `json:"objective" jsonschema:"enum=traffic,enum=leads,enum=sales,enum=awareness" jsonschema_description:"What it is bought for."`
	Budget           adBudgetIn  `json:"budget" jsonschema_description:"The most it may spend."`
	StartDate        string      `json:"start_date" jsonschema:"format=date" jsonschema_description:"First day it may spend (YYYY-MM-DD, the account's zone)."`
	EndDate          string      `json:"end_date,omitempty" jsonschema:"format=date" jsonschema_description:"Last day; omit for no end."`
	Locations        []string    `json:"locations" jsonschema:"minItems=1" jsonschema_description:"Countries, ISO 3166-1 alpha-2."`
	Languages        []string    `json:"languages,omitempty" jsonschema_description:"ISO 639-1, e.g. en."`
	AudienceSegments []string    `json:"audience_segments,omitempty" jsonschema_description:"Segments (seg_…) uploaded as customer lists, where the platform and consent allow."`
	AdGroups         []adGroupIn `json:"ad_groups" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Google ad groups, Meta ad sets."`
	Enable           bool        `json:"enable,omitempty" jsonschema_description:"Start spending as the plan's last step; default: created paused."`
	Target           string      `json:"target,omitempty" jsonschema_description:"A google_ads or meta target, if not the campaign's."`
}

func (in buildAdCampaignIn) input() sandbox.AdCampaignInput {
	out := sandbox.AdCampaignInput{
		CampaignID: in.CampaignID, AdID: in.AdID, Name: in.Name, Objective: in.Objective,
		Budget:    sandbox.AdBudget{Period: in.Budget.Period, Amount: in.Budget.Amount, Currency: in.Budget.Currency},
		StartDate: in.StartDate, EndDate: in.EndDate, Locations: in.Locations, Languages: in.Languages,
		AudienceSegments: in.AudienceSegments, Enable: in.Enable, Target: in.Target,
	}
	for _, g := range in.AdGroups {
		og := sandbox.AdGroup{Name: g.Name, MaxCPC: g.MaxCPC, Keywords: g.Keywords}
		for _, a := range g.Ads {
			og.Ads = append(og.Ads, sandbox.Ad{Headlines: a.Headlines, Descriptions: a.Descriptions, Path1: a.Path1, Path2: a.Path2,
				PrimaryText: a.PrimaryText, Headline: a.Headline, Description: a.Description, ImageURL: a.ImageURL, CallToAction: a.CallToAction,
				FinalURL: a.FinalURL, PageID: a.PageID})
		}
		out.Groups = append(out.Groups, og)
	}
	return out
}

var workflowDocs = map[string]string{
	"trigger.type":                 "segment_entry (segment_id), form_submission (page_id's form), date_property (property), manual.",
	"trigger.segment_id":           "For segment_entry: the segment (seg_…).",
	"trigger.page_id":              "For form_submission: the page (pg_…).",
	"trigger.property":             "For date_property: a date property, e.g. renewal_date.",
	"steps[].id":                   "Unique step id, e.g. wait_2d.",
	"steps[].type":                 "send_email | wait | branch | add_to_segment | remove_from_segment | set_property | exit.",
	"steps[].email_id":             "For send_email: the email (eml_…).",
	"steps[].duration":             "For wait: e.g. \"2d\", \"36h\", \"1d12h\", \"90m\".",
	"steps[].condition":            "For branch: one of {segment_id}, {property, operator, value}, {engagement, email_id or page_id}.",
	"steps[].then":                 "For branch: the step if it holds.",
	"steps[].else":                 "For branch: the step if not.",
	"steps[].segment_id":           "For add_to_segment, remove_from_segment: a static segment (seg_…).",
	"steps[].property":             "For set_property: the contact property.",
	"steps[].value":                "For set_property: a string, number or boolean.",
	"steps[].next":                 "The next step's id; omit to end the path.",
	"steps[].condition.value":      "String, number or boolean; a list for in/not_in.",
	"steps[].condition.operator":   "As in build_segment conditions.",
	"steps[].condition.property":   "The contact property.",
	"steps[].condition.segment_id": "The segment (seg_…).",
	"steps[].condition.engagement": "opened or clicked email_id, or submitted page_id's form, since enrolling.",
	"steps[].condition.email_id":   "The email (eml_…).",
	"steps[].condition.page_id":    "The page (pg_…).",
}

var formDocs = map[string]string{
	"form.fields":            "The fields, at most 30.",
	"form.fields[].name":     "Field name: lower-case letters, digits and _, starting with a letter, e.g. email.",
	"form.fields[].label":    "Label shown to visitors.",
	"form.fields[].type":     "text, email, tel, number, textarea or checkbox (never pre-checked).",
	"form.fields[].required": "Whether the field must be filled in.",
	"form.submit_label":      "Submit button label.",
	"form.success_message":   "Shown after a successful submission.",
}

func (in createEmailIn) input() sandbox.EmailInput {
	return sandbox.EmailInput{
		CampaignID: in.CampaignID, EmailID: in.EmailID, Name: in.Name, Subject: in.Subject, PreviewText: in.PreviewText,
		FromName: in.FromName, FromEmail: in.FromEmail, ReplyTo: in.ReplyTo, HTML: in.HTML, Blocks: in.Blocks, Text: in.Text,
		Audience: in.Audience, SendAt: in.SendAt, Target: in.Target,
		SendWindow: in.SendWindow, RecipientTimeZone: in.RecipientTimeZone, ABTest: in.ABTest,
	}
}

func (in buildSegmentIn) input() sandbox.SegmentInput {
	return sandbox.SegmentInput{
		CampaignID: in.CampaignID, SegmentID: in.SegmentID, Name: in.Name, Match: in.Match, Conditions: in.Conditions,
		Groups: in.Groups, IncludeSegments: in.IncludeSegments, ExcludeSegments: in.ExcludeSegments, StaticEmails: in.StaticEmails, Target: in.Target, Scope: in.Scope,
	}
}

func (in configureWorkflowIn) input() sandbox.WorkflowInput {
	return sandbox.WorkflowInput{
		CampaignID: in.CampaignID, WorkflowID: in.WorkflowID, Name: in.Name, Trigger: in.Trigger, Steps: in.Steps, Activate: in.Activate, Reenrol: in.Reenrol, Target: in.Target,
	}
}

func (in publishPageIn) input() sandbox.PageInput {
	return sandbox.PageInput{
		CampaignID: in.CampaignID, PageID: in.PageID, Title: in.Title, Slug: in.Slug, HTML: in.HTML, Blocks: in.Blocks,
		MetaDescription: in.MetaDescription, Form: in.Form, PublishAt: in.PublishAt, Target: in.Target,
	}
}

func stagingTools(d deps) []Tool {
	return []Tool{
		spec[createEmailIn, stagedOut]{
			name:        "create_email",
			title:       "Stage an email",
			description: "Stage an email in a campaign, from HTML or blocks, with its audience and send time; identical content stages nothing.",
			hints:       hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			nested: map[string]string{
				"audience.include":      "Segment ids (seg_…) of this campaign to send to.",
				"audience.exclude":      "Segment ids (seg_…) whose members never get it.",
				"send_window.start":     "Opens, HH:MM (24 h).",
				"send_window.end":       "Closes, HH:MM, after start.",
				"send_window.days":      "mon … sun; omit: every day.",
				"send_window.time_zone": "IANA zone of the window, e.g. Europe/Berlin; required without recipient_time_zone.",
			},
			check: func(ctx context.Context, in createEmailIn) error { return d.sb.CheckEmail(ctx, in.input()) },
			run: func(ctx context.Context, _ mcp.CallToolRequest, in createEmailIn) (stagedOut, string, error) {
				res, err := d.sb.StageEmail(ctx, actor(ctx), in.input())
				if err != nil {
					return stagedOut{}, "", err
				}
				out, text, err := d.staged(ctx, res)
				if err == nil {
					out.History = d.historyNote(ctx, in.Audience)
					if out.History != "" {
						text += " " + out.History
					}
				}
				return out, text, err
			},
		}.build(d),

		spec[buildSegmentIn, stagedOut]{
			name:  "build_segment",
			title: "Stage a segment",
			description: "Stage a segment: property conditions, nested groups, included/excluded segments, static addresses. " +
				"estimated_size counts members when the target can.",
			hints: hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			check: func(ctx context.Context, in buildSegmentIn) error { return d.sb.CheckSegment(ctx, in.input()) },
			run: func(ctx context.Context, _ mcp.CallToolRequest, in buildSegmentIn) (stagedOut, string, error) {
				res, err := d.sb.StageSegment(ctx, actor(ctx), in.input())
				if err != nil {
					return stagedOut{}, "", err
				}
				return d.staged(ctx, res)
			},
		}.build(d),

		spec[configureWorkflowIn, stagedOut]{
			name:        "configure_workflow",
			title:       "Stage a workflow",
			description: "Stage an automation workflow: a trigger and a graph of steps, checked for dangling and unreachable steps and loops without a wait.",
			hints:       hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			nested:      workflowDocs,
			check:       func(ctx context.Context, in configureWorkflowIn) error { return d.sb.CheckWorkflow(ctx, in.input()) },
			run: func(ctx context.Context, _ mcp.CallToolRequest, in configureWorkflowIn) (stagedOut, string, error) {
				res, err := d.sb.StageWorkflow(ctx, actor(ctx), in.input())
				if err != nil {
					return stagedOut{}, "", err
				}
				return d.staged(ctx, res)
			},
		}.build(d),

		spec[publishPageIn, stagedOut]{
			name:        "publish_page",
			title:       "Stage a landing page",
			description: "Stage a landing page from HTML or blocks, with an optional form; despite the name, it goes public only through an approved plan.",
			hints:       hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			nested:      formDocs,
			check:       func(ctx context.Context, in publishPageIn) error { return d.sb.CheckPage(ctx, in.input()) },
			run: func(ctx context.Context, _ mcp.CallToolRequest, in publishPageIn) (stagedOut, string, error) {
				res, err := d.sb.StagePage(ctx, actor(ctx), in.input())
				if err != nil {
					return stagedOut{}, "", err
				}
				return d.staged(ctx, res)
			},
		}.build(d),

		spec[buildAdCampaignIn, stagedOut]{
			name:  "build_ad_campaign",
			title: "Stage an ad campaign",
			description: "Stage a paid campaign on one Google Ads or Meta target: budget, dates, locations, ad groups and ads. " +
				"Promotion creates it paused; the plan states its maximum spend, and it spends only if enable is set and the plan is approved.",
			hints: hints{readOnly: false, destructive: false, idempotent: false, openWorld: false},
			nested: map[string]string{
				"ad_groups[].keywords[].text":  "The search phrase, up to 80 characters and 10 words.",
				"ad_groups[].keywords[].match": "exact, phrase or broad.",
			},
			check: func(ctx context.Context, in buildAdCampaignIn) error { return d.sb.CheckAdCampaign(ctx, in.input()) },
			run: func(ctx context.Context, _ mcp.CallToolRequest, in buildAdCampaignIn) (stagedOut, string, error) {
				res, err := d.sb.StageAdCampaign(ctx, actor(ctx), in.input())
				if err != nil {
					return stagedOut{}, "", err
				}
				out, text, err := d.staged(ctx, res)
				if err == nil && res.Revision != nil && res.Revision.Ad != nil {
					spend := "Once running it may spend " + res.Revision.Ad.MaxSpend().Text + "."
					if !res.Revision.Ad.Enable {
						spend = "It will be created paused (enable is off); running, it could spend " + res.Revision.Ad.MaxSpend().Text + "."
					}
					out.Notes = append(out.Notes, spend)
					text += " " + spend
				}
				return out, text, err
			},
		}.build(d),
	}
}

// historyNote is the "from your history" note for an email to aud: about
// its first segment, by name. A failure to read the history is logged and
// leaves the note out: staging succeeded.
func (d deps) historyNote(ctx context.Context, aud sandbox.Audience) string {
	segment := ""
	if len(aud.Include) > 0 {
		segment = aud.Include[0]
	}
	note, err := d.sb.HistoryNote(ctx, segment)
	if err != nil {
		d.log.Warn("history note", "err", err)
		return ""
	}
	return note
}
