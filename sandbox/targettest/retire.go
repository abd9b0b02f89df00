package targettest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// retireCases checks, for every retirement of kind k (sandbox.RetireOps),
// that the target either says before anything is written that it cannot
// take it (CanRetire answers an error wrapping sandbox.ErrNotSupported that
// names the platform), or takes it:
//
//   - retire-<op>: on an object in the state the op takes back (an email
//     scheduled three days ahead, a page published, a workflow switched on,
//     an email or segment created, an ad campaign enabled for pause or
//     created paused for resume and remove), Retire succeeds and Live then shows
//     the change: not found or another Status for archive, another Status
//     for the rest;
//   - retire-<op>-twice: a second Retire succeeds and leaves the object as
//     the first left it (the same Version, or still not found);
//   - unschedule also checks, when the fixture counts sends, that the
//     email was not sent.
func (s *suite) retireCases(t *testing.T, k sandbox.Kind) {
	for _, op := range sandbox.RetireOps(k) {
		r, ok := s.tg.(sandbox.Retirer)
		var effect string
		var err error
		if ok {
			effect, err = r.CanRetire(k, op)
		}
		if !ok || err != nil {
			s.run(t, "retire-"+op+"-unsupported", func(t *testing.T, c *check) {
				if !ok {
					t.Skipf("%s implements no Retirer: the planner refuses every retirement with a problem of its own", s.tg.Platform())
				}
				if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(strings.ToLower(err.Error()), s.tg.Platform()) {
					c.Errorf("CanRetire(%s, %s) = %q: an error must wrap sandbox.ErrNotSupported and name %s", k, op, errText(err), s.tg.Platform())
				}
			})
			continue
		}
		obj, before := s.retirable(t, k, op)
		if before.ID == "" {
			continue
		}
		var after sandbox.LiveState
		var gone bool
		s.run(t, "retire-"+op, func(t *testing.T, c *check) {
			if effect == "" {
				c.Errorf("CanRetire(%s, %s) says nothing of what the platform does then", k, op)
			}
			cx := ctx(t)
			sends := 0
			if s.f.Sends != nil && op == sandbox.OpUnschedule {
				sends = s.f.Sends(t, before.ID)
			}
			if _, err := r.Retire(cx, obj, op, before); err != nil {
				c.Fatalf("Retire(%s %s, %s): %v", k, before.ID, op, err)
			}
			st, found, err := s.tg.Live(cx, k, before.ID)
			switch {
			case err != nil:
				c.Fatalf("Live(%s %q) after %s: %v", k, before.ID, op, err)
			case !found && op != sandbox.OpArchive:
				c.Fatalf("Live(%s %q) after %s: not found; only archive takes an object away", k, before.ID, op)
			case found && st.Status == before.Status:
				c.Errorf("Live(%s %q) after %s: Status still %q", k, before.ID, op, st.Status)
			}
			after, gone = st, !found
			if op == sandbox.OpUnschedule && s.f.Sends != nil {
				// A scheduled send counts once before it goes out; after
				// unscheduling, it is not to go out at all.
				if n := s.f.Sends(t, before.ID); n >= sends && n > 0 {
					c.Errorf("after unschedule the fixture counts %d send(s) of %s, want fewer than %d", n, before.ID, sends)
				}
			}
		})
		if after.ID == "" && !gone {
			continue
		}
		s.run(t, "retire-"+op+"-twice", func(t *testing.T, c *check) {
			cx := ctx(t)
			cur := after
			if gone {
				cur = before
			}
			if _, err := r.Retire(cx, obj, op, cur); err != nil {
				c.Fatalf("Retire(%s %s, %s) a second time: %v, want nothing done and no error", k, before.ID, op, err)
			}
			st, found, err := s.tg.Live(cx, k, before.ID)
			switch {
			case err != nil:
				c.Fatalf("Live(%s %q): %v", k, before.ID, err)
			case found == gone:
				c.Errorf("Live(%s %q) after a second %s: found=%v, after the first found=%v", k, before.ID, op, found, !gone)
			case found && st.Version != after.Version:
				c.Errorf("a second %s of %s %q changed it: Version %q → %q", op, k, before.ID, after.Version, st.Version)
			}
		})
	}
}

// retirable makes an object of kind k in the state op takes back, and
// returns it with its live state (ID "" when it could not be made).
func (s *suite) retirable(t *testing.T, k sandbox.Kind, op string) (sandbox.Object, sandbox.LiveState) {
	var obj sandbox.Object
	var live sandbox.LiveState
	ok := s.run(t, "retire-"+op+"-setup", func(t *testing.T, c *check) {
		cx := ctx(t)
		refs := map[string]string{}
		switch k {
		case sandbox.KindSegment:
			if len(s.f.Contacts) == 0 {
				t.Skip("the fixture gives no Contacts")
			}
			obj = s.staticSegment(NewID(sandbox.PrefixSegment), 1, s.name("To archive"))
		case sandbox.KindEmail:
			audience := ""
			if len(s.f.Contacts) >= 2 && s.caps.Segments {
				audience = NewID(sandbox.PrefixSegment)
				refs[audience] = s.prereq(t, s.staticSegment(audience, 1, s.name("Retire audience")))
			}
			obj = s.email(NewID(sandbox.PrefixEmail), 1, s.name("To "+op), audience, refs)
			if op == sandbox.OpUnschedule {
				if audience == "" {
					t.Skip("no audience to schedule a send to")
				}
				at := later()
				obj.Email.SendAt = &at
				obj.Hash = hashOf(obj.Email)
			}
		case sandbox.KindPage:
			obj = s.page(NewID(sandbox.PrefixPage), 1, s.name("To unpublish"), s.slug("unpublish"))
		case sandbox.KindAd:
			obj = s.ad(NewID(sandbox.PrefixAd), 1, s.name("To "+op))
		case sandbox.KindWorkflow:
			segment, email := "", ""
			if len(s.f.Contacts) >= 2 && s.caps.Segments {
				segment = NewID(sandbox.PrefixSegment)
				refs[segment] = s.prereq(t, s.staticSegment(segment, 1, s.name("Retire sign-ups")))
			}
			if s.caps.Emails {
				email = NewID(sandbox.PrefixEmail)
				refs[email] = s.prereq(t, s.email(email, 1, s.name("Retire welcome"), "", nil))
			}
			obj = s.workflow(NewID(sandbox.PrefixWorkflow), 1, s.name("To switch off"), segment, email, refs)
		}
		st, err := s.tg.Put(cx, obj, "")
		if err != nil || st.ID == "" {
			c.Fatalf("Put(%s %s): %+v %v", k, obj.ArtifactID, st, err)
		}
		refs[obj.ArtifactID] = st.ID
		obj.Refs = refs
		switch op {
		case sandbox.OpUnschedule:
			st, err = s.tg.Send(cx, obj, st, *obj.Email.SendAt)
		case sandbox.OpUnpublish, sandbox.OpDeactivate, sandbox.OpPause:
			// Pause takes back an enabled campaign; resume and remove
			// start from one created paused.
			st, err = s.tg.Publish(cx, obj, st, time.Time{})
		}
		if err != nil {
			c.Fatalf("setup for %s: %v", op, err)
		}
		cur, found, err := s.tg.Live(cx, k, st.ID)
		if err != nil || !found {
			c.Fatalf("Live(%s %q) after the setup: found=%v err=%v", k, st.ID, found, err)
		}
		live = cur
	})
	if !ok {
		return obj, sandbox.LiveState{}
	}
	return obj, live
}
