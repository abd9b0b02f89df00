// Package mcpb holds the Claude Desktop extension's manifest; `make mcpb`
// builds and packs the bundle. This test keeps the manifest in step with
// the server, without Node: `make mcpb` runs the schema validation.
package mcpb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestManifest(t *testing.T) {
	data, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Server struct {
			EntryPoint string `json:"entry_point"`
			MCPConfig  struct {
				Command   string                              `json:"command"`
				Args      []string                            `json:"args"`
				Overrides map[string]struct{ Command string } `json:"platform_overrides"`
			} `json:"mcp_config"`
		} `json:"server"`
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
		Compatibility struct {
			Platforms []string `json:"platforms"`
		} `json:"compatibility"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	c := m.Server.MCPConfig
	if m.Server.EntryPoint != "server/lastmile" || c.Command != "${__dirname}/server/lastmile" || !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("server runs %q %q (entry point %q), want ${__dirname}/server/lastmile [serve]", c.Command, c.Args, m.Server.EntryPoint)
	}
	if got := c.Overrides["win32"].Command; got != "${__dirname}/server/lastmile.exe" {
		t.Errorf("win32 runs %q, want ${__dirname}/server/lastmile.exe", got)
	}
	if p := m.Compatibility.Platforms; !slices.Equal(p, []string{"darwin", "win32", "linux"}) {
		t.Errorf("platforms %q, want darwin, win32, linux", p)
	}

	// Every tool has a schema snapshot under tools/testdata; the manifest
	// lists the same ones.
	snaps, err := filepath.Glob("../../tools/testdata/*.snap")
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no tool snapshots found: %v", err)
	}
	var want, got []string
	for _, s := range snaps {
		want = append(want, strings.TrimSuffix(filepath.Base(s), ".snap"))
	}
	for _, tool := range m.Tools {
		got = append(got, tool.Name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("manifest lists tools %q; the server has %q", got, want)
	}
}
