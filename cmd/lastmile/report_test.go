package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lastmile report over the demo's data directory: the JSON has the live
// campaign and its seeded revenue, --html writes the page with its charts,
// and a period it cannot read is a usage error.
func TestReportCommand(t *testing.T) {
	tmp := t.TempDir()
	out, errOut, code := runBinWith(t, []string{"TMPDIR=" + tmp}, "demo", "--yes")
	if code != 0 {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
	}
	dir := regexp.MustCompile(`temporary data directory (\S+)`).FindStringSubmatch(out)[1]
	today := time.Now().UTC()
	period := today.Format(time.DateOnly) + ".." + today.AddDate(0, 0, 6).Format(time.DateOnly)
	html := filepath.Join(t.TempDir(), "r.html")
	js, errOut, code := runBin(t, "report", "--data-dir", dir, "--period", period, "--json", "--html", html)
	if code != 0 {
		t.Fatalf("report: %d %s", code, errOut)
	}
	var r struct {
		Live    int `json:"campaigns_live"`
		Revenue []struct {
			Amount   string `json:"amount"`
			Currency string `json:"currency"`
		} `json:"revenue"`
		Model string `json:"attribution_model"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if r.Live != 1 || len(r.Revenue) != 1 || r.Revenue[0].Currency != "USD" || r.Model != "last_touch" {
		t.Fatalf("report: %+v", r)
	}
	page, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(page), `id="chart-revenue"`) {
		t.Fatalf("--html: %v %.200s", err, page)
	}
	if text, _, code := runBin(t, "report", "--data-dir", dir, "--period", period, "--model", "linear", "--no-sync"); code != 0 || !strings.Contains(text, "(linear attribution)") {
		t.Fatalf("--model linear: %d %s", code, text)
	}
	if _, errOut, code := runBin(t, "report", "--data-dir", dir, "--period", "someday"); code != 2 || !strings.Contains(errOut, "is not a period") {
		t.Fatalf("a bad period: %d %s", code, errOut)
	}
}
