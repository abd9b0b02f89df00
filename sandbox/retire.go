package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/store"
)

// Retirement operations: taking back what a promotion made live. Each is
// staged on a live artifact (retire_artifact), shown in the plan as its
// own step, approved like any change and promoted exactly once.
const (
	OpUnschedule = "unschedule" // a scheduled send: it stays on the platform unsent
	OpUnpublish  = "unpublish"  // a published (or scheduled) page
	OpDeactivate = "deactivate" // a switched-on workflow
	OpArchive    = "archive"    // an email or segment, off the platform
	OpPause      = "pause"      // an enabled ad campaign: it stops spending
	OpResume     = "resume"     // a paused ad campaign: it spends again
	OpRemove     = "remove"     // an ad campaign, removed on the platform for good
	// OpCancelRetire withdraws a staged retirement; it is never a step.
	OpCancelRetire = "cancel"
)

// retireOps lists what can be taken back of each kind.
var retireOps = map[Kind][]string{
	KindEmail:    {OpUnschedule, OpArchive},
	KindSegment:  {OpArchive},
	KindPage:     {OpUnpublish},
	KindWorkflow: {OpDeactivate},
	KindAd:       {OpPause, OpResume, OpRemove},
}

// RetireOps is what retire_artifact can do to an artifact of kind k.
func RetireOps(k Kind) []string { return slices.Clone(retireOps[k]) }

// IsRetire reports whether op takes back something live.
func IsRetire(op string) bool {
	switch op {
	case OpUnschedule, OpUnpublish, OpDeactivate, OpArchive, OpPause, OpResume, OpRemove:
		return true
	}
	return false
}

// Retirer is implemented by targets that can take back what lastmile made
// live on them.
type Retirer interface {
	// CanRetire says, before anything is written, whether the target can
	// take op on its objects of kind k, and what the platform does then
	// ("visitors get 404"). An error wrapping ErrNotSupported names the
	// platform's limitation.
	CanRetire(k Kind, op string) (effect string, err error)
	// Retire takes op on the live object. It must be safe to call again:
	// an object already unscheduled, unpublished, switched off or archived
	// is left as it is, and archiving an object already gone succeeds.
	Retire(ctx context.Context, obj Object, op string, live LiveState) (LiveState, error)
}

// Retirement is a retirement staged on a live artifact, waiting for a plan.
type Retirement struct {
	Op       string    `json:"op"`
	StagedAt time.Time `json:"staged_at"`
	StagedBy string    `json:"staged_by"`
}

// RetireResult is what StageRetire did.
type RetireResult struct {
	Artifact *Artifact `json:"-"`
	// Effect is what the target will do, in the platform's terms.
	Effect string `json:"effect,omitempty"`
	// Cancelled is true when a staged retirement was withdrawn.
	Cancelled bool `json:"cancelled,omitempty"`
}

