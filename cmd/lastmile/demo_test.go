//go:build !windows

package main

import (
	"github.com/lastmile/lastmile/internal/passkeytest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The demo at a terminal: a mistyped code is asked for again, the
// artifacts are named next to their ids, and it ends with the client
// configuration for the data directory serve would use.
func TestDemoAtTerminal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	term := onTerminal(t, "demo", "--data-dir", dir)
	code := regexp.MustCompile(`(?m)\): code ([0-9a-z]{6})$`).FindStringSubmatch(term.waitFor("Type the code to approve"))
	if code == nil {
		t.Fatalf("no code on the screen:\n%s", term.screen.String())
	}
	term.typeLine("zzzzzz")
	term.waitFor("is not the code above (try 1 of 3")
	term.typeLine(code[1])
	screen, status := term.wait()
	if status != 0 {
		t.Fatalf("demo: status %d\n%s", status, screen)
	}
	for _, want := range []string{
		`"Engaged US customers", 5 members`, `"Launch announcement"`, `"Acme Insights walkthrough"`,
		"approved", "lastmile approve pln_", "--data-dir " + dir,
		"next: connect Claude Desktop / Claude Code", `"command": "` + bin + `"`, `"serve"`,
		"claude mcp add lastmile -- " + bin + " serve",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the demo lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "LASTMILE_HOME") {
		t.Errorf("the client config names LASTMILE_HOME for the default data directory:\n%s", screen)
	}
}

// The demo serves the review page too: the person enrols through the link
// it prints, approves the plan on its page with a passkey, and the demo
// goes on without the code being typed.
func TestDemoApprovedOnTheReviewPage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	term := onTerminal(t, "demo", "--data-dir", dir)
	screen := term.waitFor("Type the code to approve")
	link := regexp.MustCompile(`open (http://localhost:\d+/enrol/\S+) to register`).FindStringSubmatch(screen)
	plan := regexp.MustCompile(`approve the plan on its page, (http://localhost:\d+/plans/\S+)`).FindStringSubmatch(screen)
	if link == nil || plan == nil {
		t.Fatalf("no review page on the screen:\n%s", screen)
	}
	origin := plan[1][:strings.Index(plan[1], "/plans/")]
	r := passkeytest.NewReviewer(t, origin)
	if err := r.Enrol(link[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Approve(plan[1]); err != nil {
		t.Fatal(err)
	}
	term.waitFor("approved on the review page by demo@example.com")
	screen, status := term.wait()
	if status != 0 || !strings.Contains(screen, "promoted") {
		t.Fatalf("demo: status %d\n%s", status, screen)
	}
}

// demo --yes --cleanup says where its temporary directory is and removes
// it; without --cleanup it stays, and the demo says so. The engagement it
// simulates is the same on every run.
func TestDemoTemporaryDirectory(t *testing.T) {
	tmp := t.TempDir()
	metrics := regexp.MustCompile(`(?m)^   (eml|pg)_\S+\s+(.*)$`)
	var tables []string
	for _, cleanup := range []bool{true, false} {
		args := []string{"demo", "--yes"}
		if cleanup {
			args = append(args, "--cleanup")
		}
		out, errOut, code := runBinWith(t, []string{"TMPDIR=" + tmp}, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		m := regexp.MustCompile(`temporary data directory (\S+)`).FindStringSubmatch(out)
		if m == nil || !strings.HasPrefix(m[1], tmp) {
			t.Fatalf("%v does not say where its temporary directory is:\n%s", args, out)
		}
		_, err := os.Stat(m[1])
		switch {
		case cleanup && (err == nil || !strings.Contains(out, "Removed the demo's data directory "+m[1])):
			t.Errorf("--cleanup left %s, or did not say so:\n%s", m[1], out)
		case !cleanup && (err != nil || !strings.Contains(out, "rm -rf "+m[1])):
			t.Errorf("without --cleanup %s is gone, or the demo does not say how to remove it: %v\n%s", m[1], err, out)
		}
		var rows []string
		for _, r := range metrics.FindAllStringSubmatch(out[strings.Index(out, "ARTIFACT"):], -1) {
			rows = append(rows, r[2])
		}
		// The report ends the demo, with the deals and purchases it seeded.
		money := regexp.MustCompile(`(?m)^    pipeline .*; revenue .*$`).FindString(out)
		if money == "" || strings.Contains(money, "revenue none") || !strings.Contains(out, "report.html") {
			t.Errorf("%v: no report with revenue at the end:\n%s", args, out)
		}
		tables = append(tables, strings.Join(rows, "\n")+"\n"+money)
	}
	if tables[0] == "" || tables[0] != tables[1] {
		t.Errorf("the simulated engagement differs between runs:\n%s\n--\n%s", tables[0], tables[1])
	}
}
