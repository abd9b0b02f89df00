package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// SendWindow limits when an email goes out: between Start and End (HH:MM,
// End excluded) on Days. With the email's RecipientTimeZone the times are
// each recipient's own; without it they are in TimeZone, which is then
// required. With RecipientTimeZone, TimeZone is where recipients whose
// time zone is unknown get it.
type SendWindow struct {
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Days     []string `json:"days,omitempty"` // mon … sun; empty: every day
	TimeZone string   `json:"time_zone,omitempty"`
}

// dayNames are the names Days takes, in time.Weekday order.
var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// TimeZoneProperty is the contact property that holds a recipient's IANA
// time zone (Europe/Berlin) for emails sent by recipient time zone.
const TimeZoneProperty = "timezone"

// Widest offsets any zone has: Kiribati's UTC+14 and Baker Island's
// UTC−12. A platform that sends by recipient time zone without telling
// lastmile whom it places where (Mailchimp's Timewarp) sends within them.
const (
	earliestOffset = 14 * time.Hour
	latestOffset   = 12 * time.Hour
)

// parseClock reads HH:MM as minutes after midnight.
func parseClock(v string) (int, bool) {
	t, err := time.Parse("15:04", v)
	if err != nil || len(v) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// checkSendTiming reports what is wrong with an email's window and time
// zone settings.
func checkSendTiming(ps *problems, w *SendWindow, recipientTZ bool, sendAt string) {
	if (w != nil || recipientTZ) && sendAt == "" {
		field := "send_window"
		if w == nil {
			field = "recipient_time_zone"
		}
		ps.add(field, "is set but send_at is not", "give send_at: the window and time zones move a scheduled send; an email sent at confirmation goes out at once")
	}
	if w == nil {
		return
	}
	start, okS := parseClock(w.Start)
	end, okE := parseClock(w.End)
	if !okS {
		ps.add("send_window.start", fmt.Sprintf("%q is not a time of day", w.Start), "write it as HH:MM on a 24-hour clock, e.g. 09:00")
	}
	if !okE {
		ps.add("send_window.end", fmt.Sprintf("%q is not a time of day", w.End), "write it as HH:MM on a 24-hour clock, e.g. 17:00")
	}
	if okS && okE && start >= end {
		ps.add("send_window.end", fmt.Sprintf("%s is not after start %s", w.End, w.Start), "a window lies within one day: end after start (a window across midnight is two days' windows; pick one side)")
	}
	seen := map[string]bool{}
	for i, d := range w.Days {
		switch {
		case !slices.Contains(dayNames, d):
			ps.add(fmt.Sprintf("send_window.days[%d]", i), fmt.Sprintf("%q is not a day name", d), "use mon, tue, wed, thu, fri, sat or sun (lower case)")
		case seen[d]:
			ps.add(fmt.Sprintf("send_window.days[%d]", i), fmt.Sprintf("%q is listed twice", d), "name each day once")
		}
		seen[d] = true
	}
	switch {
	case w.TimeZone == "" && !recipientTZ:
		ps.add("send_window.time_zone", "is required without recipient_time_zone", "name the zone the window's times are in, e.g. Europe/Berlin or America/New_York (IANA), or set recipient_time_zone")
	case w.TimeZone != "":
		if _, err := loadZone(w.TimeZone); err != nil {
			ps.add("send_window.time_zone", fmt.Sprintf("%q is not an IANA time zone", w.TimeZone), "use a name like Europe/Berlin, America/New_York or UTC")
		}
	}
}

// loadZone is time.LoadLocation without its two quirks: "" and "Local"
// would mean the machine's own zone, which differs between machines.
func loadZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	return time.LoadLocation(name)
}

// Spread reports whether the email's send time depends on a window or on
// each recipient's time zone.
func (e *Email) Spread() bool {
	return e != nil && e.SendAt != nil && (e.RecipientTimeZone || e.SendWindow != nil)
}

// FallbackZone is where a recipient without a valid time zone gets an
// email sent by recipient time zone: the window's TimeZone when it names
// one, else send_at's own offset (so they get it at send_at exactly as
// written).
func (e *Email) FallbackZone() *time.Location {
	if e.SendWindow != nil && e.SendWindow.TimeZone != "" {
		if loc, err := loadZone(e.SendWindow.TimeZone); err == nil {
			return loc
		}
	}
	if e.SendAt == nil {
		return time.UTC
	}
	return e.SendAt.Location()
}

// LocalWall is, for an email sent by recipient time zone, the date and
// clock time each recipient gets it at in their own zone, as a time in
// UTC: send_at's date and clock time as written, moved forward into the
// window. Moving is the same in every zone (the window's times and days
// are each recipient's own), so one wall time serves everybody.
func (e *Email) LocalWall() time.Time {
	at := *e.SendAt
	w := time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.UTC)
	return e.SendWindow.moveInto(w)
}

// SendTimeIn is when the email goes out to a recipient in zone loc. Without
// RecipientTimeZone everybody gets it at one time, send_at moved forward
// into the window in the window's zone, and loc does not matter.
func (e *Email) SendTimeIn(loc *time.Location) time.Time {
	if !e.RecipientTimeZone {
		return e.wholeSendTime()
	}
	w := e.LocalWall()
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc).UTC()
}

