package sandbox

import (
	"fmt"
	"slices"

	"github.com/lastmile/lastmile/store"
)

// WorkspaceID is the campaign that holds the workspace's segments: the
// suppression lists, customers and competitors any campaign may include
// or exclude. It is planned and promoted like any campaign, and is not
// listed with them (nor counted in reports): it is no campaign of its own.
const WorkspaceID = PrefixCampaign + "workspace"

// ScopeWorkspace stages a segment in the workspace, for every campaign.
const ScopeWorkspace = "workspace"

// workspace returns the workspace campaign, making it (when write) the
// first time a workspace segment is staged.
func (s *Sandbox) workspace(tx store.Tx, write bool) (*Campaign, error) {
	c, err := getJSON[Campaign](tx, bCampaigns, WorkspaceID)
	if err != nil || c != nil {
		return c, err
	}
	c = &Campaign{ID: WorkspaceID, Name: "Workspace segments", Target: s.cfg.DefaultTarget, Workspace: true, CreatedAt: s.clock()}
	if !write {
		return c, nil
	}
	if err := putJSON(tx, bCampaigns, c.ID, c); err != nil {
		return nil, err
	}
	return c, s.audit(tx, AuditEntry{Actor: "lastmile", Action: "create_campaign", Object: c.ID, CampaignID: c.ID, Detail: map[string]any{"name": c.Name, "target": c.Target, "workspace": true}})
}

// sharedSegments adds to in the workspace segments its campaign's
// artifacts reference (and those they reference in turn), each with the
// definition that is live, and returns their ids in a stable order.
func (s *Sandbox) sharedSegments(tx store.Tx, in *planInput) error {
	if in.campaign.ID == WorkspaceID {
		return nil
	}
	var todo []string
	for _, a := range in.artifacts {
		todo = append(todo, in.revs[a.ID].References()...)
		if r := in.live[a.ID]; r != nil {
			todo = append(todo, r.References()...)
		}
	}
	seen := map[string]bool{}
	for len(todo) > 0 {
		id := todo[0]
		todo = todo[1:]
		if seen[id] || KindOf(id) != KindSegment {
			continue
		}
		seen[id] = true
		a, err := getArtifact(tx, id)
		if err != nil {
			return err
		}
		if a == nil || a.CampaignID != WorkspaceID {
			continue
		}
		n := a.Revision
		if a.Live != nil {
			n = a.Live.Revision // what campaigns send to is what is live
		}
		r, err := s.revision(tx, a.ID, n)
		if err != nil {
			return err
		}
		in.shared = append(in.shared, a)
		in.sharedRevs[a.ID] = r
		in.segments[a.ID] = r.Segment
		todo = append(todo, r.References()...)
	}
	slices.SortFunc(in.shared, func(x, y *Artifact) int {
		if x.ID < y.ID {
			return -1
		}
		return 1
	})
	return nil
}

// sharedStep is the plan's record of a workspace segment its campaign
// uses: nothing is done to it, but the plan names the live revision and
// version its audiences were approved with, so promoting another revision
// of the segment makes the plan stale.
func sharedStep(a *Artifact, users map[string][]string, targetOf map[string]string) (PlanStep, *Problem) {
	fix := fmt.Sprintf("promote the workspace's segments first: plan_promotion with campaign_id %s", WorkspaceID)
	switch {
	case a.Live == nil:
		return PlanStep{}, &Problem{Field: a.ID, Message: fmt.Sprintf("workspace segment %s (%q), which %v use, is not live", a.ID, a.Name, users[a.ID]), Fix: fix}
	case offPlatform(a):
		return PlanStep{}, &Problem{Field: a.ID, Message: fmt.Sprintf("workspace segment %s (%q), which %v use, was archived", a.ID, a.Name, users[a.ID]), Fix: "stage a new revision of it in the workspace and promote it, or stop using it"}
	}
	for _, u := range users[a.ID] {
		if t := targetOf[u]; t != a.Live.Target {
			return PlanStep{}, &Problem{Field: u, Message: fmt.Sprintf("%s goes to %s, but workspace segment %s (%q) is live on %s", u, t, a.ID, a.Name, a.Live.Target), Fix: "use a workspace segment live on the same target, or stage one for it (build_segment scope workspace, target " + t + ")"}
		}
	}
	b := a.Live
	return PlanStep{ArtifactID: a.ID, Kind: a.Kind, Name: a.Name, Op: OpUnchanged, Target: b.Target, Revision: b.Revision, Hash: b.Hash,
		LiveRevision: b.Revision, LiveID: b.LiveID, LiveVersion: b.Version,
		Notes: []string{fmt.Sprintf("workspace segment, used by %v: as it is live (revision %d)", users[a.ID], b.Revision)}}, nil
}
