package hubspot

import (
	"github.com/lastmile/lastmile/sandbox"
)

// assessSendTiming covers send windows and recipient time zones, and
// reports whether it did (the caller's plain send-time note is then not
// needed).
//
// A window moves the whole send to one time, which lastmile works out and
// schedules as the publishDate: HubSpot needs to know nothing of it.
//
// Sending by recipient time zone it cannot do. The Marketing Emails v3
// spec lists a subcategory "localtime" (type LOCALTIME_EMAIL) and says
// publishDate "is only used in local time or scheduled emails", but not
// how publishDate becomes each recipient's clock time, which contact
// property gives the zone, or what happens to contacts without one; a live
// send at guessed times is not one a human approved, so the plan refuses
// it rather than guess.
func assessSendTiming(e *sandbox.Email, a *sandbox.Assessment) bool {
	if !e.Spread() {
		return false
	}
	if e.RecipientTimeZone {
		a.Problems = append(a.Problems, "HubSpot cannot send by recipient time zone through lastmile: its Marketing Emails v3 API names local-time emails (subcategory localtime) but does not document how publishDate maps to each recipient's clock or which contact property holds the zone, so lastmile will not guess; stage the email without recipient_time_zone (a send_window with a time_zone moves the whole send), or schedule it by time zone in HubSpot itself")
		return true
	}
	first, _ := e.SendSpan()
	a.Notes = append(a.Notes, "HubSpot sends the email at "+first.UTC().Format("2006-01-02 15:04 MST")+" (publishDate): send_at moved into the window "+e.DescribeTiming())
	return true
}
