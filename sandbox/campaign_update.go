package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/store"
)

// bCampaignRevisions keeps every revision of a campaign's settings, as an
// artifact's bucket keeps its revisions: campaign id/%010d → Campaign.
const bCampaignRevisions = "campaign_revisions"

// CampaignUpdate is what update_campaign takes. Only the fields given
// change: an empty string, list or UTM parameter keeps what the campaign
// has. The target is not among them: it decides where every artifact
// goes, and a live artifact cannot move.
type CampaignUpdate struct {
	CampaignID string
	Name       string
	Brief      string
	Goal       string
	Markets    []string
	Industry   string
	UTM        UTM
}

// CampaignUpdateResult is the campaign after an update, with the
// governance verdict on every artifact under its new settings.
type CampaignUpdateResult struct {
	Campaign *Campaign
	// Changed names the fields the update changed (utm.source, markets…);
	// none when Unchanged.
	Changed   []string
	Unchanged bool
	// Report is the check of every artifact of the campaign; nil when no
	// policy is configured or the policy file is broken (Governance says).
	Report     *governance.Report
	Governance string
}

// CampaignHash is a digest of everything of the campaign that goes into
// what promotion writes or which rules and approvals apply: the connectors
// are handed the whole campaign, and its UTM rewrites every link. A plan's
// hash covers it, so a plan approved before an update is stale after it.
// The cost (a person's figure for the report) is not part of it.
func CampaignHash(c *Campaign) string {
	data, _ := json.Marshal(struct {
		Name, Brief, Goal string
		Markets           []string
		Industry, Target  string
		UTM               UTM
	}{c.Name, c.Brief, c.Goal, c.Markets, c.Industry, c.Target, c.UTM})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// UpdateCampaign stages a new revision of the campaign's settings, keeping
// the old one, and checks every artifact of the campaign under them. It
// writes nothing when nothing changes. Nothing live changes: the next plan
// shows what the new settings do to each artifact, and a human approves it.
func (s *Sandbox) UpdateCampaign(ctx context.Context, actor string, in CampaignUpdate) (*CampaignUpdateResult, error) {
	res := &CampaignUpdateResult{}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		c, err := s.campaign(tx, in.CampaignID)
		if err != nil {
			return err
		}
		next := mergeCampaign(c, in)
		ci := CampaignInput{Name: next.Name, Brief: next.Brief, Goal: next.Goal, Markets: next.Markets, Industry: next.Industry, UTM: next.UTM}
		if err := validateCampaignFields(&ci).err("campaign update"); err != nil {
			return err
		}
		next.Name, next.Markets, next.Industry = ci.Name, ci.Markets, ci.Industry
		res.Changed = changedFields(c, next)
		if len(res.Changed) == 0 {
			res.Campaign, res.Unchanged = c, true
			return nil
		}
		// The revision being replaced is kept first: campaigns stored
		// before revisions, and those never updated, have it only as the
		// head.
		if have, err := tx.Get(bCampaignRevisions, c.ID+"/"+revisionKey(c.Revision)); err != nil {
			return err
		} else if have == nil {
			if err := putJSON(tx, bCampaignRevisions, c.ID+"/"+revisionKey(c.Revision), c); err != nil {
				return err
			}
		}
		now := s.clock()
		next.Revision, next.UpdatedAt = c.Revision+1, &now
		if err := putJSON(tx, bCampaignRevisions, c.ID+"/"+revisionKey(next.Revision), next); err != nil {
			return err
		}
		if err := putJSON(tx, bCampaigns, c.ID, next); err != nil {
			return err
		}
		res.Campaign = next
		return s.audit(tx, AuditEntry{Actor: actor, Action: "update_campaign", Object: c.ID, Revision: next.Revision, CampaignID: c.ID,
			Detail: map[string]any{"changed": res.Changed, "hash": CampaignHash(next)}})
	})
	if err != nil {
		return nil, err
	}
	res.Governance, res.Report = s.campaignGovernance(ctx, res.Campaign.ID)
	return res, nil
}

