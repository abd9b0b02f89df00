package mailchimp

import (
	"fmt"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// Send windows and recipient time zones on Mailchimp.
//
// Mailchimp has no send windows, but lastmile's windows need none: moving
// a send into a window gives one clock time, the same in every zone (the
// window's times and days are each recipient's own), so a window becomes
// the schedule_time, and with recipient_time_zone a Timewarp send at that
// clock time. Timewarp (POST /campaigns/{id}/actions/schedule with
// timewarp true) sends "a schedule_time of 13:00 … to each recipient at
// 1:00pm in their local time" [spec]; it cannot be combined with batch
// delivery [spec], which lastmile never asks for; Mailchimp's help says a
// Timewarp campaign must be scheduled more than 24 hours ahead [docs],
// since its earliest zone (UTC+14) gets it 14 hours before 13:00 UTC.
//
// Mailchimp places each subscriber in a zone from what it knows of them,
// not from a timezone merge field, and those it cannot place at the
// audience's default zone: the plan's first and last times are therefore
// the bound for every zone there is.

// timewarpLead is how far ahead a Timewarp campaign must be scheduled.
const timewarpLead = 24 * time.Hour

// timewarp reports whether the email goes out with Timewarp.
func timewarp(e *sandbox.Email) bool { return e.Spread() && e.RecipientTimeZone }

// timewarpTime is a Timewarp send's schedule_time: the clock time each
// recipient gets it at, written as UTC, on the quarter hour.
func timewarpTime(e *sandbox.Email) time.Time { return QuarterHour(e.LocalWall()) }

// assessSendTiming covers windows and Timewarp, and reports whether it did
// (the plain send-time checks are then not needed).
func (t *Target) assessSendTiming(e *sandbox.Email, a *sandbox.Assessment) bool {
	if !e.Spread() {
		return false
	}
	now := t.now()
	if !timewarp(e) {
		at, _ := e.SendSpan()
		when := QuarterHour(at)
		if n := quarterNote(at); n != "" {
			a.Notes = append(a.Notes, n)
		}
		loc, _ := time.LoadLocation(e.SendWindow.TimeZone)
		switch {
		case !e.SendWindow.OpenAt(when, loc):
			a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp schedules on the quarter hour, and %s UTC, the send moved into the window, rounds to %s UTC, outside it: give the window a start on the quarter hour", at.UTC().Format("2006-01-02 15:04"), when.Format("15:04")))
		case !when.After(now):
			a.Problems = append(a.Problems, fmt.Sprintf("the send time %s UTC has passed; set a later send_at", when.Format("2006-01-02 15:04")))
		case when.After(now.AddDate(1, 0, 0)):
			a.Problems = append(a.Problems, fmt.Sprintf("the send time %s UTC is more than a year ahead; Mailchimp schedules at most one year in advance", when.Format("2006-01-02")))
		}
		a.FirstSend, a.LastSend = &when, &when
		a.Notes = append(a.Notes, "Mailchimp sends it at "+when.Format("2006-01-02 15:04 UTC")+": send_at moved into the window "+e.DescribeTiming())
		return true
	}
	wall := e.LocalWall()
	when := timewarpTime(e)
	if !when.Equal(wall) {
		a.Notes = append(a.Notes, fmt.Sprintf("Mailchimp schedules on the quarter hour: each recipient gets it at %s their time, not %s", when.Format("15:04"), wall.Format("15:04")))
	}
	switch {
	case e.SendWindow != nil && !e.SendWindow.OpenAt(when, time.UTC):
		a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp schedules on the quarter hour, and %s rounds to %s, outside the send window: give the window a start on the quarter hour", wall.Format("15:04"), when.Format("15:04")))
	case !when.After(now.Add(timewarpLead)):
		a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp's Timewarp needs the campaign scheduled more than 24 hours ahead of its clock time in UTC (%s); set a later send_at, or send without recipient_time_zone", when.Format("2006-01-02 15:04")))
	case when.After(now.AddDate(1, 0, 0)):
		a.Problems = append(a.Problems, fmt.Sprintf("the send time %s is more than a year ahead; Mailchimp schedules at most one year in advance", when.Format("2006-01-02")))
	}
	first, last := when.Add(-14*time.Hour), when.Add(12*time.Hour)
	a.FirstSend, a.LastSend = &first, &last
	a.Notes = append(a.Notes, fmt.Sprintf("Mailchimp sends it with Timewarp at %s in each subscriber's time zone, as Mailchimp places them (not by a timezone property; those it cannot place get it in the audience's default zone, not %s): from %s UTC (UTC+14) to %s UTC (UTC−12)",
		when.Format("2006-01-02 15:04"), e.FallbackZone(), first.Format("2006-01-02 15:04"), last.Format("2006-01-02 15:04")))
	return true
}
