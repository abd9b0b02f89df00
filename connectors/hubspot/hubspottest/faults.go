package hubspottest

import (
	"net/http"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Inject queues a fault (faketest.Fault) on the calls it names by their
// operation: emails.create, lists.members.add, flows.update,
// pages.schedule, … (see routes). Faults are matched in the order injected.
// RateLimit answers HubSpot's 429 body with policyName Code
// (TEN_SECONDLY_ROLLING unless SECONDLY or DAILY); Fail answers HubSpot's
// error envelope with category Code.
func (s *Server) Inject(f faketest.Fault) { s.faults.Inject(f) }

// PendingFaults is the number of injected faults not yet used up.
func (s *Server) PendingFaults() int { return s.faults.Pending() }

// takeFault returns the fault to apply to this call, if any: an injected
// one, else a standing one (Options.SlowApply, LateApply).
func (s *Server) takeFault(name string, write bool) (faketest.Fault, bool) {
	if f, ok := s.faults.Take(name, write); ok {
		return f, true
	}
	return s.standing.Take(name, write)
}

// Apply makes writes commit later than they arrive (Options.SlowApply) or
// than their client gave up (Options.LateApply).
type Apply struct {
	// Delay before the commit (0: the mode is off).
	Delay time.Duration
	// Ops are the write operations it affects, in faketest.Fault.Op's
	// syntax (default: the creates, emails.create lists.create flows.create
	// pages.create).
	Ops []string
}

var createOps = []string{"emails.create", "lists.create", "flows.create", "pages.create"}

// stand queues the Apply as faults of kind that are never used up.
func (a Apply) stand(q *faketest.Queue, kind faketest.Kind) {
	if a.Delay <= 0 {
		return
	}
	ops := a.Ops
	if len(ops) == 0 {
		ops = createOps
	}
	for _, op := range ops {
		q.Inject(faketest.Fault{Op: op, Kind: kind, Delay: a.Delay, Times: -1})
	}
}

// failure is HubSpot's error envelope for a Fail or FailAfterApply fault.
func failure(f faketest.Fault, after bool) *httpError {
	status := f.StatusOr(http.StatusInternalServerError)
	category := f.Code
	if category == "" {
		category = map[int]string{http.StatusBadRequest: "VALIDATION_ERROR", http.StatusNotFound: "OBJECT_NOT_FOUND", http.StatusConflict: "CONFLICT"}[status]
	}
	if category == "" {
		category = "INTERNAL_ERROR"
	}
	msg := "Internal error (injected)"
	if after {
		msg = "Internal error (injected after the write)"
	}
	return apiErr(status, category, msg)
}

// writeFault answers a RateLimit or Fail fault: the body the fault gives,
// else HubSpot's.
func writeFault(w http.ResponseWriter, f faketest.Fault, rl http.Header, after bool) {
	h := rl.Clone()
	if h == nil {
		h = http.Header{}
	}
	if ra := f.RetryAfterSeconds(); ra != "" {
		h.Set("Retry-After", ra)
	}
	status := f.StatusOr(http.StatusInternalServerError)
	if f.Kind == faketest.RateLimit {
		status = http.StatusTooManyRequests
	}
	if f.Body != nil {
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(f.Body)
		return
	}
	if f.Kind == faketest.RateLimit {
		policy := f.Code
		if policy == "" {
			policy = "TEN_SECONDLY_ROLLING"
		}
		writeRateLimited(w, h, policy)
		return
	}
	e := failure(f, after)
	writeEnvelope(w, e.status, h, e.env)
}
