package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// Tick does local's time-based work due at now, as a platform's own clock
// would: scheduled sends whose time came are delivered; switched-on
// workflows enrol the contacts who entered their trigger's segment, and each
// enrolment takes the steps whose time came — sending an email, starting or
// ending a wait, branching, exiting.
//
// Each piece happens exactly once, however often Tick runs or is cut
// short: an email to a contact is written only when its file is missing,
// and each enrolment's progress is saved (durably) after each step, so a
// step redone after a crash finds its effect already there. Ticks of
// several processes on one data directory take turns (a lock file).
func (t *Target) Tick(ctx context.Context, now time.Time) (sandbox.TickReport, error) {
	var rep sandbox.TickReport
	lock, err := os.OpenFile(t.path("clock.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	if err := osfile.Lock(lock, osfile.Exclusive); err == nil {
		defer osfile.Unlock(lock)
	}
	now = now.UTC()
	if err := t.tickSends(ctx, now, &rep); err != nil {
		return rep, err
	}
	if err := t.tickPages(now); err != nil {
		return rep, err
	}
	if err := t.tickWorkflows(ctx, now, &rep, &tick{indexes: map[string]eventIndex{}}); err != nil {
		return rep, err
	}
	return rep, nil
}

// records lists the ids of kind k's live records.
func (t *Target) records(k sandbox.Kind) ([]string, error) {
	entries, err := os.ReadDir(t.path(kindDir[k]))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (t *Target) tickSends(ctx context.Context, now time.Time, rep *sandbox.TickReport) error {
	ids, err := t.records(sandbox.KindEmail)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var rec liveEmail
		if _, err := readJSON(t.recordPath(sandbox.KindEmail, id), &rec); err != nil {
			return err
		}
		if due, err := t.tickABTest(ctx, id, &rec, now); err != nil {
			return err
		} else if due {
			if err := t.sendWinner(ctx, id, &rec, rep); err != nil {
				return err
			}
			continue
		}
		if rec.Status != "scheduled" || rec.ScheduledAt == nil || rec.ScheduledAt.After(now) {
			continue
		}
		if rec.PerRecipient {
			if err := t.tickSpread(ctx, id, &rec, now, rep); err != nil {
				return err
			}
			continue
		}
		var allow *sandbox.RecipientSet
		if !rec.AllowAll {
			allow = sandbox.NewRecipientSet(rec.Allowed)
		}
		before := rec.Recipients
		if _, err := t.deliver(ctx, id, &rec, rec.Segments, allow, rec.ScheduledAt.UTC()); err != nil {
			return err
		}
		rep.Sent += rec.Recipients - before
	}
	return nil
}

// tickPages writes scheduled pages whose time came into the site folder.
func (t *Target) tickPages(now time.Time) error {
	ids, err := t.records(sandbox.KindPage)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var rec livePage
		if _, err := readJSON(t.recordPath(sandbox.KindPage, id), &rec); err != nil {
			return err
		}
		if rec.Status != "scheduled" || rec.PublishAt == nil || rec.PublishAt.After(now) {
			continue
		}
		if err := t.writeFile(t.pagePath(rec.Slug), []byte(t.sitePage(rec))); err != nil {
			return err
		}
		at := rec.PublishAt.UTC()
		rec.Status, rec.PublishedAt = "published", &at
		if _, err := t.writeJSON(t.recordPath(sandbox.KindPage, id), rec); err != nil {
			return err
		}
	}
	return nil
}

// enrolment is one contact's way through a workflow: the step it is at
// (none: it has finished), when that step is due, and what it did.
type enrolment struct {
	Email   string      `json:"email"`
	Round   int         `json:"round,omitempty"` // earlier enrolments of this contact (re-enrolment)
	At      time.Time   `json:"at"`
	Step    string      `json:"step,omitempty"`
	Due     *time.Time  `json:"due,omitempty"`
	Waiting bool        `json:"waiting,omitempty"` // Step is a wait that started
	Done    *time.Time  `json:"done,omitempty"`
	Left    *time.Time  `json:"left,omitempty"` // re-enrolment: seen out of the trigger's segment after Done
	History []stepTaken `json:"history,omitempty"`
}

