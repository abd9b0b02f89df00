package mailchimp

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/lastmile/lastmile/connectors/internal/limits"
)

// Limits are what every Target of one Mailchimp account in a process
// shares: the semaphore that keeps their requests together within
// Mailchimp's 10 simultaneous connections per account, connect checks
// included. A program makes one with NewLimits and gives it to every Target
// it builds (WithLimits).
type Limits struct {
	sems limits.Registry[chan struct{}]
}

// NewLimits returns an empty set of per-account limits.
func NewLimits() *Limits { return &Limits{} }

// limitsOr is l, or limits of its own for a Target built without any.
func limitsOr(l *Limits) *Limits {
	if l == nil {
		return NewLimits()
	}
	return l
}

// semaphore returns the account's semaphore, made with n slots: the first
// Target of the account decides its size.
func (l *Limits) semaphore(base string, cr credentials, n int) chan struct{} {
	return l.sems.Get(accountKey(base, cr), func() chan struct{} { return make(chan struct{}, n) })
}

// accountKey identifies an account without keeping its secret: a hash of
// the API endpoint and the credential.
func accountKey(base string, cr credentials) string {
	h := sha256.New()
	h.Write([]byte(base))
	h.Write([]byte{0})
	h.Write([]byte(cr.secretValue()))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
