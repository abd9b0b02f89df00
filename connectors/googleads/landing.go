package googleads

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is the request timeout (60 s unless configured) plus the
// time Google may go on processing a mutate whose caller has gone and
// until GAQL shows it (WithLandingLag, default 30 seconds; Google
// documents neither). Exactly-once does not rest on it: the create is one
// atomic request and campaign and budget names (which carry the marker)
// are unique, so of two creates of one artifact only the first to commit
// lands, and the other is refused with DUPLICATE_CAMPAIGN_NAME, which Put
// answers by adopting the campaign that landed.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration { return t.timeout + t.lag }
