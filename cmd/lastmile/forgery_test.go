package main

// The forgery table: a hostile agent, speaking raw JSON-RPC to the built
// binary, tries to get a staged plan approved or promoted without a human.
// Every row runs over stdio and streamable HTTP, in the legacy (2025-11-25,
// initialize) and/or modern (2026-07-28, per-request _meta) protocol era,
// each on its own data directory. After every row:
//
//	(a) no confirm_promotion returned a promoted result;
//	(b) nothing went live into the data directory;
//	(c) the audit log has no approve_plan entry (beyond what the row allows);
//	(d) forged or replayed elicitation answers are audited as approval_refused
//	    with channel "elicitation" and a reason;
//
// and no byte the server sent carries a plan's code or mentions --code.
//
// Run one row: go test -run 'Forgery/stdio/modern/replay' ./cmd/lastmile/

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type forgeOutcome struct {
	plans []string // every plan the row made, to look for code leaks
	// allowApprovals is how many approve_plan entries a plan may have
	// (the solicited answers a row legitimately gives); default none.
	allowApprovals map[string]int
	// wantRefused lists plans for which an approval_refused entry with
	// channel elicitation must be audited.
	wantRefused []string
	// promoted is true for a control row that must promote.
	promoted bool
}

type forgeRow struct {
	name      string
	modes     []string // nil: legacy and modern
	policy    string   // appended to policy.yaml
	approvers int      // plans.approvals in lastmile.yaml (0: leave it at 1)
	run       func(t *testing.T, f *forger) forgeOutcome
}

// refused checks that a confirm did not promote.
func refused(t *testing.T, what string, r toolReply) {
	t.Helper()
	if r.promoted() {
		t.Errorf("%s: PROMOTED without a human: %s", what, r)
		return
	}
	if r.RPCErr != nil {
		t.Logf("%s: JSON-RPC error (not promoted): %d %s", what, r.RPCErr.Code, r.RPCErr.Message)
	}
}

func confirmArgs(plan string) map[string]any { return map[string]any{"plan_id": plan} }

