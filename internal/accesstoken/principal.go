package accesstoken

import (
	"context"
	"slices"
)

// Principal is who a request authenticated as: a lastmile token's name and
// scopes, or (OAuth set) the subject of an authorization server's access
// token and the scopes it grants.
type Principal struct {
	// Name is the lastmile token's name; for OAuth, "CLIENT/SUBJECT", or
	// the subject alone when the token names no client.
	Name   string
	Scopes []string
	// OAuth marks a principal from an OAuth authorization server's token.
	OAuth bool
}

// Actor is how the audit log and plans name the principal: "token:NAME"
// for a lastmile token, "oauth:CLIENT/SUBJECT" for an OAuth one.
func (p *Principal) Actor() string {
	if p.OAuth {
		return "oauth:" + p.Name
	}
	return "token:" + p.Name
}

// Label names the principal in a message: "token NAME", or the OAuth actor.
func (p *Principal) Label() string {
	if p.OAuth {
		return "the OAuth token of " + p.Actor()
	}
	return "token " + p.Name
}

// Has reports whether the principal holds scope.
func (p *Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries, or nil: stdio, and HTTP
// served without authentication, have none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
