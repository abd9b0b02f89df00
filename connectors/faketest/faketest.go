// Package faketest is the fault vocabulary the platform fakes share
// (hubspottest and mailchimptest, and wordpresstest's proxy in front of a
// real WordPress): one Fault type, with the same name for the same failure
// on every platform, and the queue that decides which call a fault hits.
// Each fake answers a fault in its platform's own words.
package faketest

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Kind is what a fault does to the call it hits.
type Kind int

const (
	// RateLimit answers 429 as the platform does (with Retry-After when
	// Fault.RetryAfter is set); nothing is applied.
	RateLimit Kind = iota + 1
	// Fail answers Fault.Status (default 500) with the platform's error
	// document, or Fault.Body; nothing is applied.
	Fail
	// FailAfterApply applies the call, then answers as Fail does.
	FailAfterApply
	// DropBeforeApply closes the connection without an answer; nothing is
	// applied.
	DropBeforeApply
	// DropAfterApply applies the call, then closes the connection without
	// an answer.
	DropAfterApply
	// TimeoutAfterApply applies the call, then holds the connection without
	// an answer until the client gives up (or the fake stops), and closes
	// it.
	TimeoutAfterApply
	// Latency applies the call and answers Delay later.
	Latency
	// SlowApply commits a write Delay after it arrived, whatever becomes of
	// the request: the answer waits for the commit, but a client that gives
	// up or dies meanwhile does not stop it. Until it commits, no read sees
	// what it writes.
	SlowApply
	// LateApply holds a write without an answer until the client gives up
	// (its deadline, a cancel, its death), then commits it Delay later: the
	// client saw a timeout, and the write lands anyway.
	LateApply
)

func (k Kind) String() string {
	switch k {
	case RateLimit:
		return "rate limit"
	case Fail:
		return "fail"
	case FailAfterApply:
		return "fail after apply"
	case DropBeforeApply:
		return "drop before apply"
	case DropAfterApply:
		return "drop after apply"
	case TimeoutAfterApply:
		return "timeout after apply"
	case Latency:
		return "latency"
	case SlowApply:
		return "slow apply"
	case LateApply:
		return "late apply"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DefaultDelay is how long Latency, SlowApply and LateApply wait when the
// fault does not say.
const DefaultDelay = 100 * time.Millisecond

// Fault makes chosen calls of a fake fail.
type Fault struct {
	// Op names the calls the fault hits, in the fake's operation names
	// (hubspottest: "emails.create"; mailchimptest: "POST /campaigns", the
	// method and the spec's path template; wordpresstest: "pages.create").
	// A name ending in "*" matches by prefix ("lists.*", "POST *"); "" and
	// "*" match every call.
	Op   string
	Kind Kind
	// Skip lets that many matching calls pass this fault first.
	Skip int
	// Times is how many calls the fault hits (default 1; negative: every
	// matching call, and it is never used up).
	Times int
	// Delay is how long Latency, SlowApply and LateApply wait (default
	// DefaultDelay).
	Delay time.Duration
	// Status is the HTTP status Fail and FailAfterApply answer (default
	// 500).
	Status int
	// Code is the platform's own name for the failure, where it has several
	// for one status: HubSpot's 429 policy (TEN_SECONDLY_ROLLING, the
	// default; SECONDLY; DAILY) or error category, Mailchimp's problem
	// title, WordPress's error code.
	Code string
	// Body, when set, is the body of a RateLimit or Fail answer as is
	// (JSON), instead of the platform's error document.
	Body []byte
	// RetryAfter, when set, goes into the Retry-After header of a
	// RateLimit or Fail answer.
	RetryAfter time.Duration
}

// Deferred reports whether the fault commits its write later than the
// write arrived (SlowApply, LateApply).
func (f Fault) Deferred() bool { return f.Kind == SlowApply || f.Kind == LateApply }

// Wait is the fault's Delay, or DefaultDelay.
func (f Fault) Wait() time.Duration {
	if f.Delay > 0 {
		return f.Delay
	}
	return DefaultDelay
}

// StatusOr is the fault's Status, or def.
func (f Fault) StatusOr(def int) int {
	if f.Status > 0 {
		return f.Status
	}
	return def
}

// RetryAfterSeconds is the Retry-After header's value for the fault, or ""
// when it sets none: whole seconds, rounded up.
func (f Fault) RetryAfterSeconds() string {
	if f.RetryAfter <= 0 {
		return ""
	}
	return fmt.Sprint(int64((f.RetryAfter + time.Second - 1) / time.Second))
}

// Match reports whether the fault pattern op (see Fault.Op) names the call
// name.
func Match(pattern, name string) bool {
	switch {
	case pattern == "" || pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(name, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == name
}

// Queue holds faults in the order they were injected and hands each call
// the first one that hits it. The zero value is empty and ready to use; it
// is safe for concurrent use.
type Queue struct {
	mu     sync.Mutex
	faults []*queued
}

type queued struct {
	Fault
	skipped, hit int
}

// Inject adds a fault after those already queued.
func (q *Queue) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = append(q.faults, &queued{Fault: f})
}

// Take returns the fault that hits the call name, if any, and counts the
// hit. SlowApply and LateApply only hit writes: a read passes them by
// without being counted against Skip.
func (q *Queue) Take(name string, write bool) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.faults {
		if !Match(f.Op, name) || (f.Deferred() && !write) {
			continue
		}
		if f.skipped < f.Skip {
			f.skipped++
			continue
		}
		f.hit++
		if f.Times > 0 && f.hit >= f.Times {
			q.faults = append(q.faults[:i:i], q.faults[i+1:]...)
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// Pending is how many hits the queued faults have left; a fault that is
// never used up counts once.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, f := range q.faults {
		if f.Times < 0 {
			n++
			continue
		}
		n += f.Times - f.hit
	}
	return n
}