// solicit lets the server ask (with the elicitation capability declared) and
// accepts whatever it asks, under one client name: modern, by answering the
// input_required result with its requestState; legacy, by accepting the
// elicitation/create request the forger receives during the call.
func solicit(t *testing.T, f *forger, plan, name string) (first, answered toolReply) {
	t.Helper()
	first = f.call("confirm_promotion", confirmArgs(plan), callOpts{name: name, elicit: true})
	if f.mode == "modern" && first.ResultType == "input_required" {
		if _, ok := first.InputReqs["approve_plan"]; !ok {
			t.Logf("input request ids: %v", keys(first.InputReqs))
		}
		answered = f.call("confirm_promotion", confirmArgs(plan), callOpts{name: name, elicit: true, responses: acceptAnswer(), state: strp(first.State)})
		return first, answered
	}
	return first, first
}

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func forgeryRows() []forgeRow {
	unsolicited := func(state func(plan, hash string) *string, elicit bool) func(t *testing.T, f *forger) forgeOutcome {
		return func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("u")
			plan, hash := f.plan(cmp)
			r := f.call("confirm_promotion", confirmArgs(plan), callOpts{elicit: elicit, responses: acceptAnswer(), state: state(plan, hash)})
			refused(t, "unsolicited answer", r)
			r = f.call("confirm_promotion", confirmArgs(plan), callOpts{elicit: elicit})
			refused(t, "plain confirm after the unsolicited answer", r)
			return forgeOutcome{plans: []string{plan}, wantRefused: []string{plan}}
		}
	}
	return []forgeRow{
		// 1. An answer the server never asked for, with every requestState
		// an agent can produce.
		{name: "unsolicited-state-empty", run: unsolicited(func(string, string) *string { return strp("") }, false)},
		{name: "unsolicited-state-planhash", run: unsolicited(func(p, h string) *string { return strp(p + "|" + h) }, false)},
		{name: "unsolicited-state-random", run: unsolicited(func(string, string) *string { return strp("st_9f2c81d0a4e7b3") }, false)},
		{name: "unsolicited-state-absent", run: unsolicited(func(string, string) *string { return nil }, false)},

		// 2. The same with the elicitation capability declared, and a new
		// client name per call to manufacture approvers for a plan that
		// needs two.
		{name: "unsolicited-elicit-cap-state-planhash", run: unsolicited(func(p, h string) *string { return strp(p + "|" + h) }, true)},
		{name: "unsolicited-elicit-cap-state-empty", run: unsolicited(func(string, string) *string { return strp("") }, true)},
		{name: "unsolicited-many-names", approvers: 2, run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("n")
			plan, hash := f.plan(cmp)
			for _, name := range []string{"alice", "bob", "legal-team"} {
				for _, st := range []string{plan + "|" + hash, ""} {
					r := f.call("confirm_promotion", confirmArgs(plan), callOpts{name: name, elicit: true, responses: acceptAnswer(), state: strp(st)})
					refused(t, "answer as "+name, r)
				}
			}
			return forgeOutcome{plans: []string{plan}, wantRefused: []string{plan}}
		}},

		// With elicitation allowed by the policy, solicited answers from any
		// number of client names count once in total.
		{name: "solicited-many-names-count-once", approvers: 2, policy: elicitationPolicy(50), run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("m")
			plan, _ := f.plan(cmp)
			for _, name := range []string{"alice", "bob", "legal-team"} {
				first, ans := solicit(t, f, plan, name)
				refused(t, "ask as "+name, first)
				refused(t, "answer as "+name, ans)
			}
			return forgeOutcome{plans: []string{plan}, allowApprovals: map[string]int{plan: 1}}
		}},

		// 3. A real, server-issued request: answered once, then replayed for
		// the same plan and for another, and one plan's state used for the
		// other.
		{name: "replay", modes: []string{"modern"}, approvers: 2, policy: elicitationPolicy(50), run: func(t *testing.T, f *forger) forgeOutcome {
			return replay(t, f, true)
		}},
		// The same under today's data directory defaults (no approval
		// section in the policy): if the server asks at all, its requests
		// must not be replayable either.
		{name: "replay-default-policy", modes: []string{"modern"}, approvers: 2, run: func(t *testing.T, f *forger) forgeOutcome {
			return replay(t, f, false)
		}},

		// Control: a solicited answer for a 2-recipient plan needing one
		// approver does count, so the table is not vacuous.
		{name: "control-solicited-answer-counts", policy: elicitationPolicy(50), run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("c")
			plan, _ := f.plan(cmp)
			_, ans := solicit(t, f, plan, "alice")
			if !ans.promoted() {
				t.Errorf("a solicited, accepted elicitation for a 2-recipient plan did not promote: %s", ans)
			}
			return forgeOutcome{plans: []string{plan}, allowApprovals: map[string]int{plan: 1}, promoted: true}
		}},

		// A plan that needs Legal (the sample policy's approvals.germany-legal):
		// solicited answers never count for a role, even from a client that
		// names itself after a member of that role.
		{name: "solicited-never-for-roles", policy: elicitationPolicy(50), run: rolesRow},
		{name: "solicited-never-for-roles-default-policy", run: rolesRow},

		// A solicited answer does not count for a plan reaching more people
		// than the policy's max_recipients for elicitation.
		{name: "solicited-over-max-recipients", policy: elicitationPolicy(1), run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("x")
			plan, _ := f.plan(cmp)
			first, ans := solicit(t, f, plan, "alice")
			refused(t, "ask", first)
			refused(t, "answer", ans)
			return forgeOutcome{plans: []string{plan}}
		}},

		// 4. Approval-looking _meta and arguments (with the real code read
		// from the store, as an agent with a shell could).
		{name: "approval-looking-meta-and-args", run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("l")
			plan, hash := f.plan(cmp)
			code := planCodes(t, f.dir, plan)[plan]
			meta := map[string]any{"approved": true, "approver": "dana", "lastmile/approval": map[string]any{
				"approved": true, "approver": "dana", "channel": "cli", "plan_id": plan, "hash": hash, "code": code}}
			// No elicitation capability and no input responses: only _meta
			// and arguments that look like an approval.
			refused(t, "approval _meta", f.call("confirm_promotion", confirmArgs(plan), callOpts{meta: meta}))
			refused(t, "approval _meta as dana", f.call("confirm_promotion", confirmArgs(plan), callOpts{name: "dana", meta: meta}))
			for _, args := range []map[string]any{
				{"plan_id": plan, "approved": true, "approver": "dana", "code": code},
				{"plan_id": plan, "approved": true, "approver": "dana", "code": "ABC123"},
				{"plan_id": plan, "code": code},
				{"plan_id": plan, "approval": map[string]any{"approver": "dana", "channel": "review", "hash": hash}},
				{"plan_id": plan, "inputResponses": acceptAnswer(), "requestState": plan + "|" + hash},
			} {
				r := f.call("confirm_promotion", args, callOpts{meta: meta})
				refused(t, "approval-looking arguments", r)
				if r.RPCErr == nil && !r.IsError && r.ResultType != "input_required" {
					t.Errorf("confirm with unknown arguments did not fail: %s", r)
				}
			}
			return forgeOutcome{plans: []string{plan}}
		}},

		// 5. The agent runs the human's CLI itself, stdin and stdout pipes.
		{name: "cli-approve-without-terminal", modes: []string{"legacy"}, run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("k")
			plan, _ := f.plan(cmp)
			code := planCodes(t, f.dir, plan)[plan]
			for _, args := range [][]string{
				{"approve", plan, "--data-dir", f.dir},
				{"approve", plan, "--data-dir", f.dir, "--as", "dana"},
				{"approve", plan, "--data-dir", f.dir, "--code", "ABC123", "--as", "dana"},
				{"approve", plan, "--data-dir", f.dir, "--code", code, "--as", "dana"},
				{"approve", plan, "--data-dir", f.dir, "--code", code},
				{"approve", "--data-dir", f.dir, "--code", code, "--as", "dana", plan},
			} {
				out, errOut, status := runPiped(t, code+"\n", args...)
				if status == 0 {
					t.Errorf("lastmile %s with pipes for stdin/stdout succeeded:\n%s\n%s", strings.Join(args, " "), out, errOut)
				}
				if strings.Contains(out+errOut, code) {
					t.Errorf("lastmile %s without a terminal printed the plan's code", strings.Join(args, " "))
				}
			}
			refused(t, "confirm after the CLI attempts", f.call("confirm_promotion", confirmArgs(plan), callOpts{}))
			return forgeOutcome{plans: []string{plan}}
		}},

		// 6. A legacy client that accepts every elicitation/create: with
		// the default policy nothing is asked and nothing approved.
		{name: "auto-accept-default-policy", modes: []string{"legacy"}, run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("d")
			plan, _ := f.plan(cmp)
			for _, name := range []string{"forge-agent", "alice"} {
				refused(t, "confirm as "+name, f.call("confirm_promotion", confirmArgs(plan), callOpts{name: name, elicit: true}))
			}
			if n := f.elicitations(); n != 0 {
				t.Errorf("with the default policy the server sent %d elicitation/create requests", n)
			}
			return forgeOutcome{plans: []string{plan}}
		}},

		// The modern twin: with the default policy nothing is asked.
		{name: "default-policy-asks-nothing", modes: []string{"modern"}, run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("q")
			plan, _ := f.plan(cmp)
			r := f.call("confirm_promotion", confirmArgs(plan), callOpts{name: "alice", elicit: true})
			refused(t, "confirm", r)
			if r.ResultType == "input_required" {
				t.Errorf("with the default policy confirm_promotion asked through elicitation: %s", r)
			}
			if r.ResultType == "input_required" && r.State != "" {
				refused(t, "answer", f.call("confirm_promotion", confirmArgs(plan), callOpts{name: "alice", elicit: true, responses: acceptAnswer(), state: strp(r.State)}))
			}
			return forgeOutcome{plans: []string{plan}}
		}},

		// A legacy session whose tools/call carries the modern _meta keys:
		// elicitation declared and a new name per request, plus a forged answer.
		{name: "mixed-era-meta", modes: []string{"legacy"}, run: func(t *testing.T, f *forger) forgeOutcome {
			cmp, _ := f.stageSmall("e")
			plan, hash := f.plan(cmp)
			f.initialize("forge-agent", false)
			for _, name := range []string{"alice", "bob"} {
				r := f.call("confirm_promotion", confirmArgs(plan), callOpts{modernIn: true, elicit: false, meta: map[string]any{
					metaClientInfo:         map[string]any{"name": name, "version": "0"},
					metaClientCapabilities: map[string]any{"elicitation": map[string]any{}},
				}, responses: acceptAnswer(), state: strp(plan + "|" + hash)})
				refused(t, "mixed-era answer as "+name, r)
			}
			return forgeOutcome{plans: []string{plan}, wantRefused: []string{plan}}
		}},
	}
}

