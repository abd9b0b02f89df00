// Package sandbox is lastmile's core: campaigns and their artifacts (emails,
// segments, workflows, pages) staged as immutable revisions, the plans that
// describe what promotion would change, human approvals bound to a plan's
// hash, and the journaled, exactly-once promotion through the Target port that
// connectors implement.
package sandbox

import (
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox/content"
)

// Kind is the kind of a staged artifact. IDs carry it as a prefix.
type Kind string

const (
	KindEmail    Kind = "email"
	KindSegment  Kind = "segment"
	KindWorkflow Kind = "workflow"
	KindPage     Kind = "page"
	KindAd       Kind = "ad" // an ad campaign on one ad platform (ads.go)
)

// Kinds in promotion order: what an artifact references is promoted first.
var Kinds = []Kind{KindSegment, KindEmail, KindPage, KindAd, KindWorkflow}

// UTM holds the campaign's tracking parameters, applied to every link of every
// email and page at promotion (a parameter a link already has is kept).
type UTM struct {
	Source string `json:"source,omitempty"`
	// Medium is the emails' utm_medium, and the pages' unless PageMedium
	// says otherwise (see PageMediumOf).
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	// Content is added to utm_content after the artifact's id
	// ("eml_….hero") when Campaign is set, so attribution still credits
	// the email or page a click came from; alone otherwise.
	Content string `json:"content,omitempty"`
	Term    string `json:"term,omitempty"`
	// PageMedium is utm_medium on pages' links: a page is not an email,
	// and analytics that group by medium should not count its visits as
	// email traffic.
	PageMedium string `json:"page_medium,omitempty"`
}

// DefaultPageMedium is pages' utm_medium when the campaign sets a medium
// but no page_medium.
const DefaultPageMedium = "landing_page"

// PageMediumOf is the utm_medium pages' links carry: PageMedium, else
// DefaultPageMedium when the campaign tags a medium at all, else none.
func (u UTM) PageMediumOf() string {
	switch {
	case u.PageMedium != "":
		return u.PageMedium
	case u.Medium != "":
		return DefaultPageMedium
	}
	return ""
}

