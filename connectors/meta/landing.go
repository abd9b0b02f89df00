package meta

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Landing = (*Target)(nil)

// LandingLag is how long after lastmile's request timeout a create may
// still take effect and show in Meta's lists. Graph answers a create once
// it is written, but a request the client gave up on can still be
// processed, and lists are read from replicas [inf]; 30 s covers both.
const LandingLag = 30 * time.Second

// LandWithin is the request timeout plus LandingLag.
func (t *Target) LandWithin(sandbox.Kind) time.Duration { return t.timeout + t.lag }