// mergeCampaign is c with the fields the update gives.
func mergeCampaign(c *Campaign, in CampaignUpdate) *Campaign {
	next := *c
	next.Markets = slices.Clone(c.Markets)
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&next.Name, in.Name)
	set(&next.Brief, in.Brief)
	set(&next.Goal, in.Goal)
	set(&next.Industry, in.Industry)
	if len(in.Markets) > 0 {
		next.Markets = slices.Clone(in.Markets)
	}
	u := &next.UTM
	set(&u.Source, in.UTM.Source)
	set(&u.Medium, in.UTM.Medium)
	set(&u.Campaign, in.UTM.Campaign)
	set(&u.Content, in.UTM.Content)
	set(&u.Term, in.UTM.Term)
	set(&u.PageMedium, in.UTM.PageMedium)
	return &next
}

// changedFields names what differs between two revisions of a campaign.
func changedFields(a, b *Campaign) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"name", a.Name == b.Name}, {"brief", a.Brief == b.Brief}, {"goal", a.Goal == b.Goal},
		{"markets", slices.Equal(a.Markets, b.Markets)}, {"industry", a.Industry == b.Industry},
		{"utm.source", a.UTM.Source == b.UTM.Source}, {"utm.medium", a.UTM.Medium == b.UTM.Medium},
		{"utm.campaign", a.UTM.Campaign == b.UTM.Campaign}, {"utm.content", a.UTM.Content == b.UTM.Content},
		{"utm.term", a.UTM.Term == b.UTM.Term}, {"utm.page_medium", a.UTM.PageMedium == b.UTM.PageMedium},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// campaignGovernance checks every artifact of the campaign and sums it up
// in one line, as the write tools do for the one they stage.
func (s *Sandbox) campaignGovernance(ctx context.Context, campaignID string) (string, *governance.Report) {
	p, err := s.policy.Policy()
	if err != nil {
		return "policy file has errors; a human must fix it before anything can be promoted", nil
	}
	if len(p.Rules()) == 0 {
		return "no policy configured", nil
	}
	rep, _, err := s.Check(ctx, CheckScope{CampaignID: campaignID})
	if err != nil {
		return "checks could not run: " + err.Error(), nil
	}
	return summaryLine(rep), rep
}

// CampaignRevision returns revision n of a campaign's settings (n ≤ 0:
// the current one).
func (s *Sandbox) CampaignRevision(ctx context.Context, id string, n int) (*Campaign, error) {
	var out *Campaign
	err := s.st.View(ctx, func(tx store.Tx) error {
		c, err := s.campaign(tx, id)
		if err != nil {
			return err
		}
		if n <= 0 || n == c.Revision {
			out = c
			return nil
		}
		if n > c.Revision {
			return &NotFoundError{What: "campaign revision", ID: fmt.Sprintf("%d of %s", n, id), Hint: fmt.Sprintf("the current revision is %d", c.Revision)}
		}
		if out, err = getJSON[Campaign](tx, bCampaignRevisions, id+"/"+revisionKey(n)); err != nil {
			return err
		}
		if out == nil {
			return &NotFoundError{What: "campaign revision", ID: fmt.Sprintf("%d of %s", n, id), Hint: "the store holds no such revision"}
		}
		if out.Revision == 0 {
			out.Revision = 1
		}
		return nil
	})
	return out, err
}

// campaignUpdated says how the campaign's settings moved since plan p
// (now is the plan the campaign makes today).
func campaignUpdated(p, now *Plan) string {
	if p.CampaignRevision > 0 && now.CampaignRevision != p.CampaignRevision {
		return fmt.Sprintf("the campaign was updated (update_campaign): it is at revision %d, the plan has revision %d", now.CampaignRevision, p.CampaignRevision)
	}
	return "the campaign was updated (update_campaign): its settings differ from the plan's"
}
