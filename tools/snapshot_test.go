package tools_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Schema snapshots, after github-mcp-server's toolsnaps: every tool, exactly
// as tools/list puts it on the wire, is kept in testdata/<name>.snap with
// sorted keys. A changed, missing or stale snapshot fails the test, so a
// change to the tool surface is always a visible diff in review.
//
//	UPDATE_SNAPSHOTS=1 go test ./tools -run TestToolSnapshots
//
// rewrites them (and removes the snapshots of tools that no longer exist).

const snapDir = "testdata"

func updating() bool { return os.Getenv("UPDATE_SNAPSHOTS") != "" }

// canonical re-encodes JSON with sorted keys and two-space indentation.
func canonical(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestToolSnapshots(t *testing.T) {
	h := newHarness(t, withProtocol(proto1125))
	seen := map[string]bool{}
	for _, raw := range h.rawToolsList(t) {
		var head struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.Name == "" {
			t.Fatalf("tool without a name: %s", raw)
		}
		seen[head.Name] = true
		t.Run(head.Name, func(t *testing.T) {
			got := canonical(t, raw)
			path := filepath.Join(snapDir, head.Name+".snap")
			want, err := os.ReadFile(path)
			switch {
			case updating():
				if !bytes.Equal(got, want) {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("wrote %s", path)
				}
			case os.IsNotExist(err):
				t.Fatalf("no snapshot %s for tool %s: run UPDATE_SNAPSHOTS=1 go test ./tools -run TestToolSnapshots, review and commit it", path, head.Name)
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(got, want):
				t.Fatalf("tool %s differs from %s (the tool surface changed):\n%s\nIf the change is intended: UPDATE_SNAPSHOTS=1 go test ./tools -run TestToolSnapshots, and commit the snapshot.",
					head.Name, path, lineDiff(string(want), string(got)))
			}
		})
	}

	// A snapshot whose tool is gone is stale.
	files, err := filepath.Glob(filepath.Join(snapDir, "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".snap")
		if seen[name] {
			continue
		}
		if updating() {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed %s", f)
			continue
		}
		t.Errorf("stale snapshot %s: no tool %s is registered (UPDATE_SNAPSHOTS=1 removes it)", f, name)
	}
}

// lineDiff shows the lines of want and got around the first difference, and
// what each side has that the other lacks.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d:\n", i+1)
	for j := max(0, i-3); j < min(len(w), i+4); j++ {
		fmt.Fprintf(&b, "  snapshot %4d  %s\n", j+1, w[j])
	}
	for j := max(0, i-3); j < min(len(g), i+4); j++ {
		fmt.Fprintf(&b, "  now      %4d  %s\n", j+1, g[j])
	}
	onlyIn := func(a, b []string) []string {
		var out []string
		for _, l := range a {
			if !slices.Contains(b, l) {
				out = append(out, strings.TrimSpace(l))
			}
		}
		if len(out) > 20 {
			out = append(out[:20], "…")
		}
		return out
	}
	if r := onlyIn(w, g); len(r) > 0 {
		fmt.Fprintf(&b, "removed: %s\n", strings.Join(r, " | "))
	}
	if a := onlyIn(g, w); len(a) > 0 {
		fmt.Fprintf(&b, "added:   %s\n", strings.Join(a, " | "))
	}
	return b.String()
}
