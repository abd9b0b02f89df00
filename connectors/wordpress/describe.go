package wordpress

import (
	"context"
	"fmt"
	"net/url"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says which site and user the target was connected with. The
// application password is not part of it.
func (t *Target) Describe() sandbox.Description {
	d := sandbox.Description{
		Account: fmt.Sprintf("WordPress %s as user %s", siteForDisplay(t.site), t.user),
		Auth:    sandbox.AuthApplicationPassword,
		Limits:  []string{"landing pages only: WordPress has no emails, segments, workflows or metrics for lastmile"},
	}
	t.capsMu.Lock()
	caps := t.caps
	t.capsMu.Unlock()
	if caps != nil && !caps["unfiltered_html"] {
		d.Limits = append(d.Limits, fmt.Sprintf("user %s lacks unfiltered_html, so WordPress strips <script>, <style> and <form> from pages", t.user))
	}
	if t.cfg.FormAction == "" {
		d.Limits = append(d.Limits, "no form_action is configured, so page forms are left out (WordPress core has no forms)")
	}
	return d
}

// CheckAuth reads the connected user (GET /wp/v2/users/me), which WordPress
// answers only for a valid user and application password.
func (t *Target) CheckAuth(ctx context.Context) error {
	_, err := getMe(ctx, t.client, t.path("/wp/v2/users/me", url.Values{"_fields": {"id"}}))
	return t.fail("check the credentials", err)
}

// siteForDisplay drops anything but scheme, host and path from the site URL:
// a URL written with user:password@ must not show it.
func siteForDisplay(site string) string {
	u, err := url.Parse(site)
	if err != nil {
		return "(unreadable site URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
