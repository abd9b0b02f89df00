package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// listed is tools/list's tool names, sorted.
func (s *stdioServer) listed() []string {
	s.t.Helper()
	m := s.request("tools/list", map[string]any{})
	if m.Error != nil {
		s.t.Fatalf("tools/list: %+v", m.Error)
	}
	var res struct {
		Tools []struct {
			Name        string `json:"name"`
			Annotations struct {
				ReadOnly *bool `json:"readOnlyHint"`
			} `json:"annotations"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, tl := range res.Tools {
		out = append(out, tl.Name)
	}
	slices.Sort(out)
	return out
}

// TestSafeModesOverStdio: the built binary's tools/list under each safe
// mode, and a hidden tool's call refused by mcp-go as an unknown tool.
func TestSafeModesOverStdio(t *testing.T) {
	readOnly := []string{"check_campaign", "get_campaign", "get_insights", "get_plan", "get_report", "list_campaigns", "list_targets"}
	for _, c := range []struct {
		name   string
		flags  []string
		want   []string
		hidden string // a tool that must be refused
		prompt bool   // build_campaign is listed
	}{
		{name: "read-only", flags: []string{"--read-only"}, want: readOnly, hidden: "create_campaign"},
		{name: "toolsets", flags: []string{"--toolsets", "plans,metrics"}, want: []string{"confirm_promotion", "fetch_metrics", "get_plan", "plan_promotion"}, hidden: "create_email", prompt: true},
		{name: "read-only toolsets", flags: []string{"--read-only", "--toolsets=targets,plans"}, want: []string{"get_plan", "list_targets"}, hidden: "confirm_promotion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			initSample(t, dir)
			s := serveAsIs(t, dir, c.flags...)
			res := s.initialize("2025-11-25")
			if got := s.listed(); !slices.Equal(got, c.want) {
				t.Errorf("tools/list = %v, want %v", got, c.want)
			}
			m := s.request("tools/call", map[string]any{"name": c.hidden, "arguments": map[string]any{"name": "Spring"}})
			if m.Error == nil || !strings.Contains(m.Error.Message, c.hidden) {
				t.Errorf("calling hidden %s: want mcp-go's unknown-tool error, got %+v %s", c.hidden, m.Error, m.Result)
			}
			pm := s.request("prompts/list", map[string]any{})
			if got := strings.Contains(string(pm.Result), "build_campaign"); got != c.prompt {
				t.Errorf("prompts/list = %s; want build_campaign listed: %v", pm.Result, c.prompt)
			}
			instr, _ := res["instructions"].(string)
			if strings.Contains(strings.Join(c.flags, " "), "--read-only") && !strings.Contains(instr, "READ-ONLY") {
				t.Errorf("instructions do not say the server is read-only: %s", instr)
			}
			s.stop()
		})
	}
	// The default serves everything.
	s := serveAsIs(t, t.TempDir())
	s.initialize("2025-11-25")
	if got := s.listed(); !slices.Contains(got, "confirm_promotion") || !slices.Contains(got, "list_targets") || len(got) < 16 {
		t.Errorf("default tools/list = %v", got)
	}
	s.stop()
}

func TestToolsetsFlagRejectsUnknown(t *testing.T) {
	_, stderr, code := runBin(t, "serve", "--data-dir", t.TempDir(), "--toolsets", "plans,campains")
	if code == 0 || !strings.Contains(stderr, `unknown toolset "campains"`) || !strings.Contains(stderr, "all, campaigns, staging, checks, plans, metrics, outcomes, targets") {
		t.Fatalf("serve --toolsets plans,campains: exit %d, stderr %s", code, stderr)
	}
}

// serve --http --read-only: the same filtering over streamable HTTP.
func TestSafeModesOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--http", "127.0.0.1:0", "--read-only", "--toolsets", "campaigns,targets", "--data-dir", t.TempDir())
	cmd.Env = childEnv(t)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var url string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
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
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tl := range list.Tools {
		got = append(got, tl.Name)
	}
	slices.Sort(got)
	if want := []string{"get_campaign", "list_campaigns", "list_targets"}; !slices.Equal(got, want) {
		t.Errorf("tools/list over HTTP = %v, want %v", got, want)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "create_campaign", map[string]any{"name": "Sneaky"}
	if res, err := c.CallTool(ctx, req); err == nil {
		t.Errorf("create_campaign over read-only HTTP answered %+v, want mcp-go's unknown-tool error", res)
	}
	req.Params.Name, req.Params.Arguments = "list_targets", map[string]any{}
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("list_targets: %v %+v", err, res)
	}
}
