package wordpress

import (
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/limits"
)

// Limits are what every Target of one WordPress site in a process shares:
// the bound on requests in flight to the site (max_concurrency; the first
// Target of the site decides it), so that several targets on one site do
// not together overload it. A program makes one with NewLimits and gives it
// to every Target it builds (WithLimits).
type Limits struct {
	sems limits.Registry[chan struct{}]
}

// NewLimits returns an empty set of per-site limits.
func NewLimits() *Limits { return &Limits{} }

// limitsOr is l, or limits of its own for a Target built without any.
func limitsOr(l *Limits) *Limits {
	if l == nil {
		return NewLimits()
	}
	return l
}

func (l *Limits) semaphore(site string, n int) chan struct{} {
	key := strings.ToLower(strings.TrimRight(site, "/"))
	return l.sems.Get(key, func() chan struct{} { return make(chan struct{}, n) })
}
