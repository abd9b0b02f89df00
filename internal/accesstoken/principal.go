package accesstoken

import (
	"context"
	"slices"
)

// Principal is who a request authenticated as: a token's name and scopes.
type Principal struct {
	Name   string
	Scopes []string
}

// Actor is how the audit log and plans name the principal.
func (p *Principal) Actor() string { return "token:" + p.Name }

// Has reports whether the principal holds scope.
func (p *Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries, or nil: stdio, and HTTP
// served without tokens, have none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
