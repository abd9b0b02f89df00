package tools_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/internal/oauthrs"
	"github.com/lastmile/lastmile/internal/oauthrs/oauthtest"
	"github.com/lastmile/lastmile/tools"
)

// An OAuth access token from a real provider's token endpoint: what it
// may do is audited as oauth:CLIENT, on the plan too, and a tool outside
// its scopes is a tool error naming the scope.
func TestOAuthTokensOverHTTP(t *testing.T) {
	h := newHarness(t, withMemoryStore())
	ctx := context.Background()
	const resource = "https://lastmile.example.com/mcp"
	op := oauthtest.Start(t)
	op.AddClient("planner", "s3cret", resource)
	v, err := oauthrs.New(oauthrs.Config{Issuer: op.Issuer, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	mcpSrv := server.NewStreamableHTTPServer(tools.New(h.sb, tools.Options{Version: "test"}), server.WithEndpointPath("/mcp"))
	srv := httptest.NewServer((&accesstoken.Bearer{OAuth: v, ResourceMetadata: oauthrs.MetadataURL(resource)}).Wrap(mcpSrv))
	defer srv.Close()
	token := op.Token(t, "planner", "s3cret", "lastmile:read", "lastmile:stage", "lastmile:plan")
	c, err := client.NewStreamableHttpClient(srv.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "oauth-agent", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	call := func(name string, args any) *mcp.CallToolResult {
		t.Helper()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	cmp := str(t, mustOK(t, call("create_campaign", obj{"name": "Spring", "markets": []string{"US"}})), "id")
	mustOK(t, call("build_segment", segmentArgs(cmp)))
	mustOK(t, call("create_email", emailArgs(cmp)))
	plan := mustOK(t, call("plan_promotion", obj{"campaign_id": cmp}))
	mustToolError(t, call("confirm_promotion", obj{"plan_id": str(t, plan, "id")}),
		"confirm_promotion needs the access token scope lastmile:confirm; the OAuth token of oauth:planner has lastmile:plan, lastmile:read, lastmile:stage. Nothing was done. Ask the identity provider")
	entries, err := h.sb.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Actor != "oauth:planner" {
			t.Errorf("audit entry %s by %q, want oauth:planner", e.Action, e.Actor)
		}
	}
	p, err := h.sb.GetPlan(ctx, str(t, plan, "id"))
	if err != nil {
		t.Fatal(err)
	}
	if p.CreatedBy != "oauth:planner" {
		t.Errorf("the plan was created by %q, want oauth:planner", p.CreatedBy)
	}
}
