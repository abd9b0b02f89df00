package wordpress

import (
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is the request timeout (30 s unless the HTTP client says
// otherwise). WordPress writes a page synchronously inside the request that
// carries it: once that request has been answered, or abandoned by
// lastmile's timeout, the page is in the database or is not going to be.
// A PHP request that outlives the timeout anyway (a very slow site) is
// still caught: its page or ours lands as slug-2, and Put or the sweep
// removes the second draft.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration {
	if t.timeout > 0 {
		return t.timeout
	}
	return 30 * time.Second
}
