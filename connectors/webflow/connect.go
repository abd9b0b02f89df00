package webflow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// requiredScopes are what lastmile needs of a token: read and write CMS
// items, read the site, publish it.
var requiredScopes = []string{"cms:read", "cms:write", "sites:read", "sites:write"}

var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

// WithPrompt sets where connecting writes what the person reads. The CLI
// passes stderr, never the MCP protocol's stdout. Default: nowhere.
func WithPrompt(w io.Writer) Option { return func(o *options) { o.prompt = w } }

// ConnectRequest says what to connect.
type ConnectRequest struct {
	// TokenEnv names the environment variable holding the site token.
	TokenEnv string
	// SiteID is the site; empty: the only site the token may use.
	SiteID string
	// CollectionID is the collection; or CollectionName picks it by display
	// name or slug.
	CollectionID, CollectionName string
	// BodyField picks the RichText field when the collection has several.
	BodyField string
	// BaseURL is the API base (tests); empty: https://api.webflow.com/v2.
	BaseURL string
}

// Setup is what Connect found and stored: the target's config and what
// lastmile can do there.
type Setup struct {
	Config        Config
	SiteName      string
	Collection    string
	Scopes        []string
	CreatedMarker bool
	// Can and Cannot are sentences about what lastmile can do on the target.
	Can, Cannot []string
}

// Settings are the config.yaml settings of the target.
func (s Setup) Settings() map[string]any {
	c := s.Config
	m := map[string]any{"site_id": c.SiteID, "collection_id": c.CollectionID, "collection_slug": c.CollectionSlug,
		"body_field": c.BodyField, "url_prefix": c.URLPrefix, "rate_limit": c.RateLimit}
	for k, v := range map[string]string{"meta_field": c.MetaField, "marker_field": c.MarkerField, "form_item_field": c.FormItemField, "base_url": c.BaseURL} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

type wfField struct {
	ID          string `json:"id"`
	IsRequired  bool   `json:"isRequired"`
	Type        string `json:"type"`
	Slug        string `json:"slug"`
	DisplayName string `json:"displayName"`
}

type wfCollection struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Slug        string    `json:"slug"`
	Fields      []wfField `json:"fields"`
}

