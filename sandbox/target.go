package sandbox

import (
	"context"
	"errors"
	"time"

	"github.com/lastmile/lastmile/outcomes"
)

// The Target port: what a platform connector implements so that staged
// artifacts can be planned against it and promoted into it.
//
// Promotion calls a target in dependency order (segments, emails, pages,
// workflows, then sends and publishes) and journals an intent before each call
// and the result after it. None of the platforms offers idempotency keys, so
// after a crash the promoter first asks Find whether an earlier attempt
// created the object (by its Marker) and creates only when nothing is found.
// Send and Publish must themselves be safe to call again: they look at the
// live object first and do nothing when the send or publish already happened.

// ErrNotSupported is wrapped by errors that say a target lacks a capability.
var ErrNotSupported = errors.New("not supported by this target")

// ErrAuth is wrapped by errors caused by missing, expired or revoked
// credentials; the message says how to reconnect.
var ErrAuth = errors.New("authentication failed")

// ErrConflict is wrapped when the platform holds something that clashes with
// the artifact (a slug taken by another page, a list name in use).
var ErrConflict = errors.New("conflict on the target")

// Object is one artifact revision as a target sees it, with everything
// resolved: final content (UTM applied) and the live ids of what it references.
type Object struct {
	Kind       Kind
	ArtifactID string
	Revision   int
	Hash       string
	// Marker is stable across attempts and unique per artifact. Connectors put
	// it where Find can look it up: a name suffix, a tag, a slug, a meta field.
	Marker   string
	Campaign Campaign

	Email    *Email // HTML and Text are final: blocks rendered, UTM applied
	Segment  *Segment
	Workflow *Workflow
	Page     *Page // HTML and Body are final
	// Ad is an ad campaign: every ad's FinalURL is final (UTM applied,
	// a lastmile page resolved to its live URL).
	Ad *AdCampaign

	// Refs maps the artifact ids this object references (audience segments,
	// workflow emails and segments, the form-trigger page, included segments)
	// to their live ids on this target. Filled during promotion; at planning
	// time only for references that are already live.
	Refs map[string]string
	// Segments holds the definitions of every segment in the campaign, so a
	// target that counts locally can resolve include/exclude references.
	Segments map[string]*Segment
	// SentByWorkflows, for an email, lists the workflows of the campaign
	// whose steps send it (empty: none do), at planning and at promotion
	// alike. A platform that needs a separate object for a workflow's send
	// (HubSpot's automated emails) creates it from this.
	SentByWorkflows []string
	// Resumed, on a promotion step, says an earlier attempt of the same
	// step was interrupted or failed: its writes may still land. A
	// connector whose Put makes more than one object (Find only looks
	// for the first) looks for, or waits out, the others before it
	// creates them.
	Resumed bool
	// Recipients, on a send, is the audience the human approved, when the
	// target listed it at planning. A target that resolves recipients
	// itself mails only addresses the set allows: an audience may shrink
	// after approval (unsubscribes, withdrawn consent), never grow.
	Recipients *RecipientSet
	// Variant, on a test send of an A/B email, is the variant Email is
	// (a, b, c): each is proofed on its own (sendTestVariants).
	Variant string
}

// LiveState describes an object as it exists on the platform.
type LiveState struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
	// Version changes whenever the live object changes (an updatedAt, a
	// revision id, a content hash). A plan records it; a different value at
	// confirmation means someone changed the object outside lastmile.
	Version string `json:"version,omitempty"`
	// Status is the platform's own word for the object's state (draft,
	// scheduled, sent, publish, future, enabled, ...).
	Status string `json:"status,omitempty"`
}

// Assessment is a target's verdict on an object at planning time, before
// anything is written.
type Assessment struct {
	// Problems make the plan fail: what the platform cannot express or do,
	// each with the reason and the alternative.
	Problems []string
	// Notes are shown to the approver: rounding of schedule times, drafts a
	// tier cannot send, forms left out.
	Notes []string
	// Refresh, when not empty, says why the live object must be put again
	// although its revision is the live one: the platform lacks something
	// the campaign now needs of it (HubSpot: an automated copy of an email
	// a new workflow sends). The plan updates it, with the reasons as its
	// diff; a target that wants the approver to read them in the notes
	// puts them there too.
	Refresh []string
	// AudienceSize is the number of recipients or members when the target can
	// tell, else -1.
	AudienceSize int
	// Recipients lists an email's recipient addresses, lower case, when the
	// target resolves them itself (local does, from contacts.csv); nil when
	// only the platform knows them. The plan records the set, so an audience
	// that gains anyone after approval makes the plan stale.
	Recipients []string
	// FirstSend and LastSend are, for an email sent by recipient time zone
	// or in a window, the first and last recipient's send time, when the
	// target knows its recipients' zones (local does); nil leaves the plan
	// the bound that holds anywhere (Email.SendSpan).
	FirstSend, LastSend *time.Time
}

