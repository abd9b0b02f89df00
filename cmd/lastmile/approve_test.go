//go:build !windows

package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// lastmile approve is for a person: without a terminal on both stdin and
// stdout it refuses, says what to do, and records nothing.
func TestApproveRefusesWithoutTerminal(t *testing.T) {
	dir, s, _, planID := servedPlan(t)
	defer s.stop()

	refused := func(what, screen string, status int) {
		t.Helper()
		if status == 0 {
			t.Fatalf("%s: approve succeeded\n%s", what, screen)
		}
		for _, want := range []string{"a terminal", "nothing was approved", "lastmile approve PLAN", "--scripted", "policy"} {
			if !strings.Contains(screen, want) {
				t.Errorf("%s: the refusal lacks %q:\n%s", what, want, screen)
			}
		}
		if strings.Contains(screen, "Code:") {
			t.Errorf("%s: the code was shown without a terminal:\n%s", what, screen)
		}
	}
	// Pipes for everything: what an agent with a shell gets.
	out, errOut, status := runBin(t, "approve", planID, "--data-dir", dir)
	refused("no terminal", out+errOut, status)

	// stdin from a pipe, stdout on a terminal.
	term := onTerminalWith(t, func(cmd *exec.Cmd) {
		cmd.Stdin = strings.NewReader("abc234\n")
		cmd.SysProcAttr.Ctty = 1
	}, "approve", planID, "--data-dir", dir)
	screen, status := term.wait()
	refused("stdin a pipe", screen, status)
	if !strings.Contains(screen, "stdin is not a terminal") {
		t.Errorf("the refusal does not say stdin is the problem:\n%s", screen)
	}

	// stdin on a terminal, stdout to a pipe (read by a program).
	var piped bytes.Buffer
	term = onTerminalWith(t, func(cmd *exec.Cmd) { cmd.Stdout = &piped }, "approve", planID, "--data-dir", dir)
	screen, status = term.wait()
	refused("stdout a pipe", screen+piped.String(), status)
	if !strings.Contains(screen, "stdout is not a terminal") {
		t.Errorf("the refusal does not say stdout is the problem:\n%s", screen)
	}

	// --code and --as are gone: neither a code nor a name can be passed.
	for _, flag := range [][]string{{"--code", "abc234"}, {"--as", "dana"}} {
		out, errOut, status := runBin(t, append([]string{"approve", planID, "--data-dir", dir}, flag...)...)
		if status != 2 || !strings.Contains(errOut, "unknown flag: "+flag[0]) {
			t.Errorf("approve %s: status %d\n%s%s", flag[0], status, out, errOut)
		}
	}

	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	if strings.Contains(audit, `"approve_plan"`) {
		t.Fatalf("a refused approve recorded an approval:\n%s", audit)
	}
	if plans, _, _ := runBin(t, "plans", "--data-dir", dir); !strings.Contains(plans, "pending") {
		t.Errorf("the plan is no longer pending:\n%s", plans)
	}
}

// --scripted needs no terminal and no code, and is recorded as its own
// channel, never as a person at the CLI. It counts only where the policy
// enables it: the sample policy does not, and the refusal is audited.
func TestApproveScripted(t *testing.T) {
	dir, s, campaign, planID := servedPlan(t)
	defer s.stop()

	out, errOut, status := runBin(t, "approve", planID, "--scripted", "--data-dir", dir)
	if strings.Contains(out, "Code:") {
		t.Errorf("--scripted showed the code:\n%s", out)
	}
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	// The sample policy lets people approve, not pipelines.
	if status == 0 || !strings.Contains(errOut, "does not count") || strings.Contains(audit, `"approve_plan"`) || !strings.Contains(audit, `"approval_refused"`) {
		t.Fatalf("--scripted under the sample policy: status %d, %q\n%s", status, errOut, audit)
	}
	if err := enableScripted(dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	planID = s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})["id"].(string)
	out, errOut, status = runBin(t, "approve", planID, "--scripted", "--data-dir", dir)
	audit, _, _ = runBin(t, "audit", "--json", "--data-dir", dir)
	if status != 0 {
		t.Fatalf("--scripted with the channel enabled: %q", errOut)
	}
	if !strings.Contains(out, "scripted channel") || !strings.Contains(audit, `"channel":"scripted"`) || !strings.Contains(audit, `"actor":"scripted:`) || strings.Contains(audit, `"channel":"cli"`) {
		t.Fatalf("--scripted was not recorded as the scripted channel:\n%s\n%s", out, audit)
	}
}
