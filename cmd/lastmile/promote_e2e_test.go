//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// The approval channel is another process: `lastmile approve` runs while a
// server holds the data directory, and the server's next confirm sees it.
func TestApproveFromAnotherProcessWhileServing(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, dir)
	defer s.stop()
	s.initialize(mcp.ProtocolVersion20251125)
	campaign, segment, email, _ := stageForPromotion(t, s)
	if got := campaignOf(t, s, segment); got != campaign {
		t.Fatalf("lastmile://artifacts/%s names campaign %s, want %s", segment, got, campaign)
	}
	plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})
	planID := plan["id"].(string)

	r := s.call("confirm_promotion", map[string]any{"plan_id": planID})
	if !r.IsError || !strings.Contains(r.text(), "lastmile approve "+planID) {
		t.Fatalf("confirm before approval: %s", r.text())
	}
	// Approval-looking arguments are refused by the schema, not honoured.
	r = s.call("confirm_promotion", map[string]any{"plan_id": planID, "approved": true, "approver": "me", "code": "abc234"})
	if !r.IsError || !strings.Contains(r.text(), "approved: is not a field") {
		t.Fatalf("confirm with approval-looking arguments: %s", r.text())
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox")); !os.IsNotExist(err) {
		t.Fatal("something went live before approval")
	}

	// A wrong code is refused, and nothing is recorded.
	screen, status := approveTyping(t, dir, planID, func(string) string { return "nope42" })
	if status == 0 || !strings.Contains(screen, "code does not match") {
		t.Fatalf("approve with a wrong code: status %d\n%s", status, screen)
	}
	if audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir); strings.Contains(audit, `"approve_plan"`) {
		t.Fatal("a wrong code was recorded as an approval")
	}
	out, code := approveAtTerminal(t, dir, planID)
	for _, want := range []string{"IRREVERSIBLE", "send", "recipients", "Approved by"} {
		if !strings.Contains(out, want) {
			t.Errorf("approve output lacks %q:\n%s", want, out)
		}
	}
	// The code is on the person's screen only: no MCP result carries it.
	assertNoCode(t, "plan_promotion", plan, code)
	r = s.call("get_plan", map[string]any{"plan_id": planID})
	if r.IsError {
		t.Fatalf("get_plan: %s", r.text())
	}
	assertNoCode(t, "get_plan", r.StructuredContent, code)
	if strings.Contains(r.text(), code) {
		t.Errorf("get_plan's text carries the plan's code %s:\n%s", code, r.text())
	}
	plans, _, _ := runBin(t, "plans", "--data-dir", dir)
	if !strings.Contains(plans, planID) || !strings.Contains(plans, "approved") {
		t.Errorf("lastmile plans:\n%s", plans)
	}

	r = s.call("confirm_promotion", map[string]any{"plan_id": planID})
	if r.IsError {
		t.Fatalf("confirm after approval: %s", r.text())
	}
	if r.StructuredContent["status"] != "promoted" {
		t.Fatalf("status = %v", r.StructuredContent["status"])
	}
	files, _ := os.ReadDir(filepath.Join(dir, "outbox", email))
	if len(files) == 0 {
		t.Fatal("no messages in the outbox")
	}
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	for _, action := range []string{"plan_promotion", "approve_plan", "promotion_started", "promote_step", "promotion_finished"} {
		if !strings.Contains(audit, `"action":"`+action+`"`) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	if !strings.Contains(audit, `"channel":"cli"`) {
		t.Error("the approval's channel is not in the audit log")
	}
}

// assertNoCode fails if a tool result holds the plan's code anywhere: as
// a field, or inside any string (hashes and ids are hex or Crockford
// base32, so a chance match would need the same six characters).
func assertNoCode(t *testing.T, tool string, structured map[string]any, code string) {
	t.Helper()
	data, _ := json.Marshal(structured)
	if _, ok := structured["code"]; ok || strings.Contains(string(data), code) {
		t.Errorf("%s's result carries the plan's code %s: %s", tool, code, data)
	}
}

func campaignOf(t *testing.T, s *stdioServer, artifact string) string {
	t.Helper()
	r := s.request("resources/read", map[string]any{"uri": "lastmile://artifacts/" + artifact})
	if r.Error != nil {
		t.Fatalf("read artifact: %+v", r.Error)
	}
	var res struct {
		Contents []struct{ Text string } `json:"contents"`
	}
	json.Unmarshal(r.Result, &res)
	var v struct {
		Artifact struct {
			CampaignID string `json:"campaign_id"`
		} `json:"artifact"`
	}
	json.Unmarshal([]byte(res.Contents[0].Text), &v)
	return v.Artifact.CampaignID
}

