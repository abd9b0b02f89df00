package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// A spread send is an email sent by recipient time zone or moved into a
// send window: each recipient has their own time. Send works the times out
// once, from the audience approved and each contact's timezone property as
// they are at confirmation, and writes them to schedules/<email id>.json;
// the clock mails each recipient when their time comes.

// spreadSchedule is a spread send's per-recipient schedule and progress.
type spreadSchedule struct {
	// Key is the revision and send it was worked out for: one left by an
	// unscheduled send is not reused for the next.
	Key     string        `json:"key"`
	Entries []spreadEntry `json:"entries"`
	// What the clock did with the entries it is done with.
	Mailed     int `json:"mailed"`
	Unapproved int `json:"unapproved,omitempty"`
	Suppressed int `json:"suppressed,omitempty"`
	Left       int `json:"left,omitempty"` // no longer in the audience at their time
}

type spreadEntry struct {
	Email string    `json:"email"`
	At    time.Time `json:"at"`
	Zone  string    `json:"zone"` // the recipient's zone, for the window when a tick is late
	Done  bool      `json:"done,omitempty"`
}

func (t *Target) schedulePath(id string) string { return t.path("schedules", id+".json") }

// zoneNote says how many recipients lack a usable time zone.
func zoneNote(e *sandbox.Email, unknown int) string {
	if unknown == 0 || !e.RecipientTimeZone {
		return ""
	}
	return fmt.Sprintf("%d recipient(s) have no valid %s property (an IANA zone such as Europe/Berlin) in contacts.csv: they get it in %s", unknown, sandbox.TimeZoneProperty, e.FallbackZone())
}

// spreadTimes yields each mailable recipient's address and time, from the
// audience as it resolves now, and counts those without a valid zone.
func (t *Target) spreadTimes(e *sandbox.Email, rs *recipients, allow *sandbox.RecipientSet, sch *spreadSchedule) (unknown int) {
	zones := map[string]*time.Location{}
	for r := range rs.all() {
		switch {
		case r.suppressed != "":
			sch.Suppressed++
			continue
		case !allow.Allows(r.addr):
			sch.Unapproved++
			continue
		}
		loc, ok := e.RecipientZone(rs.contact(r)[sandbox.TimeZoneProperty], zones)
		if !ok && e.RecipientTimeZone {
			unknown++
		}
		sch.Entries = append(sch.Entries, spreadEntry{Email: r.addr, At: e.SendTimeIn(loc), Zone: loc.String()})
	}
	slices.SortFunc(sch.Entries, func(a, b spreadEntry) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Email, b.Email))
	})
	return unknown
}

// assessSpread gives the plan the first and last recipient's time.
func (t *Target) assessSpread(e *sandbox.Email, rs *recipients, a *sandbox.Assessment) {
	var sch spreadSchedule
	unknown := t.spreadTimes(e, rs, nil, &sch)
	a.Notes = append(a.Notes, "local sends it "+e.DescribeTiming()+", each recipient at their time by lastmile's clock, to the audience as it is then: lastmile serve or lastmile run must be running; a recipient whose time came while it was not waits for the window's next opening")
	if n := zoneNote(e, unknown); n != "" {
		a.Notes = append(a.Notes, n)
	}
	if len(sch.Entries) > 0 {
		first, last := sch.Entries[0].At, sch.Entries[len(sch.Entries)-1].At
		a.FirstSend, a.LastSend = &first, &last
	}
}

// scheduleSpread records a spread send's schedule, then the email as
// scheduled. A schedule written by an interrupted attempt is kept: the
// times the first attempt worked out stand.
func (t *Target) scheduleSpread(ctx context.Context, obj sandbox.Object, rec *liveEmail, at time.Time) (sandbox.LiveState, error) {
	path := t.schedulePath(obj.ArtifactID)
	var sch spreadSchedule
	found, err := readJSON(path, &sch)
	if err != nil {
		return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
	}
	key := obj.Hash + "@" + at.UTC().Format(time.RFC3339)
	if !found || sch.Key != key {
		sch = spreadSchedule{Key: key}
		idx, err := t.readIndex(obj.ArtifactID)
		if err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
		}
		rs, err := t.audience(rec.Audience, obj.Segments, idx)
		if err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
		}
		t.spreadTimes(&rec.Email, rs, obj.Recipients, &sch)
		if sch.Entries == nil {
			sch.Entries = []spreadEntry{}
		}
		if _, err := t.writeJSON(path, sch); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
		}
	}
	first := at.UTC()
	if len(sch.Entries) > 0 {
		first = sch.Entries[0].At
	}
	rec.Status, rec.ScheduledAt, rec.PerRecipient = "scheduled", &first, true
	rec.Allowed, rec.AllowAll, rec.Segments = obj.Recipients.Keys(), obj.Recipients == nil, obj.Segments
	data, err := t.writeJSON(t.recordPath(sandbox.KindEmail, obj.ArtifactID), rec)
	if err != nil {
		return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
	}
	return t.stateOf(sandbox.KindEmail, obj.ArtifactID, data, nil), nil
}

