//go:build !windows

package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/lastmile/lastmile/governance"
)

type screenBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *screenBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *screenBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The questionnaire at a real (pseudo-)terminal: each answer is typed once
// its question is on the screen, as a person would.
func TestOnboardOnTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	screen := &screenBuffer{}
	go io.Copy(screen, ptmx) //nolint:errcheck // ends when the pty closes

	type result struct {
		a   governance.BrandAnswers
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := onboard(tty, tty, onboardOptions{Interactive: true, Company: "Northwind Coffee Roasters"})
		done <- result{a, err}
	}()

	seen := 0
	waitFor := func(prompt string) {
		t.Helper()
		// A guard against a hung questionnaire, not a timing assertion.
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen.String()
			if i := strings.Index(s[seen:], prompt); i >= 0 {
				seen += i + len(prompt)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q on the screen:\n%s", prompt, s)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	answer := func(prompt, typed string) {
		t.Helper()
		waitFor(prompt)
		if _, err := ptmx.Write([]byte(typed + "\r")); err != nil {
			t.Fatal(err)
		}
	}
	answer("Company name (the sender recipients see in the footer) [Northwind Coffee Roasters]: ", "")
	answer("Postal address", "1 Bean Street, Portland, OR 97201, USA")
	answer("Website: ", "ftp://northwind.coffee")
	waitFor("must start with https://")
	answer("Website: ", "https://northwind.coffee")
	answer("Sending domains (comma-separated) [northwind.coffee]: ", "")
	answer("Default sender name [Northwind Coffee Roasters]: ", "Northwind Coffee")
	answer("Default sender email [hello@northwind.coffee]: ", "")
	answer("Markets", "US, CA")
	answer("Industry", "food")
	for _, k := range governance.BrandColorKeys {
		answer(k+" colour: ", "")
	}
	answer("body font: ", "")
	answer("heading font: ", "")
	answer("logo URL (https): ", "")
	answer("Approvers", "")

	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the questionnaire did not finish:\n%s", screen.String())
	}
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, screen.String())
	}
	a := r.a
	if a.Company != "Northwind Coffee Roasters" || a.PostalAddress != "1 Bean Street, Portland, OR 97201, USA" || a.Website != "https://northwind.coffee" ||
		a.FromName != "Northwind Coffee" || a.FromEmail != "hello@northwind.coffee" || strings.Join(a.Markets, ",") != "US,CA" || a.Industry != "food" {
		t.Errorf("answers = %+v", a)
	}
}
