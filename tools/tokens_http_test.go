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
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

// Over streamable HTTP behind accesstoken.RequireBearer, the token's
// principal reaches the tools through mcp-go: a tool outside its scopes is
// a tool error naming the missing scope, and what it may do is audited as
// token:NAME, on the plan too.
func TestAccessTokensOverHTTP(t *testing.T) {
	h := newHarness(t, withMemoryStore())
	ctx := context.Background()
	ts := accesstoken.New(store.NewMemory(), nil)
	reader, _, err := ts.Create(ctx, "dash", []string{accesstoken.ScopeRead}, "ada")
	if err != nil {
		t.Fatal(err)
	}
	builder, _, err := ts.Create(ctx, "builder", []string{accesstoken.ScopeRead, accesstoken.ScopeStage, accesstoken.ScopePlan}, "ada")
	if err != nil {
		t.Fatal(err)
	}
	mcpSrv := server.NewStreamableHTTPServer(tools.New(h.sb, tools.Options{Version: "test"}), server.WithEndpointPath("/mcp"))
	srv := httptest.NewServer(accesstoken.RequireBearer(ts, nil, mcpSrv))
	defer srv.Close()

	connect := func(token string) *client.Client {
		c, err := client.NewStreamableHttpClient(srv.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		req := mcp.InitializeRequest{}
		req.Params.ClientInfo = mcp.Implementation{Name: "http-agent", Version: "0"}
		if _, err := c.Initialize(ctx, req); err != nil {
			t.Fatal(err)
		}
		return c
	}
	call := func(c *client.Client, name string, args any) *mcp.CallToolResult {
		t.Helper()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}

	rc := connect(reader)
	mustToolError(t, call(rc, "create_campaign", obj{"name": "Spring"}), "create_campaign needs the access token scope lastmile:stage; token dash has lastmile:read")
	mustOK(t, call(rc, "list_campaigns", obj{}))

	bc := connect(builder)
	cmp := str(t, mustOK(t, call(bc, "create_campaign", obj{"name": "Spring", "markets": []string{"US"}})), "id")
	mustOK(t, call(bc, "build_segment", segmentArgs(cmp)))
	mustOK(t, call(bc, "create_email", emailArgs(cmp)))
	plan := mustOK(t, call(bc, "plan_promotion", obj{"campaign_id": cmp}))
	mustToolError(t, call(bc, "confirm_promotion", obj{"plan_id": str(t, plan, "id")}), "needs the access token scope lastmile:confirm")

	entries, err := h.sb.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, e := range entries {
		actions[e.Action] = e.Actor
	}
	for _, want := range []string{"create_campaign", "stage_email", "plan_promotion"} {
		if actions[want] != "token:builder" {
			t.Errorf("audit log: %s by %q, want token:builder (all: %v)", want, actions[want], actions)
		}
	}
	for _, e := range entries {
		if e.Actor != "token:builder" {
			t.Errorf("audit entry %s by %q, want token:builder", e.Action, e.Actor)
		}
	}
	p, err := h.sb.GetPlan(ctx, str(t, plan, "id"))
	if err != nil {
		t.Fatal(err)
	}
	if p.CreatedBy != "token:builder" {
		t.Errorf("the plan was created by %q, want token:builder", p.CreatedBy)
	}
}
