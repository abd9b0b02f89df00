package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lastmile/lastmile/store"
)

// checkResume says why a failed or interrupted plan may not go on, as a
// RefusedError; nil when it may. A resume writes what was approved then, so
// it is held to what a fresh confirmation is held to for the steps not yet
// done: the plan has not expired, the policy is the one it was approved
// under and the content still passes it, nothing it covers changed (no new
// revision, no change on the live platform, no one added to an audience),
// and no newer plan has made its own content live on an artifact this plan
// would write.
func (s *Sandbox) checkResume(ctx context.Context, p *Plan, done map[int]*stepState) error {
	finished := map[int]bool{}
	touched := map[string]bool{} // artifacts this plan already wrote
	var doneSteps []string
	for _, st := range p.Steps {
		if ds := done[st.N]; st.Op == OpUnchanged || (ds != nil && ds.result != nil) {
			finished[st.N] = true
			if st.Op != OpUnchanged {
				touched[st.ArtifactID] = true
				doneSteps = append(doneSteps, fmt.Sprint(st.N))
			}
		}
	}
	live := "no step is live yet"
	if len(doneSteps) > 0 {
		live = "steps " + strings.Join(doneSteps, ", ") + " are live"
	}
	stale := func(why string) error {
		return &RefusedError{Code: RefusedStale,
			Reason: fmt.Sprintf("plan %s cannot be resumed: %s (%s; nothing more was written)", p.ID, why, live),
			Action: "Run plan_promotion again: the new plan starts from what is live now, and a human approves it"}
	}
	if now := s.clock(); now.After(p.ExpiresAt) {
		return &RefusedError{Code: RefusedExpired,
			Reason: fmt.Sprintf("plan %s expired at %s before its promotion finished (%s; nothing more was written)", p.ID, p.ExpiresAt.Format(time.RFC3339), live),
			Action: "Run plan_promotion again: the new plan starts from what is live now, and a human approves it"}
	}
	pol, err := s.policy.Policy()
	if err != nil {
		return stale("the policy file has errors: " + err.Error())
	}
	if pol.Hash() != p.Governance.PolicyHash {
		return stale("the policy changed after approval")
	}
	var arts map[string]*Artifact
	if err := s.st.View(ctx, func(tx store.Tx) error {
		arts = map[string]*Artifact{}
		for _, st := range p.Steps {
			if finished[st.N] || arts[st.ArtifactID] != nil {
				continue
			}
			a, err := getArtifact(tx, st.ArtifactID)
			if err != nil {
				return err
			}
			if a == nil {
				return fmt.Errorf("artifact %s of plan %s is missing", st.ArtifactID, p.ID)
			}
			arts[st.ArtifactID] = a
		}
		return nil
	}); err != nil {
		return err
	}
	for _, st := range p.Steps {
		a := arts[st.ArtifactID]
		if finished[st.N] || a == nil {
			continue
		}
		if b := a.Live; b != nil && b.PlanID != p.ID && (b.LiveID != st.LiveID || b.Revision != st.LiveRevision) {
			return stale(fmt.Sprintf("%s %s was made live by a newer plan, %s, at %s; this plan would overwrite it with older content", st.Kind, st.ArtifactID, b.PlanID, b.PromotedAt.Format(time.RFC3339)))
		}
		if IsRetire(st.Op) {
			// A retirement takes back the live revision, whatever is
			// staged since; it goes on only while it is still wanted.
			if a.Retire == nil || a.Retire.Op != st.Op {
				return stale(fmt.Sprintf("the %s of %s %s is no longer staged", st.Op, st.Kind, st.ArtifactID))
			}
			continue
		}
		if a.Revision != st.Revision {
			return stale(fmt.Sprintf("%s %s is at revision %d, the plan has revision %d", st.Kind, st.ArtifactID, a.Revision, st.Revision))
		}
	}
	// The campaign as it is now, checked under the current policy: the
	// governance verdict, live drift and audiences of the steps not done.
	now, err := s.computePlan(ctx, p.CampaignID, planFull, nil)
	var pe *PlanError
	if errors.As(err, &pe) {
		return stale("the campaign can no longer be planned: " + pe.Problems[0].String())
	}
	if err != nil {
		return err
	}
	if now.CampaignHash != p.CampaignHash {
		return stale(campaignUpdated(p, now) + " after approval")
	}
	if now.Governance.Errors > 0 {
		return &RefusedError{Code: RefusedGovernance,
			Reason: fmt.Sprintf("plan %s cannot be resumed: its content now has %d governance errors (%s; nothing more was written)", p.ID, now.Governance.Errors, live),
			Action: "Fix them (check_campaign lists each with its fix), run plan_promotion again and ask for approval of the new plan"}
	}
	cur := map[string]PlanStep{}
	for _, st := range now.Steps {
		cur[st.ArtifactID+"/"+st.Op] = st
	}
	for _, st := range p.Steps {
		if finished[st.N] || touched[st.ArtifactID] || st.Irreversible {
			continue // this plan's own writes change the live version
		}
		n, ok := cur[st.ArtifactID+"/"+st.Op]
		if !ok {
			continue
		}
		if n.LiveID != st.LiveID || n.LiveVersion != st.LiveVersion {
			return stale(fmt.Sprintf("the live %s %s changed on %s outside lastmile", st.Kind, st.ArtifactID, st.Target))
		}
	}
	grew, err := s.audienceGrowth(ctx, p, now, finished)
	if err != nil {
		return err
	}
	if len(grew) > 0 {
		return stale(strings.Join(grew, "; "))
	}
	return nil
}
