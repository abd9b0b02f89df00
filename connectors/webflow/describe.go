package webflow

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says which site and collection the target was connected with.
// The token is not part of it.
func (t *Target) Describe() sandbox.Description {
	d := sandbox.Description{
		Account:     fmt.Sprintf("Webflow site %s, collection %s (%s), pages at %s/<slug>", t.cfg.SiteID, orText(t.cfg.CollectionSlug, "?"), t.cfg.CollectionID, orText(t.cfg.URLPrefix, "(unknown address)")),
		Auth:        sandbox.AuthAPIKey,
		Tier:        fmt.Sprintf("%d requests per minute", t.rateLimit()),
		Scopes:      t.cr.Scopes,
		ConnectedAt: t.cr.ConnectedAt,
		Limits: []string{
			"landing pages only, as items of one CMS collection (the Data API cannot create static pages); no emails, segments or workflows",
			"no scheduling: Webflow publishes through the API only at once",
			"page forms are left out: a rich-text field cannot hold a form (put one on the collection template page)",
		},
	}
	if t.cfg.FormItemField == "" {
		d.Limits = append(d.Limits, "no metrics or outcomes: Webflow's Data API has no page analytics, and no form_item_field is set to tie form submissions to pages")
	} else {
		d.Limits = append(d.Limits, "metrics are form submissions per page only (Webflow's Data API has no page analytics), counted from the hidden field "+t.cfg.FormItemField)
	}
	if t.cfg.MarkerField == "" {
		d.Limits = append(d.Limits, "the collection has no marker field: items are known by slug alone")
	}
	return d
}

func (t *Target) rateLimit() int {
	if t.cfg.RateLimit > 0 {
		return t.cfg.RateLimit
	}
	return 60
}

// CheckAuth reads the token's introspection (GET /token/introspect).
func (t *Target) CheckAuth(ctx context.Context) error {
	_, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/token/introspect"})
	return t.fail("check the token", err)
}