// wholeSendTime is when an email without RecipientTimeZone goes out.
func (e *Email) wholeSendTime() time.Time {
	at := *e.SendAt
	if e.SendWindow == nil {
		return at.UTC()
	}
	loc, err := loadZone(e.SendWindow.TimeZone)
	if err != nil {
		return at.UTC() // staging refuses such a window
	}
	l := at.In(loc)
	w := e.SendWindow.moveInto(time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC))
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc).UTC()
}

// RecipientZone is the zone of a recipient whose time zone property is tz,
// and whether tz named one; the fallback zone otherwise.
func (e *Email) RecipientZone(tz string, cache map[string]*time.Location) (*time.Location, bool) {
	tz = strings.TrimSpace(tz)
	if loc, ok := cache[tz]; ok {
		if loc == nil {
			return e.FallbackZone(), false
		}
		return loc, true
	}
	loc, err := loadZone(tz)
	if cache != nil {
		cache[tz] = loc
	}
	if err != nil || loc == nil {
		return e.FallbackZone(), false
	}
	return loc, true
}

// SendSpan is the first and last time the email goes out to anybody, when
// the target cannot say whom it places in which zone: with
// RecipientTimeZone, the wall time in the earliest (UTC+14) and latest
// (UTC−12) zones there are, and the fallback zone.
func (e *Email) SendSpan() (first, last time.Time) {
	if !e.RecipientTimeZone {
		t := e.wholeSendTime()
		return t, t
	}
	w := e.LocalWall()
	first, last = w.Add(-earliestOffset), w.Add(latestOffset)
	fb := e.SendTimeIn(e.FallbackZone())
	return minTime(first, fb), maxTime(last, fb)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// moveInto returns the first wall time at or after w (a date and clock in
// UTC standing for any zone's) that the window allows; w itself without a
// window.
func (win *SendWindow) moveInto(w time.Time) time.Time {
	if win == nil {
		return w
	}
	start, _ := parseClock(win.Start)
	end, _ := parseClock(win.End)
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < 8; i++ {
		d := day.AddDate(0, 0, i)
		if !win.allows(d.Weekday()) {
			continue
		}
		open, shut := d.Add(time.Duration(start)*time.Minute), d.Add(time.Duration(end)*time.Minute)
		switch {
		case i == 0 && !w.Before(open) && w.Before(shut):
			return w
		case w.Before(open):
			return open
		}
	}
	return w // no day allowed: staging refuses such a window
}

func (win *SendWindow) allows(d time.Weekday) bool {
	return len(win.Days) == 0 || slices.Contains(win.Days, dayNames[d])
}

// OpenAt reports whether the window is open at t in zone loc: a send due
// while lastmile was not running waits for the window's next opening
// rather than arrive outside it.
func (win *SendWindow) OpenAt(t time.Time, loc *time.Location) bool {
	if win == nil {
		return true
	}
	l := t.In(loc)
	w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	return win.moveInto(w).Equal(w)
}

// DescribeTiming says when the email goes out, for a human reading a plan.
func (e *Email) DescribeTiming() string {
	if !e.Spread() {
		return ""
	}
	var b strings.Builder
	if e.RecipientTimeZone {
		fmt.Fprintf(&b, "at %s in each recipient's time zone (contact property %q; without a valid one: %s)", e.LocalWall().Format("2006-01-02 15:04"), TimeZoneProperty, e.FallbackZone())
	} else {
		fmt.Fprintf(&b, "at %s", e.wholeSendTime().Format("2006-01-02 15:04 UTC"))
	}
	if w := e.SendWindow; w != nil {
		days := "every day"
		if len(w.Days) > 0 {
			days = strings.Join(w.Days, ", ")
		}
		zone := w.TimeZone
		if e.RecipientTimeZone {
			zone = "the recipient's time"
		}
		fmt.Fprintf(&b, ", within %s–%s %s, %s", w.Start, w.End, zone, days)
	}
	return b.String()
}

// spreadSend fills a send step's first and last times for an email moved
// into a window or sent by recipient time zone, from the target's
// assessment or, when it could not tell, the bound that holds anywhere. A
// first time already passed is a problem, not a late send: a human approved
// these times, so nobody gets it hours after them unasked; the agent stages
// a later send_at.
func spreadSend(step *PlanStep, e *Email, as Assessment, now time.Time) *Problem {
	if !e.Spread() || step.Op != OpSchedule {
		return nil
	}
	first, last := e.SendSpan()
	if as.FirstSend != nil && as.LastSend != nil {
		first, last = *as.FirstSend, *as.LastSend
	}
	first, last = first.UTC(), last.UTC()
	step.At, step.FirstAt, step.LastAt = &first, &first, &last
	if !first.After(now) {
		return &Problem{Field: step.ArtifactID, Message: fmt.Sprintf("the first send time %s has passed (%s)", first.Format(time.RFC3339), e.DescribeTiming()),
			Fix: "stage a new revision with a later send_at: with recipient_time_zone, more than 14 hours ahead of its clock time in UTC reaches every zone in time"}
	}
	return nil
}
