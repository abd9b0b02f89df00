//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lastmile/lastmile/internal/browsertest"
)

// TestReadmeScreenshot makes the README's picture of the review page: the
// demo's campaign, enrolled and opened in Debian's chromium. It runs only
// when asked, with the file to write:
//
//	LASTMILE_README_SCREENSHOT=$PWD/docs/review-page.png go test ./cmd/lastmile -run TestReadmeScreenshot
func TestReadmeScreenshot(t *testing.T) {
	out := os.Getenv("LASTMILE_README_SCREENSHOT")
	if out == "" {
		t.Skip("set LASTMILE_README_SCREENSHOT=FILE to write the README's screenshot")
	}
	term := onTerminal(t, "demo", "--data-dir", filepath.Join(t.TempDir(), "demo"))
	screen := term.waitFor("Type the code to approve")
	link := regexp.MustCompile(`open (http://localhost:\d+/enrol/\S+) to register`).FindStringSubmatch(screen)
	plan := regexp.MustCompile(`approve the plan on its page, (http://localhost:\d+/plans/\S+)`).FindStringSubmatch(screen)
	if link == nil || plan == nil {
		t.Fatalf("no review page on the screen:\n%s", screen)
	}
	ctx := browsertest.Start(t)
	if _, err := browsertest.AddAuthenticator(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link[1]), chromedp.Click(chromedp.CSS("#enrol")), chromedp.Sleep(2*time.Second),
		chromedp.Navigate(plan[1]), chromedp.Sleep(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("iframe").forEach((f) => { f.loading = "eager"; }); "ok"`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	t.Setenv("LASTMILE_ARTIFACTS", t.TempDir())
	shot := browsertest.Screenshot(t, ctx, "review", 1280)
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	term.typeLine("")
}