// Connect connects the target called name to a Webflow site's collection
// with the site token held in the environment variable req.TokenEnv (its
// name: a token never goes on a command line). It introspects the token
// (GET /token/introspect) and checks its scopes, reads the site, its
// domains and the collection's fields, creates the marker field
// (lastmile-marker) when the collection lacks it, and stores the token
// under dataDir (0600).
//
// CLI: lastmile connect webflow --name NAME --token-env VAR --site ID (--collection ID | --collection-name NAME)
func Connect(ctx context.Context, dataDir, name string, req ConnectRequest, opts ...Option) (Setup, error) {
	o := optionsOf(opts)
	w := o.prompt
	if w == nil {
		w = io.Discard
	}
	op := "connect"
	if !validName().MatchString(name) {
		return Setup{}, failf(op, nil, "--name %q: use lower-case letters, digits, - and _ (it names the target in the config)", name)
	}
	if req.TokenEnv == "" {
		return Setup{}, failf(op, nil, "--token-env is empty: name the environment variable that holds the site token")
	}
	token := strings.TrimSpace(os.Getenv(req.TokenEnv))
	if token == "" {
		return Setup{}, failf(op, []error{sandbox.ErrAuth}, "the environment variable %s is empty or unset: create a site token in Webflow (Site settings → Apps & integrations → API access) with the scopes %s and forms:read, and put it in %s",
			req.TokenEnv, strings.Join(requiredScopes, ", "), req.TokenEnv)
	}
	base := strings.TrimRight(strings.TrimSpace(req.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Setup{}, failf(op, nil, "--base-url %q is not an http(s) URL", req.BaseURL)
	}
	cr := credentials{Token: token}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	lim := limitsOr(o.limits).limiter(base, token, func() *limiter { return newLimiter(60, o.window, o.maxWait, o.now, o.sleep) })
	c := &rest.Client{HTTP: hc, BaseURL: base, Authorize: cr.authorize, Limiter: lim, MaxAttempts: o.attempts, UserAgent: "lastmile-webflow/1", Sleep: o.sleep}
	get := func(what, path string, v any) error {
		resp, err := c.Do(ctx, rest.Request{Method: http.MethodGet, Path: path})
		if err != nil {
			return failWith(op+": "+what, err)
		}
		if err := resp.Decode(v); err != nil {
			return failf(op+": "+what, nil, "Webflow answered with something unreadable: %v", err)
		}
		return nil
	}

	var intro struct {
		Authorization struct {
			RateLimit    int    `json:"rateLimit"`
			Scope        string `json:"scope"`
			AuthorizedTo struct {
				SiteIDs []string `json:"siteIds"`
			} `json:"authorizedTo"`
		} `json:"authorization"`
	}
	if err := get("introspect the token", "/token/introspect", &intro); err != nil {
		return Setup{}, err
	}
	scopes := strings.FieldsFunc(intro.Authorization.Scope, func(r rune) bool { return r == ',' || r == ' ' })
	var missing []string
	for _, s := range requiredScopes {
		if !slices.Contains(scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return Setup{}, failf(op, []error{sandbox.ErrAuth}, "the token lacks the scopes %s, which lastmile needs to create and publish CMS items: create a site token with %s (and forms:read for form submissions) and connect again",
			strings.Join(missing, ", "), strings.Join(requiredScopes, ", "))
	}
	siteID := req.SiteID
	sites := intro.Authorization.AuthorizedTo.SiteIDs
	switch {
	case siteID == "" && len(sites) == 1:
		siteID = sites[0]
	case siteID == "":
		return Setup{}, failf(op, nil, "the token may use %d sites (%s): pass --site ID", len(sites), strings.Join(sites, ", "))
	case len(sites) > 0 && !slices.Contains(sites, siteID):
		return Setup{}, failf(op, []error{sandbox.ErrAuth}, "the token is not authorized for site %s (it may use %s): create a token on that site", siteID, strings.Join(sites, ", "))
	}
	var site wfSite
	if err := get("read the site", "/sites/"+url.PathEscape(siteID), &site); err != nil {
		return Setup{}, err
	}
	var domains struct {
		CustomDomains []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"customDomains"`
	}
	if err := get("read the site's domains", "/sites/"+url.PathEscape(siteID)+"/custom_domains", &domains); err != nil {
		return Setup{}, err
	}

	collID := req.CollectionID
	if collID == "" {
		if req.CollectionName == "" {
			return Setup{}, failf(op, nil, "pass --collection ID or --collection-name NAME: the CMS collection landing pages become items of")
		}
		var list struct {
			Collections []wfCollection `json:"collections"`
		}
		if err := get("list the collections", "/sites/"+url.PathEscape(siteID)+"/collections", &list); err != nil {
			return Setup{}, err
		}
		var names []string
		for _, col := range list.Collections {
			names = append(names, fmt.Sprintf("%q (%s)", col.DisplayName, col.ID))
			if strings.EqualFold(col.DisplayName, req.CollectionName) || strings.EqualFold(col.Slug, req.CollectionName) {
				collID = col.ID
			}
		}
		if collID == "" {
			return Setup{}, failf(op, nil, "site %s has no collection named %q; it has %s. Create one in the Designer (with a template page laid out for landing pages) or pass --collection ID",
				site.ShortName, req.CollectionName, orText(strings.Join(names, ", "), "none"))
		}
	}
	var coll wfCollection
	if err := get("read the collection", "/collections/"+url.PathEscape(collID), &coll); err != nil {
		return Setup{}, err
	}

	cfg := Config{SiteID: siteID, CollectionID: coll.ID, CollectionSlug: coll.Slug, RateLimit: intro.Authorization.RateLimit, BaseURL: req.BaseURL}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 60
	}
	var rich []string
	for _, f := range coll.Fields {
		if f.Type == "RichText" {
			rich = append(rich, f.Slug)
		}
	}
	switch {
	case req.BodyField != "":
		if !slices.Contains(rich, req.BodyField) {
			return Setup{}, failf(op, nil, "--body-field %q is not a RichText field of collection %q (its RichText fields: %s)", req.BodyField, coll.DisplayName, orText(strings.Join(rich, ", "), "none"))
		}
		cfg.BodyField = req.BodyField
	case len(rich) == 1:
		cfg.BodyField = rich[0]
	default:
		for _, s := range []string{"body", "post-body", "content", "page-body"} {
			if slices.Contains(rich, s) {
				cfg.BodyField = s
				break
			}
		}
	}
	if cfg.BodyField == "" {
		return Setup{}, failf(op, nil, "collection %q has %d RichText fields (%s): add one for the page body in Webflow, or pick one with --body-field SLUG",
			coll.DisplayName, len(rich), orText(strings.Join(rich, ", "), "none"))
	}
	for _, f := range coll.Fields {
		if f.Type == "PlainText" && f.Slug == DefaultMarkerField {
			cfg.MarkerField = f.Slug
		}
		if f.Type == "PlainText" && cfg.MetaField == "" && f.Slug != "name" && f.Slug != "slug" &&
			(strings.Contains(f.Slug, "meta") || strings.Contains(f.Slug, "description") || strings.Contains(f.Slug, "summary")) {
			cfg.MetaField = f.Slug
		}
	}
	mine := []string{"name", "slug", cfg.BodyField, cfg.MetaField, DefaultMarkerField}
	for _, f := range coll.Fields {
		if f.IsRequired && !slices.Contains(mine, f.Slug) {
			return Setup{}, failf(op, nil, "collection %q requires the field %q (%s), which lastmile cannot fill: make it optional in Webflow, or use another collection", coll.DisplayName, f.DisplayName, f.Type)
		}
	}
	setup := Setup{Config: cfg, SiteName: orText(site.DisplayName, site.ShortName), Collection: coll.DisplayName, Scopes: scopes}
	if cfg.MarkerField == "" {
		resp, err := c.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/collections/" + url.PathEscape(coll.ID) + "/fields",
			Body: map[string]any{"type": "PlainText", "displayName": DefaultMarkerField, "isRequired": false,
				"helpText": "Set by lastmile: which staged artifact made this item. Leave it as it is."}})
		if err != nil {
			return Setup{}, failWith(op+": create the marker field "+DefaultMarkerField, err)
		}
		var f wfField
		if err := resp.Decode(&f); err != nil || f.Slug == "" {
			return Setup{}, failf(op, nil, "Webflow answered the field create with something that is not a field")
		}
		cfg.MarkerField, setup.CreatedMarker = f.Slug, true
		fmt.Fprintf(w, "Created the PlainText field %q in collection %q: lastmile writes each page's marker there, to find its items again after a crash.\n", f.Slug, coll.DisplayName)
	}
	domain := site.ShortName + ".webflow.io"
	if len(domains.CustomDomains) > 0 {
		domain = domains.CustomDomains[0].URL
	}
	cfg.URLPrefix = "https://" + domain + "/" + coll.Slug

	if slices.Contains(scopes, "forms:read") {
		var forms struct {
			Forms []struct {
				Fields map[string]struct {
					DisplayName string `json:"displayName"`
				} `json:"fields"`
			} `json:"forms"`
		}
		if err := get("list the site's forms", "/sites/"+url.PathEscape(siteID)+"/forms?limit=100", &forms); err != nil {
			return Setup{}, err
		}
		for _, f := range forms.Forms {
			for _, fl := range f.Fields {
				if fl.DisplayName == formItemFieldName {
					cfg.FormItemField = formItemFieldName
				}
			}
		}
	}
	setup.Config = cfg

	setup.Can = append(setup.Can,
		fmt.Sprintf("create landing pages as draft items of collection %q (body in %s%s), publish them at %s/<slug>, and unpublish them", coll.DisplayName, cfg.BodyField, metaNote(cfg.MetaField), cfg.URLPrefix))
	if site.LastPublished == nil {
		setup.Can = append(setup.Can, "the site has never been published: the first page publish publishes the whole site once (to "+strings.Join(site.targets(), " and ")+")")
	}
	setup.Cannot = append(setup.Cannot, "schedule a publish (Webflow's API publishes at once)", "put forms in the page body (a rich-text field cannot hold one)", "read page views (the Data API has no analytics)")
	switch {
	case cfg.FormItemField != "":
		setup.Can = append(setup.Can, fmt.Sprintf("read form submissions as outcomes and count them per page (the form field %q carries the item's slug)", cfg.FormItemField))
	case slices.Contains(scopes, "forms:read"):
		setup.Cannot = append(setup.Cannot, fmt.Sprintf("tie form submissions to pages: no form has a hidden field %q; add one to the template page's form, bound to the item's slug, and connect again", formItemFieldName))
	default:
		setup.Cannot = append(setup.Cannot, "read form submissions (the token lacks forms:read)")
	}

	stored := credentials{Token: token, SiteID: siteID, Scopes: scopes, ConnectedAt: o.now().UTC()}
	if err := secret.Save(dataDir, name, stored); err != nil {
		return Setup{}, fmt.Errorf("webflow: connect: store the token of target %q: %w", name, err)
	}
	fmt.Fprintf(w, "Connected target %q to Webflow site %s (%s), collection %q (%s); the token is stored for lastmile only.\n", name, setup.SiteName, siteID, coll.DisplayName, coll.ID)
	for _, s := range setup.Can {
		fmt.Fprintf(w, "  can: %s\n", s)
	}
	for _, s := range setup.Cannot {
		fmt.Fprintf(w, "  cannot: %s\n", s)
	}
	return setup, nil
}

// formItemFieldName is the hidden form field lastmile looks for.
const formItemFieldName = "lastmile-item"

func metaNote(meta string) string {
	if meta == "" {
		return ", no meta description field"
	}
	return ", meta description in " + meta
}
