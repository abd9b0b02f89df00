package main

import (
	"bufio"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// lastmile serve --http: an MCP client over streamable HTTP stages a
// campaign and reads it back.
func TestServeHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--http", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = childEnv(t)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var url string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "on stdio") {
			t.Errorf("serve --http says it serves stdio: %s", sc.Text())
		}
		if u, ok := strings.CutPrefix(sc.Text(), "lastmile: MCP endpoint "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("serve --http did not say where it listens")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	c, err := client.NewStreamableHttpClient(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "http-test", Version: "0"}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		res, err := c.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	res := call("create_campaign", map[string]any{"name": "Over HTTP"})
	if res.IsError {
		t.Fatalf("create_campaign: %+v", res.Content)
	}
	sc2, _ := res.StructuredContent.(map[string]any)
	id, _ := sc2["id"].(string)
	if !strings.HasPrefix(id, "cmp_") {
		t.Fatalf("structured content: %v", res.StructuredContent)
	}
	if res := call("get_campaign", map[string]any{"campaign_id": id}); res.IsError {
		t.Fatalf("get_campaign: %+v", res.Content)
	}
	if res := call("confirm_promotion", map[string]any{"plan_id": "pln_nope"}); !res.IsError {
		t.Fatal("confirm_promotion of an unknown plan succeeded")
	}
}
