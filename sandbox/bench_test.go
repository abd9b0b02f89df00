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

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/sandbox"
)

// bigCampaign stages 100 artifacts: 20 segments, 40 emails (20 broadcast,
// 20 sent only by workflows), 20 pages with forms and 20 workflows.
func bigCampaign(b testing.TB, e *env) string { return campaignOf(b, e, 20) }

// campaignOf stages groups times a segment, two emails, a page and a
// workflow: 5×groups artifacts.
func campaignOf(b testing.TB, e *env, groups int) string {
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}, Industry: "retail", UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "big"}})
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("<tr><td><p>Our spring range is here: lighter fabrics, brighter colours and the same fair prices. <a href=\"https://www.acme.com/spring\">Shop the range</a>.</p></td></tr>\n", 60)
	for i := range groups {
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

// BenchmarkPlanPromotion500: plan_promotion for 500 artifacts, the most a
// campaign holds (budget ≤ 60 ms).
func BenchmarkPlanPromotion500(b *testing.B) {
	e := newEnv(b, envOptions{policy: samplePolicy(b)})
	id := campaignOf(b, e, sandbox.MaxArtifactsPerCampgn/5)
	ctx := context.Background()
	// The first plan after staging derives every final revision (UTM
	// applied); the rest find them kept.
	start := time.Now()
	if _, err := e.sb.PlanPromotion(ctx, "bench", id); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	for b.Loop() {
		if _, err := e.sb.PlanPromotion(ctx, "bench", id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
}

// BenchmarkStageNth stages the N-th artifact of a campaign whose other
// N-1 are segments, as an agent building a large campaign does: a segment,
// or an email sent to the first of them (so the first email is the 2nd
// artifact), with the governance line a write tool returns; over bbolt,
// and over the memory store to see the sandbox's own work without the
// disk's. Budget: the 500th costs what the first does (±20%).
func BenchmarkStageNth(b *testing.B) {
	ctx := context.Background()
	cities := []string{"London", "New York", "Boston", "Berlin"}
	segment := func(cmp string, i int) sandbox.SegmentInput {
		return sandbox.SegmentInput{CampaignID: cmp, Name: fmt.Sprintf("Segment %d", i), Match: "any",
			Conditions: []sandbox.Condition{{Property: "city", Operator: "eq", Value: cities[i%4]}, {Property: "plan", Operator: "eq", Value: "pro"}}}
	}
	body := strings.Repeat("<tr><td><p>Our spring range is here: lighter fabrics, brighter colours and the same fair prices. <a href=\"https://www.acme.com/spring\">Shop the range</a>.</p></td></tr>\n", 60)
	for _, where := range []string{"bolt", "memory"} {
		for _, kind := range []string{"segment", "email"} {
			smallest := 1
			if kind == "email" {
				smallest = 2
			}
			for _, n := range []int{smallest, sandbox.MaxArtifactsPerCampgn} {
				b.Run(fmt.Sprintf("%s/%s/%d", where, kind, n), func(b *testing.B) {
					e := newEnv(b, envOptions{policy: samplePolicy(b), memory: where == "memory"})
					newCampaign := func() string {
						c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}, Industry: "retail", UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "big"}})
						if err != nil {
							b.Fatal(err)
						}
						return c.ID
					}
					// Every store holds as many segments, so only the campaign's
					// size differs: a bbolt file still growing makes commits dearer.
					other, cmp := newCampaign(), newCampaign()
					first := ""
					for i := range sandbox.MaxArtifactsPerCampgn - 1 {
						into := other
						if i < n-1 {
							into = cmp
						}
						r, err := e.sb.StageSegment(ctx, "bench", segment(into, i))
						if err != nil {
							b.Fatal(err)
						}
						if first == "" && into == cmp {
							first = r.Artifact.ID
						}
					}
					c := struct{ ID string }{cmp}
					stage := func(i int) (*sandbox.StageResult, error) {
						if kind == "segment" {
							return e.sb.StageSegment(ctx, "bench", segment(c.ID, n+i))
						}
						in := sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprintf("Broadcast %d", i), Subject: "Spring is here",
							FromName: "Acme", FromEmail: "news@acme.com", HTML: fmt.Sprintf("<html><body><table>%s<!-- %d --></table></body></html>", body, i)}
						if first != "" {
							in.Audience.Include = []string{first}
						}
						return e.sb.StageEmail(ctx, "bench", in)
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						res, err := stage(i)
						if err != nil {
							b.Fatal(err)
						}
						if line := e.sb.StagedGovernanceLine(ctx, res); !strings.HasPrefix(line, "governance:") {
							b.Fatal(line)
						}
						b.StopTimer()
						if err := e.sb.UnstageForTest(ctx, c.ID, res.Artifact.ID); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				})
			}
		}
	}
}

// BenchmarkStageEmail20KB stages a new revision of a 20 KB email under the
// sample policy and waits for its governance line, as create_email does.
func BenchmarkStageEmail20KB(b *testing.B) {
	html, err := os.ReadFile("../testdata/bench/email-20kb.html")
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, envOptions{policy: samplePolicy(b)})
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Launch", Markets: []string{"US"}})
	if err != nil {
		b.Fatal(err)
	}
	id := ""
	for i := 0; b.Loop(); i++ {
		res, err := e.sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, EmailID: id, Name: "Launch", Subject: fmt.Sprintf("Spring is here (%d)", i),
			FromName: "Acme", FromEmail: "news@acme.com", HTML: string(html)})
		if err != nil {
			b.Fatal(err)
		}
		id = res.Artifact.ID
		e.sb.StagedGovernanceLine(ctx, res)
	}
}

// samplePolicy is the sample company's policy, the one the budgets are
// measured with.
func samplePolicy(b testing.TB) *governance.Policy {
	p, err := governance.Load("../testdata/policy/acme.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return p
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
		if err != nil || d.IsDir() || before[p] || strings.Contains(p, "/journal/") || strings.HasSuffix(p, ".db") || strings.HasSuffix(p, ".lock") || strings.HasSuffix(p, ".wait") {
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
