package sandbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/memlimit"
	"github.com/lastmile/lastmile/report"
	"github.com/lastmile/lastmile/sandbox"
)

// The history of BenchmarkReport: 1,000 campaigns made, approved and
// confirmed on local over November 2026, and 10,000,000 events about their
// emails by 200,000 contacts in the same month (as outcomes
// BenchmarkInsights10M has them).
const (
	reportCampaigns = 1000
	reportEvents    = 10_000_000
	reportPeriod    = "2026-11"
)

var reportNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// reportHistory makes BenchmarkReport's data directory: every campaign a
// segment and an email sent to it, 8 to 32 minutes from brief to live; then
// the events, synced from events.jsonl, and the aggregate kept.
func reportHistory(b *testing.B, dir string) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)}
	e := openEnv(b, dir, envOptions{clock: clk})
	live := make([]string, 0, reportCampaigns)
	for i := range reportCampaigns {
		c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: fmt.Sprintf("Campaign %d", i), Markets: []string{"US"},
			UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: fmt.Sprintf("c%d", i)}})
		if err != nil {
			b.Fatal(err)
		}
		seg, err := e.sb.StageSegment(ctx, "bench", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprintf("Customers %d", i), Match: "all",
			Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
		if err != nil {
			b.Fatal(err)
		}
		subjects := []string{"Spring is here", "Did you see our new range?", "3 ideas for your garden", "{{ contact.firstname | default: \"Friend\" }}, this is for you"}
		em, err := e.sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Email %d", i), Subject: subjects[i%len(subjects)],
			FromName: "Acme", FromEmail: "news@acme.com", HTML: `<html><body><p>Hi, <a href="https://www.acme.com/spring">shop the range</a>.</p></body></html>`,
			Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}})
		if err != nil {
			b.Fatal(err)
		}
		clk.Add(time.Duration(5+i%4*5) * time.Minute)
		p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
		if err != nil {
			b.Fatal(err)
		}
		clk.Add(time.Duration(3+i%10) * time.Minute)
		if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(b, e.sb, p.ID)}); err != nil {
			b.Fatal(err)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			b.Fatal(err)
		}
		v, err := e.sb.GetCampaign(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range v.Artifacts {
			if a.ID == em.Artifact.ID && a.Live != nil {
				live = append(live, a.Live.LiveID)
			}
		}
		clk.Add(20 * time.Minute)
	}
	if len(live) != reportCampaigns {
		b.Fatalf("%d of %d emails went live", len(live), reportCampaigns)
	}

	f, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	step := 29 * 24 * time.Hour / reportEvents
	types := []string{"sent", "delivered", "open", "click"}
	for i := range reportEvents {
		at := start.Add(time.Duration(i) * step).Format(time.RFC3339)
		contact := (i / 4) % 200_000
		if i%100 == 99 {
			fmt.Fprintf(w, `{"type":"purchase","email":"c%d@example.com","at":%q,"revenue":"%d.50","currency":"USD"}`+"\n", contact, at, 20+i%80)
			continue
		}
		fmt.Fprintf(w, `{"type":%q,"artifact":%q,"email":"c%d@example.com","at":%q}`+"\n", types[i%len(types)], live[(i/4)%len(live)], contact, at)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	for kept := 0; ; {
		rep, err := e.sb.SyncOutcomes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		news := 0
		for _, r := range rep {
			if r.Error != "" {
				b.Fatal(r.Error)
			}
			news += r.New
		}
		if kept += news; news == 0 {
			if kept != reportEvents {
				b.Fatalf("kept %d events of %d", kept, reportEvents)
			}
			break
		}
	}
	if _, err := e.sb.Insights(ctx); err != nil { // keeps the aggregate
		b.Fatal(err)
	}
	e.st.Close()
}

// askReport is get_report's work: Gather and Build.
func askReport(tb testing.TB, sb *sandbox.Sandbox) report.Report {
	in, err := report.Gather(context.Background(), sb, reportPeriod, reportNow, "")
	if err != nil {
		tb.Fatal(err)
	}
	return report.Build(in)
}

