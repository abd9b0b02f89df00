package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinWith runs the binary with extra environment variables and returns
// what it wrote and its exit status.
func runBinWith(t *testing.T, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(childEnv(t), extraEnv...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// The CLI's conventions: help on stdout and exit 0; --version; usage
// mistakes (unknown commands and flags, invalid values, missing and extra
// arguments) reported once on stderr with a pointer to --help, exit 2;
// refusals exit 1.
func TestCLIConventions(t *testing.T) {
	dir := t.TempDir()
	policy, _ := filepath.Abs("../../testdata/policy/acme.yaml")
	page := filepath.Join(dir, "page.html")
	os.WriteFile(page, []byte("<p>hello</p>"), 0o600)
	const exitHelpLine = "Exit status: 0 ok, 1 refused or findings, 2 usage or runtime error."
	rows := []struct {
		args []string
		code int
		// stdout and stderr must contain these; "" alone means empty.
		out, err []string
	}{
		{args: nil, code: 0, out: []string{"Usage:", "Available Commands:", "approve", exitHelpLine}, err: []string{""}},
		{args: []string{"--help"}, code: 0, out: []string{"Usage:", "status", "completion", exitHelpLine}, err: []string{""}},
		{args: []string{"-h"}, code: 0, out: []string{"Usage:"}, err: []string{""}},
		{args: []string{"help"}, code: 0, out: []string{"Available Commands:"}, err: []string{""}},
		{args: []string{"help", "serve"}, code: 0, out: []string{"lastmile serve [--http ADDR]", "--http ADDR", "--data-dir DIR", exitHelpLine}, err: []string{""}},
		{args: []string{"serve", "--help"}, code: 0, out: []string{"lastmile serve [--http ADDR]", "--log-level"}, err: []string{""}},
		{args: []string{"help", "connect", "wordpress"}, code: 0, out: []string{"--password-env VAR"}, err: []string{""}},
		{args: []string{"connect", "--help"}, code: 0, out: []string{"hubspot", "mailchimp", "wordpress", "Available Commands:"}, err: []string{""}},
		{args: []string{"connect", "hubspot", "--help"}, code: 0, out: []string{"--token-env VAR"}, err: []string{""}},
		{args: []string{"approve", "--help"}, code: 0, out: []string{"lastmile approve PLAN", "--no-diff", "--scripted", "terminals"}, err: []string{""}},
		{args: []string{"check", "--help"}, code: 0, out: []string{"--policy FILE", "--json", "Exit status 1 when any error-level finding exists"}, err: []string{""}},
		{args: []string{"demo", "--help"}, code: 0, out: []string{"default: a new temporary directory", "--cleanup", "--yes"}, err: []string{""}},
		{args: []string{"--version"}, code: 0, out: []string{"lastmile " + testVersion + "\n"}, err: []string{""}},
		{args: []string{"version"}, code: 0, out: []string{"lastmile " + testVersion + "\n"}, err: []string{""}},
		{args: []string{"completion", "bash"}, code: 0, out: []string{"bash completion", "__lastmile"}, err: []string{""}},
		{args: []string{"completion", "zsh"}, code: 0, out: []string{"#compdef lastmile"}, err: []string{""}},
		{args: []string{"completion", "fish"}, code: 0, out: []string{"complete -c lastmile"}, err: []string{""}},
		{args: []string{"__complete", "plans", "--status", ""}, code: 0, out: []string{"pending\n", "promoted\n"}},
		{args: []string{"__complete", "conn"}, code: 0, out: []string{"connect"}},

		{args: []string{"frobnicate"}, code: 2, out: []string{""}, err: []string{`lastmile: unknown command "frobnicate"`, "Run 'lastmile --help' for usage."}},
		{args: []string{"plan"}, code: 2, out: []string{""}, err: []string{`unknown command "plan"; did you mean plans?`}},
		{args: []string{"help", "frobnicate"}, code: 2, out: []string{""}, err: []string{`unknown command "frobnicate"`}},
		{args: []string{"version", "extra"}, code: 2, out: []string{""}, err: []string{`unexpected argument "extra"`}},
		{args: []string{"plans", "--status", "bogus"}, code: 2, out: []string{""}, err: []string{`lastmile plans: invalid argument "bogus" for "--status" flag: must be one of pending, blocked, approved`, "Run 'lastmile plans --help' for usage."}},
		{args: []string{"plans", "extra"}, code: 2, out: []string{""}, err: []string{`lastmile plans: unexpected argument "extra" (plans takes none)`}},
		{args: []string{"plans", "--dat-dir", dir}, code: 2, out: []string{""}, err: []string{"unknown flag: --dat-dir; did you mean --data-dir?"}},
		{args: []string{"plans", "--json=maybe"}, code: 2, out: []string{""}, err: []string{`invalid argument "maybe"`}},
		{args: []string{"audit", "--limit", "0"}, code: 2, out: []string{""}, err: []string{"--limit must be at least 1"}},
		{args: []string{"audit", "--limit", "many"}, code: 2, out: []string{""}, err: []string{`invalid argument "many" for "--limit"`}},
		{args: []string{"serve", "--log-level", "loud"}, code: 2, out: []string{""}, err: []string{`invalid argument "loud" for "--log-level"`}},
		{args: []string{"serve", "stdio"}, code: 2, out: []string{""}, err: []string{`unexpected argument "stdio"`}},
		{args: []string{"serve", "--http"}, code: 2, out: []string{""}, err: []string{"flag needs an argument: --http"}},
		{args: []string{"approve"}, code: 2, out: []string{""}, err: []string{"lastmile approve: missing PLAN"}},
		{args: []string{"approve", "pln_a", "pln_b"}, code: 2, out: []string{""}, err: []string{`unexpected argument "pln_b" (approve takes PLAN)`}},
		{args: []string{"approve", "pln_a", "--code", "abc234"}, code: 2, out: []string{""}, err: []string{"unknown flag: --code"}},
		{args: []string{"reject", "pln_a"}, code: 2, out: []string{""}, err: []string{"give a reason (--reason TEXT)"}},
		{args: []string{"connect"}, code: 2, out: []string{""}, err: []string{"name the platform: lastmile connect hubspot|mailchimp|wordpress|webflow|google-ads|meta"}},
		{args: []string{"connect", "myspace"}, code: 2, out: []string{""}, err: []string{`unknown platform "myspace": use hubspot, mailchimp, wordpress, webflow, google-ads or meta`}},
		{args: []string{"connect", "hubspt"}, code: 2, out: []string{""}, err: []string{"did you mean hubspot?"}},
		{args: []string{"connect", "wordpress", "--data-dir", dir}, code: 2, out: []string{""}, err: []string{"missing --url, --user, --password-env"}},
		{args: []string{"check"}, code: 2, out: []string{""}, err: []string{"missing FILE.html"}},
		{args: []string{"check", page, "--policy", policy, "--channel", "sms"}, code: 2, out: []string{""}, err: []string{`invalid argument "sms" for "--channel" flag: must be one of email, page`}},
		{args: []string{"check", filepath.Join(dir, "missing.html"), "--policy", policy}, code: 2, out: []string{""}, err: []string{"missing.html"}},
		{args: []string{"demo", "--cleanup", "--data-dir", filepath.Join(dir, "d")}, code: 2, out: []string{""}, err: []string{"--cleanup removes only the demo's own temporary directory"}},

		// Refusals: 1.
		{args: []string{"approve", "pln_a", "--data-dir", dir}, code: 1, out: []string{""}, err: []string{"is a terminal", "nothing was approved"}},
		{args: []string{"demo"}, code: 1, out: []string{""}, err: []string{"no terminal", "--yes"}},
	}
	for _, r := range rows {
		t.Run(strings.Join(r.args, " "), func(t *testing.T) {
			out, errOut, code := runBin(t, r.args...)
			if code != r.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, r.code, out, errOut)
			}
			check := func(stream, got string, want []string) {
				if len(want) == 1 && want[0] == "" {
					if got != "" {
						t.Errorf("%s should be empty:\n%s", stream, got)
					}
					return
				}
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("%s lacks %q:\n%s", stream, w, got)
					}
				}
			}
			check("stdout", out, r.out)
			check("stderr", errOut, r.err)
			// An error is said once: the message, and for usage a pointer to help.
			if r.code != 0 {
				if n := strings.Count(errOut, "\n"); n > 2 {
					t.Errorf("stderr has %d lines, want the error once:\n%s", n, errOut)
				}
				if r.code == 2 && len(r.err) > 0 && strings.Count(errOut, r.err[0]) != 1 {
					t.Errorf("the error is not said exactly once:\n%s", errOut)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(dir)); len(entries) != 1 {
		t.Errorf("usage errors wrote into %s: %v", dir, entries)
	}
}

// The completion scripts are valid shell.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		out, _, code := runBin(t, "completion", sh)
		if code != 0 {
			t.Fatalf("completion %s: exit %d", sh, code)
		}
		f := filepath.Join(t.TempDir(), "completion."+sh)
		os.WriteFile(f, []byte(out), 0o600)
		check := exec.Command(path, "-n", f)
		if sh == "fish" {
			check = exec.Command(path, "--no-execute", f)
		}
		if msg, err := check.CombinedOutput(); err != nil {
			t.Errorf("completion %s does not parse: %v\n%s", sh, err, msg)
		}
	}
}