// Capabilities lists what a target can do.
type Capabilities struct {
	Emails    bool `json:"emails"`
	Segments  bool `json:"segments"`
	Workflows bool `json:"workflows"`
	Pages     bool `json:"pages"`
	Ads       bool `json:"ads,omitempty"`
	Metrics   bool `json:"metrics"`
}

// Supports reports whether the target handles artifacts of kind k.
func (c Capabilities) Supports(k Kind) bool {
	switch k {
	case KindEmail:
		return c.Emails
	case KindSegment:
		return c.Segments
	case KindWorkflow:
		return c.Workflows
	case KindPage:
		return c.Pages
	case KindAd:
		return c.Ads
	}
	return false
}

// Target is the port every connector implements.
type Target interface {
	// Name is the configured target name ("local", "hubspot", "acme-blog").
	Name() string
	// Platform is the connector's platform (local, hubspot, mailchimp, wordpress).
	Platform() string
	Capabilities() Capabilities
	// Assess checks an object at planning time. An error means the target
	// could not be asked (network, auth); problems go in the Assessment.
	Assess(ctx context.Context, obj Object) (Assessment, error)
	// Live reads the live object; found is false when it no longer exists.
	Live(ctx context.Context, kind Kind, liveID string) (state LiveState, found bool, err error)
	// Find looks for an object an interrupted attempt may have created for
	// obj, by its Marker.
	Find(ctx context.Context, obj Object) (state LiveState, found bool, err error)
	// Put creates the object when liveID is empty, else updates it.
	Put(ctx context.Context, obj Object, liveID string) (LiveState, error)
	// Send sends an email to its audience now (at is zero) or schedules it.
	// Idempotent: an email already sent or scheduled is not sent again.
	Send(ctx context.Context, obj Object, live LiveState, at time.Time) (LiveState, error)
	// Publish makes a page public now (at is zero) or at a time, or turns a
	// workflow on. Idempotent likewise.
	Publish(ctx context.Context, obj Object, live LiveState, at time.Time) (LiveState, error)
	// Metrics reads what happened to the given live objects since a time.
	Metrics(ctx context.Context, req MetricsRequest) ([]Metrics, error)
}

// Counter is implemented by targets that can count a segment's members
// before anything is live (local counts contacts.csv).
type Counter interface {
	// Count returns how many contacts are in the union of the include
	// segments minus the exclude segments.
	Count(ctx context.Context, include, exclude []string, segments map[string]*Segment) (int, error)
}

// Sampler is implemented by targets that can name a few members of an
// audience before anything is live, for the approver to see who a send
// reaches (local reads contacts.csv).
type Sampler interface {
	// Sample returns up to n contacts of include minus exclude, in a
	// stable order.
	Sample(ctx context.Context, include, exclude []string, segments map[string]*Segment, n int) ([]Contact, error)
}

// Ticker is implemented by targets that do time-based work themselves
// (local: scheduled sends, workflow waits and enrolments), which
// lastmile serve and lastmile run drive with their clock.
type Ticker interface {
	// Tick does the work due at now, each piece exactly once however
	// often it is called or interrupted.
	Tick(ctx context.Context, now time.Time) (TickReport, error)
}

// TickReport says what a tick did.
type TickReport struct {
	Sent     int // messages written (scheduled sends and workflow emails)
	Enrolled int // contacts enrolled in workflows
	Steps    int // workflow steps taken
}

// MetricsRequest names the live objects to read metrics for.
type MetricsRequest struct {
	Items []MetricsItem
	Since time.Time // zero: all time
}

// OutcomeReader is implemented by targets that report what contacts did
// beyond the counters of Metrics: each open, click and submission, and
// replies, meetings, deals and purchases, as events. lastmile keeps them
// (once each, by ID) and attributes the conversions to campaigns.
type OutcomeReader interface {
	// Outcomes returns the events after req.Cursor (empty: from the
	// start, as far back as the platform keeps them) and the cursor to
	// pass next time. It stays within the platform's rate limits; a
	// partial read returns what it has with its cursor and the error.
	Outcomes(ctx context.Context, req OutcomesRequest) (events []outcomes.Event, next string, err error)
}

// OutcomesRequest says what an Outcomes read is about.
type OutcomesRequest struct {
	Cursor string
	// Items are the live objects lastmile made on the target.
	Items []MetricsItem
	// Contacts are the addresses lastmile's campaigns reached there, for
	// platforms whose conversions are found through the contact (HubSpot
	// deals associated with them).
	Contacts []string
}

// MetricsItem is one live object to read metrics for.
type MetricsItem struct {
	ArtifactID string
	Kind       Kind
	LiveID     string
}

