package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/lastmile/lastmile/store"
)

// Limits that keep staged content and campaigns bounded.
const (
	MaxHTMLBytes          = 1 << 20 // per email or page
	MaxArtifactsPerCampgn = 500
)

// StageResult is the outcome of a write tool.
type StageResult struct {
	Artifact *Artifact
	Revision *Revision
	// Unchanged is true when the content equals the current revision: no
	// new revision was made (a retried call stages nothing twice).
	Unchanged bool
	// EstimatedSize is a segment's member count when its target can count.
	EstimatedSize *int
	// Notes are non-blocking remarks (e.g. a send time that a platform rounds).
	Notes []string
	// warm is the policy check of the new revision, started before the
	// commit (see StagedGovernanceLine).
	warm *warmCheck
	// segments are those the revision's audience is counted through, as
	// the transaction saw them (segmentsOf).
	segments map[string]*Segment
}

// staging is the per-kind part of a write: validation that needs the rest of
// the campaign, run inside the write transaction.
type staging struct {
	kind       Kind
	campaignID string
	artifactID string // empty: a new artifact
	rev        *Revision
	pre        problems // problems found before the transaction
	// checkOnly checks everything a write is checked for and writes
	// nothing: stage returns the problems, or errChecked.
	checkOnly bool
	// check adds problems found against the stored campaign.
	check func(tx store.Tx, c *Campaign, self string, ps *problems) error
	// index updates secondary indexes (slugs) for the new revision.
	index func(tx store.Tx, self string, prev *Revision, prevTarget string) error
}

// encodeContent returns the revision's content, its JSON field name and its
// JSON encoding.
func encodeContent(r *Revision) (field string, data []byte, err error) {
	var v any
	switch {
	case r.Email != nil:
		field, v = "email", r.Email
	case r.Segment != nil:
		field, v = "segment", r.Segment
	case r.Workflow != nil:
		field, v = "workflow", r.Workflow
	case r.Page != nil:
		field, v = "page", r.Page
	case r.Ad != nil:
		field, v = "ad", r.Ad
	default:
		return "", nil, errors.New("a revision without content")
	}
	data, err = marshal(v)
	return field, data, err
}

// contentHash covers the content only, not ids or times, so identical
// content hashes identically across retries.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// encodeRevision is marshal(r), given the content's encoding: the content
// is the struct's last field, so it is appended to the encoding of the
// rest rather than encoded a second time (it is most of the bytes).
func encodeRevision(r *Revision, field string, data []byte) ([]byte, error) {
	head := *r
	head.Email, head.Segment, head.Workflow, head.Page, head.Ad = nil, nil, nil, nil, nil
	b, err := marshal(&head)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(field)+len(data)+4)
	out = append(out, b[:len(b)-1]...) // without the closing brace
	out = append(out, `,"`...)
	out = append(out, field...)
	out = append(out, `":`...)
	out = append(out, data...)
	return append(out, '}'), nil
}

// errChecked is what staging returns under checkOnly when nothing is
// wrong: the write would have been made.
var errChecked = errors.New("sandbox: checked only, nothing staged")

// checked turns staging's outcome under checkOnly into a Check method's:
// nil when the write would have been made, else its problems.
func checked(_ *StageResult, err error) error {
	if errors.Is(err, errChecked) {
		return nil
	}
	return err
}

func artifactNotFound(kind Kind, id, campaignID string) error {
	return &NotFoundError{What: string(kind), ID: id, Hint: fmt.Sprintf("get_campaign %s lists the campaign's artifacts; leave the id empty to stage a new %s", campaignID, kind)}
}

