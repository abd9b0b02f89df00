package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"syscall"
	"time"
)

// Error classes of a failed promotion step. Each asks for a different next
// move, so the agent is told which one it is instead of guessing from text.
const (
	// ClassOutage: the platform failed (5xx) or could not be reached
	// (connection refused or reset). Nobody here can fix it: wait, confirm
	// again.
	ClassOutage = "outage"
	// ClassRateLimited: the platform answered 429 after every retry.
	ClassRateLimited = "rate_limited"
	// ClassRejected: the platform refused the request itself (a 4xx other
	// than 401 and 429, a conflict, a capability it lacks): something in
	// the plan must change.
	ClassRejected = "rejected"
	// ClassAuth: credentials missing, expired or revoked.
	ClassAuth = "auth"
	// ClassTimeout: the connector's own request deadline passed; the write
	// may still take effect.
	ClassTimeout = "timeout"
	// ClassCancelled: the caller cancelled (the client cancelled
	// confirm_promotion, or its deadline passed).
	ClassCancelled = "cancelled"
	// ClassInternal: lastmile itself failed (the journal could not be
	// written, a target is not configured); not a platform answer.
	ClassInternal = "internal"
)

// definite reports whether a failure of class c proves the platform
// applied nothing: it answered, and the answer was a refusal.
func definite(c string) bool {
	return c == ClassRejected || c == ClassAuth || c == ClassRateLimited
}

// HTTPStatuser is implemented by connector errors that carry the platform's
// HTTP status (the shared REST client's error does). The sandbox cannot
// import connectors, so it finds them by this method.
type HTTPStatuser interface{ HTTPStatus() int }

// RetryAfterer is implemented by connector errors that know how long the
// platform asked callers to wait (Retry-After, rate-limit headers).
type RetryAfterer interface{ RetryAfter() time.Duration }

// classify says which class err, returned by a step run under ctx, is in,
// and how long the platform asked to wait when it said.
func classify(ctx context.Context, err error) (class string, retryAfter time.Duration) {
	var ra RetryAfterer
	if errors.As(err, &ra) {
		retryAfter = max(ra.RetryAfter(), 0)
	}
	var hs HTTPStatuser
	var timeout interface{ Timeout() bool }
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		// Whatever the step saw, it saw because the caller gave up.
		return ClassCancelled, 0
	case errors.Is(err, ErrAuth):
		return ClassAuth, 0
	case errors.As(err, &hs) && hs.HTTPStatus() == 429:
		return ClassRateLimited, retryAfter
	case errors.As(err, &hs) && hs.HTTPStatus() >= 500:
		return ClassOutage, retryAfter
	case errors.As(err, &hs) && hs.HTTPStatus() == 401:
		return ClassAuth, 0
	case errors.As(err, &hs) && hs.HTTPStatus() >= 400:
		return ClassRejected, 0
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		// The caller's ctx is live, so the deadline was the connector's.
		return ClassTimeout, 0
	case errors.Is(err, ErrNotSupported), errors.Is(err, ErrConflict):
		return ClassRejected, 0
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE):
		return ClassOutage, retryAfter
	case errors.As(err, &hs):
		return ClassOutage, retryAfter // an odd status (1xx, 3xx): the platform misbehaved
	}
	return ClassInternal, 0
}

// Step states in a PromotionFailure, from the journal.
const (
	StateDone       = "done"        // live and recorded (or unchanged, or skipped as planned)
	StateFailed     = "failed"      // the last attempt failed
	StateInFlight   = "in_flight"   // an attempt began and recorded no end: its write may still land
	StateNotStarted = "not_started" // no attempt began
)

// StepState is one step of a failed promotion as the journal shows it.
type StepState struct {
	N          int    `json:"n"`
	ArtifactID string `json:"artifact_id"`
	Kind       Kind   `json:"kind"`
	Op         string `json:"op"`
	Target     string `json:"target"`
	State      string `json:"state"`
	LiveID     string `json:"live_id,omitempty"`
	Class      string `json:"class,omitempty"`
	Error      string `json:"error,omitempty"`
	// MayLandUntil is when a write of this step that was sent but not
	// answered can no longer take effect on the platform.
	MayLandUntil *time.Time `json:"may_land_until,omitempty"`
}

