package sandbox_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/sandbox"
)

// bigCampaign stages 100 artifacts: 20 segments, 40 emails (20 broadcast,
// 20 sent only by workflows), 20 pages with forms and 20 workflows.
func bigCampaign(b testing.TB, e *env) string {
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}, Industry: "retail", UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "big"}})
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("<tr><td><p>Our spring range is here: lighter fabrics, brighter colours and the same fair prices. <a href=\"https://www.acme.com/spring\">Shop the range</a>.</p></td></tr>\n", 60)
	for i := range 20 {
		cities := []string{"London", "New York", "Boston", "Berlin"}
		seg, err := e.sb.StageSegment(ctx, "bench", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprintf("Segment %d", i), Match: "any",
			Conditions: []sandbox.Condition{{Property: "city", Operator: "eq", Value: cities[i%4]}, {Property: "plan", Operator: "eq", Value: "pro"}}})
		if err != nil {
			b.Fatal(err)
		}
		bcast, err := e.sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Broadcast %d", i), Subject: "Spring is here",
			FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><table>" + body + "</table></body></html>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}})
		if err != nil {
			b.Fatal(err)
		}
		_ = bcast
		follow, err := e.sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Follow-up %d", i), Subject: "Did you see it?",
			FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><table>" + body + "</table></body></html>"})
		if err != nil {
			b.Fatal(err)
		}
		pg, err := e.sb.StagePage(ctx, "bench", sandbox.PageInput{CampaignID: c.ID, Title: fmt.Sprintf("Page %d", i), Slug: fmt.Sprintf("spring-%d", i),
			HTML: "<html><body><h1>Spring</h1>" + body + "</body></html>", Form: formOf("email")})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.sb.StageWorkflow(ctx, "bench", sandbox.WorkflowInput{CampaignID: c.ID, Name: fmt.Sprintf("Flow %d", i), Activate: true,
			Trigger: sandbox.Trigger{Type: "form_submission", PageID: pg.Artifact.ID},
			Steps:   []sandbox.Step{{ID: "w", Type: "wait", Duration: "1d", Next: "s"}, {ID: "s", Type: "send_email", EmailID: follow.Artifact.ID}}}); err != nil {
			b.Fatal(err)
		}
	}
	return c.ID
}

// BenchmarkPlanPromotion100: plan_promotion for 100 artifacts (target ≤ 50 ms).
func BenchmarkPlanPromotion100(b *testing.B) {
	e := newEnv(b, envOptions{})
	id := bigCampaign(b, e)
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.sb.PlanPromotion(ctx, "bench", id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPromote100 promotes a 100-artifact campaign to local and, in the
// same run, the floor: writing the same files plus one fsync per journal
// record. Target: promotion ≤ 1.3× the floor.
func BenchmarkPromote100(b *testing.B) {
	var promote, floor time.Duration
	var files, records int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, envOptions{})
		id := bigCampaign(b, e)
		p := planAndApprove(b, e, id)
		before := snapshotFiles(b, e.dir)
		b.StartTimer()
		start := time.Now()
		if _, err := e.sb.Confirm(context.Background(), "bench", p.ID, nil); err != nil {
			b.Fatal(err)
		}
		promote += time.Since(start)
		b.StopTimer()
		written := newFiles(b, e.dir, before)
		recs, _ := os.ReadFile(filepath.Join(e.dir, "journal", p.ID+".jsonl"))
		n := strings.Count(string(recs), "\n")
		files, records = len(written), n
		floor += writeFloor(b, written, n)
		b.StartTimer()
	}
	b.ReportMetric(float64(promote.Milliseconds())/float64(b.N), "promote-ms")
	b.ReportMetric(float64(floor.Milliseconds())/float64(b.N), "floor-ms")
	b.ReportMetric(float64(promote)/float64(floor), "x-floor")
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(records), "journal-records")
}

func snapshotFiles(b testing.TB, dir string) map[string]bool {
	out := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out[p] = true
		}
		return nil
	})
	return out
}

// newFiles returns the contents of the live files promotion wrote.
func newFiles(b testing.TB, dir string, before map[string]bool) map[string][]byte {
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || before[p] || strings.Contains(p, "/journal/") || strings.HasSuffix(p, ".db") || strings.HasSuffix(p, ".lock") {
			return nil
		}
		data, _ := os.ReadFile(p)
		out[p] = data
		return nil
	})
	return out
}

// writeFloor writes the same files into a fresh directory and appends and
// syncs one record per journal entry: the least any promotion must do.
func writeFloor(b testing.TB, files map[string][]byte, records int) time.Duration {
	dir := b.TempDir()
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	j, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	rec := []byte(`{"step":1,"key":"pln_x/1/seg_x/create/1","type":"result","live":{"id":"seg_x","version":"abc"},"at":"2027-03-01T09:00:00Z"}` + "\n")
	start := time.Now()
	for i, p := range paths {
		dst := filepath.Join(dir, fmt.Sprint(i%64), filepath.Base(p))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, files[p], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for range records {
		j.Write(rec)
		osfile.DataSync(j)
	}
	return time.Since(start)
}