// StageRetire stages op on a live artifact, or with OpCancelRetire
// withdraws one staged before. Nothing changes on the platform until a
// plan holding it is approved and confirmed; a plan made before is stale.
func (s *Sandbox) StageRetire(ctx context.Context, actor, artifactID, op string) (*RetireResult, error) {
	refuse := func(field, msg, fix string) error {
		return &ValidationError{What: "retirement", Problems: []Problem{{Field: field, Message: msg, Fix: fix}}}
	}
	var res *RetireResult
	err := s.st.Update(ctx, func(tx store.Tx) error {
		a, err := getArtifact(tx, artifactID)
		if err != nil {
			return err
		}
		if a == nil {
			return &NotFoundError{What: "artifact", ID: artifactID, Hint: "get_campaign lists a campaign's artifacts"}
		}
		now := s.clock()
		if op == OpCancelRetire {
			if a.Retire == nil {
				return refuse("action", fmt.Sprintf("%s has no retirement staged", a.ID), "nothing to cancel")
			}
			was := a.Retire.Op
			a.Retire, a.UpdatedAt = nil, now
			res = &RetireResult{Artifact: a, Cancelled: true}
			if err := putArtifact(tx, a); err != nil {
				return err
			}
			return s.audit(tx, AuditEntry{Actor: actor, Action: "cancel_retire", Object: a.ID, CampaignID: a.CampaignID, Detail: map[string]any{"op": was}})
		}
		if !slices.Contains(retireOps[a.Kind], op) {
			return refuse("action", fmt.Sprintf("%s cannot be %s", withArticle(a.Kind), pastTense(op)), fmt.Sprintf("%s takes: %s", withArticle(a.Kind), strings.Join(retireOps[a.Kind], ", ")))
		}
		if a.Live == nil {
			return refuse("artifact_id", fmt.Sprintf("%s is not live: there is nothing on %s to take back", a.ID, a.Target), "archive_artifact takes staged work out of its campaign")
		}
		if p := retireState(a, op, now); p != nil {
			return &ValidationError{What: "retirement", Problems: []Problem{*p}}
		}
		effect, p := s.canRetire(a, op)
		if p != nil {
			return &ValidationError{What: "retirement", Problems: []Problem{*p}}
		}
		if op == OpArchive {
			if p, err := s.retireReferrers(tx, a); err != nil {
				return err
			} else if p != nil {
				return &ValidationError{What: "retirement", Problems: []Problem{*p}}
			}
		}
		a.Retire, a.UpdatedAt = &Retirement{Op: op, StagedAt: now, StagedBy: actor}, now
		res = &RetireResult{Artifact: a, Effect: effect}
		if err := putArtifact(tx, a); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "stage_retire", Object: a.ID, Revision: a.Live.Revision, CampaignID: a.CampaignID, Detail: map[string]any{"op": op, "target": a.Target, "live_id": a.Live.LiveID}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// retireState is the problem with taking op on a's live object as lastmile
// last left it, if any: a sent email cannot be unscheduled, a page that
// is not public cannot be unpublished.
func retireState(a *Artifact, op string, now time.Time) *Problem {
	b := a.Live
	if b.Retired == op && a.Revision == b.Revision {
		return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s was %s on %s already", a.ID, pastTense(op), b.RetiredAt.Format(time.RFC3339)), Fix: "nothing to do"}
	}
	switch op {
	case OpUnschedule:
		switch {
		case b.SentAt == nil:
			return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s is not scheduled on %s", a.ID, a.Target), Fix: "nothing to unschedule"}
		case b.ScheduledFor == nil || !b.ScheduledFor.After(now):
			return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s went out at %s: a sent email cannot be unsent", a.ID, b.SentAt.Format(time.RFC3339)), Fix: "retire_artifact with action archive takes it off the platform; the people it reached keep it"}
		}
	case OpUnpublish, OpDeactivate, OpPause:
		if b.PublishedAt == nil {
			what := map[string]string{OpUnpublish: "published", OpDeactivate: "switched on", OpPause: "enabled"}[op]
			return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s is not %s on %s", a.ID, what, a.Target), Fix: "nothing to take back"}
		}
	}
	switch {
	case b.Retired == OpRemove && (op == OpPause || op == OpResume):
		return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s was removed on %s: a removed ad campaign cannot run again", a.ID, a.Target), Fix: "stage a new ad campaign with build_ad_campaign"}
	case op == OpResume && b.PublishedAt != nil:
		return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s is running on %s already", a.ID, a.Target), Fix: "nothing to resume"}
	}
	return nil
}

// canRetire asks a's target whether it can take op, and what it does then.
func (s *Sandbox) canRetire(a *Artifact, op string) (string, *Problem) {
	t, ok := s.targets[a.Target]
	if !ok {
		return "", &Problem{Field: a.ID, Message: fmt.Sprintf("target %q is not available", a.Target), Fix: "check the target's credentials with lastmile connect"}
	}
	r, ok := t.(Retirer)
	if !ok {
		return "", &Problem{Field: a.ID, Message: fmt.Sprintf("%s cannot %s a %s through lastmile", t.Platform(), op, a.Kind), Fix: fmt.Sprintf("do it in %s itself", t.Platform())}
	}
	effect, err := r.CanRetire(a.Kind, op)
	if err != nil {
		return "", &Problem{Field: a.ID, Message: err.Error(), Fix: fmt.Sprintf("do it in %s itself", t.Platform())}
	}
	return effect, nil
}

// retireReferrers is the problem with archiving a when another artifact
// still uses it (mayUse): an email a workflow sends, a segment an email or
// workflow targets.
func (s *Sandbox) retireReferrers(tx store.Tx, a *Artifact) (*Problem, error) {
	arts, err := s.mayUse(tx, a)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, o := range arts {
		if o.ID == a.ID || (o.Retire != nil && o.Retire.Op == OpArchive) || (o.Live != nil && o.Live.Retired == OpArchive && o.Revision == o.Live.Revision) {
			continue
		}
		for _, n := range []int{o.Revision, liveRevision(o)} {
			if n == 0 {
				continue
			}
			r, err := s.revision(tx, o.ID, n)
			if err != nil {
				return nil, err
			}
			if slices.Contains(r.References(), a.ID) && !slices.Contains(users, o.ID) {
				users = append(users, o.ID)
			}
		}
	}
	if len(users) == 0 {
		return nil, nil
	}
	return &Problem{Field: "artifact_id", Message: fmt.Sprintf("%s is used by %s", a.ID, strings.Join(users, ", ")), Fix: "retire or change what uses it first (deactivate the workflow, stage a revision without it), or archive them together"}, nil
}

func liveRevision(a *Artifact) int {
	if a.Live == nil {
		return 0
	}
	return a.Live.Revision
}

// retireStep is the plan step that takes a's staged retirement.
func (s *Sandbox) retireStep(a *Artifact, live *Revision, pr probeResult, now time.Time) (PlanStep, *Problem) {
	op := a.Retire.Op
	if a.Live == nil {
		return PlanStep{}, &Problem{Field: a.ID, Message: fmt.Sprintf("%s is not live: nothing to %s", a.ID, op), Fix: "retire_artifact with action cancel"}
	}
	if !pr.found {
		return PlanStep{}, &Problem{Field: a.ID, Message: fmt.Sprintf("the live object %s is gone from %s already: nothing to %s", a.Live.LiveID, a.Target, op), Fix: "retire_artifact with action cancel"}
	}
	if p := retireState(a, op, now); p != nil {
		p.Field = a.ID
		return PlanStep{}, p
	}
	effect, p := s.canRetire(a, op)
	if p != nil {
		return PlanStep{}, p
	}
	b := a.Live
	step := PlanStep{ArtifactID: a.ID, Kind: a.Kind, Name: a.Name, Op: op, Target: a.Target, Revision: b.Revision, Hash: b.Hash,
		LiveRevision: b.Revision, LiveID: b.LiveID, LiveVersion: pr.live.Version, Irreversible: true}
	var what string
	switch op {
	case OpUnschedule:
		what = fmt.Sprintf("unschedule email %q, due to go out at %s: nobody gets it", a.Name, b.ScheduledFor.UTC().Format(time.RFC3339))
	case OpUnpublish:
		slug := ""
		if live != nil && live.Page != nil {
			slug = " /" + live.Page.Slug + "/"
		}
		what = fmt.Sprintf("unpublish page%s %q (%s)", slug, a.Name, b.URL)
	case OpDeactivate:
		what = fmt.Sprintf("switch off workflow %q: it enrols nobody new", a.Name)
	case OpArchive:
		what = fmt.Sprintf("archive %s %q (%s) on %s", a.Kind, a.Name, b.LiveID, a.Target)
	case OpPause:
		what = fmt.Sprintf("pause ad campaign %q (%s) on %s: it stops spending", a.Name, b.LiveID, a.Target)
	case OpResume:
		what = fmt.Sprintf("resume ad campaign %q (%s) on %s: it spends again", a.Name, b.LiveID, a.Target)
		if live != nil && live.Ad != nil {
			sp := live.Ad.MaxSpend()
			step.Spend = &sp
			what += ", " + sp.Text
		}
	case OpRemove:
		what = fmt.Sprintf("remove ad campaign %q (%s) on %s for good: it stops spending and cannot run again", a.Name, b.LiveID, a.Target)
	}
	step.Diff = what
	if effect != "" {
		step.Diff += " — " + effect
	}
	if a.Revision != b.Revision {
		step.Notes = append(step.Notes, fmt.Sprintf("revision %d, staged since revision %d went live, is not promoted: the plan takes the live one back", a.Revision, b.Revision))
	}
	return step, nil
}

// retiredNote is what a plan says of an artifact retired before and not
// changed since: it stays as it is.
func retiredNote(a *Artifact) string {
	if a.Live.Retired == OpPause {
		return fmt.Sprintf("paused on %s; retire_artifact with action resume runs it again", a.Live.RetiredAt.UTC().Format(time.RFC3339))
	}
	again := map[string]string{OpUnschedule: "schedule it again", OpUnpublish: "publish it again", OpDeactivate: "switch it on again", OpArchive: "make it again", OpRemove: "run it again as a new ad campaign"}[a.Live.Retired]
	return fmt.Sprintf("%s on %s; stage a new revision to %s", pastTense(a.Live.Retired), a.Live.RetiredAt.UTC().Format(time.RFC3339), again)
}

// retiredUnchanged reports whether a was retired and nothing was staged
// since: plans leave it as it is.
func retiredUnchanged(a *Artifact) bool {
	return a.Live != nil && a.Live.Retired != "" && a.Live.Revision == a.Revision
}

// offPlatform reports whether a's live object was archived off its
// platform: there is nothing there to read metrics from. What was read
// before is kept.
func offPlatform(a *Artifact) bool {
	return retiredUnchanged(a) && a.Live.Retired == OpArchive
}

// bindRetire records a finished retirement on the artifact's binding.
func bindRetire(a *Artifact, op string, at time.Time) {
	b := a.Live
	b.Retired, b.RetiredAt = op, &at
	switch op {
	case OpUnschedule:
		b.SentAt, b.ScheduledFor = nil, nil
	case OpUnpublish, OpDeactivate, OpPause, OpRemove:
		b.PublishedAt, b.ScheduledFor = nil, nil
	case OpResume:
		// Running again, as if enabled by this plan.
		b.Retired, b.RetiredAt, b.PublishedAt = "", nil, &at
	}
	if a.Retire != nil && a.Retire.Op == op {
		a.Retire = nil
	}
}

func pastTense(op string) string {
	switch op {
	case OpUnschedule:
		return "unscheduled"
	case OpUnpublish:
		return "unpublished"
	case OpDeactivate:
		return "switched off"
	case OpArchive:
		return "archived"
	case OpPause:
		return "paused"
	case OpResume:
		return "resumed"
	case OpRemove:
		return "removed"
	}
	return op
}
