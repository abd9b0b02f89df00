package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/store"
)

const (
	bPlans    = "plans"
	bPlansNew = "plans_by_newest"
	// bPlanCodes holds each plan's read-back code apart from the plan, so
	// nothing that returns a plan to an agent can carry it.
	bPlanCodes = "plan_codes"
	// bPlanAudiences holds the recipient keys of each send a plan approves.
	bPlanAudiences = "plan_audiences"
)

// Step operations. create, update and unchanged put the artifact itself;
// send, schedule, publish and activate are the irreversible steps that
// reach people.
const (
	OpCreate    = "create"
	OpUpdate    = "update"
	OpUnchanged = "unchanged"
	OpSend      = "send"
	OpSchedule  = "schedule"
	OpPublish   = "publish"
	OpActivate  = "activate"
	// OpEnable sets a paused ad campaign live: it starts spending.
	OpEnable = "enable"
)

// Plan statuses. Expired is derived from ExpiresAt when read.
const (
	PlanPending   = "pending"
	PlanApproved  = "approved"
	PlanRejected  = "rejected"
	PlanExpired   = "expired"
	PlanPromoting = "promoting"
	PlanPromoted  = "promoted"
	PlanFailed    = "failed"
	// PlanBlocked is a plan whose content has governance errors: it is
	// never offered for approval.
	PlanBlocked = "blocked"
)

// PlanStep is one thing promotion will do.
type PlanStep struct {
	N            int        `json:"n"`
	ArtifactID   string     `json:"artifact_id"`
	Kind         Kind       `json:"kind"`
	Name         string     `json:"name"`
	Op           string     `json:"op"`
	Target       string     `json:"target"`
	Revision     int        `json:"revision"`
	Hash         string     `json:"hash"`
	LiveRevision int        `json:"live_revision,omitempty"`
	LiveID       string     `json:"live_id,omitempty"`
	LiveVersion  string     `json:"live_version,omitempty"` // drift detection
	At           *time.Time `json:"at,omitempty"`           // scheduled send or publish time
	// FirstAt and LastAt bound a send spread over time zones or moved into
	// a window: the first and the last recipient's time (At is FirstAt).
	FirstAt      *time.Time `json:"first_at,omitempty"`
	LastAt       *time.Time `json:"last_at,omitempty"`
	AudienceSize *int       `json:"audience_size,omitempty"`
	// AudienceDigest is a SHA-256 over the sorted recipient keys of a send,
	// when the target listed the recipients; the set itself is kept beside
	// the plan, so a confirmation can tell who joined since.
	AudienceDigest string         `json:"audience_digest,omitempty"`
	recipients     []recipientSum // of each recipient, sorted; at planning only
	Irreversible   bool           `json:"irreversible"`
	// Spend, on an ad campaign's steps, is the most it can spend once it
	// runs: what the approver agrees to pay.
	Spend *Spend   `json:"spend,omitempty"`
	Diff  string   `json:"diff,omitempty"`
	Notes []string `json:"notes,omitempty"`
	// Key identifies the step's effect across attempts (journal entries).
	Key string `json:"key"`
}

// Approval is one human's approval of a plan hash.
type Approval struct {
	Approver string    `json:"approver"`
	Roles    []string  `json:"roles,omitempty"`
	At       time.Time `json:"at"`
	Channel  string    `json:"channel"` // review | cli | scripted | elicitation
	PlanHash string    `json:"plan_hash"`
	// Credential is, for the review channel, the id of the passkey that
	// signed the approval (base64url).
	Credential string `json:"credential,omitempty"`
	// AcknowledgedWarnings is how many governance warnings the approver saw
	// and accepted.
	AcknowledgedWarnings int `json:"acknowledged_warnings"`
}

// Rejection records a human's no.
type Rejection struct {
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
}

// PlanApprovals is what a plan needs and has.
type PlanApprovals struct {
	Required int      `json:"required"`
	Roles    []string `json:"roles,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
	// Channels says, per approval channel, whether the policy lets it count
	// for this plan, and why not.
	Channels []governance.ChannelVerdict `json:"channels"`
	Have     []Approval                  `json:"have"`
}

// PlanGovernance is the policy's verdict on the planned content.
type PlanGovernance struct {
	Configured  bool                 `json:"configured"`
	PolicyHash  string               `json:"policy_hash"`
	Summary     string               `json:"summary"`
	Errors      int                  `json:"errors"`
	Warnings    int                  `json:"warnings"`
	Suggestions int                  `json:"suggestions"`
	Passed      bool                 `json:"passed"`
	Findings    []governance.Finding `json:"findings,omitempty"`
}

// PlanPromotion is the state of promotion.
type PlanPromotion struct {
	Attempts   int        `json:"attempts"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
	FailedStep int        `json:"failed_step,omitempty"`
	// ErrorClass is the failed step's error class (outage, rate_limited,
	// rejected, auth, timeout, cancelled, internal).
	ErrorClass string `json:"error_class,omitempty"`
	// Audited lists the step keys already written to the audit log and
	// bindings, so finishing twice writes nothing twice.
	Audited []string `json:"audited_steps,omitempty"`
}

// Plan is a value: promotion applies exactly it, or nothing.
type Plan struct {
	ID         string         `json:"id"`
	Hash       string         `json:"hash"`
	CampaignID string         `json:"campaign_id"`
	Campaign   string         `json:"campaign_name"`
	CreatedAt  time.Time      `json:"created_at"`
	CreatedBy  string         `json:"created_by"`
	ExpiresAt  time.Time      `json:"expires_at"`
	Status     string         `json:"status"`
	Steps      []PlanStep     `json:"steps"`
	Approvals  PlanApprovals  `json:"approvals"`
	Governance PlanGovernance `json:"governance"`
	Rejection  *Rejection     `json:"rejection,omitempty"`
	Promotion  PlanPromotion  `json:"promotion"`
	// UTM is part of what the hash covers: it changes every link.
	UTM UTM `json:"utm"`
	// CampaignRevision and CampaignHash are the campaign's settings the
	// plan was made from (CampaignHash); the hash covers them, so
	// update_campaign after approval makes the plan stale.
	CampaignRevision int    `json:"campaign_revision,omitempty"`
	CampaignHash     string `json:"campaign_hash,omitempty"`
	// Strays are objects on the targets carrying the marker of one of this
	// campaign's artifacts that are not its bound object, found when the
	// plan was made or after its promotion: discarded when they never
	// reached anyone, else left for a human. Not covered by the hash.
	Strays []Stray `json:"strays,omitempty"`
}

