package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/store"
)

// The sweep. None of the platforms offers idempotency keys, and a write can
// take effect after every deadline lastmile knows of (a platform that
// applies a create long after its request timed out). The journal's wait
// and lookup catch what lands in time; the sweep catches the rest: after
// every promotion attempt, and whenever a campaign is planned, each target
// that can list what carries lastmile's markers is asked for them, and an
// object whose marker names one of this store's artifacts but which is not
// the object that artifact is bound to is a stray. A stray that never
// reached anyone is discarded; one that did is a problem for a human.

// Stray outcomes.
const (
	StrayDiscarded     = "discarded"      // removed or archived on the platform
	StrayNeedsHuman    = "needs_human"    // reached people: left alone for a human
	StrayDiscardFailed = "discard_failed" // could not be removed; left where it is
)

// Stray is an object on a platform carrying the marker of an artifact that
// is bound to another object (or to none): a duplicate an interrupted or
// late create made.
type Stray struct {
	Target     string `json:"target"`
	Kind       Kind   `json:"kind"`
	ArtifactID string `json:"artifact_id"`
	LiveID     string `json:"live_id"`
	Name       string `json:"name,omitempty"`
	Status     string `json:"status,omitempty"`
	// BoundID is the live id the artifact is bound to, if any.
	BoundID string `json:"bound_id,omitempty"`
	Reached bool   `json:"reached"`
	Outcome string `json:"outcome"`
	Message string `json:"message"`
}

// Bounds of one sweep: it runs after a promotion the human is waiting on,
// and in plan_promotion, so a platform with thousands of marked objects or
// a slow listing must not hold either up for long.
const (
	sweepTimeout     = 20 * time.Second
	sweepMaxListed   = 5000 // marked objects looked at per target and kind
	sweepMaxDiscards = 50   // discards per sweep; the next sweep does the rest
)

type sweepKey struct {
	target string
	kind   Kind
}

