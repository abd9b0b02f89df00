package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
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
		if rec.Status != "scheduled" || rec.ScheduledAt == nil || rec.ScheduledAt.After(now) {
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
	At      time.Time   `json:"at"`
	Step    string      `json:"step,omitempty"`
	Due     *time.Time  `json:"due,omitempty"`
	Waiting bool        `json:"waiting,omitempty"` // Step is a wait that started
	Done    *time.Time  `json:"done,omitempty"`
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
}

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
		if n, err := t.enrolNew(&rec, now); err != nil {
			return err
		} else if n > 0 {
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

// enrolNew enrols the contacts of a segment_entry trigger's segment who are
// not enrolled yet: those there at activation are enrolled by Publish,
// those who enter later here. Nobody is enrolled twice (re-enrolment is
// off on local).
func (t *Target) enrolNew(rec *liveWorkflow, now time.Time) (int, error) {
	tr := rec.Workflow.Trigger
	var addrs []string
	switch tr.Type {
	case "segment_entry":
		segs, err := t.withLiveDefinitions(map[string]*sandbox.Segment{}, []string{tr.SegmentID})
		if err != nil {
			return 0, err
		}
		members, err := t.members([]string{tr.SegmentID}, nil, segs)
		if err != nil {
			return 0, err
		}
		addrs = members.emails()
	case "date_property":
		// Contacts whose date is today enter; re-enrolment is off, so a
		// contact enters once.
		tab, err := t.book.load()
		if err != nil {
			return 0, err
		}
		today := now.Format("2006-01-02")
		for r := range tab.rows {
			if v := strings.TrimSpace(tab.get(r, strings.ToLower(tr.Property))); len(v) >= 10 && v[:10] == today {
				addrs = append(addrs, tab.addr(r))
			}
		}
	case "form_submission":
		page := tr.PageID
		if ref, ok := rec.Refs[page]; ok {
			page = ref
		}
		err := t.ReadEvents(func(e Event) {
			if e.Type == "form_submission" && e.Artifact == page && e.Email != "" && (rec.EnabledAt == nil || !e.At.Before(*rec.EnabledAt)) {
				addrs = append(addrs, strings.ToLower(e.Email))
			}
		})
		if err != nil {
			return 0, err
		}
	default:
		return 0, nil
	}
	known := map[string]bool{}
	for _, e := range rec.Enrolled {
		known[strings.ToLower(e.Email)] = true
	}
	n := 0
	for _, addr := range addrs {
		if known[addr] {
			continue
		}
		at := now
		rec.Enrolled = append(rec.Enrolled, enrolment{Email: addr, At: at, Step: rec.Workflow.Steps[0].ID, Due: &at})
		known[addr] = true
		n++
	}
	return n, nil
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
		n, err := t.sendOne(ctx, id, e.Email, at, tk)
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
		yes, err := t.branchHolds(st.Condition, e.Email, rec, tk)
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

// branchHolds evaluates a branch for one contact: membership of a live
// segment, or a condition on the contact's properties.
func (t *Target) branchHolds(c *sandbox.BranchCondition, addr string, rec *liveWorkflow, tk *tick) (bool, error) {
	if c == nil {
		return false, nil
	}
	contact, err := t.contact(addr, tk)
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
		return sandbox.Evaluator{Segments: segs}.Audience(contact, []string{id}, nil), nil
	}
	cond := sandbox.Condition{Property: c.Property, Operator: c.Operator, Value: c.Value}
	return cond.Matches(contact), nil
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
// contact already has it or is suppressed; it returns 1 when it wrote it.
func (t *Target) sendOne(_ context.Context, emailID, addr string, at time.Time, tk *tick) (int, error) {
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
	if consentWithdrawn(contact) || idx.suppressed[addr] != "" || idx.sent[addr] {
		return 0, nil
	}
	idx.sent[addr] = true // the map is shared with the tick's index
	box := t.path("outbox", emailID)
	file := filepath.Join(box, fileName(addr))
	if _, err := os.Stat(file); err == nil {
		// Written before a crash, its event not yet: record it now.
		return 0, t.appendEvents([]Event{{Type: "sent", Artifact: emailID, Email: strings.ToLower(addr), At: at}})
	}
	if err := t.writeFile(file, message(&rec.Email, emailID, contact, at, domainOf(rec.Email.FromEmail), t.oneClick(emailID, addr))); err != nil {
		return 0, err
	}
	return 1, t.appendEvents([]Event{{Type: "sent", Artifact: emailID, Email: strings.ToLower(addr), At: at}})
}
