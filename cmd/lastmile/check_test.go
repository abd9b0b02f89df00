package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastmile check for marketing teams' pipelines: human output by default,
// JSON with --json, exit 1 when an error-level finding exists, 2 when
// something cannot be read.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	policy, _ := filepath.Abs("../../testdata/policy/acme.yaml")
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<html><body><table><tr><td><h1>Guaranteed returns</h1><p>Click <a href="http://example.com">here</a>.</p><img src="http://x.com/a.png"></td></tr></table></body></html>`), 0o600)
	good := filepath.Join(dir, "good.html")
	os.WriteFile(good, []byte(`<html><body><table role="presentation"><tr><td><h1>Spring at Acme</h1><p>Our new range is in stores now. <a href="https://www.acme.com/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring">See the range</a>.</p>
<p>Acme Corp, 500 Market Street, Suite 400, San Francisco, CA 94105, USA. Questions? <a href="mailto:hello@acme.com">hello@acme.com</a>. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p></td></tr></table></body></html>`), 0o600)

	out, _, code := runBin(t, "check", bad, "--policy", policy, "--market", "US", "--industry", "retail")
	if code != 1 {
		t.Fatalf("check of a bad email: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{bad + ":1:", "error", "voice.banned-claims", "fix:", "BLOCKED"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runBin(t, "check", "--json", bad, "--policy", policy)
	var rep struct {
		Findings []struct{ Rule, Level string } `json:"findings"`
		Errors   int                            `json:"errors"`
		Passed   bool                           `json:"passed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Errors == 0 || rep.Passed {
		t.Fatalf("--json: exit %d, %v, %+v\n%s", code, err, rep, out)
	}
	out, errOut, code := runBin(t, "check", good, "--policy", policy, "--market", "US", "--industry", "retail")
	if code != 0 {
		t.Fatalf("check of a compliant email: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code := runBin(t, "check", "--policy", policy); code != 2 {
		t.Fatalf("check without a file: exit %d, want 2", code)
	}
	// A file or policy that cannot be read is an error (2), not a finding (1).
	if _, errOut, code := runBin(t, "check", bad, "--policy", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Fatalf("check with a missing policy: exit %d %s", code, errOut)
	}
	if _, errOut, code := runBin(t, "check", filepath.Join(dir, "missing.html"), "--policy", policy); code != 2 || !strings.Contains(errOut, "missing.html") {
		t.Fatalf("check of a missing file: exit %d %s", code, errOut)
	}
}