// stage writes a new revision (or notices it is unchanged) in one transaction.
func (s *Sandbox) stage(ctx context.Context, actor string, st staging) (*StageResult, error) {
	var res *StageResult
	what := string(st.kind)
	run := s.st.Update
	if st.checkOnly {
		run = s.st.View
	}
	err := run(ctx, func(tx store.Tx) error {
		ps := st.pre
		var c *Campaign
		var err error
		if st.campaignID == WorkspaceID {
			if st.kind != KindSegment {
				return &ValidationError{What: what, Problems: []Problem{{Field: "campaign_id", Message: "the workspace holds only segments", Fix: "stage it in a campaign (create_campaign)"}}}
			}
			c, err = s.workspace(tx, !st.checkOnly)
		} else {
			c, err = s.campaign(tx, st.campaignID)
		}
		var nf *NotFoundError
		if errors.As(err, &nf) && len(ps) > 0 {
			if slices.ContainsFunc(ps, func(p Problem) bool { return p.Field == "campaign_id" }) {
				return ps.err(what) // already said
			}
			// Report the unknown campaign together with the other problems.
			return append(problems{{Field: "campaign_id", Message: nf.Error()}}, ps...).err(what)
		}
		if err != nil {
			return err
		}
		var head *Artifact
		if st.artifactID != "" {
			head, err = getArtifact(tx, st.artifactID)
			if err != nil {
				return err
			}
			switch {
			case head == nil:
				return artifactNotFound(st.kind, st.artifactID, c.ID)
			case head.Kind != st.kind:
				return &ValidationError{What: what, Problems: []Problem{{Field: string(st.kind) + "_id", Message: fmt.Sprintf("%s is %s, not %s", st.artifactID, withArticle(head.Kind), withArticle(st.kind)), Fix: fmt.Sprintf("pass the id of %s, or leave it empty to stage a new one", withArticle(st.kind))}}}
			case head.CampaignID != c.ID:
				return &ValidationError{What: what, Problems: []Problem{{Field: string(st.kind) + "_id", Message: fmt.Sprintf("%s belongs to campaign %s, not %s", st.artifactID, head.CampaignID, c.ID), Fix: "pass the campaign the artifact belongs to"}}}
			case head.ArchivedAt != nil:
				return &ValidationError{What: what, Problems: []Problem{{Field: string(st.kind) + "_id", Message: fmt.Sprintf("%s was archived (archive_artifact) and takes no new revisions", st.artifactID), Fix: fmt.Sprintf("leave the id empty to stage a new %s", st.kind)}}}
			}
		} else {
			n, err := tx.Count(bCampaignIndex, c.ID+"/", MaxArtifactsPerCampgn)
			if err != nil {
				return err
			}
			if n >= MaxArtifactsPerCampgn {
				ps.add("campaign_id", fmt.Sprintf("campaign %s already has %d artifacts, the most one campaign can hold", c.ID, MaxArtifactsPerCampgn), "split the work into several campaigns")
			}
		}
		self := st.artifactID
		if self == "" {
			self = newID(kindPrefix[st.kind], s.clock())
		}
		if err := st.check(tx, c, self, &ps); err != nil {
			return err
		}
		if err := ps.err(what); err != nil {
			return err
		}
		if st.checkOnly {
			return errChecked
		}
		r := st.rev
		r.ArtifactID, r.Kind, r.CampaignID, r.Actor = self, st.kind, c.ID, actor
		r.CreatedAt = s.clock()
		field, data, err := encodeContent(r)
		if err != nil {
			return err
		}
		r.Hash = contentHash(data)
		target := r.TargetOverride()
		if target == "" {
			target = c.Target
		}
		if head != nil && head.Hash == r.Hash {
			prev, err := s.revision(tx, head.ID, head.Revision)
			if err != nil {
				return err
			}
			res = &StageResult{Artifact: head, Revision: prev, Unchanged: true}
			res.segments, err = s.segmentsOf(tx, c.ID, head.ID, prev)
			return err
		}
		var prev *Revision
		prevTarget := ""
		if head == nil {
			head = &Artifact{ID: self, Kind: st.kind, CampaignID: c.ID, CreatedAt: r.CreatedAt}
			if err := tx.Put(bCampaignIndex, c.ID+"/"+self, []byte(st.kind)); err != nil {
				return err
			}
		} else {
			prevTarget = head.Target
			if prev, err = s.revision(tx, head.ID, head.Revision); err != nil {
				return err
			}
		}
		r.Number = head.Revision + 1
		head.Revision, head.Hash, head.Name, head.Target, head.UpdatedAt = r.Number, r.Hash, r.Name(), target, r.CreatedAt
		enc, err := encodeRevision(r, field, data)
		if err != nil {
			return err
		}
		if err := tx.Put(artifactBucket(self), revisionKey(r.Number), enc); err != nil {
			return err
		}
		if err := putArtifact(tx, head); err != nil {
			return err
		}
		if st.index != nil {
			if err := st.index(tx, self, prev, prevTarget); err != nil {
				return err
			}
		}
		res = &StageResult{Artifact: head, Revision: r}
		if res.segments, err = s.segmentsOf(tx, c.ID, self, r); err != nil {
			return err
		}
		res.warm = s.warm(ctx, c, head, r, res.segments)
		return s.audit(tx, AuditEntry{Actor: actor, Action: "stage_" + string(st.kind), Object: self, Revision: r.Number, CampaignID: c.ID, Detail: map[string]any{"name": r.Name(), "hash": r.Hash}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func revKey(id string, n int) string { return id + "/" + revisionKey(n) }

// revision reads an immutable revision. Decoded revisions are kept: they
// never change, so the cache is always right, and planning reads every one.
// Callers must not modify what they get.
func (s *Sandbox) revision(tx store.Tx, id string, n int) (*Revision, error) {
	key := revKey(id, n)
	if r, ok := s.revs.Get(key); ok {
		return r, nil
	}
	r, err := getJSON[Revision](tx, artifactBucket(id), revisionKey(n))
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("store: revision %d of %s is missing", n, id)
	}
	s.revs.Put(key, r)
	return r, nil
}

// ArtifactView is an artifact with its current revision.
type ArtifactView struct {
	Artifact *Artifact `json:"artifact"`
	Revision *Revision `json:"revision"`
}

// GetArtifact returns an artifact and its current (or a given) revision.
func (s *Sandbox) GetArtifact(ctx context.Context, id string, revision int) (*ArtifactView, error) {
	var v *ArtifactView
	err := s.st.View(ctx, func(tx store.Tx) error {
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
		if revision <= 0 {
			revision = a.Revision
		}
		if revision > a.Revision {
			return &NotFoundError{What: "revision", ID: fmt.Sprintf("%d of %s", revision, id), Hint: fmt.Sprintf("the current revision is %d", a.Revision)}
		}
		r, err := s.revision(tx, id, revision)
		if err != nil {
			return err
		}
		v = &ArtifactView{Artifact: a, Revision: r}
		return nil
	})
	return v, err
}

// refCheck reports whether id names an artifact of kind k in campaign c.
func refCheck(tx store.Tx, c *Campaign, id string, k Kind) (ok bool, problem string, err error) {
	if KindOf(id) != k {
		return false, fmt.Sprintf("%q is not %s id (those start with %s)", id, withArticle(k), kindPrefix[k]), nil
	}
	kind, err := tx.Get(bCampaignIndex, c.ID+"/"+id)
	if err != nil {
		return false, "", err
	}
	if kind == nil && k == KindSegment && c.ID != WorkspaceID {
		// Any campaign may use the workspace's segments.
		if kind, err = tx.Get(bCampaignIndex, WorkspaceID+"/"+id); err != nil {
			return false, "", err
		}
	}
	if kind == nil {
		if msg, err := archivedRef(tx, c, id, k); err != nil || msg != "" {
			return false, msg, err
		}
		return false, fmt.Sprintf("no %s %s in campaign %s", k, id, c.ID), nil
	}
	return true, "", nil
}

// checkRefs adds a problem for each id that is not an artifact of kind k in
// the campaign.
func checkRefs(tx store.Tx, c *Campaign, field string, ids []string, k Kind, ps *problems) error {
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if seen[id] {
			ps.add(f, fmt.Sprintf("%s is listed twice", id), "list it once")
			continue
		}
		seen[id] = true
		ok, msg, err := refCheck(tx, c, id, k)
		if err != nil {
			return err
		}
		if !ok {
			ps.add(f, msg, fmt.Sprintf("stage the %s first with the tool that makes it, or pick one from get_campaign %s", k, c.ID))
		}
	}
	return nil
}

func checkRef(tx store.Tx, c *Campaign, field, id string, k Kind, ps *problems) error {
	if id == "" {
		return nil
	}
	ok, msg, err := refCheck(tx, c, id, k)
	if err != nil {
		return err
	}
	if !ok {
		ps.add(field, msg, fmt.Sprintf("stage the %s first with the tool that makes it, or pick one from get_campaign %s", k, c.ID))
	}
	return nil
}

// withArticle writes "an email", "a segment".
func withArticle(k Kind) string {
	if k == KindEmail {
		return "an " + string(k)
	}
	return "a " + string(k)
}