// PromotionFailure is a PromotionError in structured form, for the
// confirm_promotion error result.
type PromotionFailure struct {
	PlanID  string `json:"plan_id"`
	Class   string `json:"class"`
	Step    int    `json:"step"`
	Target  string `json:"target"`
	Message string `json:"message"`
	Next    string `json:"next"`
	// RetryAfterSeconds is how long to wait before confirming again, when
	// known: what the platform asked for, or until a write in flight can no
	// longer land.
	RetryAfterSeconds int         `json:"retry_after_seconds,omitempty"`
	Steps             []StepState `json:"steps"`
	Strays            []Stray     `json:"strays,omitempty"`
}

// PromotionError is a promotion attempt that stopped at a failed step.
// Steps says where every step stands per the journal after the attempt.
type PromotionError struct {
	PlanID string
	Step   PlanStep
	Err    error
	// Class is one of the Class constants; RetryAfter is what the platform
	// asked for (zero when it did not say).
	Class      string
	RetryAfter time.Duration
	// LandBy, when a write of the failed step may still take effect, is
	// when it no longer can.
	LandBy time.Time
	// Now is when the attempt ended (the sandbox's clock), so waits are
	// told relative to it.
	Now    time.Time
	Steps  []StepState
	Strays []Stray
}

func (e *PromotionError) Unwrap() error { return e.Err }

func (e *PromotionError) Error() string {
	return e.message() + " " + e.next()
}

// message says what happened and what the journal shows, nothing more.
func (e *PromotionError) message() string {
	var b strings.Builder
	what := map[string]string{
		ClassOutage:      "%s is unavailable",
		ClassRateLimited: "%s kept answering 429 (rate limited)",
		ClassRejected:    "%s rejected the request",
		ClassAuth:        "%s did not accept lastmile's credentials",
		ClassTimeout:     "%s did not answer within the request timeout",
		ClassCancelled:   "confirm_promotion was cancelled by its caller",
		ClassInternal:    "lastmile could not carry out the step",
	}[e.Class]
	if what == "" {
		what = "the step failed"
	}
	if strings.Contains(what, "%s") {
		what = fmt.Sprintf(what, e.Step.Target)
	}
	fmt.Fprintf(&b, "promotion of plan %s stopped at step %d (%s %s %s on %s): %s: %v.",
		e.PlanID, e.Step.N, e.Step.Op, e.Step.Kind, e.Step.ArtifactID, e.Step.Target, what, e.Err)
	if len(e.Steps) > 0 {
		b.WriteString(" " + e.journalSummary())
	}
	return b.String()
}

// journalSummary lists the steps by state, as the journal records them.
func (e *PromotionError) journalSummary() string {
	by := map[string][]string{}
	for _, s := range e.Steps {
		by[s.State] = append(by[s.State], fmt.Sprint(s.N))
	}
	list := func(ns []string) string {
		if len(ns) == 1 {
			return "step " + ns[0]
		}
		return "steps " + strings.Join(ns, ", ")
	}
	var parts []string
	if ns := by[StateDone]; len(ns) > 0 {
		parts = append(parts, list(ns)+" live and recorded")
	} else {
		parts = append(parts, "no step is live yet")
	}
	if ns := by[StateFailed]; len(ns) > 0 {
		parts = append(parts, list(ns)+" failed")
	}
	if ns := by[StateInFlight]; len(ns) > 0 {
		parts = append(parts, list(ns)+" sent with no answer recorded (the write may still land)")
	}
	if ns := by[StateNotStarted]; len(ns) > 0 {
		parts = append(parts, list(ns)+" not started")
	}
	return "The journal shows: " + strings.Join(parts, "; ") + "."
}

