package googleads

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is the request timeout (60 s unless configured) plus the
// time Google may go on processing a mutate whose caller has gone and
// until GAQL shows it (WithLandingLag, default 2 minutes; Google documents
// neither). The create is one atomic request and campaign names are
// unique, so a create repeated too early fails on the name rather than
// duplicating the campaign; the wait only spares that round.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration { return t.timeout + t.lag }
