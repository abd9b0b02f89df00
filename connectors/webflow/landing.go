package webflow

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is the request timeout (30 s unless configured) plus the
// landing lag (5 s unless WithLandingLag says otherwise). Webflow answers a
// create with 202 Accepted: the item may be written after the request that
// carried it was abandoned, and the shared doc does not say how long that
// takes, so the lag is a margin, not a documented figure. A create that
// lands later still does not make a second item: the retry's create is
// refused because the slug is taken, and the item carrying the marker is
// adopted.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration {
	to := t.timeout
	if to <= 0 {
		to = 30 * time.Second
	}
	return to + t.lag
}
