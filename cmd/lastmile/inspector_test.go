package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The official MCP Inspector's CLI (@modelcontextprotocol/inspector,
// pinned in testdata/e2e) drives `lastmile serve` over stdio. Its --strict
// mode lints every tool's inputSchema and outputSchema for portability
// (bare boolean subschemas, remote $refs, type unions, schemas that
// constrain nothing) and exits 6 on an error-severity finding; its
// tools/call checks structuredContent against the tool's outputSchema
// (Ajv) and fails when it does not match.
//
// --strict only goes with --method tools/list, so the calls run without it.
// CI installs the package (.ci/run: npm ci --prefix testdata/e2e) and sets
// LASTMILE_REQUIRE_E2E, so a missing install fails instead of skipping.
func TestInspectorStrict(t *testing.T) {
	insp := inspectorCLI(t)
	dir := t.TempDir()
	initSample(t, dir)

	var list struct {
		Result struct {
			Tools []struct {
				Name         string          `json:"name"`
				InputSchema  json.RawMessage `json:"inputSchema"`
				OutputSchema json.RawMessage `json:"outputSchema"`
			} `json:"tools"`
		} `json:"result"`
		SchemaFindings []struct {
			ToolName string `json:"toolName"`
			Findings []struct {
				Rule, Severity, Schema, Path, Issue string
			} `json:"findings"`
		} `json:"schemaFindings"`
	}
	// Exit status 6 is --strict's "error-severity finding": the findings are
	// still on stdout, and each one fails the test below.
	out, errOut, status := insp.run(t, dir, &list, "--method", "tools/list", "--strict")
	if status != 0 && status != 6 {
		t.Fatalf("inspector tools/list --strict: exit status %d\n%s", status, errOut)
	}
	for _, tf := range list.SchemaFindings {
		for _, f := range tf.Findings {
			where := tf.ToolName + " " + f.Schema + "." + f.Path
			if f.Severity != "error" && knownInspectorWarnings[where] == f.Rule {
				t.Logf("inspector --strict warning (known): %s: %s", where, f.Rule)
				continue
			}
			t.Errorf("inspector --strict %s: tool %s, %s.%s (%s): %s", f.Severity, tf.ToolName, f.Schema, f.Path, f.Rule, f.Issue)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	names := map[string]bool{}
	for _, tool := range list.Result.Tools {
		names[tool.Name] = true
		if len(tool.InputSchema) == 0 || len(tool.OutputSchema) == 0 {
			t.Errorf("%s: the inspector saw no inputSchema or outputSchema", tool.Name)
		}
	}
	for _, want := range []string{"build_segment", "check_campaign", "configure_workflow", "confirm_promotion", "create_campaign", "create_email",
		"fetch_metrics", "get_campaign", "get_plan", "list_campaigns", "plan_promotion", "publish_page"} {
		if !names[want] {
			t.Errorf("the inspector's tools/list lacks %s (a tool it could not parse is dropped)\n%s\n%s", want, out, errOut)
		}
	}
	if status != 0 {
		t.Errorf("inspector tools/list --strict: exit status %d\n%s", status, errOut)
	}
	if strings.Contains(errOut, "malformed entr") {
		t.Errorf("the inspector dropped malformed entries:\n%s", errOut)
	}

	type called struct {
		Result struct {
			IsError           bool           `json:"isError"`
			StructuredContent map[string]any `json:"structuredContent"`
		} `json:"result"`
	}
	var camp called
	insp.mustRun(t, dir, &camp, "--method", "tools/call", "--tool-name", "create_campaign", "--tool-args-json",
		`{"name": "Inspector", "markets": ["US", "GB"], "industry": "retail", "utm": {"source": "newsletter", "medium": "email", "campaign": "inspector"}}`)
	campaign, _ := camp.Result.StructuredContent["id"].(string)
	if !strings.HasPrefix(campaign, "cmp_") {
		t.Fatalf("create_campaign through the inspector: id %q", campaign)
	}

	// Groups two levels deep: the recursive #/$defs/group.
	args, _ := json.Marshal(map[string]any{
		"campaign_id": campaign, "name": "US customers and leads, or GB", "match": "any",
		"groups": []any{
			map[string]any{"match": "all",
				"conditions": []any{map[string]any{"property": "country", "operator": "eq", "value": "US"}},
				"groups": []any{map[string]any{"match": "any", "conditions": []any{
					map[string]any{"property": "lifecycle_stage", "operator": "eq", "value": "customer"},
					map[string]any{"property": "lifecycle_stage", "operator": "in", "value": []string{"lead", "subscriber"}},
				}}}},
			map[string]any{"conditions": []any{map[string]any{"property": "country", "operator": "eq", "value": "GB"}}},
		},
	})
	var seg called
	insp.mustRun(t, dir, &seg, "--method", "tools/call", "--tool-name", "build_segment", "--tool-args-json", string(args))
	sc := seg.Result.StructuredContent
	if id, _ := sc["id"].(string); !strings.HasPrefix(id, "seg_") || sc["status"] != "staged" {
		t.Fatalf("build_segment through the inspector: %v", sc)
	}
	if n, _ := sc["estimated_size"].(float64); n <= 0 {
		t.Fatalf("build_segment with nested groups: estimated_size %v, want some of the sample contacts", sc["estimated_size"])
	}
}

// knownInspectorWarnings are --strict warnings (never errors) the tools
// carry on purpose, keyed by "tool schema.path" to the inspector's rule.
// A condition's value is a string, number, boolean or list, so its schema
// has only a description. Any other finding fails TestInspectorStrict.
var knownInspectorWarnings = map[string]string{
	"build_segment inputSchema.$defs.condition.properties.value":                                  "untyped-schema",
	"configure_workflow inputSchema.properties.steps.items.properties.condition.properties.value": "untyped-schema",
	"configure_workflow inputSchema.properties.steps.items.properties.value":                      "untyped-schema",
}

type inspector struct{ script string }

// inspectorCLI finds the MCP Inspector's launcher in testdata/e2e, or
// skips (fails under LASTMILE_REQUIRE_E2E) when it is not installed.
func inspectorCLI(t *testing.T) inspector {
	t.Helper()
	pkg, _ := filepath.Abs("../../testdata/e2e/node_modules/@modelcontextprotocol/inspector")
	_, nodeErr := exec.LookPath("node")
	var manifest struct {
		Version string            `json:"version"`
		Bin     map[string]string `json:"bin"`
	}
	data, modErr := os.ReadFile(filepath.Join(pkg, "package.json"))
	if modErr == nil {
		modErr = json.Unmarshal(data, &manifest)
	}
	if nodeErr != nil || modErr != nil || manifest.Bin["mcp-inspector"] == "" {
		msg := "the MCP Inspector test needs node and `npm ci --prefix testdata/e2e`"
		if os.Getenv("LASTMILE_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, _ := exec.Command("node", "--version").Output()
	t.Logf("MCP Inspector %s on node %s", manifest.Version, bytes.TrimSpace(node))
	return inspector{script: filepath.Join(pkg, manifest.Bin["mcp-inspector"])}
}

// mustRun is run that requires exit status 0: a tool error (5), a result
// that does not match its outputSchema, anything else the inspector refuses.
func (i inspector) mustRun(t *testing.T, dir string, v any, args ...string) {
	t.Helper()
	if _, errOut, status := i.run(t, dir, v, args...); status != 0 {
		t.Fatalf("inspector %s: exit status %d\n%s", strings.Join(args, " "), status, errOut)
	}
}

// run runs one inspector CLI command against `bin serve --data-dir dir` and
// decodes its --format json stdout into v.
func (i inspector) run(t *testing.T, dir string, v any, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	argv := append([]string{i.script, "--cli", "--format", "json"}, args...)
	argv = append(argv, "--", bin, "serve", "--data-dir", dir)
	cmd := exec.CommandContext(ctx, "node", argv...)
	cmd.Env = childEnv(t)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("inspector %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(o.Bytes(), v); err != nil {
		t.Fatalf("inspector %s: exit status %d, stdout is not its JSON envelope: %v\nstdout:\n%.4000s\nstderr:\n%s", strings.Join(args, " "), status, err, o.String(), e.String())
	}
	return o.String(), e.String(), status
}
