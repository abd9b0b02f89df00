package hubspottest

import "strings"

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
)

func (k FaultKind) String() string {
	return map[FaultKind]string{
		Fault429: "429", Fault429Secondly: "429 secondly", Fault429Daily: "429 daily", Fault500: "500",
		Fault500AfterApply: "500 after apply", FaultTimeoutAfterApply: "timeout after apply",
		FaultDropAfterApply: "drop after apply", FaultDropBeforeApply: "drop before apply",
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
func (s *Server) takeFault(name string) *Fault {
	for i, f := range s.faults {
		if !matchOp(f.Op, name) {
			continue
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