// effectiveStatus applies expiry to a stored plan.
func (p *Plan) effectiveStatus(now time.Time) string {
	if (p.Status == PlanPending || p.Status == PlanApproved) && now.After(p.ExpiresAt) {
		return PlanExpired
	}
	return p.Status
}

// Irreversible lists the steps that reach people.
func (p *Plan) Irreversible() []PlanStep {
	var out []PlanStep
	for _, s := range p.Steps {
		if s.Irreversible {
			out = append(out, s)
		}
	}
	return out
}

// Counted returns the approvals that count under the plan's channels, one
// per person (or per channel that names nobody).
func (p *Plan) Counted() []Approval {
	var out []Approval
	seen := map[string]bool{}
	for _, a := range p.Approvals.Have {
		v := p.verdict(a.Channel)
		who := identity(a.Channel, a.Approver)
		if !v.Counts || seen[who] || a.PlanHash != p.Hash {
			continue
		}
		seen[who] = true
		if !v.Roles {
			a.Roles = nil
		}
		out = append(out, a)
	}
	return out
}

// Missing says what approvals the plan still lacks, or "".
func (p *Plan) Missing() string {
	counted := p.Counted()
	var parts []string
	if have := len(counted); have < p.Approvals.Required {
		parts = append(parts, fmt.Sprintf("%d of %d approvals", p.Approvals.Required-have, p.Approvals.Required))
	}
	for _, role := range p.Approvals.Roles {
		ok := false
		for _, a := range counted {
			if slices.Contains(a.Roles, role) {
				ok = true
			}
		}
		if !ok {
			parts = append(parts, "an approver with role "+role)
		}
	}
	return strings.Join(parts, " and ")
}

// PlanError lists why a campaign cannot be planned: what a target cannot
// do, a broken policy, sends whose time has passed.
type PlanError struct {
	CampaignID string
	Problems   []Problem
}

func (e *PlanError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %s cannot be planned for promotion; %d problem(s) must be fixed first:", e.CampaignID, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n- ")
		b.WriteString(p.String())
	}
	return b.String()
}

// planInput is everything a plan is computed from, read in one
// transaction.
type planInput struct {
	campaign  *Campaign
	artifacts []*Artifact
	revs      map[string]*Revision // current
	live      map[string]*Revision // last promoted
	segments  map[string]*Segment
	// shared are the workspace segments the campaign uses, with their
	// live revisions; nothing of theirs is promoted by its plans.
	shared     []*Artifact
	sharedRevs map[string]*Revision
	// workspace lists every segment of the workspace, for the policy's
	// always_exclude.
	workspace []*Artifact
}

func (s *Sandbox) loadPlanInput(tx store.Tx, campaignID string) (*planInput, error) {
	c, err := s.campaign(tx, campaignID)
	if err != nil {
		return nil, err
	}
	arts, err := s.campaignArtifacts(tx, c.ID)
	if err != nil {
		return nil, err
	}
	in := &planInput{campaign: c, artifacts: arts, revs: map[string]*Revision{}, live: map[string]*Revision{}, segments: map[string]*Segment{}, sharedRevs: map[string]*Revision{}}
	for _, a := range arts {
		r, err := s.revision(tx, a.ID, a.Revision)
		if err != nil {
			return nil, err
		}
		in.revs[a.ID] = r
		if r.Segment != nil {
			in.segments[a.ID] = r.Segment
		}
		if a.Live != nil && a.Live.Revision != a.Revision {
			lr, err := s.revision(tx, a.ID, a.Live.Revision)
			if err != nil {
				return nil, err
			}
			in.live[a.ID] = lr
		}
	}
	if c.ID != WorkspaceID {
		if in.workspace, err = s.campaignArtifacts(tx, WorkspaceID); err != nil {
			return nil, err
		}
	}
	return in, s.sharedSegments(tx, in)
}

// alwaysExcluded is the problems with the plan's sends under the policy's
// always_exclude: each must exclude every segment it names.
func (in *planInput) alwaysExcluded(names []string, steps []PlanStep) []Problem {
	var sends []PlanStep
	for _, st := range steps {
		if st.Op == OpSend || st.Op == OpSchedule {
			sends = append(sends, st)
		}
	}
	if len(names) == 0 || len(sends) == 0 {
		return nil
	}
	var ps []Problem
	var ids []string
	for _, n := range names {
		i := slices.IndexFunc(in.workspace, func(a *Artifact) bool { return a.ID == n || a.Name == n })
		if i < 0 {
			ps = append(ps, Problem{Field: "policy", Message: fmt.Sprintf("the policy's always_exclude names %q, which is no workspace segment", n), Fix: "stage it (build_segment with scope workspace and that name) and promote it, or a human corrects the policy"})
			continue
		}
		ids = append(ids, in.workspace[i].ID)
	}
	for _, st := range sends {
		ex := in.revs[st.ArtifactID].Email.Audience.Exclude
		for _, id := range ids {
			if !slices.Contains(ex, id) {
				ps = append(ps, Problem{Field: st.ArtifactID, Message: fmt.Sprintf("email %s does not exclude workspace segment %s, which the policy says every send excludes", st.ArtifactID, id),
					Fix: fmt.Sprintf("create_email with email_id %s and %s in audience.exclude", st.ArtifactID, id)})
			}
		}
	}
	return ps
}