// envReportHistory names a directory to keep BenchmarkReport's history in
// between runs: making it takes some six minutes and 7 GB.
const envReportHistory, envReportRSS = "LASTMILE_REPORT_HISTORY", "LASTMILE_REPORT_RSS_DIR"

// TestReportRSSChild answers get_report and get_insights in a process just
// started on BenchmarkReport's data directory, under the memory limit
// lastmile serve sets, and prints its peak resident memory.
func TestReportRSSChild(t *testing.T) {
	dir := os.Getenv(envReportRSS)
	if dir == "" {
		t.Skip("runs only as BenchmarkReport's child")
	}
	debug.SetMemoryLimit(memlimit.Floor)
	e := openEnv(t, dir, envOptions{clock: &clock{t: reportNow}})
	for range 3 {
		r := askReport(t, e.sb)
		if _, err := e.sb.Insights(context.Background()); err != nil {
			t.Fatal(err)
		}
		live, _ := memlimit.Live()
		debug.SetMemoryLimit(memlimit.For(live)) // as serve's ticker does
		runtime.KeepAlive(r)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc on this system")
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Printf("RSS %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
}

// BenchmarkReport: get_report for a month and get_insights over 1,000
// campaigns and 10,000,000 events, end to end: for the report, the audit
// log and the campaigns read from the store, the period's engagement and
// credited conversions from the aggregate, the report built; for both, the
// catalog of live artifacts. first is a process just started (it reads the
// kept aggregate), warm one that answered before; rss is the peak resident
// memory of a process of its own answering get_report and get_insights
// three times. Budget: ≤ 1 s, ≤ 200 MB.
func BenchmarkReport(b *testing.B) {
	if testing.Short() {
		b.Skip("keeps 10,000,000 events")
	}
	dir := os.Getenv(envReportHistory)
	if dir == "" {
		dir = b.TempDir()
	}
	if _, err := os.Stat(filepath.Join(dir, "history-made")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		reportHistory(b, dir)
		if err := os.WriteFile(filepath.Join(dir, "history-made"), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	questions := []struct {
		name string
		ask  func(b *testing.B, sb *sandbox.Sandbox)
	}{
		{"report", func(b *testing.B, sb *sandbox.Sandbox) {
			if r := askReport(b, sb); len(r.Campaigns) != reportCampaigns {
				b.Fatalf("the report has %d campaigns, want %d", len(r.Campaigns), reportCampaigns)
			}
		}},
		{"insights", func(b *testing.B, sb *sandbox.Sandbox) {
			if ins, err := sb.Insights(context.Background()); err != nil || ins.Emails != reportCampaigns {
				b.Fatalf("insights over %d emails (%v), want %d", ins.Emails, err, reportCampaigns)
			}
		}},
	}
	for _, q := range questions {
		b.Run(q.name+"/first", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := openEnv(b, dir, envOptions{clock: &clock{t: reportNow}})
				b.StartTimer()
				q.ask(b, e.sb)
				b.StopTimer()
				e.st.Close()
				b.StartTimer()
			}
		})
		b.Run(q.name+"/warm", func(b *testing.B) {
			e := openEnv(b, dir, envOptions{clock: &clock{t: reportNow}})
			q.ask(b, e.sb)
			for b.Loop() {
				q.ask(b, e.sb)
			}
			e.st.Close()
		})
	}
	b.Run("rss", func(b *testing.B) {
		if _, err := os.Stat("/proc/self/status"); err != nil {
			b.Skip("peak memory is read from /proc")
		}
		for b.Loop() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestReportRSSChild$", "-test.v")
			cmd.Env = append(os.Environ(), envReportRSS+"="+dir, "GOMEMLIMIT=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			for _, l := range strings.Split(string(out), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "RSS" {
					kb, _ := strconv.ParseFloat(f[1], 64)
					b.ReportMetric(kb/1024, "peak-RSS-MB")
				}
			}
		}
	})
}
