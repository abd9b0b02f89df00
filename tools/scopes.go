package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/internal/accesstoken"
)

// toolScopes is the access-token scope each tool needs. Every tool has one
// (a test checks it), and a tool missing here is refused to every token, so
// a new tool is closed until it is placed.
var toolScopes = map[string]string{
	// Tools with the readOnly hint.
	"get_campaign":   accesstoken.ScopeRead,
	"list_campaigns": accesstoken.ScopeRead,
	"check_campaign": accesstoken.ScopeRead,
	"get_plan":       accesstoken.ScopeRead,
	"get_insights":   accesstoken.ScopeRead,
	"get_report":     accesstoken.ScopeRead,
	"list_targets":   accesstoken.ScopeRead,
	// fetch_metrics is not readOnly (it syncs metrics into the store), but
	// it changes nothing staged or live: reading results is what it is for.
	"fetch_metrics": accesstoken.ScopeRead,

	"create_campaign":    accesstoken.ScopeStage,
	"update_campaign":    accesstoken.ScopeStage,
	"create_email":       accesstoken.ScopeStage,
	"build_segment":      accesstoken.ScopeStage,
	"configure_workflow": accesstoken.ScopeStage,
	"publish_page":       accesstoken.ScopeStage,
	"build_ad_campaign":  accesstoken.ScopeStage,
	"archive_artifact":   accesstoken.ScopeStage,
	"retire_artifact":    accesstoken.ScopeStage,
	"send_test":          accesstoken.ScopeStage,

	"plan_promotion":    accesstoken.ScopePlan,
	"confirm_promotion": accesstoken.ScopeConfirm,
}

// RequiredScope returns the scope a tool needs, and false for a name that
// is not a tool.
func RequiredScope(tool string) (string, bool) {
	s, ok := toolScopes[tool]
	return s, ok
}

// requireScopes refuses a call whose principal (an access token, put in
// the context by the HTTP middleware) lacks the tool's scope. A call with
// no principal — stdio, or HTTP served without tokens — is not checked
// here: whether a request must carry a token is the transport's decision.
func requireScopes() server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			p := accesstoken.FromContext(ctx)
			if p == nil {
				return next(ctx, req)
			}
			name := req.Params.Name
			want, ok := toolScopes[name]
			if !ok {
				return mcp.NewToolResultError(fmt.Sprintf("%s is not open to access tokens: no scope is defined for it. Please report it.", name)), nil
			}
			if !p.Has(want) {
				have := "no scopes"
				if len(p.Scopes) > 0 {
					have = strings.Join(p.Scopes, ", ")
				}
				hint := fmt.Sprintf("A person can create a token with it: lastmile tokens create --name NAME --scopes %s", want)
				if p.OAuth {
					hint = fmt.Sprintf("Ask the identity provider for an access token with the scope %s (and this server as its audience).", want)
				}
				return mcp.NewToolResultError(fmt.Sprintf("%s needs the access token scope %s; %s has %s. Nothing was done. %s", name, want, p.Label(), have, hint)), nil
			}
			return next(ctx, req)
		}
	}
}

// requireReadScope refuses to read a resource (policy, campaigns, plans,
// artifacts, metrics) for a principal without lastmile:read.
func requireReadScope() server.ResourceHandlerMiddleware {
	return func(next server.ResourceHandlerFunc) server.ResourceHandlerFunc {
		return func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			if p := accesstoken.FromContext(ctx); p != nil && !p.Has(accesstoken.ScopeRead) {
				return nil, fmt.Errorf("reading %s needs the access token scope %s; %s does not have it", req.Params.URI, accesstoken.ScopeRead, p.Label())
			}
			return next(ctx, req)
		}
	}
}
