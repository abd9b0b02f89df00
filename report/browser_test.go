package report

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lastmile/lastmile/internal/browsertest"
)

// The HTML report in headless Chromium: the four charts draw their bars,
// nothing throws, and a screenshot is kept as a test artifact.
func TestHTMLInABrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, Build(fixture())); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var thrown []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			thrown = append(thrown, e.ExceptionDetails.Text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`["weeks","funnel","revenue","ttl"].map(id => document.querySelectorAll("#chart-" + id + " svg rect.bar").length)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(bars) != 4 || bars[0] < 4 || bars[1] != 4 || bars[2] != 2 || bars[3] != 6 {
		t.Errorf("bars per chart (weeks, funnel, revenue, time to live): %v", bars)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("#chart-funnel svg").getBoundingClientRect().width`))
	if err != nil || width < 300 {
		t.Errorf("the funnel chart is %d px wide (%v)", width, err)
	}
	browsertest.Screenshot(t, ctx, "report", 1280)
	mu.Lock()
	defer mu.Unlock()
	if len(thrown) > 0 {
		t.Errorf("script errors: %q", thrown)
	}
}