// Metrics is what a target reports for one artifact. Counters and Ratios are
// open-ended: connectors keep platform figures they cannot map under their
// platform's names.
type Metrics struct {
	ArtifactID string             `json:"artifact_id"`
	LiveID     string             `json:"live_id"`
	Counters   map[string]int64   `json:"counters"`
	Ratios     map[string]float64 `json:"ratios,omitempty"`
	Source     string             `json:"source"`
	FetchedAt  time.Time          `json:"fetched_at"`
	// Workflow is where a live workflow's contacts stand, from targets
	// that run workflows themselves and can tell (local).
	Workflow *WorkflowState `json:"workflow,omitempty"`
	// Variants are an A/B email's counters per variant (a, b, c), with
	// the same keys as Counters; Winner is the variant picked, once it is.
	Variants map[string]map[string]int64 `json:"variants,omitempty"`
	Winner   string                      `json:"winner,omitempty"`
}

// WorkflowState is where a workflow's enrolments stand: totals, how many
// wait at each step, and the latest enrolments contact by contact.
type WorkflowState struct {
	Enabled  bool             `json:"enabled"`
	Enrolled int64            `json:"enrolled"` // enrolments, re-enrolments included
	Active   int64            `json:"active"`
	Finished int64            `json:"finished"`
	AtStep   map[string]int64 `json:"at_step,omitempty"` // active enrolments by current step
	// Contacts are the latest MaxWorkflowContacts enrolments, newest first.
	Contacts []ContactState `json:"contacts,omitempty"`
}

// MaxWorkflowContacts bounds the per-contact part of a WorkflowState.
const MaxWorkflowContacts = 100

// ContactState is one enrolment: when it began, where it is, what it did.
type ContactState struct {
	Email    string     `json:"email"`
	Enrolled time.Time  `json:"enrolled_at"`
	Step     string     `json:"step,omitempty"`
	Due      *time.Time `json:"due,omitempty"`
	Done     *time.Time `json:"done,omitempty"`
	History  []string   `json:"history,omitempty"` // "2027-03-01T09:00:00Z welcome: sent eml_…"
}

// Normalized counter names every connector maps its platform's figures to.
const (
	MetricSent            = "sent"
	MetricDelivered       = "delivered"
	MetricOpens           = "opens"
	MetricUniqueOpens     = "unique_opens"
	MetricClicks          = "clicks"
	MetricUniqueClicks    = "unique_clicks"
	MetricBounces         = "bounces"
	MetricUnsubscribes    = "unsubscribes"
	MetricSpamReports     = "spam_reports"
	MetricPageViews       = "page_views"
	MetricFormSubmissions = "form_submissions"
)

// Landing is implemented by targets whose writes can take effect after the
// request that carried them failed, timed out, or was abandoned by a
// process that died: the platform goes on processing it, and a lookup by
// marker finds nothing until it has. None of the platforms offers
// idempotency keys, so a resumed promotion must not look for (and then
// create again) what an earlier attempt may still be creating.
type Landing interface {
	// LandWithin is how long after a write request was sent it may still
	// take effect and become visible to Find: the connector's request
	// timeout plus the platform's commit and search lag.
	LandWithin(kind Kind) time.Duration
}

// Sweeper is implemented by targets that can list what lastmile made on
// them, so that an object a late write created, which no artifact is bound
// to, is found and cleaned up instead of left in the customer's account.
type Sweeper interface {
	// Marked lists the objects of kind that carry a lastmile marker.
	Marked(ctx context.Context, kind Kind) ([]Marked, error)
	// Discard deletes or archives an object that never reached anyone (a
	// draft email, a disabled workflow, a saved campaign, a list nothing
	// was sent to). For anything else it returns an error wrapping
	// ErrReachedPeople, and leaves the object alone.
	Discard(ctx context.Context, m Marked) error
}

// Marked is an object on a platform that carries a lastmile marker.
type Marked struct {
	Kind Kind `json:"kind"`
	// ArtifactID is the artifact the marker names ("lm-" + artifact id).
	ArtifactID string `json:"artifact_id"`
	LiveID     string `json:"live_id"`
	Name       string `json:"name,omitempty"`
	// Reached is true when the object reached people or the public: a sent
	// or scheduled email, an enabled workflow, a published page.
	Reached bool   `json:"reached"`
	Status  string `json:"status,omitempty"`
}

// ErrReachedPeople is wrapped by Discard's refusal to remove an object that
// reached people: a human decides what happens to it.
var ErrReachedPeople = errors.New("the object has reached people")

// MarkerPrefix starts every marker (Object.Marker is MarkerPrefix + the
// artifact id).
const MarkerPrefix = "lm-"

// AlternativeTargets names, for a connector's refusal of a kind it does
// not hold, the kinds of target that do.
func AlternativeTargets(k Kind) string {
	switch k {
	case KindEmail:
		return "a mailchimp, hubspot or local target"
	case KindSegment:
		return "a mailchimp, hubspot or local target (where the emails go)"
	case KindWorkflow:
		return "a hubspot or local target"
	case KindPage:
		return "a wordpress, webflow, hubspot or local target"
	case KindAd:
		return "a google_ads or meta target"
	}
	return "a target that has them"
}