// Reject from the CLI: the agent sees the reason.
func TestRejectFromCLI(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, dir)
	defer s.stop()
	s.initialize(mcp.ProtocolVersion20251125)
	campaign, _, _, _ := stageForPromotion(t, s)
	plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})
	planID := plan["id"].(string)
	if _, errOut, status := runBin(t, "reject", planID, "--data-dir", dir); status == 0 || !strings.Contains(errOut, "reason") {
		t.Fatalf("reject without a reason: %d %s", status, errOut)
	}
	if _, errOut, status := runBin(t, "reject", planID, "--reason", "x", "--as", "dana", "--data-dir", dir); status == 0 || !strings.Contains(errOut, "-as") {
		t.Fatalf("reject --as: status %d, want it refused (the CLI's person is the OS user)\n%s", status, errOut)
	}
	if out, errOut, status := runBin(t, "reject", planID, "--reason", "exclude churned customers", "--data-dir", dir); status != 0 {
		t.Fatalf("reject: %d\n%s\n%s", status, out, errOut)
	}
	r := s.call("confirm_promotion", map[string]any{"plan_id": planID})
	if !r.IsError || !strings.Contains(r.text(), "exclude churned customers") {
		t.Fatalf("confirm a rejected plan: %s", r.text())
	}
	if screen, status := onTerminal(t, "approve", planID, "--data-dir", dir).wait(); status == 0 || !strings.Contains(screen, "rejected") {
		t.Fatalf("approve a rejected plan: status %d\n%s", status, screen)
	}
}

// The official MCP TypeScript SDK drives the whole loop (testdata/e2e).
// CI installs it (.ci/run) and sets LASTMILE_REQUIRE_E2E so a missing
// install fails instead of skipping.
func TestNPMClientEndToEnd(t *testing.T) {
	e2e, _ := filepath.Abs("../../testdata/e2e")
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(e2e, "node_modules", "@modelcontextprotocol", "sdk"))
	if nodeErr != nil || modErr != nil {
		msg := "the npm end-to-end test needs node and `npm ci --prefix testdata/e2e`"
		if os.Getenv("LASTMILE_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The client has no terminal, so it approves with --scripted: its data
	// directory's policy enables that channel, as the demo's does.
	dir := t.TempDir()
	if err := initDataDir(dir, false, acmeSamplePolicy, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := enableScripted(dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs")
	cmd.Dir = e2e
	cmd.Env = append(childEnv(t), "LASTMILE_BIN="+bin, "LASTMILE_DATA_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "E2E OK") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	t.Log(strings.TrimSpace(string(out)))
}

// The README's main command, as CI runs it.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, errOut, status := runBin(t, "demo", "--yes", "--data-dir", dir)
	if status != 0 {
		t.Fatalf("demo: status %d\n%s\n%s", status, out, errOut)
	}
	for _, want := range []string{"stages a campaign", "refused", "approved", "promoted to the local target", "fetches the metrics", "Where everything went live", "OPEN RATE"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, p := range []string{"site/insights-launch/index.html", "events.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("demo did not create %s", p)
		}
	}
	// The broadcast, and the follow-up the workflow sent two (simulated)
	// days later to the segment it enrolled.
	boxes, _ := os.ReadDir(filepath.Join(dir, "outbox"))
	if len(boxes) != 2 {
		t.Fatalf("outbox holds %d emails, want the broadcast and the follow-up", len(boxes))
	}
	if !regexp.MustCompile(`"Walkthrough follow-up" sent to 5 contacts`).MatchString(out) {
		t.Errorf("the demo does not show the workflow's follow-up:\n%s", out)
	}
	// Without a terminal and without --yes the demo refuses to approve.
	_, errOut, status = runBin(t, "demo", "--data-dir", filepath.Join(t.TempDir(), "d2"))
	if status == 0 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("demo without a terminal: %d %s", status, errOut)
	}
}

// Over real stdio a 2025-11-25 client that declares elicitation is asked
// (elicitation/create) while confirm_promotion waits, and its user's accept
// approves the plan, when the policy lets the client's prompt count.
func TestElicitationOverStdio(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, dir)
	defer s.stop()
	m := s.request("initialize", map[string]any{"protocolVersion": mcp.ProtocolVersion20251125, "capabilities": map[string]any{"elicitation": map[string]any{}},
		"clientInfo": map[string]any{"name": "stdio-elicit", "version": "0"}})
	if m.Error != nil {
		t.Fatal(m.Error)
	}
	s.notify("notifications/initialized", map[string]any{})
	// The policy, not the client, decides that the client's prompt counts.
	pol := filepath.Join(dir, "policy.yaml")
	data, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pol, replaceApprovalSection(data, "approval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: 50}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	campaign, _, email, _ := stageForPromotion(t, s)
	plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})

	s.nextID++
	confirmID := s.nextID
	s.send(map[string]any{"jsonrpc": "2.0", "id": confirmID, "method": "tools/call", "params": map[string]any{"name": "confirm_promotion", "arguments": map[string]any{"plan_id": plan["id"]}}})
	asked := false
	for {
		msg, ok := <-s.msgs
		if !ok {
			t.Fatalf("the server closed stdout (stderr:\n%s)", s.stderr.String())
		}
		if msg.Method == "elicitation/create" {
			asked = true
			s.send(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(msg.ID), "result": map[string]any{"action": "accept", "content": map[string]any{"approve": true}}})
			continue
		}
		if string(msg.ID) != strconv.Itoa(confirmID) {
			continue
		}
		var r callResult
		json.Unmarshal(msg.Result, &r)
		if msg.Error != nil || r.IsError {
			t.Fatalf("confirm: %v %s", msg.Error, r.text())
		}
		break
	}
	if !asked {
		t.Fatal("the client was never asked")
	}
	if files, _ := os.ReadDir(filepath.Join(dir, "outbox", email)); len(files) == 0 {
		t.Fatal("nothing was sent")
	}
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	if !strings.Contains(audit, `"channel":"elicitation"`) {
		t.Fatal("the approval through elicitation is not in the audit log")
	}
}