// liveRevision is the revision of a that is live, when it is.
func (in *planInput) liveRevision(a *Artifact) *Revision {
	if a.Live == nil {
		return nil
	}
	if r := in.live[a.ID]; r != nil {
		return r
	}
	if a.Live.Revision == a.Revision {
		return in.revs[a.ID]
	}
	return nil
}

// object builds what a target sees for an artifact revision.
// The content structs are copied: the final revision is cached and shared,
// and a connector may adjust what it is given.
func (s *Sandbox) object(c *Campaign, a *Artifact, r *Revision, segments map[string]*Segment, refs map[string]string) Object {
	fr := s.final(c, r)
	return Object{
		Kind: a.Kind, ArtifactID: a.ID, Revision: r.Number, Hash: r.Hash, Marker: MarkerPrefix + a.ID, Campaign: *c,
		Email: clone(fr.Email), Segment: clone(fr.Segment), Workflow: clone(fr.Workflow), Page: clone(fr.Page), Ad: cloneAd(fr.Ad),
		Refs: refs, Segments: segments,
	}
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// planMode says how much of a plan to compute.
type planMode int

const (
	planFull planMode = iota // everything a human reviews
	// planVerify computes only what the hash covers, to tell whether a
	// stored plan is still current: no diffs, and the governance verdict
	// is not recomputed (content and policy hash are compared instead).
	planVerify
)

// computePlan works out the steps, governance and approvals for the
// campaign as it is now. It writes nothing. With a prior plan, audiences
// are not asked of the targets again: each artifact's is the one prior
// recorded (see staleness).
func (s *Sandbox) computePlan(ctx context.Context, campaignID string, mode planMode, prior *Plan) (*Plan, error) {
	var in *planInput
	if err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		in, err = s.loadPlanInput(tx, campaignID)
		return err
	}); err != nil {
		return nil, err
	}
	c := in.campaign
	now := s.clock()
	var ps []Problem
	if len(in.artifacts) == 0 {
		return nil, &PlanError{CampaignID: c.ID, Problems: []Problem{{Field: c.ID, Message: "the campaign has nothing staged", Fix: "stage emails, segments, pages or workflows first"}}}
	}
	refs := map[string]string{}
	for _, a := range slices.Concat(in.artifacts, in.shared) {
		if a.Live != nil {
			refs[a.ID] = a.Live.LiveID
		}
	}
	var puts, sends []PlanStep
	if len(in.shared) > 0 {
		users, targetOf := map[string][]string{}, map[string]string{}
		for _, a := range in.artifacts {
			targetOf[a.ID] = a.Target
			for _, ref := range in.revs[a.ID].References() {
				users[ref] = append(users[ref], a.ID)
			}
		}
		for _, a := range in.shared {
			if a.Live != nil {
				targetOf[a.ID] = a.Live.Target
			}
			for _, ref := range in.sharedRevs[a.ID].References() {
				users[ref] = append(users[ref], a.ID)
			}
		}
		for _, a := range in.shared {
			step, problem := sharedStep(a, users, targetOf)
			if problem != nil {
				ps = append(ps, *problem)
			} else {
				puts = append(puts, step)
			}
		}
	}
	// Ask the targets about every artifact at once: on a platform each
	// question is a request, and a hundred of them one after another would
	// take a hundred round trips.
	probes := s.probe(ctx, in, refs, prior)
	var checks []checkItem
	for i, a := range in.artifacts {
		r := in.revs[a.ID]
		pr := probes[i]
		if pr.problem != nil {
			ps = append(ps, *pr.problem)
			continue
		}
		if pr.err != nil {
			return nil, pr.err
		}
		switch {
		case a.Retire != nil:
			// The live object is taken back; nothing staged is put.
			step, problem := s.retireStep(a, in.liveRevision(a), pr, now)
			if problem != nil {
				ps = append(ps, *problem)
			} else {
				sends = append(sends, step)
			}
			continue
		case retiredUnchanged(a):
			puts = append(puts, PlanStep{ArtifactID: a.ID, Kind: a.Kind, Name: a.Name, Target: a.Target, Revision: r.Number, Hash: r.Hash, Op: OpUnchanged,
				LiveRevision: a.Live.Revision, LiveID: a.Live.LiveID, Notes: []string{retiredNote(a)}})
			continue
		}
		fr := s.final(c, r)
		as := pr.assessment
		for _, p := range as.Problems {
			ps = append(ps, Problem{Field: a.ID, Message: p})
		}
		if as.AudienceSize < 0 && r.Email != nil {
			as.AudienceSize = staticBound(r.Email.Audience.Include, in.segments)
		}
		step := PlanStep{ArtifactID: a.ID, Kind: a.Kind, Name: a.Name, Target: a.Target, Revision: r.Number, Hash: r.Hash, Notes: as.Notes}
		if r.Ad != nil {
			sp := r.Ad.MaxSpend()
			step.Spend = &sp
			step.Notes = append(step.Notes, adNote(r.Ad, a.Live))
		}
		if r.Email != nil && r.Email.ABTest != nil {
			step.Notes = append(step.Notes, abNote(r.Email.ABTest))
		}
		if as.Recipients != nil && r.Email != nil {
			step.recipients, step.AudienceDigest = recipientKeys(as.Recipients)
			as.AudienceSize = len(step.recipients)
		}
		if as.AudienceSize >= 0 {
			n := as.AudienceSize
			step.AudienceSize = &n
		}
		if mode == planFull {
			// The audience as check_campaign counts it, so the plan and the
			// check report the same findings.
			audience := s.audienceSize(ctx, a, r, in.segments)
			checks = append(checks, checkItem{key: docKey(c, a, r, s.platformOf(a.Target), audience), doc: func() governance.Document { return s.document(c, a, fr, audience) }, variants: s.variantsOf(c, a, r, audience), limits: limitsOf(a, r)})
		}
		live := a.Live
		if live != nil {
			if !pr.found {
				step.Notes = append(step.Notes, fmt.Sprintf("the live object %s is gone from %s; it will be created again", live.LiveID, a.Target))
				live = nil
			} else {
				step.LiveID, step.LiveVersion, step.LiveRevision = live.LiveID, pr.live.Version, live.Revision
			}
		}
		switch {
		case live == nil:
			step.Op = OpCreate
			if mode == planFull {
				step.Diff = describeNew(fr)
			}
		case live.Revision == r.Number && len(as.Refresh) == 0:
			step.Op = OpUnchanged
		case live.Revision == r.Number:
			// Nothing staged changed, but the target needs the object
			// put again (Assessment.Refresh).
			step.Op = OpUpdate
			if mode == planFull {
				step.Diff = "unchanged content, put again: " + strings.Join(as.Refresh, "; ")
			}
		default:
			step.Op = OpUpdate
			if mode == planFull {
				step.Diff = describeChange(s.final(c, in.live[a.ID]), fr)
			}
		}
		send, problem := s.followUp(a, r, live, step, now)
		if send != nil && problem == nil {
			problem = spreadSend(send, r.Email, as, now)
		}
		step.recipients, step.AudienceDigest = nil, ""
		puts = append(puts, step)
		if problem != nil {
			ps = append(ps, *problem)
		} else if send != nil {
			sends = append(sends, *send)
		}
	}
	p := &Plan{CampaignID: c.ID, Campaign: c.Name, UTM: c.UTM, CampaignRevision: c.Revision, CampaignHash: CampaignHash(c), Status: PlanPending}
	p.Steps = append(puts, sends...)
	for i := range p.Steps {
		p.Steps[i].N = i + 1
	}
	pol, err := s.policy.Policy()
	if err != nil {
		ps = append(ps, Problem{Field: "policy", Message: "the policy file has errors: " + err.Error(), Fix: "a human must fix the policy file"})
	} else {
		p.Governance = PlanGovernance{Configured: len(pol.Rules()) > 0, PolicyHash: pol.Hash()}
		if mode == planFull {
			checks = append(checks, s.sharedChecks(in)...)
			rep := s.checkDocs(pol, checks)
			g := &p.Governance
			g.Summary, g.Errors, g.Warnings, g.Suggestions, g.Passed, g.Findings = Summarize(&rep), rep.Errors, rep.Warnings, rep.Suggestions, rep.Passed, rep.Findings
			if !g.Configured {
				g.Summary = "no policy configured: nothing was checked"
				if len(g.Findings) > 0 {
					g.Summary = fmt.Sprintf("no policy configured; the ad platforms' limits were checked: %s", Summarize(&rep))
				}
			}
		}
		p.Approvals = s.requiredApprovals(pol, c, p.Steps)
		ps = append(ps, in.alwaysExcluded(pol.AlwaysExclude(), p.Steps)...)
	}
	ps = append(ps, in.abSentByWorkflows()...)
	ps = append(ps, in.adPagesOffline()...)
	if len(ps) > 0 {
		return nil, &PlanError{CampaignID: c.ID, Problems: ps}
	}
	p.Hash = planHash(p)
	return p, nil
}