// Commands that read a data directory and find nothing say which one
// they looked in and how to choose another, and create nothing.
func TestMissingDataDirectory(t *testing.T) {
	home := t.TempDir()
	def := filepath.Join(home, ".local", "share", "lastmile")
	missing := filepath.Join(t.TempDir(), "nowhere")
	fromEnv := filepath.Join(t.TempDir(), "env-home")
	rows := []struct {
		name string
		env  []string
		args []string
		code int
		dir  string // named on stdout or stderr
		also string
	}{
		{"plans --data-dir", nil, []string{"plans", "--data-dir", missing}, 0, missing, "from --data-dir"},
		{"plans LASTMILE_HOME", []string{"LASTMILE_HOME=" + fromEnv}, []string{"plans"}, 0, fromEnv, "from $LASTMILE_HOME"},
		{"plans default", []string{"HOME=" + home}, []string{"plans"}, 0, def, "the default"},
		{"plans --json", nil, []string{"plans", "--json", "--data-dir", missing}, 2, missing, "no data directory at"},
		{"plans --status", nil, []string{"plans", "--status", "pending", "--data-dir", missing}, 0, missing, "No plans in"},
		{"audit", nil, []string{"audit", "--data-dir", missing}, 0, missing, "No audit entries in"},
		{"status", nil, []string{"status", "--data-dir", missing}, 0, missing, "not set up"},
		{"approve --scripted", nil, []string{"approve", "pln_01abc", "--scripted", "--data-dir", missing}, 2, missing, "no plan pln_01abc in"},
		{"approve, no terminal", nil, []string{"approve", "pln_01abc", "--data-dir", missing}, 1, "", "is a terminal"},
		{"reject", nil, []string{"reject", "pln_01abc", "--reason", "no", "--data-dir", missing}, 2, missing, "no plan pln_01abc in"},
		{"check without --policy", nil, []string{"check", "x.html", "--data-dir", missing}, 2, missing, "pass --policy FILE"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			out, errOut, code := runBinWith(t, r.env, r.args...)
			screen := out + errOut
			if code != r.code {
				t.Errorf("exit %d, want %d\n%s", code, r.code, screen)
			}
			if r.dir != "" && !strings.Contains(screen, r.dir) {
				t.Errorf("does not name %s:\n%s", r.dir, screen)
			}
			if r.dir != "" && !strings.Contains(screen, "--data-dir DIR or LASTMILE_HOME=DIR") {
				t.Errorf("does not say how to choose another directory:\n%s", screen)
			}
			if !strings.Contains(screen, r.also) {
				t.Errorf("lacks %q:\n%s", r.also, screen)
			}
			for _, d := range []string{missing, fromEnv, def} {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("%s was created", d)
				}
			}
		})
	}

	// A directory that init made, before any server ran: read-only
	// commands leave it without a database.
	dir := filepath.Join(t.TempDir(), "fresh")
	if _, _, code := runBin(t, "init", "--data-dir", dir); code != 0 {
		t.Fatal("init failed")
	}
	for _, args := range [][]string{{"plans"}, {"audit"}, {"status"}, {"approve", "pln_x", "--scripted"}} {
		out, errOut, _ := runBin(t, append(args, "--data-dir", dir)...)
		if !strings.Contains(out+errOut, dir) {
			t.Errorf("%s does not name %s:\n%s%s", args[0], dir, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "lastmile.db")); err == nil {
			t.Fatalf("%s created lastmile.db", args[0])
		}
	}
	out, _, _ := runBin(t, "status", "--data-dir", dir)
	for _, want := range []string{"Data directory  " + dir + " (from --data-dir)", filepath.Join(dir, "policy.yaml"), "local (local, default) ready", "Plans           none yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// lastmile status on a served directory: the policy, the targets and
// the plan waiting for a person. The approve command the agent relays
// names the data directory, since it is not the default.
func TestStatusAndApproveCommand(t *testing.T) {
	dir, s, campaign, planID := servedPlan(t)
	defer s.stop()
	out, errOut, code := runBin(t, "status", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{dir, "Policy          " + filepath.Join(dir, "policy.yaml"), "approvals count from", "local (local, default) ready", "1 plan open", planID, "pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	res := s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})
	if cmd, _ := res["approve_command"].(string); cmd != "lastmile approve "+res["id"].(string)+" --data-dir "+dir {
		t.Errorf("approve_command = %q, want it to name --data-dir %s", cmd, dir)
	}
	if next, _ := res["next"].(string); !strings.Contains(next, "--data-dir "+dir) {
		t.Errorf("next does not name the data directory: %s", next)
	}
	confirm := s.call("confirm_promotion", map[string]any{"plan_id": planID})
	if !confirm.IsError || !strings.Contains(confirm.text(), "lastmile approve "+planID+" --data-dir "+dir) {
		t.Errorf("the refusal does not relay the approve command with --data-dir:\n%s", confirm.text())
	}
}

// serve adds --data-dir to the approve command only when a person's
// terminal would not find the directory by default.
func TestServeApproveArgs(t *testing.T) {
	home := t.TempDir()
	def := filepath.Join(home, ".local", "share", "lastmile")
	for _, r := range []struct {
		flag string
		env  map[string]string
		want []string
	}{
		{"", map[string]string{"HOME": home}, nil},
		{def, map[string]string{"HOME": home}, nil},
		{"", map[string]string{"HOME": home, "LASTMILE_HOME": def}, nil},
		{"", map[string]string{"HOME": home, "LASTMILE_HOME": "/srv/lastmile"}, []string{"--data-dir", "/srv/lastmile"}},
		{"/srv/other", map[string]string{"HOME": home}, []string{"--data-dir", "/srv/other"}},
	} {
		e := &env{getenv: func(k string) string { return r.env[k] }}
		o, err := serveOptions(e, common{dataDir: r.flag})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(o.approveArgs, " ") != strings.Join(r.want, " ") {
			t.Errorf("--data-dir %q, env %v: approve args %q, want %q", r.flag, r.env, o.approveArgs, r.want)
		}
	}
}
