package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
)

type listTargetsIn struct {
	Check bool `json:"check,omitempty" jsonschema_description:"true: one cheap authenticated read per platform target now (5 s each, in parallel) to see whether its credentials work; false: report the outcome of the last call lastmile made to it."`
}

type listTargetsOut struct {
	Targets []targetOut `json:"targets"`
}

type targetOut struct {
	Name         string          `json:"name" jsonschema_description:"What an artifact's or campaign's target field names."`
	Platform     string          `json:"platform" jsonschema_description:"local, hubspot, mailchimp or wordpress."`
	Default      bool            `json:"default" jsonschema_description:"Where a campaign goes when it names no target."`
	Capabilities capabilitiesOut `json:"capabilities"`
	Connection   *connectionOut  `json:"connection,omitempty" jsonschema_description:"What the target was connected with (nothing secret); absent when it could not be set up."`
	Health       healthOut       `json:"health"`
}

type capabilitiesOut struct {
	Emails      bool                      `json:"emails"`
	Segments    bool                      `json:"segments"`
	Workflows   bool                      `json:"workflows"`
	Pages       bool                      `json:"pages"`
	Metrics     bool                      `json:"metrics"`
	Ads         bool                      `json:"ads" jsonschema_description:"Ad campaigns (Google Ads, Meta): no connector takes them yet, so false."`
	TestSends   bool                      `json:"test_sends" jsonschema_description:"send_test works for emails on this target."`
	ABTests     bool                      `json:"ab_tests" jsonschema_description:"create_email's ab_test (what a platform cannot run as approved is refused at planning)."`
	TimeZones   bool                      `json:"time_zones" jsonschema_description:"Sending at each recipient's local time (create_email recipient_time_zone)."`
	SendWindows bool                      `json:"send_windows" jsonschema_description:"create_email's send_window."`
	Retire      map[sandbox.Kind][]string `json:"retire,omitempty" jsonschema_description:"Per kind, what retire_artifact can take back on this target (unschedule, unpublish, deactivate, archive)."`
}

type connectionOut struct {
	Account       string              `json:"account,omitempty" jsonschema_description:"The account: portal, account and audience, site and user, or data directory."`
	Auth          string              `json:"auth" jsonschema_description:"How lastmile authenticates: none, oauth, private_app, api_key or application_password."`
	Tier          string              `json:"tier,omitempty" jsonschema_description:"What lastmile recorded at connect of the platform's tier, where it can tell."`
	Scopes        []string            `json:"scopes,omitempty" jsonschema_description:"Scopes the platform granted, where it says."`
	MissingScopes map[string][]string `json:"missing_scopes,omitempty" jsonschema_description:"Per capability, the scopes the platform said were missing."`
	Limits        []string            `json:"limits,omitempty" jsonschema_description:"What the connection cannot do, and why."`
	ConnectedAt   *time.Time          `json:"connected_at,omitempty"`
	ProbedAt      *time.Time          `json:"probed_at,omitempty" jsonschema_description:"When lastmile last asked the platform what the connection may do."`
}

type healthOut struct {
	Available   bool          `json:"available" jsonschema_description:"False when the target could not be set up (missing credentials, a bad setting): nothing can use it; problem says why."`
	Token       string        `json:"token" jsonschema:"enum=valid,enum=invalid,enum=unknown,enum=not_needed" jsonschema_description:"Whether the credentials work; not_needed for local."`
	TokenSource string        `json:"token_source,omitempty" jsonschema:"enum=checked_now,enum=last_call,enum=not_checked" jsonschema_description:"How token was found: checked_now (an authenticated read just now), last_call (the outcome of the last call this server made, at checked_at), not_checked (no call since the server started: call with check true)."`
	CheckedAt   *time.Time    `json:"checked_at,omitempty"`
	Problem     string        `json:"problem,omitempty" jsonschema_description:"Why the target is unavailable, or why the check could not tell."`
	LastError   *lastErrorOut `json:"last_error,omitempty" jsonschema_description:"The last error the target returned to lastmile, kept across restarts."`
}