// Campaign groups the artifacts that are planned and promoted together.
type Campaign struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Brief     string    `json:"brief,omitempty"`
	Goal      string    `json:"goal,omitempty"`
	Markets   []string  `json:"markets,omitempty"` // ISO 3166-1 alpha-2, upper case
	Industry  string    `json:"industry,omitempty"`
	Target    string    `json:"target"` // configured target name
	UTM       UTM       `json:"utm"`
	CreatedAt time.Time `json:"created_at"`
	// Revision counts update_campaign's changes; every revision is kept
	// (campaign_revisions). Campaigns stored before revisions read as 1.
	Revision  int        `json:"revision"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	// Cost is what the campaign cost, as a person said with lastmile cost,
	// for the report's return on it.
	Cost *outcomes.Money `json:"cost,omitempty"`
	// Workspace marks the campaign holding the workspace's segments
	// (WorkspaceID).
	Workspace bool `json:"workspace,omitempty"`
}

// Audience names the segments an email is sent to.
type Audience struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// Email is one marketing email as staged.
type Email struct {
	Name        string          `json:"name"`
	Subject     string          `json:"subject"`
	PreviewText string          `json:"preview_text,omitempty"`
	FromName    string          `json:"from_name"`
	FromEmail   string          `json:"from_email"`
	ReplyTo     string          `json:"reply_to,omitempty"`
	Blocks      []content.Block `json:"blocks,omitempty"` // the source when built from blocks
	HTML        string          `json:"html"`             // as given, or rendered from Blocks at staging
	Text        string          `json:"text"`             // as given, or derived from HTML at staging
	TextDerived bool            `json:"text_derived,omitempty"`
	Audience    Audience        `json:"audience"`
	SendAt      *time.Time      `json:"send_at,omitempty"`
	Target      string          `json:"target,omitempty"` // overrides the campaign's target
	// SendWindow moves a scheduled send forward into the hours and days
	// it allows (sendwindow.go).
	SendWindow *SendWindow `json:"send_window,omitempty"`
	// RecipientTimeZone sends each recipient the email at send_at's date
	// and clock time in their own zone (contact property timezone); SendAt
	// then keeps the offset it was written with.
	RecipientTimeZone bool `json:"recipient_time_zone,omitempty"`
	// ABTest sends variants of the email to a share of the audience and
	// the winner to the rest (abtest.go).
	ABTest *ABTest `json:"ab_test,omitempty"`
}

// Condition is one test on a contact property.
type Condition struct {
	Property string `json:"property"`
	Operator string `json:"operator"`
	Value    any    `json:"value,omitempty"` // string, number, bool, or []any for in/not_in
}

// Group is a nested set of conditions combined with Match.
type Group struct {
	Match      string      `json:"match,omitempty"` // all (default) | any
	Conditions []Condition `json:"conditions,omitempty"`
	Groups     []Group     `json:"groups,omitempty"`
}

// Segment selects contacts: the root group, plus other segments' members
// included or excluded, plus static addresses.
type Segment struct {
	Name            string   `json:"name"`
	Group                    // match, conditions, groups at the root
	IncludeSegments []string `json:"include_segments,omitempty"`
	ExcludeSegments []string `json:"exclude_segments,omitempty"`
	StaticEmails    []string `json:"static_emails,omitempty"`
	Target          string   `json:"target,omitempty"`
}

// Trigger starts a workflow.
type Trigger struct {
	Type      string `json:"type"` // segment_entry | form_submission | date_property | manual
	SegmentID string `json:"segment_id,omitempty"`
	PageID    string `json:"page_id,omitempty"`
	Property  string `json:"property,omitempty"`
}

// BranchCondition is what a branch step tests: membership of a segment, a
// property condition, or engagement since the contact was enrolled
// (opened or clicked an email, submitted a page's form).
type BranchCondition struct {
	SegmentID  string `json:"segment_id,omitempty"`
	Property   string `json:"property,omitempty"`
	Operator   string `json:"operator,omitempty"`
	Value      any    `json:"value,omitempty"`
	Engagement string `json:"engagement,omitempty"` // opened | clicked (email_id) | submitted (page_id)
	EmailID    string `json:"email_id,omitempty"`
	PageID     string `json:"page_id,omitempty"`
}

// Step is one node of a workflow graph. A step without Next ends its path.
type Step struct {
	ID        string           `json:"id"`
	Type      string           `json:"type"` // send_email | wait | branch | add_to_segment | remove_from_segment | set_property | exit
	EmailID   string           `json:"email_id,omitempty"`
	Duration  string           `json:"duration,omitempty"` // wait: "2d", "36h", "90m"
	Condition *BranchCondition `json:"condition,omitempty"`
	Then      string           `json:"then,omitempty"`
	Else      string           `json:"else,omitempty"`
	SegmentID string           `json:"segment_id,omitempty"`
	Property  string           `json:"property,omitempty"`
	Value     any              `json:"value,omitempty"`
	Next      string           `json:"next,omitempty"`
}

// Workflow is an automation: a trigger and a graph of steps.
type Workflow struct {
	Name    string  `json:"name"`
	Trigger Trigger `json:"trigger"`
	Steps   []Step  `json:"steps"`
	// Activate turns the workflow on at promotion; off, it is created disabled.
	Activate bool `json:"activate"`
	// Reenrol lets a contact who finished enter again when the trigger
	// fires anew for them; off, a contact goes through once.
	Reenrol bool   `json:"reenrol,omitempty"`
	Target  string `json:"target,omitempty"`
}

// Page is a landing page as staged.
type Page struct {
	Title           string          `json:"title"`
	Slug            string          `json:"slug"`
	Blocks          []content.Block `json:"blocks,omitempty"`
	HTML            string          `json:"html"` // full document: as given, or rendered from Blocks
	Body            string          `json:"body"` // body content only, for CMSs that wrap pages in their theme
	MetaDescription string          `json:"meta_description,omitempty"`
	Form            *content.Form   `json:"form,omitempty"`
	PublishAt       *time.Time      `json:"publish_at,omitempty"`
	Target          string          `json:"target,omitempty"`
}

// Revision is one immutable version of an artifact. Exactly one of Email,
// Segment, Workflow, Page, Ad is set, matching Kind.
type Revision struct {
	ArtifactID string      `json:"artifact_id"`
	Kind       Kind        `json:"kind"`
	CampaignID string      `json:"campaign_id"`
	Number     int         `json:"revision"`
	Hash       string      `json:"hash"` // sha256 of the content
	CreatedAt  time.Time   `json:"created_at"`
	Actor      string      `json:"actor"`
	Email      *Email      `json:"email,omitempty"`
	Segment    *Segment    `json:"segment,omitempty"`
	Workflow   *Workflow   `json:"workflow,omitempty"`
	Page       *Page       `json:"page,omitempty"`
	Ad         *AdCampaign `json:"ad,omitempty"`
}

// Name is the artifact's human name (a page's title).
func (r *Revision) Name() string {
	switch {
	case r.Email != nil:
		return r.Email.Name
	case r.Segment != nil:
		return r.Segment.Name
	case r.Workflow != nil:
		return r.Workflow.Name
	case r.Page != nil:
		return r.Page.Title
	case r.Ad != nil:
		return r.Ad.Name
	}
	return ""
}

// TargetOverride is the target the artifact names itself, if any.
func (r *Revision) TargetOverride() string {
	switch {
	case r.Email != nil:
		return r.Email.Target
	case r.Segment != nil:
		return r.Segment.Target
	case r.Workflow != nil:
		return r.Workflow.Target
	case r.Page != nil:
		return r.Page.Target
	case r.Ad != nil:
		return r.Ad.Target
	}
	return ""
}

// Binding records what is live for an artifact: the revision promoted and the
// object it became on its target.
type Binding struct {
	Target       string     `json:"target"`
	LiveID       string     `json:"live_id"`
	URL          string     `json:"url,omitempty"`
	Version      string     `json:"version,omitempty"` // the live object's version at promotion, for drift detection
	Revision     int        `json:"revision"`
	Hash         string     `json:"hash"`
	PlanID       string     `json:"plan_id"`
	PromotedAt   time.Time  `json:"promoted_at"`
	SentAt       *time.Time `json:"sent_at,omitempty"`       // emails: when the send was handed to the platform
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"` // emails/pages: the time it goes out
	PublishedAt  *time.Time `json:"published_at,omitempty"`  // pages published, workflows activated
	// Retired is the retirement promoted last (unschedule, unpublish,
	// deactivate, archive): the object stays so until a new revision is
	// promoted.
	Retired   string     `json:"retired,omitempty"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// Artifact is the head record of a staged artifact.
type Artifact struct {
	ID         string    `json:"id"`
	Kind       Kind      `json:"kind"`
	CampaignID string    `json:"campaign_id"`
	Name       string    `json:"name"`
	Revision   int       `json:"revision"` // current
	Hash       string    `json:"hash"`     // of the current revision
	Target     string    `json:"target"`   // effective target
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Live       *Binding  `json:"live,omitempty"`
	// Retire is a retirement staged on the live object, for the next plan.
	Retire *Retirement `json:"retire,omitempty"`
	// ArchivedAt is when archive_artifact took the artifact, never live,
	// out of its campaign; its revisions are kept.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	ArchivedBy string     `json:"archived_by,omitempty"`
}

// Status values of an artifact.
const (
	StatusStaged  = "staged"
	StatusLive    = "live"
	StatusChanged = "changed since live"
	// StatusRetiring: a retirement is staged (Artifact.Retire says which).
	StatusRetiring = "retirement staged"
	// StatusRetired: unscheduled, unpublished, switched off or archived
	// on the platform (Binding.Retired says which), nothing staged since.
	StatusRetired = "retired"
)

// Status says whether the artifact is only staged, live as staged, live
// with newer staged changes, to be retired by the next plan, retired, or
// archived.
func (a *Artifact) Status() string {
	switch {
	case a.ArchivedAt != nil:
		return StatusArchived
	case a.Live == nil:
		return StatusStaged
	case a.Retire != nil:
		return StatusRetiring
	case retiredUnchanged(a):
		return StatusRetired
	case a.Live.Revision == a.Revision:
		return StatusLive
	default:
		return StatusChanged
	}
}
