package meta

import (
	"context"
	"fmt"
	"net/url"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says which ad account and page the target uses, without the token.
func (t *Target) Describe() sandbox.Description {
	acct := fmt.Sprintf("Meta ad account %s", t.account)
	if t.cred.AccountName != "" || t.cred.Currency != "" {
		acct += fmt.Sprintf(" (%s, %s, %s)", t.cred.AccountName, t.cred.Currency, t.cred.TimeZone)
	}
	if t.pageID != "" {
		acct += " as Facebook page " + t.pageID
	}
	d := sandbox.Description{
		Account: acct, Auth: sandbox.AuthOAuth, Scopes: t.cred.Permissions, Tier: t.cred.Tier, ConnectedAt: t.cred.ConnectedAt,
		Limits: []string{
			"ad campaigns only (link ads): Meta ad accounts hold no emails, segments, workflows or pages for lastmile",
			"customer lists (audience_segments) only from static segments, uploaded hashed; languages are not targeted (Meta's locales are ids lastmile does not map)",
		},
	}
	if t.cred.Tier == "development_access" {
		d.Limits = append(d.Limits, "the app has development access to the Marketing API: about 300 ads_management calls an hour per ad account (plus 40 per active ad), so a large campaign may have to wait out Meta's throttle")
	}
	if t.pageID == "" {
		d.Limits = append(d.Limits, "no page_id is configured, so no ad can be created: set page_id to the Facebook page the ads run as")
	}
	return d
}

// CheckAuth reads the ad account's id (GET /act_{id}?fields=id).
func (t *Target) CheckAuth(ctx context.Context) error {
	var a struct {
		ID string `json:"id"`
	}
	return t.fail("check the credentials", t.get(ctx, "/"+t.account, url.Values{"fields": {"id"}}, &a))
}
