//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lastmile init at a terminal asks for the brand, shows the flags as the
// defaults, asks again after a bad answer, and writes the policy.
func TestInitInteractive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	term := onTerminal(t, "init", "--data-dir", dir, "--company", "Northwind Coffee Roasters",
		"--address", "1 Bean Street, Portland, OR 97201, USA", "--market", "US")
	term.waitFor("Company name")
	term.typeLine("")
	term.waitFor("Postal address")
	term.typeLine("")
	term.waitFor("Website")
	term.typeLine("not a website")
	for deadline := time.Now().Add(safety); strings.Count(term.screen.String(), "Website") < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a bad website was not asked again:\n%s", term.screen.String())
		}
	}
	term.typeLine("northwind.coffee")
	term.waitFor("Sending domains")
	for i := 0; i < 20; i++ { // Enter keeps every remaining default
		term.typeLine("")
	}
	screen, status := term.wait()
	if status != 0 {
		t.Fatalf("init exited %d:\n%s", status, screen)
	}
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Northwind Coffee Roasters", "1 Bean Street", "https://northwind.coffee", "hello@northwind.coffee"} {
		if !strings.Contains(string(policy), want) {
			t.Errorf("policy lacks %q:\n%s", want, policy)
		}
	}
}