type stepTaken struct {
	Step string    `json:"step"`
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// maxStepsPerTick bounds one enrolment's steps in one tick: a graph is
// checked for loops without a wait at staging, so this only stops a record
// edited by hand from spinning.
const maxStepsPerTick = 100

// tick is what one Tick reads once and keeps current as its steps change
// it: each email's events index, and the contacts (those its steps
// changed in contacts, the rest in table).
type tick struct {
	indexes  map[string]eventIndex
	contacts map[string]sandbox.Contact
	table    *table
	// engaged is each contact's latest open, click or form submission per
	// artifact, read from the events on the first branch that asks.
	engaged map[engagedKey]time.Time
	sent    map[string]map[string]int // email → address → sent events, for re-enrolled rounds
}

type engagedKey struct{ event, artifact, addr string }

// engagementEvent is the event type behind each engagement a branch tests.
var engagementEvent = map[string]string{"opened": "open", "clicked": "click", "submitted": "form_submission"}

func (t *Target) tickWorkflows(ctx context.Context, now time.Time, rep *sandbox.TickReport, tk *tick) error {
	ids, err := t.records(sandbox.KindWorkflow)
	if err != nil {
		return err
	}
	for _, id := range ids {
		path := t.recordPath(sandbox.KindWorkflow, id)
		var rec liveWorkflow
		if _, err := readJSON(path, &rec); err != nil {
			return err
		}
		if !rec.Enabled || len(rec.Workflow.Steps) == 0 {
			continue // switched off: nobody new, nobody advances
		}
		if n, changed, err := t.enrolNew(&rec, now); err != nil {
			return err
		} else if changed {
			rep.Enrolled += n
			if _, err := t.writeJSON(path, rec); err != nil {
				return err
			}
		}
		for i := range rec.Enrolled {
			e := &rec.Enrolled[i]
			if e.Done != nil {
				continue
			}
			if e.Step == "" && len(e.History) == 0 {
				// Enrolled before workflows ran (activated by an older
				// lastmile): it starts at the entry now.
				e.Step, e.Due = rec.Workflow.Steps[0].ID, &e.At
			}
			for n := 0; e.Done == nil && e.Due != nil && !e.Due.After(now) && n < maxStepsPerTick; n++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				sent, err := t.step(ctx, &rec, e, tk)
				if err != nil {
					return fmt.Errorf("local: workflow %s, %s at step %s: %w", id, e.Email, e.Step, err)
				}
				rep.Steps++
				rep.Sent += sent
				t.hook(fmt.Sprintf("tick:%s:%s:%d", id, e.Email, len(e.History)))
				// Progress is saved after every step: a step redone after
				// a crash finds its email already written.
				if _, err := t.writeJSON(path, rec); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// enrolNew enrols the contacts a trigger selects now: a segment_entry
// trigger's members (those there at activation are enrolled by Publish,
// those who enter later here), the day's date_property contacts, the
// form's submitters since the workflow was switched on. A contact enrolled
// before enters again only when the workflow re-enrols, their last
// enrolment is over, and the trigger fired anew for them: they left the
// segment and came back, submitted the form again, or their date changed
// to today.
func (t *Target) enrolNew(rec *liveWorkflow, now time.Time) (n int, changed bool, err error) {
	tr := rec.Workflow.Trigger
	var addrs []string
	submitted := map[string]time.Time{} // form_submission, manual: each address's latest
	switch tr.Type {
	case "segment_entry":
		var segs map[string]*sandbox.Segment
		segs, err = t.withLiveDefinitions(map[string]*sandbox.Segment{}, []string{tr.SegmentID})
		if err != nil {
			return 0, false, err
		}
		members, err := t.members([]string{tr.SegmentID}, nil, segs)
		if err != nil {
			return 0, false, err
		}
		addrs = members.emails()
		if rec.Workflow.Reenrol {
			changed = markLeft(rec, addrs, now)
		}
	case "date_property":
		tab, err := t.book.load()
		if err != nil {
			return 0, false, err
		}
		today := now.Format("2006-01-02")
		for r := range tab.rows {
			if v := strings.TrimSpace(tab.get(r, strings.ToLower(tr.Property))); len(v) >= 10 && v[:10] == today {
				addrs = append(addrs, tab.addr(r))
			}
		}
	case "form_submission", "manual":
		// A form's submissions, or the enrolments a person asked for
		// (lastmile enrol), since the workflow was switched on.
		event, artifact := "form_submission", tr.PageID
		if ref, ok := rec.Refs[artifact]; ok {
			artifact = ref
		}
		if tr.Type == "manual" {
			event, artifact = "manual_enrolment", rec.ID
		}
		err = t.ReadEvents(func(e Event) {
			if e.Type == event && e.Artifact == artifact && e.Email != "" && (rec.EnabledAt == nil || !e.At.Before(*rec.EnabledAt)) {
				addr := strings.ToLower(e.Email)
				if _, ok := submitted[addr]; !ok {
					addrs = append(addrs, addr)
				}
				if e.At.After(submitted[addr]) {
					submitted[addr] = e.At
				}
			}
		})
		if err != nil {
			return 0, false, err
		}
	default:
		return 0, false, nil
	}
	last := map[string]enrolment{}
	rounds := map[string]int{}
	for _, e := range rec.Enrolled {
		addr := strings.ToLower(e.Email)
		last[addr] = e
		rounds[addr]++
	}
	for _, addr := range addrs {
		if prev, ok := last[addr]; ok && !reentered(rec, &prev, tr.Type, submitted[addr], now) {
			continue
		}
		at := now
		e := enrolment{Email: addr, Round: rounds[addr], At: at, Step: rec.Workflow.Steps[0].ID, Due: &at}
		rec.Enrolled = append(rec.Enrolled, e)
		last[addr], rounds[addr] = e, rounds[addr]+1
		n++
	}
	return n, changed || n > 0, nil
}

// reentered says whether a contact whose last enrolment is prev enters
// again now.
func reentered(rec *liveWorkflow, prev *enrolment, trigger string, submitted, now time.Time) bool {
	if !rec.Workflow.Reenrol || prev.Done == nil {
		return false
	}
	switch trigger {
	case "segment_entry":
		return prev.Left != nil
	case "form_submission", "manual":
		return submitted.After(prev.At)
	case "date_property":
		return prev.At.Format("2006-01-02") != now.Format("2006-01-02")
	}
	return false
}

// markLeft notes, on each finished enrolment of a contact no longer in
// the trigger's segment, when they were first seen gone: coming back
// later re-enrols them.
func markLeft(rec *liveWorkflow, members []string, now time.Time) (changed bool) {
	in := make(map[string]bool, len(members))
	for _, m := range members {
		in[m] = true
	}
	latest := map[string]int{}
	for i, e := range rec.Enrolled {
		latest[strings.ToLower(e.Email)] = i
	}
	for addr, i := range latest {
		if e := &rec.Enrolled[i]; e.Done != nil && e.Left == nil && !in[addr] {
			at := now
			e.Left, changed = &at, true
		}
	}
	return changed
}

// step takes an enrolment's current step and moves it on; it returns how
// many messages it wrote.
func (t *Target) step(ctx context.Context, rec *liveWorkflow, e *enrolment, tk *tick) (int, error) {
	st, ok := findStep(rec.Workflow.Steps, e.Step)
	if !ok {
		t.finish(e, *e.Due, "ended: no step "+e.Step)
		return 0, nil
	}
	at := *e.Due
	next := func(id, what string) {
		e.History = append(e.History, stepTaken{Step: st.ID, At: at, What: what})
		e.Waiting = false
		if id == "" {
			t.finish(e, at, "")
			return
		}
		e.Step = id
	}
	switch st.Type {
	case "send_email":
		id := st.EmailID
		if ref, ok := rec.Refs[id]; ok {
			id = ref
		}
		n, err := t.sendOne(ctx, id, e.Email, e.Round, at, tk)
		if err != nil {
			return 0, err
		}
		next(st.Next, "sent "+id)
		return n, nil
	case "wait":
		d, err := sandbox.ParseWait(st.Duration)
		if err != nil {
			return 0, err
		}
		if !e.Waiting {
			due := at.Add(d)
			e.Waiting, e.Due = true, &due
			e.History = append(e.History, stepTaken{Step: st.ID, At: at, What: "waiting until " + due.Format(time.RFC3339)})
			return 0, nil
		}
		next(st.Next, "waited "+st.Duration)
	case "branch":
		yes, err := t.branchHolds(st.Condition, e, rec, tk)
		if err != nil {
			return 0, err
		}
		if yes {
			next(st.Then, "condition held")
		} else {
			next(st.Else, "condition did not hold")
		}
	case "set_property":
		prop, value := strings.ToLower(st.Property), fmt.Sprint(st.Value)
		if err := t.upsertContact(strings.ToLower(e.Email), map[string]string{prop: value}); err != nil {
			return 0, err
		}
		if c, err := t.contact(e.Email, tk); err == nil {
			c = maps.Clone(c)
			c[prop] = value
			tk.contacts[c.Email()] = c
		}
		next(st.Next, fmt.Sprintf("set %s to %v", st.Property, st.Value))
	case "add_to_segment", "remove_from_segment":
		id := st.SegmentID
		if ref, ok := rec.Refs[id]; ok {
			id = ref
		}
		add := st.Type == "add_to_segment"
		if err := t.changeMembership(id, e.Email, add); err != nil {
			return 0, err
		}
		if add {
			next(st.Next, "added to segment "+id)
		} else {
			next(st.Next, "removed from segment "+id)
		}
	case "exit":
		next("", "exited")
	default:
		// The plan told the approver: passed over, said in the history.
		next(st.Next, "passed over: local does not run "+st.Type+" steps yet")
	}
	return 0, nil
}

func (t *Target) finish(e *enrolment, at time.Time, what string) {
	if what != "" {
		e.History = append(e.History, stepTaken{Step: e.Step, At: at, What: what})
	}
	e.Step, e.Due, e.Waiting, e.Done = "", nil, false, &at
}

func findStep(steps []sandbox.Step, id string) (sandbox.Step, bool) {
	for _, s := range steps {
		if s.ID == id {
			return s, true
		}
	}
	return sandbox.Step{}, false
}

// branchHolds evaluates a branch for one enrolment: membership of a live
// segment, a condition on the contact's properties, or engagement since
// the contact was enrolled (an open from an earlier enrolment does not
// count).
func (t *Target) branchHolds(c *sandbox.BranchCondition, e *enrolment, rec *liveWorkflow, tk *tick) (bool, error) {
	if c == nil {
		return false, nil
	}
	if c.Engagement != "" {
		id := c.EmailID + c.PageID
		if ref, ok := rec.Refs[id]; ok {
			id = ref
		}
		if err := t.readEngagement(tk); err != nil {
			return false, err
		}
		at, ok := tk.engaged[engagedKey{engagementEvent[c.Engagement], id, strings.ToLower(e.Email)}]
		return ok && !at.Before(e.At), nil
	}
	contact, err := t.contact(e.Email, tk)
	if err != nil {
		return false, err
	}
	if c.SegmentID != "" {
		id := c.SegmentID
		if ref, ok := rec.Refs[id]; ok {
			id = ref
		}
		segs, err := t.withLiveDefinitions(map[string]*sandbox.Segment{}, []string{id})
		if err != nil {
			return false, err
		}
		if segs, err = t.withMembership(segs); err != nil {
			return false, err
		}
		return sandbox.Evaluator{Segments: segs}.Audience(contact, []string{id}, nil), nil
	}
	cond := sandbox.Condition{Property: c.Property, Operator: c.Operator, Value: c.Value}
	return cond.Matches(contact), nil
}

func (t *Target) readEngagement(tk *tick) error {
	if tk.engaged != nil {
		return nil
	}
	tk.engaged = map[engagedKey]time.Time{}
	return t.ReadEvents(func(ev Event) {
		switch ev.Type {
		case "open", "click", "form_submission":
			k := engagedKey{ev.Type, ev.Artifact, strings.ToLower(ev.Email)}
			if ev.At.After(tk.engaged[k]) {
				tk.engaged[k] = ev.At
			}
		}
	})
}

// contact is an address's row of contacts.csv (just the address when it
// has none: a static member).
func (t *Target) contact(addr string, tk *tick) (sandbox.Contact, error) {
	if tk.contacts == nil {
		tab, err := t.book.load()
		if err != nil {
			return nil, err
		}
		tk.table, tk.contacts = tab, map[string]sandbox.Contact{}
	}
	if c, ok := tk.contacts[strings.ToLower(addr)]; ok {
		return c, nil
	}
	if r, ok := tk.table.row(strings.ToLower(addr)); ok {
		return tk.table.contact(r), nil
	}
	return sandbox.Contact{"email": addr}, nil
}

// sendOne writes one workflow email to one contact, dated at, unless the
// contact already has it from this round of enrolment or is suppressed;
// it returns 1 when it wrote it. A re-enrolled contact's round r > 0 has
// its own file and counts its own sent event, so a step redone after a
// crash still writes and records the message once.
func (t *Target) sendOne(_ context.Context, emailID, addr string, round int, at time.Time, tk *tick) (int, error) {
	var rec liveEmail
	found, err := readJSON(t.recordPath(sandbox.KindEmail, emailID), &rec)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("email %s is not live", emailID)
	}
	idx, ok := tk.indexes[emailID]
	if !ok {
		if idx, err = t.readIndex(emailID); err != nil {
			return 0, err
		}
		tk.indexes[emailID] = idx
	}
	contact, err := t.contact(addr, tk)
	if err != nil {
		return 0, err
	}
	addr = strings.ToLower(addr)
	if consentWithdrawn(contact) || idx.suppressed[addr] != "" {
		return 0, nil
	}
	name := fileName(addr)
	if round > 0 {
		n, err := t.sentCount(emailID, addr, tk)
		if err != nil {
			return 0, err
		}
		if n > round {
			return 0, nil
		}
		name = strings.TrimSuffix(name, ".eml") + "-" + strconv.Itoa(round+1) + ".eml"
	} else if idx.sent[addr] {
		return 0, nil
	}
	record := func() error {
		if round == 0 {
			idx.sent[addr] = true // the map is shared with the tick's index
		} else {
			tk.sent[emailID][addr]++
		}
		return t.appendEvents([]Event{{Type: "sent", Artifact: emailID, Email: addr, At: at}})
	}
	file := filepath.Join(t.path("outbox", emailID), name)
	if _, err := os.Stat(file); err == nil {
		// Written before a crash, its event not yet: record it now.
		return 0, record()
	}
	if err := t.writeFile(file, message(&rec.Email, emailID, contact, at, domainOf(rec.Email.FromEmail), t.oneClick(emailID, addr), "")); err != nil {
		return 0, err
	}
	return 1, record()
}

// sentCount is how many sent events an address has for an email, from
// one read of the events per tick and email.
func (t *Target) sentCount(emailID, addr string, tk *tick) (int, error) {
	if tk.sent == nil {
		tk.sent = map[string]map[string]int{}
	}
	counts, ok := tk.sent[emailID]
	if !ok {
		counts = map[string]int{}
		if err := t.ReadEvents(func(e Event) {
			if e.Type == "sent" && e.Artifact == emailID {
				counts[strings.ToLower(e.Email)]++
			}
		}); err != nil {
			return 0, err
		}
		tk.sent[emailID] = counts
	}
	return counts[addr], nil
}

// ErrNotEnrollable is why Enrol refused: the workflow is not a live,
// switched-on manual workflow on this target.
var ErrNotEnrollable = errors.New("not a switched-on manual workflow")

// ErrUnknownContact is why Enrol refused an address: it is not a contact.
var ErrUnknownContact = errors.New("not a contact")

// Enrol asks for contacts to enter a live manual workflow: it records the
// request as manual_enrolment events, and the clock enrols them at its
// next tick (once, unless the workflow re-enrols). Every address must be
// a contact; nothing is recorded when one is not.
func (t *Target) Enrol(workflowID string, addrs []string) error {
	if !safeID().MatchString(workflowID) {
		return fmt.Errorf("local: %q is not a workflow id: %w", workflowID, ErrNotEnrollable)
	}
	var rec liveWorkflow
	found, err := readJSON(t.recordPath(sandbox.KindWorkflow, workflowID), &rec)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("local: workflow %s is not live on %s: %w", workflowID, t.name, ErrNotEnrollable)
	case rec.Workflow.Trigger.Type != "manual":
		return fmt.Errorf("local: workflow %s starts on %s, not by hand: %w", workflowID, rec.Workflow.Trigger.Type, ErrNotEnrollable)
	case !rec.Enabled:
		return fmt.Errorf("local: workflow %s is switched off: %w", workflowID, ErrNotEnrollable)
	}
	tab, err := t.book.load()
	if err != nil {
		return err
	}
	now := t.now().UTC()
	evs := make([]Event, 0, len(addrs))
	for _, a := range addrs {
		addr := strings.ToLower(strings.TrimSpace(a))
		if _, known := tab.row(addr); !known {
			return fmt.Errorf("local: %s is not in %s: add the contact first (%w); nobody was enrolled", termsafe.Text(a, 80), filepath.Base(t.book.path), ErrUnknownContact)
		}
		evs = append(evs, Event{Type: "manual_enrolment", Artifact: workflowID, Email: addr, At: now})
	}
	return t.appendEvents(evs)
}

// workflowState reads where a live workflow's enrolments stand.
func (t *Target) workflowState(id string) (*sandbox.WorkflowState, error) {
	if !safeID().MatchString(id) {
		return nil, fmt.Errorf("%q is not a workflow id", id)
	}
	var rec liveWorkflow
	found, err := readJSON(t.recordPath(sandbox.KindWorkflow, id), &rec)
	if err != nil || !found {
		return nil, err
	}
	st := &sandbox.WorkflowState{Enabled: rec.Enabled, Enrolled: int64(len(rec.Enrolled)), AtStep: map[string]int64{}}
	for _, e := range rec.Enrolled {
		if e.Done != nil {
			st.Finished++
			continue
		}
		st.Active++
		step := e.Step
		if step == "" {
			step = rec.Workflow.Steps[0].ID
		}
		st.AtStep[step]++
	}
	for i := len(rec.Enrolled) - 1; i >= 0 && len(st.Contacts) < sandbox.MaxWorkflowContacts; i-- {
		e := rec.Enrolled[i]
		c := sandbox.ContactState{Email: e.Email, Enrolled: e.At, Step: e.Step, Due: e.Due, Done: e.Done}
		for _, h := range e.History {
			c.History = append(c.History, h.At.UTC().Format(time.RFC3339)+" "+h.Step+": "+h.What)
		}
		st.Contacts = append(st.Contacts, c)
	}
	return st, nil
}
