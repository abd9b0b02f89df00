package tools_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// send_test over MCP: the team's addresses get a proof in outbox/tests/;
// anyone else is a tool error, with nothing written.
func TestSendTestTool(t *testing.T) {
	pol, err := governance.Parse("policy.yaml", []byte("test_sends:\n  seed_list: [qa@acme.com]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withPolicy(pol))
	cmp := h.newCampaign(t, "Proofs")
	eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
	proofs := func() int {
		entries, _ := os.ReadDir(filepath.Join(h.dir, "outbox", "tests", eml))
		return len(entries)
	}

	res := h.call(t, "send_test", obj{"artifact_id": eml, "to": []string{"customer@example.com"}})
	if !res.IsError || !strings.Contains(text(res), "not on the policy's seed list") {
		t.Fatalf("a customer's address: %s", text(res))
	}
	if res := h.call(t, "send_test", obj{"artifact_id": eml, "to": []string{"qa@acme.com"}, "bcc": []string{"customer@example.com"}}); !res.IsError {
		t.Fatalf("an unknown argument was taken: %s", text(res))
	}
	if n := proofs(); n != 0 {
		t.Fatalf("refused test sends wrote %d proofs", n)
	}

	out := mustOK(t, h.call(t, "send_test", obj{"artifact_id": eml, "to": []string{"qa@acme.com"}}))
	if out["target"] != "local" || out["revision"] != float64(1) || proofs() != 1 {
		t.Fatalf("send_test: %v; %d proofs", out, proofs())
	}
}