// anyDone reports whether the journal shows a step live.
func (e *PromotionError) anyDone() bool {
	for _, s := range e.Steps {
		if s.State == StateDone && s.Op != OpUnchanged {
			return true
		}
	}
	return false
}

// wait is how long to wait before confirming again; zero when unknown.
func (e *PromotionError) wait() time.Duration {
	w := e.RetryAfter
	if !e.LandBy.IsZero() {
		w = max(w, e.LandBy.Sub(e.Now))
	}
	return max(w, 0)
}

// next says what to do about it, per class.
func (e *PromotionError) next() string {
	again := "call confirm_promotion again: it resumes at the steps not done and repeats nothing the journal shows done"
	if !e.anyDone() {
		again = "call confirm_promotion again: nothing is live yet, so it starts over"
	}
	secs := seconds(e.wait())
	mayLand := ""
	if !e.LandBy.IsZero() {
		mayLand = fmt.Sprintf(" A create request that got no answer may still take effect until %s; confirming again waits until then and looks the object up by its marker before creating anything, so nothing is made twice.", e.LandBy.Format(time.RFC3339))
	}
	switch e.Class {
	case ClassOutage:
		wait := "no retry time was given: wait a minute or two"
		if e.RetryAfter > 0 {
			wait = fmt.Sprintf("%s asked for %d s", e.Step.Target, seconds(e.RetryAfter))
		}
		return fmt.Sprintf("This is the platform's fault; nothing in the plan needs fixing. Wait (%s), then %s.%s", wait, again, mayLand)
	case ClassRateLimited:
		wait := "no retry time was given: wait a minute"
		if e.RetryAfter > 0 {
			wait = fmt.Sprintf("%s asked for %d s", e.Step.Target, seconds(e.RetryAfter))
		}
		return fmt.Sprintf("Another app may be using the same quota. Wait (%s), then %s.", wait, again)
	case ClassRejected:
		return fmt.Sprintf("Confirming this plan again will fail the same way: change what the error names (stage new revisions, or fix it on %s), run plan_promotion again and have the new plan approved.", e.Step.Target)
	case ClassAuth:
		return fmt.Sprintf("A human must reconnect %s (lastmile connect; the error says how); then %s.", e.Step.Target, again)
	case ClassTimeout:
		return fmt.Sprintf("The write may still land on %s. Wait %d s, then %s.%s", e.Step.Target, secs, again, mayLand)
	case ClassCancelled:
		return "To go on, " + again + "." + mayLand
	}
	return "The cause is in the error above (it is not a platform answer); once it is fixed, " + again + "."
}

func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

// Failure is the error in structured form.
func (e *PromotionError) Failure() PromotionFailure {
	return PromotionFailure{PlanID: e.PlanID, Class: e.Class, Step: e.Step.N, Target: e.Step.Target, Message: e.message(), Next: e.next(),
		RetryAfterSeconds: seconds(e.wait()), Steps: e.Steps, Strays: e.Strays}
}

// stepStates reads each step's state from the journal.
func stepStates(p *Plan, st map[int]*stepState, now time.Time) []StepState {
	out := make([]StepState, 0, len(p.Steps))
	for _, step := range p.Steps {
		s := StepState{N: step.N, ArtifactID: step.ArtifactID, Kind: step.Kind, Op: step.Op, Target: step.Target, State: StateNotStarted, LiveID: step.LiveID}
		ss := st[step.N]
		switch {
		case step.Op == OpUnchanged:
			s.State = StateDone
		case ss != nil && ss.result != nil:
			s.State = StateDone
			if ss.result.Live != nil {
				s.LiveID = ss.result.Live.ID
			}
		case ss != nil && ss.failed != nil:
			s.State, s.Class, s.Error = StateFailed, ss.failed.Class, ss.failed.Error
		case ss != nil && ss.intent:
			s.State = StateInFlight
		}
		if s.State != StateDone && step.Op == OpCreate {
			if lb := ss.landBy(); lb.After(now) {
				s.MayLandUntil = &lb
			}
		}
		out = append(out, s)
	}
	return out
}