// probeResult is what the targets said about one artifact at planning.
type probeResult struct {
	problem    *Problem // the artifact cannot go to its target at all
	err        error
	assessment Assessment
	live       LiveState // when bound: the live object now
	found      bool
}

// probe asks each artifact's target to assess it and, when it is live, to
// read the live object, up to s.parallel questions at once.
func (s *Sandbox) probe(ctx context.Context, in *planInput, refs map[string]string, prior *Plan) []probeResult {
	out := make([]probeResult, len(in.artifacts))
	recorded := map[string]Assessment{}
	if prior != nil {
		for _, st := range prior.Steps {
			if !st.Irreversible {
				a := Assessment{AudienceSize: -1, Notes: st.Notes}
				if st.AudienceSize != nil {
					a.AudienceSize = *st.AudienceSize
				}
				if st.Op == OpUpdate && st.LiveRevision == st.Revision {
					// Put again at the target's request: the recorded
					// notes carry its reasons.
					a.Refresh = []string{"recorded"}
				}
				recorded[st.ArtifactID] = a
			} else if a, ok := recorded[st.ArtifactID]; ok && st.FirstAt != nil {
				a.FirstSend, a.LastSend = st.FirstAt, st.LastAt
				recorded[st.ArtifactID] = a
			}
		}
	}
	sentBy := sentByWorkflows(in.artifacts, in.revs)
	// The live URLs of pages, for ads that send clicks to one: a page not
	// live yet stands in as PendingPageURL for the platform's dry run.
	liveURLs := map[string]string{}
	for _, a := range in.artifacts {
		if a.Live != nil && a.Kind == KindPage {
			liveURLs[a.ID] = a.Live.URL
		}
	}
	sem := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	for i, a := range in.artifacts {
		t, ok := s.targets[a.Target]
		switch {
		case retiredUnchanged(a) && a.Retire == nil:
			continue // left as it is: nothing to ask
		case !ok:
			out[i].problem = &Problem{Field: a.ID, Message: fmt.Sprintf("target %q is not available", a.Target), Fix: "check the target's credentials with lastmile connect, or stage the artifact for another target"}
			continue
		case !t.Capabilities().Supports(a.Kind):
			out[i].problem = &Problem{Field: a.ID, Message: fmt.Sprintf("%s cannot hold %ss", t.Platform(), a.Kind), Fix: "stage it for another target with the target field"}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Deriving the final revision is most of a cold plan's time:
			// here it runs on every core.
			obj := s.object(in.campaign, a, in.revs[a.ID], in.segments, refs)
			obj.SentByWorkflows = sentBy[a.ID]
			resolveAdPages(obj.Ad, in.campaign, a.ID, liveURLs)
			r := &out[i]
			if a.Retire != nil {
				// Nothing staged goes to the target: only the live
				// object is read, below.
			} else if rec, ok := recorded[a.ID]; ok {
				r.assessment = rec
			} else {
				r.assessment, r.err = t.Assess(ctx, obj)
				s.noteTarget(ctx, a.Target, "assess", r.err)
				if r.err != nil {
					r.err = fmt.Errorf("assess %s on %s: %w", a.ID, a.Target, r.err)
					return
				}
			}
			if a.Live != nil {
				r.live, r.found, r.err = t.Live(ctx, a.Kind, a.Live.LiveID)
				s.noteTarget(ctx, a.Target, "read live", r.err)
				if r.err != nil {
					r.err = fmt.Errorf("read live %s on %s: %w", a.ID, a.Target, r.err)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// staticBound is the most recipients an audience can have when every
// included segment is a plain list of addresses (the platform may drop some
// it does not know); -1 when any segment selects by conditions.
func staticBound(include []string, segs map[string]*Segment) int {
	addrs := map[string]bool{}
	for _, id := range include {
		s := segs[id]
		if s == nil || len(s.Conditions) > 0 || len(s.Groups) > 0 || len(s.IncludeSegments) > 0 {
			return -1
		}
		for _, a := range s.StaticEmails {
			addrs[a] = true
		}
	}
	if len(include) == 0 {
		return -1
	}
	return len(addrs)
}

// followUp is the irreversible step after putting an artifact: sending an
// email to its audience, publishing a page, turning a workflow on.
func (s *Sandbox) followUp(a *Artifact, r *Revision, live *Binding, put PlanStep, now time.Time) (*PlanStep, *Problem) {
	step := PlanStep{ArtifactID: a.ID, Kind: a.Kind, Name: a.Name, Target: a.Target, Revision: r.Number, Hash: r.Hash, Irreversible: true}
	future := func(t *time.Time, field string) (*time.Time, *Problem) {
		if t == nil {
			return nil, nil
		}
		if !t.After(now) {
			return nil, &Problem{Field: a.ID, Message: fmt.Sprintf("%s %s has passed", field, t.Format(time.RFC3339)), Fix: fmt.Sprintf("stage a new revision with a later %s, or without one to go out at confirmation", field)}
		}
		return t, nil
	}
	switch {
	case r.Email != nil && len(r.Email.Audience.Include) > 0:
		if live != nil && live.SentAt != nil {
			return nil, nil // sent before; a new revision updates the copy, it is not sent again
		}
		at, prob := future(r.Email.SendAt, "send_at")
		if prob != nil {
			return nil, prob
		}
		step.Op, step.At, step.AudienceSize = OpSend, at, put.AudienceSize
		step.AudienceDigest, step.recipients = put.AudienceDigest, put.recipients
		if at != nil {
			step.Op = OpSchedule
		}
	case r.Page != nil:
		if live != nil && live.PublishedAt != nil {
			return nil, nil // an update of a published page is live at once
		}
		at, prob := future(r.Page.PublishAt, "publish_at")
		if prob != nil {
			return nil, prob
		}
		step.Op, step.At = OpPublish, at
	case r.Workflow != nil && r.Workflow.Activate:
		if live != nil && live.PublishedAt != nil {
			return nil, nil
		}
		step.Op = OpActivate
	case r.Ad != nil && r.Ad.Enable:
		switch {
		case live != nil && live.Retired == OpRemove:
			return nil, &Problem{Field: a.ID, Message: fmt.Sprintf("ad campaign %s was removed on %s and cannot run again", a.ID, a.Target), Fix: "stage a new ad campaign with build_ad_campaign"}
		case live != nil && live.PublishedAt != nil:
			return nil, nil // running: the update applies at once
		}
		step.Op, step.Spend = OpEnable, put.Spend
	default:
		return nil, nil
	}
	return &step, nil
}

// requiredApprovals combines the configured minimum with the policy's
// approval rules for this campaign's markets, industry and audience.
func (s *Sandbox) requiredApprovals(pol *governance.Policy, c *Campaign, steps []PlanStep) PlanApprovals {
	maxRecipients := 0
	var channels []string
	var spends []governance.AdSpend
	for _, st := range steps {
		if sp := st.Spend; sp != nil && st.Op != OpPause && st.Op != OpRemove {
			// Every step that sets or changes what a campaign may spend,
			// even one created paused: the approver agrees to the budget.
			spends = append(spends, governance.AdSpend{Currency: sp.Currency, DailyMicros: sp.DailyMicros, TotalMicros: sp.TotalMicros, Unbounded: sp.TotalMicros == 0})
		}
		if st.Op == OpSend || st.Op == OpSchedule {
			switch {
			case st.AudienceSize == nil:
				maxRecipients = -1 // unknown: the policy's audience rules apply
			case maxRecipients >= 0 && *st.AudienceSize > maxRecipients:
				maxRecipients = *st.AudienceSize
			}
		}
		if !slices.Contains(channels, string(st.Kind)) {
			channels = append(channels, string(st.Kind))
		}
	}
	if c.ID == WorkspaceID {
		// The workspace's segments reach nobody by themselves, and have no
		// markets or industry for the policy's rules to select on: each
		// campaign that sends to one is approved with it (its plan pins
		// the live revision), so the workspace needs the configured
		// minimum only.
		return PlanApprovals{Required: s.cfg.Plans.Approvals, Channels: pol.Channels(0), Have: []Approval{},
			Reasons: []string{"workspace segments: approval rules apply to the campaigns that send to them"}}
	}
	req := pol.Approvals(governance.ApprovalInput{Markets: c.Markets, Industry: c.Industry, MaxRecipients: maxRecipients, Channels: channels, Spends: spends})
	out := PlanApprovals{Required: max(s.cfg.Plans.Approvals, req.Count), Roles: req.Roles, Reasons: req.Reasons, Channels: pol.Channels(maxRecipients), Have: []Approval{}}
	if len(out.Roles) > out.Required {
		out.Required = len(out.Roles)
	}
	return out
}

// planHash covers every included revision, targets, send settings, live
// versions, the UTM tagging, the policy version and the approval rules.
func planHash(p *Plan) string {
	type stepHash struct {
		Artifact, Kind, Op, Target, Hash, LiveID, LiveVersion string
		Revision                                              int
		At                                                    *time.Time
		// Omitted when nil, so plans without spread sends hash as before.
		FirstAt *time.Time `json:",omitempty"`
		LastAt  *time.Time `json:",omitempty"`
	}
	v := struct {
		Campaign  string
		Settings  string // CampaignHash: markets, industry, name… as well as UTM
		UTM       UTM
		Steps     []stepHash
		Policy    string
		Approvals int
		Roles     []string
		Channels  []governance.ChannelVerdict
	}{Campaign: p.CampaignID, Settings: p.CampaignHash, UTM: p.UTM, Policy: p.Governance.PolicyHash, Approvals: p.Approvals.Required, Roles: p.Approvals.Roles, Channels: p.Approvals.Channels}
	for _, s := range p.Steps {
		v.Steps = append(v.Steps, stepHash{s.ArtifactID, string(s.Kind), s.Op, s.Target, s.Hash, s.LiveID, s.LiveVersion, s.Revision, s.At, s.FirstAt, s.LastAt})
	}
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PlanPromotion computes and stores a plan for the campaign.
func (s *Sandbox) PlanPromotion(ctx context.Context, actor, campaignID string) (*Plan, error) {
	p, err := s.computePlan(ctx, campaignID, planFull, nil)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	p.ID, p.CreatedAt, p.CreatedBy = newID(PrefixPlan, now), now, actor
	if p.Governance.Errors > 0 {
		p.Status = PlanBlocked
	}
	p.ExpiresAt = now.Add(time.Duration(s.cfg.Plans.Expiry))
	for i := range p.Steps {
		p.Steps[i].Key = fmt.Sprintf("%s/%d/%s/%s/%d", p.ID, p.Steps[i].N, p.Steps[i].ArtifactID, p.Steps[i].Op, p.Steps[i].Revision)
	}
	// Writes of earlier promotions that landed late are found here, before
	// anyone approves more.
	p.Strays = s.sweep(ctx, actor, p)
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := putJSON(tx, bPlans, p.ID, p); err != nil {
			return err
		}
		if err := tx.Put(bPlanCodes, p.ID, []byte(newCode())); err != nil {
			return err
		}
		for _, st := range p.Steps {
			if st.AudienceDigest != "" {
				if err := tx.Put(bPlanAudiences, audienceKey(p.ID, st.N), audienceBytes(st.recipients)); err != nil {
					return err
				}
			}
		}
		if err := tx.Put(bPlansNew, newestKey(now, p.ID), []byte(p.ID)); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "plan_promotion", Object: p.ID, CampaignID: p.CampaignID, Detail: map[string]any{"hash": p.Hash, "steps": len(p.Steps), "irreversible": len(p.Irreversible()), "governance": p.Governance.Summary}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func planNotFound(id string) error {
	return &NotFoundError{What: "plan", ID: id, Hint: "plan_promotion makes one; lastmile plans lists them"}
}

func (s *Sandbox) loadPlan(tx store.Tx, id string) (*Plan, error) {
	if !strings.HasPrefix(id, PrefixPlan) {
		return nil, &NotFoundError{What: "plan", ID: fmt.Sprintf("%q", id), Hint: "plan ids start with pln_; plan_promotion makes one"}
	}
	p, err := getJSON[Plan](tx, bPlans, id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, planNotFound(id)
	}
	return p, nil
}

// PlanCode returns the plan's read-back code, for human surfaces only (the
// approve prompt, the review page): a person reads it there and types it
// back. No MCP result may carry it.
func (s *Sandbox) PlanCode(ctx context.Context, id string) (string, error) {
	var code string
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := s.loadPlan(tx, id); err != nil {
			return err
		}
		v, err := tx.Get(bPlanCodes, id)
		if err != nil {
			return err
		}
		if v == nil {
			return &RefusedError{Reason: "plan " + id + " was made by an older lastmile and has no code", Action: "Ask the agent to run plan_promotion again"}
		}
		code = string(v)
		return nil
	})
	return code, err
}

// GetPlan returns a plan with its effective status.
func (s *Sandbox) GetPlan(ctx context.Context, id string) (*Plan, error) {
	var p *Plan
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = s.loadPlan(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.Status = p.effectiveStatus(s.clock())
	return p, nil
}

// PlanPage is a plan with one page of its steps: what a tool answers with
// when the whole plan (800 steps of a 500-artifact campaign are 0.9 MB of
// JSON) is too much to send at once.
type PlanPage struct {
	// Plan is the plan, effective status applied, whose Steps holds this
	// page's steps only. It is the caller's to modify.
	Plan *Plan
	// Offset is the index of Steps[0] among all the steps; Total counts
	// them all.
	Offset, Total int
	// Irreversible lists every step that reaches people, wherever it is.
	Irreversible []PlanStep
}

// GetPlanPage returns the plan with up to limit of its steps from offset
// (0-based; limit ≤ 0 means all). The plan is decoded once and kept while
// its stored bytes stay the same, so paging through a large plan decodes
// it once, not once per page.
func (s *Sandbox) GetPlanPage(ctx context.Context, id string, offset, limit int) (*PlanPage, error) {
	p, err := s.keptPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	offset, end := pageBounds(len(p.Steps), offset, limit)
	out := *p
	out.Status = p.effectiveStatus(s.clock())
	out.Steps = cloneSteps(p.Steps[offset:end])
	out.Approvals.Roles = slices.Clone(p.Approvals.Roles)
	out.Approvals.Reasons = slices.Clone(p.Approvals.Reasons)
	out.Approvals.Channels = slices.Clone(p.Approvals.Channels)
	out.Approvals.Have = slices.Clone(p.Approvals.Have)
	for i := range out.Approvals.Have {
		out.Approvals.Have[i].Roles = slices.Clone(out.Approvals.Have[i].Roles)
	}
	out.Governance.Findings = slices.Clone(p.Governance.Findings)
	out.Promotion.Audited = slices.Clone(p.Promotion.Audited)
	out.Strays = slices.Clone(p.Strays)
	out.Rejection = clone(p.Rejection)
	return &PlanPage{Plan: &out, Offset: offset, Total: len(p.Steps), Irreversible: cloneSteps(p.Irreversible())}, nil
}

// cloneSteps copies steps down to what they point to.
func cloneSteps(steps []PlanStep) []PlanStep {
	out := slices.Clone(steps)
	for i := range out {
		st := &out[i]
		st.At, st.AudienceSize, st.Notes = clone(st.At), clone(st.AudienceSize), slices.Clone(st.Notes)
		st.FirstAt, st.LastAt = clone(st.FirstAt), clone(st.LastAt)
	}
	return out
}

// keptPlan is loadPlan through s.plans. The plan it returns is shared:
// callers copy what they hand out.
func (s *Sandbox) keptPlan(ctx context.Context, id string) (*Plan, error) {
	// The generation is read before the plan: a write in between makes it
	// look newer than the plan read, never older.
	gen, known := s.Generation(ctx)
	kept, ok := s.plans.Get(id)
	if ok && known && kept.gen == gen {
		return kept.plan, nil
	}
	var p *Plan
	err := s.st.View(ctx, func(tx store.Tx) error {
		if !strings.HasPrefix(id, PrefixPlan) {
			_, err := s.loadPlan(tx, id) // says what is wrong with the id
			return err
		}
		raw, err := tx.Get(bPlans, id)
		if err != nil {
			return err
		}
		if raw == nil {
			return planNotFound(id)
		}
		if ok && bytes.Equal(raw, kept.raw) {
			p = kept.plan
		} else if p, err = getJSONBytes[Plan](raw); err != nil {
			return fmt.Errorf("store: %s/%s: %w", bPlans, id, err)
		}
		if known {
			s.plans.Put(id, decodedPlan{gen: gen, raw: raw, plan: p})
		}
		return nil
	})
	return p, err
}

// decodedPlan is a plan with the bytes it was decoded from, as of a
// store generation.
type decodedPlan struct {
	gen  uint64
	raw  []byte
	plan *Plan
}

// PlanSummary is a plan in a list.
type PlanSummary struct {
	ID         string    `json:"id"`
	CampaignID string    `json:"campaign_id"`
	Campaign   string    `json:"campaign_name"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Steps      int       `json:"steps"`
	Approvals  string    `json:"approvals"`
}

// ListPlans returns plans newest first, optionally only those with a status.
func (s *Sandbox) ListPlans(ctx context.Context, status string, limit int) ([]PlanSummary, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []PlanSummary
	now := s.clock()
	err := s.st.View(ctx, func(tx store.Tx) error {
		after := ""
		for len(out) < limit {
			kvs, err := tx.Scan(bPlansNew, "", after, 100)
			if err != nil {
				return err
			}
			if len(kvs) == 0 {
				return nil
			}
			for _, kv := range kvs {
				after = kv.Key
				p, err := s.loadPlan(tx, string(kv.Value))
				if err != nil {
					return err
				}
				st := p.effectiveStatus(now)
				if status != "" && st != status {
					continue
				}
				out = append(out, PlanSummary{ID: p.ID, CampaignID: p.CampaignID, Campaign: p.Campaign, Status: st, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt, Steps: len(p.Steps),
					Approvals: fmt.Sprintf("%d/%d", len(p.Counted()), p.Approvals.Required)})
				if len(out) == limit {
					return nil
				}
			}
		}
		return nil
	})
	return out, err
}

// staleness compares a stored plan with the campaign as it is now and says
// what changed, or "" when nothing did. Without audiences, whom each send
// reaches is taken as the plan recorded it, not resolved again: an approval
// binds the audience the plan recorded, and confirming (the one way to a
// live write) compares it with the audience then. Resolving it means
// reading every contact, which took an approval at a million contacts
// seconds.
func (s *Sandbox) staleness(ctx context.Context, p *Plan, audiences bool) (string, error) {
	prior := p
	if audiences {
		prior = nil
	}
	now, err := s.computePlan(ctx, p.CampaignID, planVerify, prior)
	if err != nil {
		var pe *PlanError
		if errors.As(err, &pe) {
			return "the campaign can no longer be planned: " + pe.Problems[0].String(), nil
		}
		return "", err
	}
	var grew []string
	if audiences {
		if grew, err = s.audienceGrowth(ctx, p, now, nil); err != nil {
			return "", err
		}
	}
	if now.Hash == p.Hash {
		return strings.Join(grew, "; "), nil
	}
	why := grew
	old := map[string]PlanStep{}
	for _, st := range p.Steps {
		old[st.ArtifactID+"/"+st.Op] = st
	}
	seen := map[string]bool{}
	for _, st := range now.Steps {
		o, ok := old[st.ArtifactID+"/"+st.Op]
		seen[st.ArtifactID+"/"+st.Op] = true
		switch {
		case !ok:
			why = append(why, fmt.Sprintf("%s %s now needs %s", st.Kind, st.ArtifactID, st.Op))
		case o.Revision != st.Revision:
			why = append(why, fmt.Sprintf("%s %s is at revision %d, the plan has revision %d", st.Kind, st.ArtifactID, st.Revision, o.Revision))
		case o.LiveVersion != st.LiveVersion || o.LiveID != st.LiveID:
			why = append(why, fmt.Sprintf("the live %s %s changed on %s outside lastmile", st.Kind, st.ArtifactID, st.Target))
		case o.Target != st.Target:
			why = append(why, fmt.Sprintf("%s %s now goes to %s, not %s", st.Kind, st.ArtifactID, st.Target, o.Target))
		case !sameTime(o.At, st.At):
			why = append(why, fmt.Sprintf("the time of %s %s changed", st.Op, st.ArtifactID))
		case !sameTime(o.FirstAt, st.FirstAt) || !sameTime(o.LastAt, st.LastAt):
			why = append(why, fmt.Sprintf("the first or last send time of %s %s changed", st.Op, st.ArtifactID))
		}
	}
	for k, st := range old {
		if !seen[k] {
			why = append(why, fmt.Sprintf("%s %s no longer needs %s", st.Kind, st.ArtifactID, st.Op))
		}
	}
	if now.Governance.PolicyHash != p.Governance.PolicyHash {
		why = append(why, "the policy changed")
	}
	if now.CampaignHash != p.CampaignHash {
		why = append(why, campaignUpdated(p, now))
	}
	if now.UTM != p.UTM {
		why = append(why, "the campaign's UTM parameters changed")
	}
	if now.Approvals.Required != p.Approvals.Required || !slices.Equal(now.Approvals.Roles, p.Approvals.Roles) {
		why = append(why, "the approvals the policy requires changed")
	}
	if len(why) == 0 {
		why = append(why, "the campaign changed")
	}
	return strings.Join(why, "; "), nil
}

func audienceKey(planID string, step int) string { return fmt.Sprintf("%s/%04d", planID, step) }

// approvedRecipients returns the audience a send step was approved for, or
// nil when the target could not list it at planning.
func (s *Sandbox) approvedRecipients(tx store.Tx, planID string, st PlanStep) (*RecipientSet, error) {
	if st.AudienceDigest == "" {
		return nil, nil
	}
	data, err := tx.Get(bPlanAudiences, audienceKey(planID, st.N))
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("plan %s: the approved audience of step %d is missing from the store", planID, st.N)
	}
	set, err := readAudience(data)
	if err != nil {
		return nil, fmt.Errorf("store: %s/%s: %w", bPlanAudiences, audienceKey(planID, st.N), err)
	}
	return set, nil
}

// audienceGrowth says, for each send of the stored plan p (skipping those
// in skip), whether its audience now holds anyone the human did not
// approve. An audience may shrink after approval (people unsubscribe or
// withdraw consent, and the target drops them), never grow.
func (s *Sandbox) audienceGrowth(ctx context.Context, p, now *Plan, skip map[int]bool) ([]string, error) {
	cur := map[string]PlanStep{}
	for _, st := range now.Steps {
		if st.Op == OpSend || st.Op == OpSchedule {
			cur[st.ArtifactID] = st
		}
	}
	var why []string
	for _, old := range p.Steps {
		if (old.Op != OpSend && old.Op != OpSchedule) || skip[old.N] {
			continue
		}
		st, ok := cur[old.ArtifactID]
		if !ok {
			continue // the staleness check reports a send that went away
		}
		switch {
		case old.AudienceDigest != "" && st.AudienceDigest == old.AudienceDigest:
		case old.AudienceDigest != "" && st.AudienceDigest != "":
			var set *RecipientSet
			if err := s.st.View(ctx, func(tx store.Tx) error {
				var err error
				set, err = s.approvedRecipients(tx, p.ID, old)
				return err
			}); err != nil {
				return nil, err
			}
			joined := 0
			for _, k := range st.recipients {
				if !set.has(k) {
					joined++
				}
			}
			if joined > 0 {
				why = append(why, fmt.Sprintf("%d %s joined the audience of email %s after approval (approved: %d, now: %d)", joined, people(joined), old.ArtifactID, set.Len(), len(st.recipients)))
			}
		case old.AudienceSize != nil && st.AudienceSize != nil && *st.AudienceSize > *old.AudienceSize:
			why = append(why, fmt.Sprintf("the audience of email %s grew from %d to %d after approval", old.ArtifactID, *old.AudienceSize, *st.AudienceSize))
		case old.AudienceSize != nil && st.AudienceSize == nil:
			why = append(why, fmt.Sprintf("the audience of email %s can no longer be counted, so it cannot be shown to be the one approved", old.ArtifactID))
		}
	}
	return why, nil
}

func people(n int) string {
	if n == 1 {
		return "person"
	}
	return "people"
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// GetPlanStatusPage is GetPlanPage with where promotion stands for each
// step of the page and each irreversible step, from the plan's journal.
func (s *Sandbox) GetPlanStatusPage(ctx context.Context, id string, offset, limit int) (*PlanPage, []StepResult, error) {
	pg, err := s.GetPlanPage(ctx, id, offset, limit)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.readJournal(ctx, pg.Plan.ID)
	if err != nil {
		return nil, nil, err
	}
	view := *pg.Plan
	view.Steps = append(slices.Clone(pg.Plan.Steps), pg.Irreversible...)
	return pg, s.result(&view, states(recs)).Steps, nil
}

// Page is the plan as a PlanPage: up to limit of its steps from offset. It
// shares the plan's memory (GetPlanPage's copies).
func (p *Plan) Page(offset, limit int) *PlanPage {
	offset, end := pageBounds(len(p.Steps), offset, limit)
	out := *p
	out.Steps = p.Steps[offset:end]
	return &PlanPage{Plan: &out, Offset: offset, Total: len(p.Steps), Irreversible: p.Irreversible()}
}

// pageBounds clamps a page of up to limit items from offset (0-based;
// limit ≤ 0 means all) to n items.
func pageBounds(n, offset, limit int) (start, end int) {
	start, end = min(max(offset, 0), n), n
	if limit > 0 {
		end = min(end, start+limit)
	}
	return start, end
}
