package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

var november = struct{ from, to time.Time }{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

func usd(minor int64) outcomes.Money { return outcomes.Money{Minor: minor, Currency: "USD"} }

// fixture is a month of three campaigns: Spring went live in 2 days and
// sold, Winback in 9 days (two approvers, the second a day later), Draft
// only staged; October's campaign is outside the period.
func fixture() Input {
	audit := []sandbox.AuditEntry{
		{At: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), Action: "create_campaign", CampaignID: "cmp_oct"},
		{At: time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC), Action: "promotion_finished", CampaignID: "cmp_oct", Object: "pln_oct"},
		{At: at(2, 9), Action: "create_campaign", CampaignID: "cmp_spring"},
		{At: at(2, 10), Action: "stage_email", CampaignID: "cmp_spring"},
		{At: at(3, 9), Action: "plan_promotion", CampaignID: "cmp_spring", Object: "pln_s"},
		{At: at(3, 15), Action: "approve_plan", CampaignID: "cmp_spring", Object: "pln_s", Detail: map[string]any{"still_missing": ""}},
		{At: at(4, 9), Action: "promotion_finished", CampaignID: "cmp_spring", Object: "pln_s"},
		{At: at(5, 9), Action: "create_campaign", CampaignID: "cmp_winback"},
		{At: at(12, 9), Action: "plan_promotion", CampaignID: "cmp_winback", Object: "pln_w"},
		{At: at(12, 11), Action: "approve_plan", CampaignID: "cmp_winback", Object: "pln_w", Detail: map[string]any{"still_missing": "1 of 2 approvals"}},
		{At: at(13, 11), Action: "approve_plan", CampaignID: "cmp_winback", Object: "pln_w", Detail: map[string]any{"still_missing": ""}},
		{At: at(14, 9), Action: "promotion_finished", CampaignID: "cmp_winback", Object: "pln_w"},
		{At: at(20, 9), Action: "create_campaign", CampaignID: "cmp_draft"},
	}
	cost := usd(50000)
	return Input{
		Period: "2026-11", From: november.from, To: november.to, Model: "last-touch", Audit: audit,
		Campaigns: []Campaign{
			{ID: "cmp_oct", Name: "October", CreatedAt: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)},
			{ID: "cmp_spring", Name: "Spring launch", CreatedAt: at(2, 9), Cost: &cost},
			{ID: "cmp_winback", Name: "Win back <lapsed>", CreatedAt: at(5, 9)},
			{ID: "cmp_draft", Name: "Draft", CreatedAt: at(20, 9)},
		},
		Results: map[string]Result{
			"cmp_spring":  {Sent: 1000, UniqueOpens: 420, UniqueClicks: 120, Conversions: 12, Pipeline: []outcomes.Money{usd(2400000)}, Revenue: []outcomes.Money{usd(180000)}},
			"cmp_winback": {Sent: 300, UniqueOpens: 90, UniqueClicks: 15, Conversions: 2.5, Revenue: []outcomes.Money{usd(20000), {Minor: 9000, Currency: "EUR"}}},
		},
	}
}

// The report's numbers for a fixed audit log and results, exactly.
func TestBuildGolden(t *testing.T) {
	got, err := json.MarshalIndent(Build(fixture()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", got)
	r := Build(fixture())
	if r.Staged != 3 || r.Approved != 2 || r.Live != 2 {
		t.Errorf("staged %d approved %d live %d", r.Staged, r.Approved, r.Live)
	}
	if r.TimeToLive.N != 2 || r.TimeToLive.Median != (48+216)/2 || r.TimeToLive.P90 != 216 {
		t.Errorf("brief to live %+v", r.TimeToLive)
	}
	if r.ApprovalWait.N != 2 || r.ApprovalWait.Median != (6+26)/2.0 {
		t.Errorf("approval wait %+v", r.ApprovalWait)
	}
	if len(r.ROI) != 1 || r.ROI[0] != (ROI{Currency: "USD", Ratio: 3}) {
		t.Errorf("ROI %+v (revenue 2000.00 USD on 500.00 USD)", r.ROI)
	}
}

// The HTML report holds the four charts, the campaign rows, and agent
// text inert.
func TestHTML(t *testing.T) {
	in := fixture()
	in.Campaigns[2].Name = "Win back \u202e<script>alert(1)</script>"
	var b bytes.Buffer
	if err := WriteHTML(&b, Build(in)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`id="chart-weeks"`, `id="chart-funnel"`, `id="chart-revenue"`, `id="chart-ttl"`, "Spring launch", "2000.00 USD", "300%"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "\u202e") {
		t.Errorf("agent text is live in the page")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("LASTMILE_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (LASTMILE_UPDATE_GOLDEN=1 writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}
