package main

import (
	"fmt"
	"log/slog"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/sandbox"
)

// accountLimits are the limits a platform counts per account, shared by
// every target built for the same account: HubSpot's rate window per
// portal, Mailchimp's ten connections per account, a WordPress site's bound
// on requests in flight. One set serves every target a process builds.
type accountLimits struct {
	hubspot   *hubspot.Limits
	mailchimp *mailchimp.Limits
	wordpress *wordpress.Limits
	webflow   *webflow.Limits
	googleads *googleads.Limits
	meta      *meta.Limits
}

func newAccountLimits() accountLimits {
	return accountLimits{hubspot: hubspot.NewLimits(), mailchimp: mailchimp.NewLimits(), wordpress: wordpress.NewLimits(), webflow: webflow.NewLimits(),
		googleads: googleads.NewLimits(), meta: meta.NewLimits()}
}

// buildTargets constructs every configured target, all sharing one set of
// account limits. A target that cannot be built (missing credentials) is
// left out with a warning, so the others keep working; planning for it then
// says what to do, and list_targets says why (unavailable, by name).
func buildTargets(dir string, cfg sandbox.Config, log *slog.Logger, o openOptions) (targets map[string]sandbox.Target, unavailable map[string]error) {
	targets, unavailable = map[string]sandbox.Target{}, map[string]error{}
	limits := newAccountLimits()
	for _, name := range cfg.TargetNames() {
		tc := cfg.Targets[name]
		t, err := buildTarget(name, dir, tc, o, limits)
		if err != nil {
			log.Warn("target unavailable", "target", name, "type", tc.Type, "err", err)
			unavailable[name] = err
			continue
		}
		targets[name] = t
	}
	return targets, unavailable
}

func buildTarget(name, dir string, tc sandbox.TargetConfig, o openOptions, limits accountLimits) (sandbox.Target, error) {
	switch tc.Type {
	case "local":
		var c local.Config
		if err := tc.Settings.Decode(&c); err != nil && tc.Settings.Kind != 0 {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		var opts []local.Option
		if o.hook != nil {
			opts = append(opts, local.WithHook(o.hook))
		}
		if o.now != nil {
			opts = append(opts, local.WithClock(o.now))
		}
		if o.siteURL != "" {
			opts = append(opts, local.WithSiteURL(o.siteURL))
		}
		return local.New(name, dir, c, opts...)
	case "hubspot":
		var c hubspot.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return hubspot.New(name, dir, c, hubspot.WithLimits(limits.hubspot))
	case "wordpress":
		var c wordpress.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return wordpress.New(name, dir, c, wordpress.WithLimits(limits.wordpress))
	case "webflow":
		var c webflow.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return webflow.New(name, dir, c, webflow.WithLimits(limits.webflow))
	case "mailchimp":
		var c mailchimp.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return mailchimp.New(name, dir, c, mailchimp.WithLimits(limits.mailchimp))
	case "google_ads":
		var c googleads.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return googleads.New(name, dir, c, googleads.WithLimits(limits.googleads))
	case "meta":
		var c meta.Config
		if err := tc.Settings.Decode(&c); err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return meta.New(name, dir, c, meta.WithLimits(limits.meta))
	}
	return nil, fmt.Errorf("unknown target type %q (known: local, hubspot, mailchimp, wordpress, webflow, google_ads, meta)", tc.Type)
}