// tickSpread mails the recipients of a spread send whose time came, each
// once: a message file or sent event for them means done (a tick cut
// short after writing it records the event, never a second message). At
// their time a recipient must still be in the audience, not suppressed and
// within the approved set; the audience shrinks after approval, never
// grows. One whose time came while the clock was not running and whose
// window is shut now waits for its next opening.
func (t *Target) tickSpread(ctx context.Context, id string, rec *liveEmail, now time.Time, rep *sandbox.TickReport) error {
	path := t.schedulePath(id)
	var sch spreadSchedule
	found, err := readJSON(path, &sch)
	if err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	if !found {
		return fmt.Errorf("local: send %s: its schedule %s is missing", id, path)
	}
	due := map[string]bool{}
	for _, en := range sch.Entries {
		if !en.Done && !en.At.After(now) {
			due[en.Email] = true
		}
	}
	if len(due) > 0 {
		if err := t.mailDue(ctx, id, rec, &sch, due, now, rep); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(sch.Entries, func(en spreadEntry) bool { return !en.Done }) {
		return nil
	}
	sent := now.UTC()
	rec.Status, rec.SentAt, rec.Recipients = "sent", &sent, sch.Mailed
	rec.DroppedUnapproved, rec.DroppedSuppressed = sch.Unapproved, sch.Suppressed
	rec.Allowed, rec.AllowAll, rec.Segments = nil, false, nil
	if _, err := t.writeJSON(t.recordPath(sandbox.KindEmail, id), rec); err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	return nil
}

func (t *Target) mailDue(ctx context.Context, id string, rec *liveEmail, sch *spreadSchedule, due map[string]bool, now time.Time, rep *sandbox.TickReport) error {
	idx, err := t.readIndex(id)
	if err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	rs, err := t.audience(rec.Audience, rec.Segments, idx)
	if err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	current := map[string]recipient{}
	for r := range rs.all() {
		if due[r.addr] {
			current[r.addr] = r
		}
	}
	var allow *sandbox.RecipientSet
	if !rec.AllowAll {
		allow = sandbox.NewRecipientSet(rec.Allowed)
	}
	box := t.path("outbox", id)
	if err := os.MkdirAll(box, 0o755); err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	domain := domainOf(rec.Email.FromEmail)
	var events []Event
	wrote := 0
	for i := range sch.Entries {
		en := &sch.Entries[i]
		if en.Done || !due[en.Email] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		loc, err := time.LoadLocation(en.Zone)
		if err != nil {
			loc = rec.Email.FallbackZone()
		}
		if !rec.Email.SendWindow.OpenAt(now, loc) {
			continue // late, and the window is shut: at its next opening
		}
		t.hook(fmt.Sprintf("spread:%s:%d", id, i))
		file := filepath.Join(box, fileName(en.Email))
		_, err = os.Stat(file)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("local: send %s: %w", id, err)
		}
		r, in := current[en.Email]
		switch {
		case err == nil || idx.sent[en.Email]:
			// Mailed before a crash: the message is out.
		case !in:
			sch.Left++
			en.Done = true
			continue
		case r.suppressed != "":
			sch.Suppressed++
			en.Done = true
			continue
		case !allow.Allows(en.Email):
			sch.Unapproved++
			en.Done = true
			continue
		default:
			if err := t.writeSynced(file, message(&rec.Email, id, rs.contact(r), en.At, domain, t.oneClick(id, en.Email), "")); err != nil {
				return fmt.Errorf("local: send %s: %w", id, err)
			}
			wrote++
		}
		if !idx.sent[en.Email] {
			events = append(events, Event{Type: "sent", Artifact: id, Email: en.Email, At: en.At})
		}
		sch.Mailed++
		en.Done = true
	}
	// Messages, then their events, then the progress: a crash between
	// finds the messages there and mails nobody twice.
	if err := t.flushSent(box, events); err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	if _, err := t.writeJSON(t.schedulePath(id), sch); err != nil {
		return fmt.Errorf("local: send %s: %w", id, err)
	}
	rep.Sent += wrote
	return nil
}