type lastErrorOut struct {
	At      time.Time `json:"at"`
	Op      string    `json:"op" jsonschema_description:"What lastmile was doing: assess, read live, promote, metrics, outcomes, test send, list marked objects, check credentials."`
	Message string    `json:"message" jsonschema_description:"The error, anything that looks like a credential removed."`
	Auth    bool      `json:"auth" jsonschema_description:"The platform refused the credentials: a human reconnects with lastmile connect."`
}

func targetTools(d deps) []Tool {
	return []Tool{spec[listTargetsIn, listTargetsOut]{
		name:  "list_targets",
		title: "List targets",
		description: "The connected targets (platforms an artifact can go live on): what each can do (emails, segments, workflows, pages, metrics, test sends, A/B, time zones), " +
			"what it was connected with (account, auth, tier, missing scopes, limits) and health (whether its credentials work, its last error). Never shows credentials.",
		hints: hints{readOnly: true, destructive: false, idempotent: true, openWorld: true},
		run: func(ctx context.Context, _ mcp.CallToolRequest, in listTargetsIn) (listTargetsOut, string, error) {
			infos, err := d.sb.ListTargets(ctx, in.Check)
			if err != nil {
				return listTargetsOut{}, "", err
			}
			out := listTargetsOut{Targets: make([]targetOut, 0, len(infos))}
			var lines []string
			for _, i := range infos {
				t := targetOutOf(i)
				out.Targets = append(out.Targets, t)
				line := fmt.Sprintf("%s (%s", t.Name, t.Platform)
				if t.Default {
					line += ", default"
				}
				switch {
				case !t.Health.Available:
					line += "): unavailable"
				default:
					line += "): " + strings.Join(can(t.Capabilities), ", ") + "; token " + t.Health.Token
					if t.Health.TokenSource != "" {
						line += " (" + strings.ReplaceAll(t.Health.TokenSource, "_", " ") + ")"
					}
				}
				if t.Health.LastError != nil {
					line += "; last error " + t.Health.LastError.At.Format(time.RFC3339)
				}
				lines = append(lines, line)
			}
			if len(lines) == 0 {
				return out, "No targets are configured.", nil
			}
			return out, "Targets: " + strings.Join(lines, ". ") + ".", nil
		},
	}.build(d)}
}

func can(c capabilitiesOut) []string {
	var out []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"emails", c.Emails}, {"segments", c.Segments}, {"workflows", c.Workflows}, {"pages", c.Pages}, {"metrics", c.Metrics}, {"test sends", c.TestSends}} {
		if f.ok {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return []string{"nothing"}
	}
	return out
}

func targetOutOf(i sandbox.TargetInfo) targetOut {
	c := i.Capabilities
	t := targetOut{Name: i.Name, Platform: i.Platform, Default: i.Default,
		Capabilities: capabilitiesOut{Emails: c.Emails, Segments: c.Segments, Workflows: c.Workflows, Pages: c.Pages, Metrics: c.Metrics, TestSends: c.TestSends, ABTests: c.ABTests, TimeZones: c.TimeZones, SendWindows: c.SendWindows, Retire: c.Retire},
		Health:       healthOut{Available: i.Health.Available, Token: i.Health.Token, TokenSource: i.Health.TokenSource, CheckedAt: i.Health.CheckedAt, Problem: i.Health.Problem}}
	if e := i.Health.LastError; e != nil {
		t.Health.LastError = &lastErrorOut{At: e.At, Op: e.Op, Message: e.Message, Auth: e.Auth}
	}
	if cn := i.Connection; cn != nil {
		t.Connection = &connectionOut{Account: cn.Account, Auth: cn.Auth, Tier: cn.Tier, Scopes: cn.Scopes, MissingScopes: cn.MissingScopes, Limits: cn.Limits}
		if !cn.ConnectedAt.IsZero() {
			t.Connection.ConnectedAt = &cn.ConnectedAt
		}
		if !cn.ProbedAt.IsZero() {
			t.Connection.ProbedAt = &cn.ProbedAt
		}
	}
	return t
}
