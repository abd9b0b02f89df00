package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says which portal the target was connected with and what the
// probe at connect found it may do. The tokens are not part of it.
func (t *Target) Describe() sandbox.Description {
	p := t.portalInfo()
	d := sandbox.Description{Auth: sandbox.AuthPrivateApp, ProbedAt: p.ProbedAt}
	if t.auth.kind() == KindOAuth {
		d.Auth = sandbox.AuthOAuth
	}
	d.Account = "HubSpot portal"
	if p.HubID != 0 {
		d.Account = fmt.Sprintf("HubSpot portal %d", p.HubID)
	}
	d.Scopes = slices.Clone(p.Scopes)
	if len(p.MissingScopes) > 0 {
		d.MissingScopes = map[string][]string{}
		for k, v := range p.MissingScopes {
			d.MissingScopes[k] = slices.Clone(v)
		}
	}
	// HubSpot does not say its tier; what the tier decides for lastmile is
	// whether the API may send email, and the rate limit.
	switch {
	case p.ProbedAt.IsZero():
		d.Tier = "not probed: what the portal's tier allows is learnt at the first call"
	case p.CanPublishEmail:
		d.Tier = "may send email through the API (Marketing Hub Enterprise, or the publish scope granted)"
	default:
		d.Tier = "cannot send email through the API: emails stay drafts in HubSpot"
		if p.PublishBlocked != "" {
			d.Limits = append(d.Limits, "email sends: "+p.PublishBlocked)
		}
	}
	d.Limits = append(d.Limits, fmt.Sprintf("%d requests per 10 s (config rate_limit: 100 for Free and Starter, 190 for Professional and Enterprise; a lower limit HubSpot reports wins)", t.cfg.RateLimit))
	if !p.ProbedAt.IsZero() && !p.Capabilities.Workflows && len(p.MissingScopes["workflows"]) == 0 {
		d.Limits = append(d.Limits, "no workflows: HubSpot's workflows API needs a Professional or Enterprise portal")
	}
	return d
}

// CheckAuth reads the portal's account details (GET
// /account-info/v3/details, under the oauth scope every connection is asked
// for): no customer data. An expired OAuth token is refreshed first, as for
// any call.
func (t *Target) CheckAuth(ctx context.Context) error {
	_, err := t.do(ctx, call{method: http.MethodGet, path: "/account-info/v3/details"}, nil)
	return t.fail("check the credentials", err)
}

var _ sandbox.Scheduler = (*Target)(nil)

// Scheduling: A/B emails (two versions); a window becomes the publishDate;
// recipient time zones are refused at planning.
func (t *Target) Scheduling() sandbox.Scheduling {
	return sandbox.Scheduling{ABTests: true, TimeZones: false, SendWindows: true}
}
