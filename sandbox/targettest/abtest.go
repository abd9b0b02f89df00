package targettest

import (
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// abCases stage A/B tests of the email to the audience: two versions
// (variant b changes the subject) and three (b and c change the subject).
// Either Assess reports a problem (the platform cannot run the test as
// approved, and says so before anything is written), or Put and Send take
// it: the send is handed over once, a second Send does nothing.
func (s *suite) abCases(t *testing.T, audience string, refs map[string]string) {
	for _, tc := range []struct {
		name     string
		variants []sandbox.Variant
	}{
		{"ab-test", []sandbox.Variant{{Subject: "Spring is here: 30% off"}}},
		{"ab-test-three", []sandbox.Variant{{Subject: "Spring is here: 30% off"}, {Subject: "Your spring kit is waiting"}}},
	} {
		s.run(t, tc.name, func(t *testing.T, c *check) {
			cx := ctx(t)
			obj := s.email(NewID(sandbox.PrefixEmail), 1, s.name("Spring A/B"), audience, mergeRefs(refs, nil))
			obj.Email.ABTest = &sandbox.ABTest{Variants: tc.variants, TestPercent: 50, Winner: sandbox.WinnerClicks, DecideAfter: "4h"}
			obj.Hash = hashOf(obj.Email)
			a, err := s.tg.Assess(cx, obj)
			if err != nil {
				c.Fatalf("Assess(A/B email): %v", err)
			}
			if len(a.Problems) > 0 {
				for _, p := range a.Problems {
					if strings.TrimSpace(p) == "" {
						c.Errorf("Assess reported an empty problem for the A/B test")
					}
				}
				c.Logf("the target does not take this A/B test: %v", a.Problems)
				return
			}
			live, err := s.tg.Put(cx, obj, "")
			if err != nil || live.ID == "" {
				c.Fatalf("Assess took the A/B test but Put(%s) failed: %+v %v", obj.ArtifactID, live, err)
			}
			count := func() int {
				if s.f.Sends == nil {
					return 0
				}
				return s.f.Sends(t, live.ID)
			}
			first, err := s.tg.Send(cx, obj, live, time.Time{})
			if err != nil {
				c.Fatalf("Send(A/B email): %v", err)
			}
			// The test group may be empty on a small audience: at most one
			// send, never two.
			n1 := count()
			if n1 > 1 {
				c.Errorf("the A/B send went out %d times, want at most once", n1)
			}
			again, err := s.tg.Send(cx, obj, first, time.Time{})
			if err != nil {
				c.Fatalf("second Send(A/B email): %v, want no error (idempotent)", err)
			}
			if n2 := count(); n2 != n1 {
				c.Errorf("the second Send of the A/B email acted again (count %d → %d)", n1, n2)
			}
			if again.ID != live.ID {
				c.Errorf("the second Send returned ID %q, want %q", again.ID, live.ID)
			}
		})
	}
}
