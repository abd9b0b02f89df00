// Package tools is lastmile's MCP surface: the tools an agent calls, the
// resources it reads, and the server that carries them over stdio or HTTP.
package tools

import (
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/sandbox"
)

// Options configure the MCP server.
type Options struct {
	Version string
	Logger  *slog.Logger
	// ReviewServed says the review page runs beside this server (serve
	// --review), so confirm_promotion may send a client that supports it a
	// URL-mode question with the plan's page.
	ReviewServed bool
	// ReadOnly serves only the tools with the readOnly hint (serve
	// --read-only), and no prompt that walks an agent through writes.
	ReadOnly bool
	// Toolsets, when set, serves only the tools of these toolsets (serve
	// --toolsets; nil: all). See Toolsets.
	Toolsets []string
}

// deps is what every tool handler needs.
type deps struct {
	sb           *sandbox.Sandbox
	log          *slog.Logger
	reviewServed bool
}

const instructions = `lastmile lets you build and ship marketing campaigns safely.
Everything the tools create or change is STAGED in a sandbox: nothing is live until a human approves the exact plan (plan_promotion, then the human runs lastmile approve) and you call confirm_promotion.
1. Read the lastmile://policy resource to write on-brand and compliant content.
2. create_campaign, then build_segment, create_email, publish_page, configure_workflow, build_ad_campaign (segments before the emails that target them; emails before the workflows that send them; pages before the ads that link to them).
3. check_campaign to see brand and compliance findings; fix errors.
4. plan_promotion shows exactly what would change and gives a plan id and code. Ask the human to run: lastmile approve <plan id>.
5. confirm_promotion with the plan id once approved. You cannot approve plans yourself; arguments never count as approval.
6. fetch_metrics to read results back.`

// serverInstructions are the instructions plus what the policy in force at
// start-up says the agent must know first: brand values a human still has
// to set (the agent cannot set them and must not invent them), and the
// defaults campaigns inherit.
func serverInstructions(sb *sandbox.Sandbox) string {
	p, err := sb.Policy()
	if err != nil || p == nil {
		return instructions + "\nThe policy file has errors: read lastmile://policy; nothing can be promoted until a human fixes it."
	}
	out := instructions
	if note := p.UnsetNote(); note != "" {
		out += "\nBRAND NOT SET: " + note
	}
	industry, markets := p.Defaults()
	var parts []string
	if industry != "" {
		parts = append(parts, "industry "+industry)
	}
	if len(markets) > 0 {
		parts = append(parts, "markets "+strings.Join(markets, ", "))
	}
	if name, email := p.Sender(); email != "" {
		parts = append(parts, "sender "+strings.TrimSpace(name+" <"+email+">"))
	}
	if len(parts) > 0 {
		out += "\nPolicy defaults (a campaign that states no industry or markets inherits them): " + strings.Join(parts, "; ") + "."
	}
	return out
}

// All returns every tool, in a stable order.
func All(sb *sandbox.Sandbox, o Options) []Tool {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := deps{sb: sb, log: o.Logger, reviewServed: o.ReviewServed}
	var out []Tool
	out = append(out, campaignTools(d)...)
	out = append(out, stagingTools(d)...)
	out = append(out, checkTools(d)...)
	out = append(out, retireTools(d)...)
	out = append(out, planTools(d)...)
	out = append(out, outcomeTools(d)...)
	out = append(out, targetTools(d)...)
	out = append(out, lifecycleTools(d)...)
	return out
}

// New returns the MCP server with every tool, resource and prompt.
func New(sb *sandbox.Sandbox, o Options) *server.MCPServer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	s := server.NewMCPServer("lastmile", o.Version,
		server.WithTitle("lastmile"),
		server.WithDescription("Stage, check, plan and promote marketing campaigns with human approval."),
		server.WithInstructions(serverInstructions(sb)+modeNote(o)),
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithPromptCapabilities(false),
		server.WithToolHandlerMiddleware(recovery(o.Logger)),
		server.WithToolHandlerMiddleware(requireScopes()),
		server.WithResourceRecovery(),
		server.WithResourceHandlerMiddleware(requireReadScope()),
	)
	// Only the allowed tools are registered, so mcp-go's own dispatch is
	// the one gate: a hidden tool is not listed, and calling it gets
	// mcp-go's unknown-tool error, as for any name it does not know.
	for _, t := range Served(All(sb, o), o) {
		s.AddTool(t.Tool, t.Handler)
	}
	addResources(s, sb, !o.ReadOnly)
	return s
}

// modeNote tells the agent which tools it does not have, so it does not
// go looking for them.
func modeNote(o Options) string {
	var out string
	if o.ReadOnly {
		out += "\nTHIS SERVER IS READ-ONLY (serve --read-only): only tools that read are available; nothing can be staged, planned or promoted here."
	}
	if o.Toolsets != nil {
		out += "\nOnly these toolsets are served: " + strings.Join(o.Toolsets, ", ") + "; the steps above that need other tools are not available here."
	}
	return out
}
