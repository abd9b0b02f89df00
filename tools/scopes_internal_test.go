package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/internal/accesstoken"
)

func TestRequireScopes(t *testing.T) {
	called := ""
	h := requireScopes()(func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		called = req.Params.Name + " as " + actor(ctx)
		return mcp.NewToolResultText("ok"), nil
	})
	reader := &accesstoken.Principal{Name: "dash", Scopes: []string{accesstoken.ScopeRead}}
	for _, c := range []struct {
		p      *accesstoken.Principal
		tool   string
		called string
		err    string
	}{
		{nil, "confirm_promotion", "confirm_promotion as agent", ""},
		{reader, "get_plan", "get_plan as token:dash", ""},
		{reader, "create_email", "", "create_email needs the access token scope lastmile:stage; token dash has lastmile:read. Nothing was done."},
		{reader, "confirm_promotion", "", "needs the access token scope lastmile:confirm"},
		{&accesstoken.Principal{Name: "none"}, "get_plan", "", "token none has no scopes"},
		{&accesstoken.Principal{Name: "all", Scopes: accesstoken.Scopes}, "unknown_tool", "", "unknown_tool is not open to access tokens"},
	} {
		called = ""
		ctx := context.Background()
		if c.p != nil {
			ctx = accesstoken.WithPrincipal(ctx, c.p)
		}
		res, err := h(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: c.tool}})
		if err != nil {
			t.Fatal(err)
		}
		if called != c.called {
			t.Errorf("%s: handler ran as %q, want %q", c.tool, called, c.called)
		}
		if c.err != "" {
			txt := res.Content[0].(mcp.TextContent).Text
			if !res.IsError || !strings.Contains(txt, c.err) {
				t.Errorf("%s: got %v %q, want a tool error with %q", c.tool, res.IsError, txt, c.err)
			}
		}
	}
}

func TestRequireReadScope(t *testing.T) {
	h := requireReadScope()(func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) { return nil, nil })
	req := mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "lastmile://policy"}}
	if _, err := h(context.Background(), req); err != nil {
		t.Fatalf("no principal: %v", err)
	}
	ctx := accesstoken.WithPrincipal(context.Background(), &accesstoken.Principal{Name: "ci", Scopes: []string{accesstoken.ScopeStage}})
	if _, err := h(ctx, req); err == nil || !strings.Contains(err.Error(), "needs the access token scope lastmile:read") {
		t.Fatalf("a principal without lastmile:read: %v", err)
	}
	ctx = accesstoken.WithPrincipal(context.Background(), &accesstoken.Principal{Name: "ci", Scopes: []string{accesstoken.ScopeRead}})
	if _, err := h(ctx, req); err != nil {
		t.Fatalf("a reader: %v", err)
	}
}
