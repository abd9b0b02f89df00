package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/store"
)

// Progress receives a line per finished step of a promotion.
type Progress func(done, total int, message string)

// StepResult is the outcome of one plan step.
type StepResult struct {
	N          int        `json:"n"`
	ArtifactID string     `json:"artifact_id"`
	Kind       Kind       `json:"kind"`
	Op         string     `json:"op"`
	Target     string     `json:"target"`
	Status     string     `json:"status"` // done | unchanged | skipped | pending | failed
	LiveID     string     `json:"live_id,omitempty"`
	URL        string     `json:"url,omitempty"`
	At         *time.Time `json:"at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// PromotionResult is what confirm_promotion returns.
type PromotionResult struct {
	PlanID string `json:"plan_id"`
	Status string `json:"status"`
	// AlreadyPromoted is true when the plan had been promoted before: the
	// earlier result is returned and nothing was changed.
	AlreadyPromoted bool         `json:"already_promoted,omitempty"`
	Resumed         bool         `json:"resumed,omitempty"`
	Steps           []StepResult `json:"steps"`
	// Strays are objects the sweep after this attempt found carrying an
	// artifact's marker without being its bound object: each says whether
	// lastmile discarded it or a human must decide.
	Strays []Stray `json:"strays,omitempty"`
}

// ApproveCommand is the command line a human runs to approve a plan.
func ApproveCommand(p *Plan, args ...string) string {
	cmd := "lastmile approve " + p.ID
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	return cmd
}

// ApproveCommand is the command line a human runs to approve a plan
// served by s.
func (s *Sandbox) ApproveCommand(p *Plan) string { return ApproveCommand(p, s.approve...) }

// ReviewURL is the plan's page on the review page, or "" when the review
// page does not count for it or no address is known.
func (s *Sandbox) ReviewURL(p *Plan) string {
	if s.reviewURL == nil || !p.verdict(ChannelReview).Counts {
		return ""
	}
	return s.reviewURL(p.ID)
}

// HowToApprove tells the agent, in a sentence, where a human approves the
// plan: the review page, when it counts, and their own terminal, when it
// does.
func (s *Sandbox) HowToApprove(p *Plan) string {
	var ways []string
	if u := s.ReviewURL(p); u != "" {
		ways = append(ways, "on the review page, "+u+", with their passkey (lastmile review serves it)")
	}
	if p.verdict(ChannelCLI).Counts {
		ways = append(ways, "in their own terminal, with "+s.ApproveCommand(p)+" (it shows the plan and asks them to type back its code)")
	}
	if len(ways) == 0 {
		return "The policy lets no channel this server knows of approve it: see lastmile://policy"
	}
	return "A human approves it themselves, " + strings.Join(ways, ", or ")
}

// shellQuote quotes a for a POSIX shell when it needs it.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// CheckConfirmable says why a plan cannot be promoted now, as a
// RefusedError telling the agent what the human must do; nil when it can.
func (s *Sandbox) CheckConfirmable(ctx context.Context, p *Plan) error {
	switch p.Status {
	case PlanPromoted, PlanPromoting, PlanFailed:
		return nil // promoted: the result is returned; otherwise a resume
	case PlanRejected:
		return &RefusedError{Code: RefusedRejected, Reason: fmt.Sprintf("plan %s was rejected by %s: %s", p.ID, p.Rejection.By, p.Rejection.Reason), Action: "Change what the reviewer asked for, run plan_promotion again and ask for approval of the new plan"}
	case PlanExpired:
		return &RefusedError{Code: RefusedExpired, Reason: fmt.Sprintf("plan %s expired at %s without being promoted", p.ID, p.ExpiresAt.Format(time.RFC3339)), Action: "Run plan_promotion again and ask for approval of the new plan"}
	}
	if p.Governance.Errors > 0 {
		return &RefusedError{Code: RefusedGovernance, Reason: fmt.Sprintf("plan %s has %d governance errors, which block promotion", p.ID, p.Governance.Errors), Action: "Fix them (check_campaign lists each with its fix), run plan_promotion again and ask for approval of the new plan"}
	}
	if missing := p.Missing(); missing != "" {
		return &RefusedError{
			Code:   RefusedNeedsApproval,
			Reason: fmt.Sprintf("plan %s is not approved: it still needs %s", p.ID, missing),
			Action: "Ask a human to review it. " + s.HowToApprove(p) + ". Nothing you can pass or run counts as approval",
		}
	}
	why, err := s.staleness(ctx, p, true)
	if err != nil {
		return err
	}
	if why != "" {
		return &RefusedError{Code: RefusedStale, Reason: "plan " + p.ID + " is stale: " + why + " after approval", Action: "Run plan_promotion again and ask for approval of the new plan"}
	}
	return nil
}

// Confirm promotes an approved plan exactly once. It refuses unless the plan
// has its approvals, is unchanged since planning, has no governance errors
// and has not expired or been rejected. Confirming a promoted plan returns
// the earlier result; confirming a failed or interrupted one resumes it.
func (s *Sandbox) Confirm(ctx context.Context, actor, planID string, progress Progress) (*PromotionResult, error) {
	if progress == nil {
		progress = func(int, int, string) {}
	}
	p, err := s.GetPlan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if err := s.CheckConfirmable(ctx, p); err != nil {
		return nil, err
	}
	j, err := s.openJournal(ctx, p.ID)
	if errors.Is(err, ErrPromotionBusy) {
		return nil, &RefusedError{Code: RefusedBusy, Reason: fmt.Sprintf("plan %s is being promoted by another session right now", p.ID), Action: "Wait for it to finish, then call get_plan to see the result"}
	}
	if err != nil {
		return nil, err
	}
	defer j.close()
	// Re-read under the journal lock: another session may have finished
	// the plan between our check and the lock.
	if p, err = s.GetPlan(ctx, planID); err != nil {
		return nil, err
	}
	recs, err := s.readJournal(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if p.Status == PlanPromoted {
		res := s.result(p, states(recs))
		res.AlreadyPromoted = true
		return res, nil
	}
	resumed := p.Status == PlanPromoting || p.Status == PlanFailed
	if resumed {
		if err := s.checkResume(ctx, p, states(recs)); err != nil {
			s.auditRefusedResume(ctx, actor, p, err)
			return nil, err
		}
	}
	if err := s.startPromotion(ctx, actor, p); err != nil {
		return nil, err
	}
	runErr := s.run(ctx, p, j, states(recs), progress)
	// What happened is recorded even when the caller cancelled: the
	// platform may have been changed.
	fctx := context.WithoutCancel(ctx)
	recs, err = s.readJournal(fctx, p.ID)
	if err != nil {
		return nil, err
	}
	st := states(recs)
	if runErr != nil {
		var pe *PromotionError
		if errors.As(runErr, &pe) {
			pe.fill(p, st, s.clock())
		}
		s.log.Warn("promotion failed", promotionErrAttrs(p, runErr)...)
		if err := s.finishPromotion(fctx, actor, p, st, runErr); err != nil {
			s.log.Error("recording a failed promotion", "plan", p.ID, "err", err)
		}
		if pe != nil && ctx.Err() == nil {
			pe.Strays = s.sweepAfter(ctx, actor, p)
		}
		return nil, runErr
	}
	if err := s.finishPromotion(fctx, actor, p, st, nil); err != nil {
		return nil, err
	}
	res := s.result(p, st)
	res.Status, res.Resumed = PlanPromoted, resumed
	if ctx.Err() == nil {
		res.Strays = s.sweepAfter(ctx, actor, p)
	}
	return res, nil
}

// sweepAfter sweeps after a promotion attempt and keeps what it found on
// the plan, so get_plan shows it too.
func (s *Sandbox) sweepAfter(ctx context.Context, actor string, p *Plan) []Stray {
	strays := s.sweep(ctx, actor, p)
	if len(strays) == 0 {
		return nil
	}
	err := s.st.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		cur, err := s.loadPlan(tx, p.ID)
		if err != nil {
			return err
		}
		cur.Strays = strays
		*p = *cur
		return putJSON(tx, bPlans, cur.ID, cur)
	})
	if err != nil {
		s.log.Error("recording strays on the plan", "plan", p.ID, "err", err)
	}
	return strays
}

// promotionErrAttrs are the log attributes of a failed promotion.
func promotionErrAttrs(p *Plan, err error) []any {
	attrs := []any{"plan", p.ID, "campaign", p.CampaignID}
	var pe *PromotionError
	if errors.As(err, &pe) {
		attrs = append(attrs, "step", pe.Step.N, "target", pe.Step.Target, "class", pe.Class)
		if pe.RetryAfter > 0 {
			attrs = append(attrs, "retry_after", pe.RetryAfter)
		}
	}
	return append(attrs, "err", err)
}

// fill completes e from the journal after the attempt: where every step
// stands, and until when a write sent and not answered may still land.
func (e *PromotionError) fill(p *Plan, st map[int]*stepState, now time.Time) {
	e.Now = now
	e.Steps = stepStates(p, st, now)
	for _, s := range e.Steps {
		if s.MayLandUntil != nil && s.MayLandUntil.After(e.LandBy) {
			e.LandBy = *s.MayLandUntil
		}
	}
}

// auditRefusedResume records that a resume was refused, so the audit log
// says why an unfinished plan stayed unfinished.
func (s *Sandbox) auditRefusedResume(ctx context.Context, actor string, p *Plan, refusal error) {
	err := s.st.Update(ctx, func(tx store.Tx) error {
		return s.audit(tx, AuditEntry{Actor: actor, Action: "resume_refused", Object: p.ID, CampaignID: p.CampaignID, Detail: map[string]any{"reason": refusal.Error()}})
	})
	if err != nil {
		s.log.Error("recording a refused resume", "plan", p.ID, "err", err)
	}
}

func (s *Sandbox) startPromotion(ctx context.Context, actor string, p *Plan) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		cur, err := s.loadPlan(tx, p.ID)
		if err != nil {
			return err
		}
		now := s.clock()
		if cur.Promotion.StartedAt == nil {
			cur.Promotion.StartedAt = &now
		}
		cur.Promotion.Attempts++
		cur.Promotion.Error, cur.Promotion.FailedStep = "", 0
		action := "promotion_started"
		if cur.Promotion.Attempts > 1 {
			action = "promotion_resumed"
		}
		cur.Status = PlanPromoting
		*p = *cur
		if err := putJSON(tx, bPlans, cur.ID, cur); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: action, Object: cur.ID, CampaignID: cur.CampaignID, Detail: map[string]any{"attempt": cur.Promotion.Attempts, "hash": cur.Hash}})
	})
}

// stepDeps returns, per step index, the indexes of steps that must finish
// first: what an artifact references is put before it, a send or publish
// follows its artifact's put, and retirements go the other way round.
func stepDeps(p *Plan, revs map[string]*Revision) [][]int {
	put, follow := map[string]int{}, map[string]int{}
	for i, st := range p.Steps {
		if st.Irreversible {
			follow[st.ArtifactID] = i
		} else {
			put[st.ArtifactID] = i
		}
	}
	deps := make([][]int, len(p.Steps))
	retired := map[string]int{}
	for i, st := range p.Steps {
		if IsRetire(st.Op) {
			retired[st.ArtifactID] = i
		}
	}
	for i, st := range p.Steps {
		if IsRetire(st.Op) {
			// Taken back in the reverse order of putting: what uses an
			// artifact (a workflow, an email) before the artifact (its
			// email, its segment).
			for _, ref := range revs[st.ArtifactID].References() {
				if j, ok := retired[ref]; ok && !slices.Contains(deps[j], i) {
					deps[j] = append(deps[j], i)
				}
			}
			continue
		}
		add := func(j int, ok bool) {
			if ok && j != i && !slices.Contains(deps[i], j) {
				deps[i] = append(deps[i], j)
			}
		}
		for _, ref := range revs[st.ArtifactID].References() {
			j, ok := put[ref]
			add(j, ok)
		}
		if st.Irreversible {
			j, ok := put[st.ArtifactID]
			add(j, ok)
			if w := revs[st.ArtifactID].Workflow; w != nil && w.Trigger.PageID != "" {
				j, ok := follow[w.Trigger.PageID] // a form trigger needs its page public
				add(j, ok)
			}
		}
		if a := revs[st.ArtifactID].Ad; a != nil && !IsRetire(st.Op) {
			// An ad's final URL is its page's live URL: the page is
			// public before the ads that send clicks to it are made.
			for _, ref := range revs[st.ArtifactID].References() {
				j, ok := follow[ref]
				add(j, ok && KindOf(ref) == KindPage)
			}
		}
	}
	return deps
}

type stepOutcome struct {
	i    int
	live LiveState
	err  error
}

// run executes the plan's steps in dependency order, up to s.parallel at
// once, skipping those the journal shows done.
func (s *Sandbox) run(ctx context.Context, p *Plan, j promotionJournal, done map[int]*stepState, progress Progress) error {
	var c *Campaign
	revs := map[string]*Revision{}
	arts := map[string]*Artifact{}
	segs := map[string]*Segment{}
	approved := map[int]*RecipientSet{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		if c, err = s.campaign(tx, p.CampaignID); err != nil {
			return err
		}
		for _, st := range p.Steps {
			if approved[st.N], err = s.approvedRecipients(tx, p.ID, st); err != nil {
				return err
			}
		}
		all, err := s.campaignArtifacts(tx, c.ID)
		if err != nil {
			return err
		}
		for _, a := range all {
			arts[a.ID] = a
		}
		// The workspace segments the plan records: their live ids are
		// what the campaign's emails and workflows refer to.
		for _, st := range p.Steps {
			if arts[st.ArtifactID] != nil {
				continue
			}
			a, err := getArtifact(tx, st.ArtifactID)
			if err != nil {
				return err
			}
			if a == nil {
				return fmt.Errorf("artifact %s of plan %s is missing", st.ArtifactID, p.ID)
			}
			arts[a.ID], all = a, append(all, a)
		}
		for _, st := range p.Steps {
			if revs[st.ArtifactID] != nil {
				continue
			}
			r, err := s.revision(tx, st.ArtifactID, st.Revision)
			if err != nil {
				return err
			}
			revs[st.ArtifactID] = r
		}
		// Segment definitions as planned, for targets that resolve members.
		for _, a := range all {
			if a.Kind != KindSegment {
				continue
			}
			rev := a.Revision
			for _, st := range p.Steps {
				if st.ArtifactID == a.ID {
					rev = st.Revision
				}
			}
			r, err := s.revision(tx, a.ID, rev)
			if err != nil {
				return err
			}
			segs[a.ID] = r.Segment
		}
		return nil
	})
	if err != nil {
		return err
	}
	refs := map[string]string{}
	liveOf := map[string]LiveState{}
	for _, a := range arts {
		if a.Live != nil {
			refs[a.ID] = a.Live.LiveID
			liveOf[a.ID] = LiveState{ID: a.Live.LiveID, URL: a.Live.URL, Version: a.Live.Version}
		}
	}
	planned := make([]*Artifact, 0, len(arts))
	for _, a := range arts {
		planned = append(planned, a)
	}
	sentBy := sentByWorkflows(planned, revs)
	n := len(p.Steps)
	deps := stepDeps(p, revs)
	finished := make([]bool, n)
	started := make([]bool, n)
	record := func(i int, live LiveState) {
		st := p.Steps[i]
		finished[i] = true
		if live.ID != "" {
			refs[st.ArtifactID] = live.ID
			liveOf[st.ArtifactID] = live
		}
	}
	count := 0
	for i, st := range p.Steps {
		if ds := done[st.N]; st.Op == OpUnchanged || (ds != nil && ds.result != nil) {
			live := liveOf[st.ArtifactID]
			if ds != nil && ds.result != nil && ds.result.Live != nil {
				live = *ds.result.Live
			}
			record(i, live)
			started[i] = true
			count++
		}
	}
	outcomes := make(chan stepOutcome)
	running := 0
	var firstErr error
	for {
		for i := 0; i < n && firstErr == nil && running < s.parallel; i++ {
			if started[i] || !ready(deps[i], finished) {
				continue
			}
			started[i] = true
			running++
			st := p.Steps[i]
			obj := s.object(c, arts[st.ArtifactID], revs[st.ArtifactID], segs, maps.Clone(refs)) // refs is never nil
			obj.Recipients = approved[st.N]
			obj.SentByWorkflows = sentBy[st.ArtifactID]
			base := liveOf[st.ArtifactID]
			if obj.Ad != nil {
				urls := map[string]string{}
				for id, l := range liveOf {
					urls[id] = l.URL
				}
				if missing := resolveAdPages(obj.Ad, c, st.ArtifactID, urls); len(missing) > 0 && !IsRetire(st.Op) {
					go func() {
						outcomes <- stepOutcome{i: i, err: fmt.Errorf("ad campaign %s sends clicks to page(s) %s, which have no public http(s) URL on their target: nothing was created; publish the page on a public target (a local target needs its site URL: lastmile site)", st.ArtifactID, strings.Join(missing, ", "))}
					}()
					continue
				}
			}
			go func() {
				live, err := s.step(ctx, j, st, done[st.N], obj, base)
				outcomes <- stepOutcome{i: i, live: live, err: err}
			}()
		}
		if running == 0 {
			break
		}
		o := <-outcomes
		running--
		if o.err != nil {
			st := p.Steps[o.i]
			class, wait := classify(ctx, o.err)
			// Every failed step, not only the first: parallel steps fail
			// for their own reasons.
			s.log.Warn("promotion step failed", "plan", p.ID, "step", st.N, "target", st.Target, "op", st.Op, "kind", st.Kind, "artifact", st.ArtifactID, "class", class, "err", o.err)
			if firstErr == nil {
				firstErr = &PromotionError{PlanID: p.ID, Step: st, Err: o.err, Class: class, RetryAfter: wait}
			} else if pe, ok := firstErr.(*PromotionError); ok && wait > pe.RetryAfter {
				pe.RetryAfter = wait
			}
			continue
		}
		record(o.i, o.live)
		count++
		st := p.Steps[o.i]
		progress(count, n, fmt.Sprintf("step %d/%d: %s %s %s on %s", st.N, n, st.Op, st.Kind, st.ArtifactID, st.Target))
	}
	if firstErr == nil && count < n {
		firstErr = fmt.Errorf("promotion of plan %s could not order its steps (%d of %d ran)", p.ID, count, n)
	}
	return firstErr
}

func ready(deps []int, finished []bool) bool {
	for _, d := range deps {
		if !finished[d] {
			return false
		}
	}
	return true
}

// step performs one step: intent, the call, result. A step whose intent is
// recorded but whose result is not was interrupted: a create first looks
// for what the interrupted attempt may have made.
func (s *Sandbox) step(ctx context.Context, j promotionJournal, st PlanStep, prev *stepState, obj Object, base LiveState) (LiveState, error) {
	t, ok := s.targets[st.Target]
	if !ok {
		return LiveState{}, fmt.Errorf("target %q is not available", st.Target)
	}
	if err := ctx.Err(); err != nil {
		return LiveState{}, err // cancelled before it began: nothing written
	}
	interrupted := prev != nil && prev.intent
	if interrupted && st.Op == OpCreate {
		// An earlier attempt's create may still be on its way; a lookup
		// now could miss it and create a second object.
		if err := s.waitToLand(ctx, st, prev.landBy()); err != nil {
			return LiveState{}, err
		}
	}
	now := s.clock()
	landBy := now
	var window time.Duration
	if l, ok := t.(Landing); ok {
		window = l.LandWithin(st.Kind)
		landBy = now.Add(window)
	}
	if err := j.append(journalRecord{Step: st.N, Key: st.Key, Type: recIntent, At: now, LandBy: landBy}); err != nil {
		return LiveState{}, err
	}
	s.hook(fmt.Sprintf("step:%d:intent", st.N))
	stop := s.keepLanding(ctx, j, st, window)
	live, err := s.apply(ctx, t, st, obj, base, interrupted)
	stop()
	s.noteTarget(ctx, st.Target, "promote", err)
	if err != nil && st.Irreversible && !IsRetire(st.Op) && errors.Is(err, ErrNotSupported) {
		// The platform cannot take this step (a tier that cannot send
		// through the API, say); the plan told the approver. The artifact
		// stays as the platform left it, and the rest of the plan goes on.
		if live.ID == "" {
			live = base
		}
		if err := j.append(journalRecord{Step: st.N, Key: st.Key, Type: recResult, Live: &live, Skipped: err.Error(), At: s.clock()}); err != nil {
			return LiveState{}, err
		}
		s.hook(fmt.Sprintf("step:%d:done", st.N))
		return live, nil
	}
	if err != nil {
		class, _ := classify(ctx, err)
		if jerr := j.append(journalRecord{Step: st.N, Key: st.Key, Type: recFailed, Error: err.Error(), Class: class, At: s.clock()}); jerr != nil {
			s.log.Error("journal", "err", jerr)
		}
		return LiveState{}, err
	}
	s.hook(fmt.Sprintf("step:%d:applied", st.N))
	if err := j.append(journalRecord{Step: st.N, Key: st.Key, Type: recResult, Live: &live, At: s.clock()}); err != nil {
		return LiveState{}, err
	}
	s.hook(fmt.Sprintf("step:%d:done", st.N))
	return live, nil
}

// keepLanding, while a create runs longer than half its landing window,
// records every half window that the write may land until a window and a
// half from now: the connector may have sent it again meanwhile, and a
// process that dies between two records has sent nothing later than the
// last one plus half a window. A create that returns within half its
// window (every one that is not retried or stalled) writes nothing more.
func (s *Sandbox) keepLanding(ctx context.Context, j promotionJournal, st PlanStep, window time.Duration) (stop func()) {
	if st.Op != OpCreate || window <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	// Real time, not s.sleep: this measures how long the request really
	// runs.
	go func() {
		defer close(done)
		half := window / 2
		tick := time.NewTicker(half)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rec := journalRecord{Step: st.N, Key: st.Key, Type: recInFlight, At: s.clock(), LandBy: s.clock().Add(window + half)}
			if err := j.append(rec); err != nil {
				s.log.Warn("journal: recording that a create is still in flight", "step", st.N, "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// waitToLand waits until an earlier attempt's write can no longer take
// effect. Cancelling ctx ends the wait, and the step, with nothing written.
func (s *Sandbox) waitToLand(ctx context.Context, st PlanStep, until time.Time) error {
	d := until.Sub(s.clock())
	if d <= 0 {
		return nil
	}
	s.log.Info("waiting for an earlier attempt's create to land before looking it up", "step", st.N, "target", st.Target, "artifact", st.ArtifactID, "until", until, "wait", d)
	if err := s.sleep(ctx, d); err != nil {
		return fmt.Errorf("waiting until %s for an earlier attempt's create to land: %w", until.Format(time.RFC3339), err)
	}
	return nil
}

func (s *Sandbox) apply(ctx context.Context, t Target, st PlanStep, obj Object, base LiveState, interrupted bool) (LiveState, error) {
	at := time.Time{}
	if st.At != nil {
		at = *st.At
	}
	obj.Resumed = interrupted
	switch st.Op {
	case OpCreate:
		if interrupted {
			found, ok, err := t.Find(ctx, obj)
			if err != nil {
				return LiveState{}, fmt.Errorf("looking for what an interrupted attempt created: %w", err)
			}
			if ok {
				return t.Put(ctx, obj, found.ID)
			}
		}
		return t.Put(ctx, obj, "")
	case OpUpdate:
		return t.Put(ctx, obj, st.LiveID)
	case OpSend, OpSchedule:
		return t.Send(ctx, obj, base, at)
	case OpPublish, OpActivate, OpEnable:
		return t.Publish(ctx, obj, base, at)
	case OpUnschedule, OpUnpublish, OpDeactivate, OpArchive, OpPause, OpResume, OpRemove:
		r, ok := t.(Retirer)
		if !ok {
			return LiveState{}, fmt.Errorf("%s cannot %s through lastmile", t.Platform(), st.Op)
		}
		if base.ID == "" {
			base.ID = st.LiveID
		}
		return r.Retire(ctx, obj, st.Op, base)
	}
	return LiveState{}, fmt.Errorf("unknown step operation %q", st.Op)
}

// finishPromotion writes what the journal records into the store: bindings,
// the plan's status, and an audit entry per step. It is idempotent, so a
// resume after a crash in here writes the same thing again.
func (s *Sandbox) finishPromotion(ctx context.Context, actor string, p *Plan, st map[int]*stepState, runErr error) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		cur, err := s.loadPlan(tx, p.ID)
		if err != nil {
			return err
		}
		if cur.Status == PlanPromoted {
			return nil
		}
		now := s.clock()
		audited := map[string]bool{}
		for _, e := range cur.auditedSteps() {
			audited[e] = true
		}
		for _, step := range cur.Steps {
			ss := st[step.N]
			if ss == nil || ss.result == nil || audited[step.Key] {
				continue
			}
			if err := s.bind(tx, cur, step, ss.result); err != nil {
				return err
			}
			live := ss.result.Live
			if err := s.audit(tx, AuditEntry{At: ss.result.At, Actor: actor, Action: "promote_step", Object: step.ArtifactID, Revision: step.Revision, CampaignID: cur.CampaignID,
				Detail: map[string]any{"plan": cur.ID, "step": step.N, "op": step.Op, "target": step.Target, "live_id": live.ID, "url": live.URL}}); err != nil {
				return err
			}
			cur.Promotion.Audited = append(cur.Promotion.Audited, step.Key)
		}
		if runErr != nil {
			cur.Status = PlanFailed
			cur.Promotion.Error = runErr.Error()
			detail := map[string]any{"error": runErr.Error()}
			var pe *PromotionError
			if errors.As(runErr, &pe) {
				cur.Promotion.FailedStep = pe.Step.N
				cur.Promotion.ErrorClass = pe.Class
				detail["class"], detail["target"] = pe.Class, pe.Step.Target
			}
			detail["step"] = cur.Promotion.FailedStep
			if err := s.audit(tx, AuditEntry{Actor: actor, Action: "promotion_failed", Object: cur.ID, CampaignID: cur.CampaignID, Detail: detail}); err != nil {
				return err
			}
		} else {
			cur.Status = PlanPromoted
			cur.Promotion.FinishedAt = &now
			if err := s.audit(tx, AuditEntry{Actor: actor, Action: "promotion_finished", Object: cur.ID, CampaignID: cur.CampaignID, Detail: map[string]any{"steps": len(cur.Steps), "attempts": cur.Promotion.Attempts}}); err != nil {
				return err
			}
		}
		*p = *cur
		return putJSON(tx, bPlans, cur.ID, cur)
	})
}

func (p *Plan) auditedSteps() []string { return p.Promotion.Audited }

// bind records what a finished step made live on the artifact.
func (s *Sandbox) bind(tx store.Tx, p *Plan, step PlanStep, rec *journalRecord) error {
	a, err := getArtifact(tx, step.ArtifactID)
	if err != nil || a == nil {
		return err
	}
	live := rec.Live
	b := a.Live
	var movedFrom string // the slug key a page stood on, when this put moves it
	if a.Kind == KindPage && b != nil && (step.Op == OpCreate || step.Op == OpUpdate) {
		if movedFrom, err = s.liveSlug(tx, a.ID); err != nil {
			return err
		}
	}
	if b == nil || step.Op == OpCreate || step.Op == OpUpdate {
		old := b
		b = &Binding{Target: step.Target, LiveID: live.ID, URL: live.URL, Version: live.Version, Revision: step.Revision, Hash: step.Hash, PlanID: p.ID, PromotedAt: rec.At}
		if old != nil && old.LiveID == live.ID {
			b.SentAt, b.ScheduledFor, b.PublishedAt = old.SentAt, old.ScheduledFor, old.PublishedAt
		}
	}
	if live.ID != "" {
		b.Version = live.Version
		if live.URL != "" {
			b.URL = live.URL
		}
	}
	at := rec.At
	switch {
	case rec.Skipped != "":
		// not sent, not published: the binding records only the put
	case step.Op == OpSend || step.Op == OpSchedule:
		b.SentAt, b.ScheduledFor = &at, step.At
	case step.Op == OpPublish || step.Op == OpActivate || step.Op == OpEnable:
		b.PublishedAt, b.ScheduledFor = &at, step.At
	case IsRetire(step.Op):
		bindRetire(a, step.Op, at)
	}
	a.Live = b
	if err := putArtifact(tx, a); err != nil {
		return err
	}
	if movedFrom != "" {
		if now, err := s.liveSlug(tx, a.ID); err != nil {
			return err
		} else if now != movedFrom {
			return s.releaseSlug(tx, a.ID, movedFrom)
		}
	}
	return nil
}

// result reports each step's outcome from the journal.
func (s *Sandbox) result(p *Plan, st map[int]*stepState) *PromotionResult {
	res := &PromotionResult{PlanID: p.ID, Status: p.Status}
	for _, step := range p.Steps {
		r := StepResult{N: step.N, ArtifactID: step.ArtifactID, Kind: step.Kind, Op: step.Op, Target: step.Target, Status: "pending", At: step.At, LiveID: step.LiveID}
		ss := st[step.N]
		switch {
		case step.Op == OpUnchanged:
			r.Status = "unchanged"
		case ss != nil && ss.result != nil:
			r.Status = "done"
			if ss.result.Skipped != "" {
				r.Status, r.Error = "skipped", ss.result.Skipped
			}
			if ss.result.Live != nil {
				r.LiveID, r.URL = ss.result.Live.ID, ss.result.Live.URL
			}
		case ss != nil && ss.failed != nil:
			r.Status, r.Error = "failed", ss.failed.Error
		}
		res.Steps = append(res.Steps, r)
	}
	return res
}

// PlanStatus is a plan with each step's promotion status.
type PlanStatus struct {
	Plan  *Plan        `json:"plan"`
	Steps []StepResult `json:"step_status"`
}

// GetPlanStatus returns a plan and where its promotion stands.
func (s *Sandbox) GetPlanStatus(ctx context.Context, id string) (*PlanStatus, error) {
	p, err := s.GetPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	recs, err := s.readJournal(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return &PlanStatus{Plan: p, Steps: s.result(p, states(recs)).Steps}, nil
}
