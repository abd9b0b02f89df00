package sandbox

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one thing wrong with a request: the field, what is wrong, and
// how to fix it.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

func (p Problem) String() string {
	s := p.Message
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	if p.Fix != "" {
		s += " — " + p.Fix
	}
	return s
}

// ValidationError reports every problem found in a request, not just the
// first, so an agent can fix them all in one go.
type ValidationError struct {
	What     string // "email", "segment", "campaign", …
	Problems []Problem
	// Outcome says what did not happen; default "was not staged".
	Outcome string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	outcome := e.Outcome
	if outcome == "" {
		outcome = "was not staged"
	}
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, "the %s %s: %s", e.What, outcome, e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, "the %s %s; %d problems:", e.What, outcome, len(e.Problems))
	for _, p := range e.Problems[:min(len(e.Problems), ListedProblems)] {
		b.WriteString("\n- ")
		b.WriteString(p.String())
	}
	if more := len(e.Problems) - ListedProblems; more > 0 {
		fmt.Fprintf(&b, "\n- and %d more; fix these and call again to see the rest", more)
	}
	return b.String()
}

// ListedProblems is how many problems an error message lists: enough to fix
// a round's worth, and a bounded answer whatever the request held.
const ListedProblems = 20

// problems accumulates Problems.
type problems []Problem

func (ps *problems) add(field, msg, fix string) {
	*ps = append(*ps, Problem{Field: field, Message: msg, Fix: fix})
}

func (ps problems) err(what string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{What: what, Problems: ps}
}

// ErrNotFound is wrapped by NotFoundError.
var ErrNotFound = errors.New("not found")

// NotFoundError names the missing object and where to find what exists.
type NotFoundError struct {
	What string // "campaign", "email", "plan"
	ID   string
	Hint string
}

func (e *NotFoundError) Error() string {
	s := fmt.Sprintf("no %s %s", e.What, e.ID)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// RefusedError is a promotion the sandbox will not carry out, with what a
// human (or the agent) must do first.
type RefusedError struct {
	// Code classifies the refusal for callers that branch on it:
	// needs_approval, stale, expired, rejected, governance, busy, not_live.
	Code   string
	Reason string
	Action string
}

// Refusal codes.
const (
	RefusedNeedsApproval = "needs_approval"
	RefusedStale         = "stale"
	RefusedExpired       = "expired"
	RefusedRejected      = "rejected"
	RefusedGovernance    = "governance"
	RefusedBusy          = "busy"
)

func (e *RefusedError) Error() string {
	if e.Action == "" {
		return e.Reason
	}
	return e.Reason + ". " + e.Action
}