// sweep finds the strays of the targets and kinds p's steps use, discards
// those that never reached anyone, and records every stray in the audit
// log. Errors are logged and reported as strays or not at all: a sweep
// never fails the promotion or plan it follows.
func (s *Sandbox) sweep(ctx context.Context, actor string, p *Plan) []Stray {
	var keys []sweepKey
	for _, st := range p.Steps {
		k := sweepKey{st.Target, st.Kind}
		if _, ok := s.targets[st.Target].(Sweeper); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	type cand struct {
		sweepKey
		m Marked
	}
	// The listings go out at once: each is a round trip or a few, and one
	// after another they would add up at the end of every promotion.
	listed := make([][]Marked, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { listed[i], errs[i] = s.targets[k.target].(Sweeper).Marked(ctx, k.kind) })
	}
	wg.Wait()
	var cands []cand
	for i, k := range keys {
		ms, err := listed[i], errs[i]
		s.noteTarget(ctx, k.target, "list marked objects", err)
		if err != nil {
			s.log.Warn("sweep: listing marked objects failed; strays of this kind are looked for again at the next plan", "plan", p.ID, "target", k.target, "kind", k.kind, "err", err)
			continue
		}
		if len(ms) > sweepMaxListed {
			s.log.Warn("sweep: too many marked objects; looking at the first ones only", "target", k.target, "kind", k.kind, "listed", len(ms), "max", sweepMaxListed)
			ms = ms[:sweepMaxListed]
		}
		for _, m := range ms {
			if m.Kind == "" {
				m.Kind = k.kind
			}
			if m.Kind == k.kind && m.LiveID != "" && strings.HasPrefix(m.ArtifactID, kindPrefix[k.kind]) {
				cands = append(cands, cand{k, m})
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	arts := map[string]*Artifact{}
	if err := s.st.View(ctx, func(tx store.Tx) error {
		for _, c := range cands {
			if _, seen := arts[c.m.ArtifactID]; seen {
				continue
			}
			a, err := getArtifact(tx, c.m.ArtifactID)
			if err != nil {
				return err
			}
			arts[c.m.ArtifactID] = a // nil: another workspace's marker
		}
		return nil
	}); err != nil {
		s.log.Warn("sweep: reading artifacts failed", "plan", p.ID, "err", err)
		return nil
	}
	var strays []cand
	for _, c := range cands {
		a := arts[c.m.ArtifactID]
		if a == nil || a.Kind != c.kind {
			continue
		}
		if b := a.Live; b != nil && b.Target == c.target && b.LiveID == c.m.LiveID {
			continue // the bound object
		}
		strays = append(strays, c)
	}
	if len(strays) == 0 {
		return nil // the common case: no journal is read
	}
	keep, err := s.claimed(ctx, arts)
	if err != nil {
		s.log.Warn("sweep: reading promotion journals failed; nothing is discarded", "plan", p.ID, "err", err)
		return nil
	}
	var out []Stray
	discards := 0
	for _, c := range strays {
		if keep[c.target+"\x00"+c.m.ArtifactID+"\x00"+c.m.LiveID] || keep[c.target+"\x00"+c.m.ArtifactID+"\x00"] {
			continue
		}
		st := Stray{Target: c.target, Kind: c.kind, ArtifactID: c.m.ArtifactID, LiveID: c.m.LiveID, Name: c.m.Name, Status: c.m.Status, Reached: c.m.Reached}
		if b := arts[c.m.ArtifactID].Live; b != nil && b.Target == c.target {
			st.BoundID = b.LiveID
		}
		what := fmt.Sprintf("%s %s on %s carries the marker of %s but is not the object lastmile bound it to", c.kind, c.m.LiveID, c.target, c.m.ArtifactID)
		if st.BoundID != "" {
			what += " (" + st.BoundID + ")"
		}
		switch {
		case c.m.Reached:
			st.Outcome, st.Message = StrayNeedsHuman, fmt.Sprintf("%s, and it has reached people (status %q): lastmile left it alone; a human decides whether to remove it on %s", what, c.m.Status, c.target)
		case discards >= sweepMaxDiscards:
			continue // the next sweep takes it
		default:
			discards++
			err := s.targets[c.target].(Sweeper).Discard(ctx, c.m)
			switch {
			case err == nil:
				st.Outcome, st.Message = StrayDiscarded, what+"; it never reached anyone, so lastmile removed it (a duplicate an interrupted or late create made)"
			case errors.Is(err, ErrReachedPeople):
				st.Reached = true
				st.Outcome, st.Message = StrayNeedsHuman, fmt.Sprintf("%s; %s refused to remove it: %v. A human decides what happens to it", what, c.target, err)
			default:
				st.Outcome, st.Message = StrayDiscardFailed, fmt.Sprintf("%s; it never reached anyone, but removing it failed: %v. The next plan_promotion tries again", what, err)
				s.log.Warn("sweep: discarding a stray failed", "plan", p.ID, "target", c.target, "kind", c.kind, "live_id", c.m.LiveID, "artifact", c.m.ArtifactID, "err", err)
			}
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Stray) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.LiveID, b.LiveID))
	})
	if len(out) == 0 {
		return nil
	}
	// Recorded even when the caller has gone: the platform was changed.
	err = s.st.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		for _, st := range out {
			action := "stray_found"
			if st.Outcome == StrayDiscarded {
				action = "stray_discarded"
			}
			if err := s.audit(tx, AuditEntry{Actor: actor, Action: action, Object: st.ArtifactID, CampaignID: arts[st.ArtifactID].CampaignID,
				Detail: map[string]any{"plan": p.ID, "target": st.Target, "kind": st.Kind, "live_id": st.LiveID, "artifact": st.ArtifactID, "bound_id": st.BoundID,
					"reached": st.Reached, "status": st.Status, "outcome": st.Outcome}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("sweep: recording strays in the audit log", "plan", p.ID, "err", err)
	}
	return out
}

// claimed reads every promotion journal for what a sweep must not touch,
// as keys target\0artifact\0liveID: every object a journal result recorded
// (bound when its attempt is finished, if not already), and, as
// target\0artifact\0, every artifact an unfinished plan that can still be
// resumed may yet create (its resume looks the object up and binds it).
func (s *Sandbox) claimed(ctx context.Context, arts map[string]*Artifact) (map[string]bool, error) {
	names, err := s.journalNames(ctx)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	now := s.clock()
	for _, planID := range names {
		var p *Plan
		if err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			p, err = getJSON[Plan](tx, bPlans, planID)
			return err
		}); err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		recs, err := s.readJournal(ctx, planID)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		st := states(recs)
		resumable := p.Status == PlanPromoting || (p.Status == PlanFailed && !now.After(p.ExpiresAt))
		for _, step := range p.Steps {
			if _, ours := arts[step.ArtifactID]; !ours {
				continue
			}
			ss := st[step.N]
			if ss != nil && ss.result != nil && ss.result.Live != nil {
				keep[step.Target+"\x00"+step.ArtifactID+"\x00"+ss.result.Live.ID] = true
				continue
			}
			// A newer plan bound the artifact: this one's resume is refused
			// as stale, so it creates nothing more.
			if a := arts[step.ArtifactID]; resumable && step.Op == OpCreate && a != nil && a.Live == nil {
				keep[step.Target+"\x00"+step.ArtifactID+"\x00"] = true
			}
		}
	}
	return keep, nil
}