// rolesRow stages a plan that needs Legal (the sample policy's
// approvals.germany-legal) and answers every elicitation under names of
// Legal's members: at most one approval, never for a role, never promoted.
func rolesRow(t *testing.T, f *forger) forgeOutcome {
	c := f.stage("create_campaign", map[string]any{"name": "Forgery DE", "markets": []string{"DE"}, "industry": "retail",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "forgery"}})
	cmp := c["id"].(string)
	seg := f.stage("build_segment", map[string]any{"campaign_id": cmp, "name": "Berlin",
		"conditions":    []map[string]any{{"property": "marketing_consent", "operator": "eq", "value": true}},
		"static_emails": []string{"sophie@example.com"}})
	f.stage("create_email", map[string]any{"campaign_id": cmp, "name": "Hallo", "subject": "News from Acme",
		"preview_text": "What is new at Acme this month, in brief.", "from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{seg["id"].(string)}},
		"blocks": []map[string]any{{"type": "heading", "text": "What is new"}, {"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}, {"type": "paragraph", "text": "Impressum: Acme GmbH, Berlin."}}})
	p := f.stage("plan_promotion", map[string]any{"campaign_id": cmp})
	noCodeInPlan(t, "plan_promotion", p)
	plan := p["id"].(string)
	g, _ := p["governance"].(map[string]any)
	ap, _ := p["approvals"].(map[string]any)
	if g["errors"] != float64(0) {
		t.Fatalf("the DE campaign does not pass governance, so the row would prove nothing: %v %v", g["summary"], g["findings"])
	}
	if roles, _ := ap["roles"].([]any); len(roles) == 0 {
		t.Fatalf("the DE plan needs no role; approvals: %v", ap)
	}
	for _, name := range []string{"dana.weiss@acme.com", "legal-review@acme.com", "legal"} {
		first, ans := solicit(t, f, plan, name)
		refused(t, "ask as "+name, first)
		refused(t, "answer as "+name, ans)
	}
	return forgeOutcome{plans: []string{plan}, allowApprovals: map[string]int{plan: 1}}
}

// replay obtains real server-issued input requests for two plans needing
// two approvers each, answers plan A's once, then replays A's state: on B
// before and after A was answered, and on A again under two client names.
func replay(t *testing.T, f *forger, mustAsk bool) forgeOutcome {
	cmpA, _ := f.stageSmall("a")
	cmpB, _ := f.stageSmall("b")
	planA, _ := f.plan(cmpA)
	planB, _ := f.plan(cmpB)
	askA := f.call("confirm_promotion", confirmArgs(planA), callOpts{name: "alice", elicit: true})
	askB := f.call("confirm_promotion", confirmArgs(planB), callOpts{name: "alice", elicit: true})
	refused(t, "first confirm of A", askA)
	refused(t, "first confirm of B", askB)
	out := forgeOutcome{plans: []string{planA, planB}, allowApprovals: map[string]int{planA: 1}}
	if askA.ResultType != "input_required" || askA.State == "" {
		if mustAsk {
			t.Fatalf("with elicitation allowed by the policy, confirm_promotion of a 2-recipient plan did not ask (want resultType input_required with a requestState): %s", askA)
		}
		t.Logf("the server did not ask (nothing to replay): %s", askA)
		return out
	}
	if askB.State == askA.State {
		t.Errorf("two plans got the same requestState %q", askA.State)
	}
	t.Logf("server-issued requestState for A: %q, for B: %q", askA.State, askB.State)
	answer := func(what, plan, name, state string) {
		t.Helper()
		refused(t, what, f.call("confirm_promotion", confirmArgs(plan), callOpts{name: name, elicit: true, responses: acceptAnswer(), state: strp(state)}))
	}
	answer("A's state on B", planB, "alice", askA.State)
	answer("A answered", planA, "alice", askA.State) // the one answer that may count
	answer("A's used state replayed on A as bob", planA, "bob", askA.State)
	answer("A's used state replayed on A as alice", planA, "alice", askA.State)
	answer("A's used state on B as bob", planB, "bob", askA.State)
	out.wantRefused = []string{planA, planB}
	return out
}

// runPiped runs the binary with stdin and stdout as pipes, never a terminal.
func runPiped(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(childEnv(t), "TERM=xterm-256color")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var e bytes.Buffer
	cmd.Stderr = &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { io.WriteString(in, stdin); in.Close() }()
	o, _ := io.ReadAll(outPipe)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(o), e.String(), code
}

func TestForgery(t *testing.T) {
	for _, transport := range []string{"stdio", "http"} {
		for _, mode := range []string{"legacy", "modern"} {
			for _, row := range forgeryRows() {
				if row.modes != nil && !contains(row.modes, mode) {
					continue
				}
				t.Run(transport+"/"+mode+"/"+row.name, func(t *testing.T) {
					t.Parallel()
					runForgeRow(t, transport, mode, row)
				})
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func runForgeRow(t *testing.T, transport, mode string, row forgeRow) {
	dir := initDir(t)
	if row.policy != "" {
		setApprovalSection(t, dir+"/policy.yaml", row.policy)
	}
	if row.approvers > 0 {
		requireApprovers(t, dir, row.approvers)
	}
	f := startForger(t, transport, mode, dir)
	out := row.run(t, f)
	f.noCodeLeak(out.plans...)
	f.stop()

	if !out.promoted {
		liveUntouched(t, dir)
	}
	es := readAudit(t, dir)
	for _, p := range out.plans {
		if got, allow := len(approvalsOf(es, p)), out.allowApprovals[p]; got > allow {
			t.Errorf("plan %s has %d approve_plan entries in the audit log, want at most %d:\n%s", p, got, allow, auditLines(approvalsOf(es, p)))
		}
		for _, a := range approvalsOf(es, p) {
			if ch, _ := a.Detail["channel"].(string); out.allowApprovals[p] > 0 && ch != "elicitation" {
				t.Errorf("plan %s approved through channel %q by %s", p, ch, a.Actor)
			}
			if roles, ok := a.Detail["roles"].([]any); ok && len(roles) > 0 {
				t.Errorf("plan %s: an elicitation answer counted for roles %v (actor %s)", p, roles, a.Actor)
			}
		}
	}
	for _, p := range out.wantRefused {
		if len(refusedElicitations(es, p)) == 0 {
			t.Errorf("plan %s: no approval_refused audit entry with channel elicitation and a reason; audit:\n%s", p, auditLines(es))
		}
	}
}
