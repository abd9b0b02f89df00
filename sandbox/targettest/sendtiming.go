package targettest

import (
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// sendTiming is the "send-timing" cases: an email moved into a send window
// and one sent by recipient time zone (in a window) either get a Problem
// from Assess (the platform cannot do it: the plan says so before anything
// is written) or are put and scheduled, once, at the time the plan gives.
func (s *suite) sendTiming(t *testing.T, audience string, refs map[string]string) {
	at := later()
	cases := []struct {
		name string
		set  func(e *sandbox.Email)
	}{
		{"send-window", func(e *sandbox.Email) {
			e.SendWindow = &sandbox.SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}, TimeZone: "America/New_York"}
		}},
		{"recipient-time-zone", func(e *sandbox.Email) {
			e.RecipientTimeZone = true
			e.SendWindow = &sandbox.SendWindow{Start: "08:00", End: "20:00"}
		}},
	}
	for _, tc := range cases {
		obj := s.email(NewID(sandbox.PrefixEmail), 1, s.name("Spring "+tc.name), audience, refs)
		obj.Email.SendAt = &at
		tc.set(obj.Email)
		obj.Hash = hashOf(obj.Email)
		var problems bool
		first, _ := obj.Email.SendSpan()
		s.run(t, tc.name+"-assess", func(t *testing.T, c *check) {
			a, err := s.tg.Assess(ctx(t), obj)
			if err != nil {
				c.Fatalf("Assess(email with %s): %v; want a Problem when the platform cannot do it, not an error", tc.name, err)
			}
			if problems = len(a.Problems) > 0; problems {
				t.Logf("%s: %s reports it cannot: %q", tc.name, s.tg.Platform(), a.Problems)
				return
			}
			if (a.FirstSend == nil) != (a.LastSend == nil) || (a.FirstSend != nil && a.LastSend.Before(*a.FirstSend)) {
				c.Errorf("Assess: first send %v, last send %v: want both or neither, first not after last", a.FirstSend, a.LastSend)
			}
			if a.FirstSend != nil {
				first = *a.FirstSend
			}
		})
		if problems {
			continue
		}
		if !first.After(time.Now()) {
			t.Fatalf("%s: the first send %s is not ahead; the case's send_at is too early", tc.name, first)
		}
		live := s.put(t, obj)
		if live.ID == "" || audience == "" {
			continue
		}
		s.twice(t, tc.name+"-schedule-twice", obj, live, true, first)
	}
}
