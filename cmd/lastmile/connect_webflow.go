package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/sandbox"
)

type webflowOptions struct {
	name, tokenEnv, site, collection, collectionName, bodyField, baseURL string
	makeDefault                                                          bool
}

// connectwebflow is lastmile connect webflow: a site token from an
// environment variable, a site and a CMS collection whose items become the
// landing pages.
func connectwebflow(e *env) *cobra.Command {
	var c common
	var o webflowOptions
	cmd := &cobra.Command{
		Use:   "webflow --name NAME --token-env VAR [--site ID] (--collection ID | --collection-name NAME) [--body-field SLUG] [--base-url URL] [--default]",
		Short: "connect a Webflow site's CMS collection (a site token)",
		Long: "Connect a Webflow site. Landing pages become items of one CMS collection (the Data API cannot create\n" +
			"static pages): lay out the collection's template page in the Designer first. The token is a site token\n" +
			"(Site settings → Apps & integrations → API access) with cms:read, cms:write, sites:read, sites:write and,\n" +
			"for form submissions, forms:read. lastmile adds a PlainText field lastmile-marker to the collection if it\n" +
			"lacks one.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			if o.tokenEnv == "" {
				missing = append(missing, "--token-env")
			}
			if o.collection == "" && o.collectionName == "" {
				missing = append(missing, "--collection or --collection-name")
			}
			if len(missing) > 0 {
				return usagef("missing %s", strings.Join(missing, ", "))
			}
			return runConnectWebflow(cmd.Context(), e, c, o)
		},
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "webflow", "target `NAME` to configure")
	f.StringVar(&o.tokenEnv, "token-env", "", "environment variable `VAR` holding the site token")
	f.StringVar(&o.site, "site", "", "site `ID` (default: the only site the token may use)")
	f.StringVar(&o.collection, "collection", "", "CMS collection `ID` landing pages become items of")
	f.StringVar(&o.collectionName, "collection-name", "", "CMS collection by display `NAME` or slug, instead of --collection")
	f.StringVar(&o.bodyField, "body-field", "", "the collection's RichText field `SLUG` for the page body, when it has several")
	f.StringVar(&o.baseURL, "base-url", "", "API base `URL` (default https://api.webflow.com/v2; tests and proxies)")
	f.BoolVar(&o.makeDefault, "default", false, "make it the default target")
	return cmd
}

func runConnectWebflow(ctx context.Context, e *env, c common, o webflowOptions) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	setup, err := webflow.Connect(ctx, dir, o.name, webflow.ConnectRequest{TokenEnv: o.tokenEnv, SiteID: o.site, CollectionID: o.collection,
		CollectionName: o.collectionName, BodyField: o.bodyField, BaseURL: o.baseURL}, webflow.WithPrompt(e.stderr))
	if err != nil {
		return err
	}
	if err := sandbox.SaveTarget(dir, o.name, "webflow", setup.Settings(), o.makeDefault); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Connected Webflow site %s, collection %q, as target %q. Pages can now name target %q; nothing is published without an approved plan.\n",
		setup.SiteName, setup.Collection, o.name, o.name)
	for _, s := range setup.Cannot {
		fmt.Fprintf(e.stdout, "Note: lastmile cannot %s.\n", s)
	}
	return nil
}
