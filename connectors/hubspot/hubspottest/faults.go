package hubspottest

import (
	"strings"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// Fault429 answers 429 with policyName TEN_SECONDLY_ROLLING; nothing is applied.
	Fault429 FaultKind = iota + 1
	// Fault429Secondly answers 429 with policyName SECONDLY.
	Fault429Secondly
	// Fault429Daily answers 429 with policyName DAILY.
	Fault429Daily
	// Fault500 answers 500 before the handler runs; nothing is applied.
	Fault500
	// Fault500AfterApply applies the request, then answers 500.
	Fault500AfterApply
	// FaultTimeoutAfterApply applies the request, then never answers: the
	// connection is held until the client gives up.
	FaultTimeoutAfterApply
	// FaultDropAfterApply applies the request, then closes the connection
	// without an answer.
	FaultDropAfterApply
	// FaultDropBeforeApply closes the connection without applying anything.
	FaultDropBeforeApply
	// FaultSlowApply commits the write Delay after it arrived, whatever
	// becomes of the request: the answer waits for the commit, but a client
	// that gives up or dies meanwhile does not stop it. Until it commits,
	// nothing (get, list, search, by name) sees the object.
	FaultSlowApply
	// FaultLateApply holds the request without an answer until the client
	// gives up (its deadline, a cancel, its death), then commits the write
	// Delay later: the client saw a timeout, the write lands anyway.
	FaultLateApply
)

func (k FaultKind) String() string {
	return map[FaultKind]string{
		Fault429: "429", Fault429Secondly: "429 secondly", Fault429Daily: "429 daily", Fault500: "500",
		Fault500AfterApply: "500 after apply", FaultTimeoutAfterApply: "timeout after apply",
		FaultDropAfterApply: "drop after apply", FaultDropBeforeApply: "drop before apply",
		FaultSlowApply: "slow apply", FaultLateApply: "late apply",
	}[k]
}

// Fault makes chosen calls fail.
type Fault struct {
	// Op is an operation name (emails.create, lists.members.add, flows.update,
	// pages.schedule, ...), a prefix ending in "." (emails.), or "*".
	Op   string
	Kind FaultKind
	// Skip lets that many matching calls through first.
	Skip int
	// Times is how many matching calls fail (default 1).
	Times int
	// Delay is how long a FaultSlowApply or FaultLateApply write waits to
	// commit (default 100ms).
	Delay time.Duration
	// standing faults come from Options.SlowApply and LateApply: they are
	// never used up and are matched after the injected ones.
	standing bool
}

// Inject queues a fault. Faults are matched in the order injected.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// PendingFaults is the number of injected faults not yet used up.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.Times
	}
	return n
}

// takeFault returns the fault to apply to this call, if any. Caller holds s.mu.
func (s *Server) takeFault(name string, write bool) *Fault {
	if f := s.takeInjected(name, write); f != nil {
		return f
	}
	if !write {
		return nil
	}
	for _, f := range s.standing {
		if matchOp(f.Op, name) {
			return f
		}
	}
	return nil
}

func (s *Server) takeInjected(name string, write bool) *Fault {
	for i, f := range s.faults {
		if !matchOp(f.Op, name) || (f.deferred() && !write) {
			continue // only writes commit: a read leaves slow and late faults for them
		}
		if f.Skip > 0 {
			f.Skip--
			return nil
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func matchOp(pattern, name string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "."):
		return strings.HasPrefix(name, pattern)
	}
	return pattern == name
}

// deferred reports whether a fault commits its write later.
func (f *Fault) deferred() bool {
	return f != nil && (f.Kind == FaultSlowApply || f.Kind == FaultLateApply)
}

// Apply makes writes commit later than they arrive (Options.SlowApply) or
// than their client gave up (Options.LateApply).
type Apply struct {
	// Delay before the commit (0: the mode is off).
	Delay time.Duration
	// Ops are the write operations it affects, in Fault.Op's syntax
	// (default: the creates, emails.create lists.create flows.create
	// pages.create).
	Ops []string
}

var createOps = []string{"emails.create", "lists.create", "flows.create", "pages.create"}

func (a Apply) faults(kind FaultKind) []*Fault {
	if a.Delay <= 0 {
		return nil
	}
	ops := a.Ops
	if len(ops) == 0 {
		ops = createOps
	}
	out := make([]*Fault, len(ops))
	for i, op := range ops {
		out[i] = &Fault{Op: op, Kind: kind, Delay: a.Delay, standing: true}
	}
	return out
}
