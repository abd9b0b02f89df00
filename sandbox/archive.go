package sandbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lastmile/lastmile/store"
)

// bCampaignArchived indexes a campaign's archived artifacts apart from the
// rest (campaign id/artifact id → kind), so everything that reads a
// campaign's artifacts (plans, checks, get_campaign, counts) leaves them
// out without asking each one.
const bCampaignArchived = "campaign_archived"

// StatusArchived is the status of an artifact taken out of its campaign
// by archive_artifact.
const StatusArchived = "archived"

// ArchiveResult is what ArchiveArtifact did.
type ArchiveResult struct {
	Artifact *Artifact
	// Unchanged: the artifact was archived already.
	Unchanged bool
}

// ArchiveArtifact takes an artifact that never went live out of its
// campaign: it is no longer listed (unless asked for), planned, promoted
// or checked, nothing may reference it, and it takes no new revisions.
// Its revisions are kept, and get_artifact still reads them. An artifact
// that is live, or that a promotion under way may have written, is
// refused: archiving cannot take anything off a platform.
func (s *Sandbox) ArchiveArtifact(ctx context.Context, actor, id string) (*ArchiveResult, error) {
	res := &ArchiveResult{}
	refused := func(p Problem) error {
		p.Field = "artifact_id"
		return &ValidationError{What: "artifact", Outcome: "was not archived", Problems: []Problem{p}}
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		a, err := getArtifact(tx, id)
		if err != nil {
			return err
		}
		if a == nil {
			hint := "get_campaign lists a campaign's artifacts"
			if KindOf(id) == "" {
				hint = "artifact ids start with eml_, seg_, wf_ or pg_; " + hint
			}
			return &NotFoundError{What: "artifact", ID: id, Hint: hint}
		}
		res.Artifact = a
		if a.ArchivedAt != nil {
			res.Unchanged = true
			return nil
		}
		if b := a.Live; b != nil {
			return refused(Problem{
				Message: fmt.Sprintf("%s %s is live on %s (%s, promoted %s): archiving only takes out what never went live", a.Kind, a.ID, b.Target, b.LiveID, b.PromotedAt.Format(time.RFC3339)),
				Fix:     "retire it on its platform through a plan a human approves (retire_artifact); archive_artifact cannot take anything off a platform",
			})
		}
		if busy, err := s.promotionHolding(tx, a); err != nil || busy != "" {
			if err != nil {
				return err
			}
			return refused(Problem{Message: busy, Fix: "resume it with confirm_promotion, or wait for it to expire, then archive"})
		}
		referrers, err := s.referrers(tx, a)
		if err != nil {
			return err
		}
		if len(referrers) > 0 {
			return refused(Problem{
				Message: fmt.Sprintf("%s %s is referenced by %s", a.Kind, a.ID, strings.Join(referrers, ", ")),
				Fix:     "stage a new revision of each without the reference (or archive it first), then archive this one",
			})
		}
		if a.Kind == KindPage {
			// The slug is free again for another page.
			r, err := s.revision(tx, a.ID, a.Revision)
			if err != nil {
				return err
			}
			if r.Page != nil {
				key := slugKey(a.Target, r.Page.Slug)
				if owner, err := tx.Get(bSlugs, key); err != nil {
					return err
				} else if string(owner) == a.ID {
					if err := tx.Delete(bSlugs, key); err != nil {
						return err
					}
				}
			}
		}
		now := s.clock()
		a.ArchivedAt, a.ArchivedBy = &now, actor
		if err := putArtifact(tx, a); err != nil {
			return err
		}
		if err := tx.Delete(bCampaignIndex, a.CampaignID+"/"+a.ID); err != nil {
			return err
		}
		if err := tx.Put(bCampaignArchived, a.CampaignID+"/"+a.ID, []byte(a.Kind)); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "archive_artifact", Object: a.ID, Revision: a.Revision, CampaignID: a.CampaignID, Detail: map[string]any{"name": a.Name, "kind": string(a.Kind)}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// mayUse lists the artifacts that may reference a: those of its campaign,
// and of every campaign for a workspace segment.
func (s *Sandbox) mayUse(tx store.Tx, a *Artifact) ([]*Artifact, error) {
	arts, err := s.campaignArtifacts(tx, a.CampaignID)
	if err != nil || a.CampaignID != WorkspaceID {
		return arts, err
	}
	err = s.eachCampaign(tx, func(_ *Campaign, more []*Artifact) error {
		arts = append(arts, more...)
		return nil
	})
	return arts, err
}

// referrers names the artifacts of a's campaign whose current revision
// references a: archiving it would leave them pointing at nothing.
func (s *Sandbox) referrers(tx store.Tx, a *Artifact) ([]string, error) {
	arts, err := s.mayUse(tx, a)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range arts {
		if o.ID == a.ID {
			continue
		}
		r, err := s.revision(tx, o.ID, o.Revision)
		if err != nil {
			return nil, err
		}
		for _, ref := range r.References() {
			if ref == a.ID {
				out = append(out, fmt.Sprintf("%s %s (%q)", o.Kind, o.ID, o.Name))
				break
			}
		}
	}
	return out, nil
}

// promotionHolding says which plan of a's campaign is being promoted, or
// failed part way and may be resumed, with a step for a: such a plan may
// have written a to its platform without its binding being recorded yet.
// "" when none.
func (s *Sandbox) promotionHolding(tx store.Tx, a *Artifact) (string, error) {
	kvs, err := tx.Scan(bPlansNew, "", "", 0)
	if err != nil {
		return "", err
	}
	now := s.clock()
	for _, kv := range kvs {
		p, err := s.loadPlan(tx, string(kv.Value))
		if err != nil {
			return "", err
		}
		st := p.effectiveStatus(now)
		if p.CampaignID != a.CampaignID || (st != PlanPromoting && st != PlanFailed) || now.After(p.ExpiresAt) {
			continue
		}
		for _, step := range p.Steps {
			if step.ArtifactID == a.ID {
				return fmt.Sprintf("plan %s (%s) has a step for %s and may have written it to %s", p.ID, st, a.ID, step.Target), nil
			}
		}
	}
	return "", nil
}

// archivedArtifacts returns the campaign's archived artifacts.
func (s *Sandbox) archivedArtifacts(tx store.Tx, campaignID string) ([]*Artifact, error) {
	kvs, err := tx.Scan(bCampaignArchived, campaignID+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Artifact, 0, len(kvs))
	for _, kv := range kvs {
		a, err := getArtifact(tx, strings.TrimPrefix(kv.Key, campaignID+"/"))
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// ArchivedArtifacts lists a campaign's archived artifacts (get_campaign
// include_archived).
func (s *Sandbox) ArchivedArtifacts(ctx context.Context, campaignID string) ([]*Artifact, error) {
	var out []*Artifact
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := s.campaign(tx, campaignID); err != nil {
			return err
		}
		var err error
		out, err = s.archivedArtifacts(tx, campaignID)
		return err
	})
	return out, err
}

// archivedRef is refCheck's message for a reference to an archived
// artifact, or "" when id is not one of the campaign's archived ones.
func archivedRef(tx store.Tx, c *Campaign, id string, k Kind) (string, error) {
	v, err := tx.Get(bCampaignArchived, c.ID+"/"+id)
	if err != nil || v == nil {
		return "", err
	}
	return fmt.Sprintf("%s %s is archived (archive_artifact): it is out of campaign %s", k, id, c.ID), nil
}
