package hubspot

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// DefaultCommitLag is how long after HubSpot commits a write lastmile
// allows for it to show in the listings Find reads (emails, workflows,
// landing pages). HubSpot publishes no figure; its search and listings are
// eventually consistent, and integrators report changes taking "several
// seconds" to reach search (docs/connectors/hubspot.md says more). 30
// seconds is that with a wide margin; commit_lag changes it.
const DefaultCommitLag = 30 * time.Second

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is how long after a create request was sent HubSpot may still
// apply it and show it to Find: the request timeout (HubSpot goes on with a
// request whose client gave up or died) plus the commit lag.
//
// Lists are the exception, with 0: HubSpot keeps list names unique, and the
// name carries the marker, so a second create of the same list fails ("A
// list with the name … already exists") and create turns that into the
// lookup that finds the first. Nothing needs waiting out. Emails,
// workflows and pages have no such guard (an email name may repeat, a
// flow's uuid has no documented meaning, and no document we have says a
// page's slug is refused), so a resumed promotion waits before it looks.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration {
	if kind == sandbox.KindSegment {
		return 0
	}
	return t.requestTimeout() + t.cfg.CommitLag
}

// requestTimeout is the deadline of one HTTP request.
func (t *Target) requestTimeout() time.Duration {
	if c := t.o.httpClient; c != nil && c.Timeout > 0 {
		return c.Timeout
	}
	return t.cfg.Timeout
}
