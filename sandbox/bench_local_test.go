package sandbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// writeContacts writes n contacts: unique addresses, names and cities from
// small pools, every second contact a customer.
func writeContacts(b testing.TB, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	first := []string{"Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Hedy", "Dennis", "Barbara", "Ken", "Frances"}
	cities := []string{"London", "New York", "Boston", "Berlin", "Toronto", "Helsinki", "Vienna", "Oxford"}
	fmt.Fprintln(w, "email,firstname,lastname,country,lifecycle_stage,plan,signup_date,marketing_consent,city")
	for i := range n {
		stage := "customer"
		if i%2 == 1 {
			stage = "lead"
		}
		day := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%1500).Format("2006-01-02")
		fmt.Fprintf(w, "user%07d@example.com,%s,Lovelace%d,US,%s,pro,%s,true,%s\n", i, first[i%len(first)], i%40, stage, day, cities[i%8])
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLocalContacts: the tools whose answers count contacts.csv, with
// the sample policy, at
// 10k, 100k and 1M contacts (1M only without -short): build_segment
// (StageSegment, which counts), create_email (StageEmail, which counts its
// audience), plan_promotion (which lists the audience of each send) and
// approve (which checks the plan is current); each in a process that just
// started (cold: contacts.csv not read yet) and in one that has read it
// (warm). Budget: ≤ 100 ms at 100k, linear beyond.
func BenchmarkLocalContacts(b *testing.B) {
	ctx := context.Background()
	sizes := []int{10_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	// The sample policy, as lastmile init writes one: with rules to check,
	// create_email counts the email's audience.
	opts := envOptions{policy: samplePolicy(b)}
	html := "<html><body>" + strings.Repeat("<p>Our spring range is here: lighter fabrics, brighter colours and the same fair prices.</p>\n", 80) + "</body></html>"
	for _, n := range sizes {
		dir := b.TempDir()
		writeContacts(b, filepath.Join(dir, "contacts.csv"), n)
		e := openEnv(b, dir, opts)
		c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}})
		if err != nil {
			b.Fatal(err)
		}
		segment := sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}}
		seg, err := e.sb.StageSegment(ctx, "bench", segment)
		if err != nil {
			b.Fatal(err)
		}
		email := sandbox.EmailInput{CampaignID: c.ID, Name: "Spring", Subject: "Spring", FromName: "Acme", FromEmail: "news@acme.com", HTML: html, Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}
		em, err := e.sb.StageEmail(ctx, "bench", email)
		if err != nil {
			b.Fatal(err)
		}
		calls := 0
		e.st.Close()
		ops := []struct {
			name string
			op   func(b *testing.B, e *env) (*env, error) // the env to go on with
		}{
			// Each call a new revision (staging what is already staged
			// stages nothing), with the governance line the tool answers
			// with: its check counts the audience.
			{"build_segment", func(b *testing.B, e *env) (*env, error) {
				calls++
				in := segment
				in.SegmentID, in.Name = seg.Artifact.ID, fmt.Sprint("Customers ", calls)
				res, err := e.sb.StageSegment(ctx, "bench", in)
				if err == nil {
					e.sb.StagedGovernanceLine(ctx, res)
				}
				return e, err
			}},
			{"create_email", func(b *testing.B, e *env) (*env, error) {
				calls++
				in := email
				in.EmailID, in.Subject = em.Artifact.ID, fmt.Sprint("Spring ", calls)
				res, err := e.sb.StageEmail(ctx, "bench", in)
				if err == nil {
					e.sb.StagedGovernanceLine(ctx, res)
				}
				return e, err
			}},
			{"plan_promotion", func(b *testing.B, e *env) (*env, error) {
				_, err := e.sb.PlanPromotion(ctx, "bench", c.ID)
				return e, err
			}},
			// Planned in one process; approved in a new one (cold), as
			// lastmile approve is, or in the same (warm). Without the
			// policy, whose rules the email does not meet: a blocked plan
			// cannot be approved.
			{"approve", func(b *testing.B, e *env) (*env, error) {
				b.StopTimer()
				p, err := e.sb.PlanPromotion(ctx, "bench", c.ID)
				if err != nil {
					return e, err
				}
				if mode := b.Name(); strings.HasSuffix(mode, "/cold") {
					e = reopen(b, e, envOptions{})
				}
				// The plan's audience just written (33 MB at 1M) on disk
				// first: a person takes longer than the disk to approve.
				if f, err := os.OpenFile(filepath.Join(e.dir, "lastmile.db"), os.O_RDWR, 0); err == nil {
					f.Sync()
					f.Close()
				}
				code := planCode(b, e.sb, p.ID)
				b.StartTimer()
				_, err = e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: code})
				return e, err
			}},
		}
		for _, o := range ops {
			for _, mode := range []string{"cold", "warm"} {
				b.Run(fmt.Sprintf("%s/%s/%s", sizeName(n), o.name, mode), func(b *testing.B) {
					opts := opts
					if o.name == "approve" {
						opts = envOptions{}
					}
					e := openEnv(b, dir, opts)
					defer func() { e.st.Close() }()
					if mode == "warm" {
						var err error
						if e, err = o.op(b, e); err != nil {
							b.Fatal(err)
						}
					}
					b.ResetTimer()
					for range b.N {
						if mode == "cold" && o.name != "approve" {
							b.StopTimer()
							e = reopen(b, e, opts)
							b.StartTimer()
						}
						var err error
						if e, err = o.op(b, e); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// reopen is e's data directory in a new sandbox and target, as a process
// that just started has them.
func reopen(b *testing.B, e *env, o envOptions) *env {
	e.st.Close()
	return openEnv(b, e.dir, o)
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

const envRSSDir, envRSSPlan = "LASTMILE_RSS_DIR", "LASTMILE_RSS_PLAN"

// TestRSSChild confirms a plan in a process of its own and prints its peak
// resident memory, for BenchmarkSendRSS1M.
func TestRSSChild(t *testing.T) {
	dir := os.Getenv(envRSSDir)
	if dir == "" {
		t.Skip("runs only as BenchmarkSendRSS1M's child")
	}
	e := openEnv(t, dir, envOptions{})
	res, err := e.sb.Confirm(context.Background(), "agent", os.Getenv(envRSSPlan), nil)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc on this system")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Printf("RSS %s HEAP %d STATUS %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), ms.HeapSys, res.Status)
		}
	}
}

// BenchmarkSendRSS1M: the peak resident memory of a process that confirms
// a plan sending to 5,000 and to 50,000 of 1,000,000 contacts (the whole
// confirmation: the plan checked against the contacts, the approved
// audience read, every message written), with the Go runtime's defaults
// and under a 40 MiB soft memory limit. Budget: ≤ 100 MB, flat in the
// audience.
func BenchmarkSendRSS1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1,000,000 contacts")
	}
	ctx := context.Background()
	base := b.TempDir()
	writeContacts(b, filepath.Join(base, "contacts.csv"), 1_000_000)
	for _, aud := range []struct {
		name, prefix string
	}{{"5k", "user000"}, {"50k", "user00"}} {
		for _, limit := range []string{"", "40MiB", "80MiB"} {
			name := aud.name + "/defaults"
			if limit != "" {
				name = aud.name + "/GOMEMLIMIT=" + limit
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					dir := b.TempDir()
					if err := os.Link(filepath.Join(base, "contacts.csv"), filepath.Join(dir, "contacts.csv")); err != nil {
						b.Fatal(err)
					}
					e := openEnv(b, dir, envOptions{})
					c, err := e.sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}})
					if err != nil {
						b.Fatal(err)
					}
					seg, err := e.sb.StageSegment(ctx, "bench", sandbox.SegmentInput{CampaignID: c.ID, Name: "Some customers", Match: "all", Conditions: []sandbox.Condition{
						{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}, {Property: "email", Operator: "starts_with", Value: aud.prefix}}})
					if err != nil {
						b.Fatal(err)
					}
					html := "<html><body>" + strings.Repeat("<p>Hello {{ contact.firstname | default: \"there\" }}, our spring range is here: lighter fabrics, brighter colours.</p>\n", 80) + "</body></html>"
					if _, err := e.sb.StageEmail(ctx, "bench", sandbox.EmailInput{CampaignID: c.ID, Name: "Spring", Subject: "Spring", FromName: "Acme", FromEmail: "news@acme.com", HTML: html,
						Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}); err != nil {
						b.Fatal(err)
					}
					p := planAndApprove(b, e, c.ID)
					e.st.Close()
					cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
					cmd.Env = append(os.Environ(), envRSSDir+"="+dir, envRSSPlan+"="+p.ID)
					if limit != "" {
						cmd.Env = append(cmd.Env, "GOMEMLIMIT="+limit)
					}
					start := time.Now()
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("child: %v\n%s", err, out)
					}
					b.ReportMetric(time.Since(start).Seconds(), "confirm-s")
					for _, l := range strings.Split(string(out), "\n") {
						var kb, heap int
						var status string
						if n, _ := fmt.Sscanf(l, "RSS %d HEAP %d STATUS %s", &kb, &heap, &status); n == 3 {
							b.ReportMetric(float64(kb)/1024, "peak-rss-MB")
							b.ReportMetric(float64(heap)/(1<<20), "heap-sys-MB")
						}
					}
				}
			})
		}
	}
}
