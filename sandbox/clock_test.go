package sandbox_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
)

// outboxOf lists every message in the outbox as "email recipient date".
func outboxOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	boxes, _ := os.ReadDir(filepath.Join(dir, "outbox"))
	for _, b := range boxes {
		files, _ := os.ReadDir(filepath.Join(dir, "outbox", b.Name()))
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, "outbox", b.Name(), f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m, err := mail.ReadMessage(strings.NewReader(string(data)))
			if err != nil {
				t.Fatalf("%s: %v", f.Name(), err)
			}
			d, _ := m.Header.Date()
			to, _ := m.Header.AddressList("To")
			if len(to) != 1 {
				t.Fatalf("%s: To %q", f.Name(), m.Header.Get("To"))
			}
			out = append(out, fmt.Sprintf("%s %s %s", b.Name(), to[0].Address, d.UTC().Format(time.RFC3339)))
		}
	}
	slices.Sort(out)
	return out
}

// welcomeFlow stages and promotes, at epoch, a workflow on the customers
// segment: send Welcome, wait 2 days, then Pro tips to pro customers and
// Upgrade to the others. It returns the three emails' ids.
func welcomeFlow(t *testing.T, e *env) (welcome, pro, upgrade string) {
	t.Helper()
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Welcome", Markets: []string{"US"}})
	seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	email := func(name string) string {
		r, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: name, Subject: name, FromName: "Acme", FromEmail: "news@acme.com",
			HTML: "<html><body><p>" + name + "</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	welcome, pro, upgrade = email("Welcome"), email("Pro tips"), email("Upgrade")
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Onboarding", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg.Artifact.ID},
		Steps: []sandbox.Step{
			{ID: "welcome", Type: "send_email", EmailID: welcome, Next: "wait"},
			{ID: "wait", Type: "wait", Duration: "2d", Next: "plan"},
			{ID: "plan", Type: "branch", Condition: &sandbox.BranchCondition{Property: "plan", Operator: "eq", Value: "pro"}, Then: "pro", Else: "upgrade"},
			{ID: "pro", Type: "send_email", EmailID: pro},
			{ID: "upgrade", Type: "send_email", EmailID: upgrade},
		}}); err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	return welcome, pro, upgrade
}

// A workflow runs on local's clock: each customer gets Welcome at entry
// and, two days later, exactly one of Pro tips and Upgrade by their plan; a
// customer added later is enrolled then and follows the same path from
// their own start.
func TestWorkflowRunsOnTheClock(t *testing.T) {
	e := newEnv(t, envOptions{})
	welcome, pro, upgrade := welcomeFlow(t, e)
	got := runFlow(t, e, nil)
	want := []string{}
	rows, err := csv.NewReader(strings.NewReader(local.SampleContacts)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	customers := map[string]string{}
	for _, r := range rows[1:] {
		if r[4] == "customer" {
			customers[r[0]] = r[5]
		}
	}
	if len(customers) < 5 {
		t.Fatalf("%d customers in the sample contacts", len(customers))
	}
	for addr, plan := range customers {
		want = append(want, welcome+" "+addr+" "+epoch.Format(time.RFC3339))
		second := upgrade
		if plan == "pro" {
			second = pro
		}
		want = append(want, second+" "+addr+" "+epoch.Add(48*time.Hour).Format(time.RFC3339))
	}
	late := epoch.Add(72 * time.Hour)
	want = append(want, welcome+" new@example.com "+late.Format(time.RFC3339), pro+" new@example.com "+late.Add(48*time.Hour).Format(time.RFC3339))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// runFlow ticks the clock through a week (a customer joins on day 3) and
// returns the outbox. crash, when set, is called at every hook point and
// may panic there, as a kill would stop the process.
func runFlow(t *testing.T, e *env, crash func(string)) []string {
	t.Helper()
	ctx := context.Background()
	tick := func(at time.Time) {
		for {
			done := func() (ok bool) {
				defer func() {
					if r := recover(); r != nil {
						if _, isKill := r.(kill); !isKill {
							panic(r)
						}
						ok = false
					}
				}()
				if _, err := e.local.Tick(ctx, at); err != nil {
					t.Fatal(err)
				}
				return true
			}()
			if done {
				return
			}
		}
	}
	for h := 0; h <= 7*24; h += 6 {
		at := epoch.Add(time.Duration(h) * time.Hour)
		if h == 72 {
			f, err := os.OpenFile(filepath.Join(e.dir, "contacts.csv"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(f, "new@example.com,New,Customer,US,customer,pro,2027-03-04,true,Austin")
			f.Close()
		}
		if crash != nil {
			hooks.Store(crash)
		}
		tick(at)
		hooks.Store(func(string) {})
	}
	return outboxOf(t, e.dir)
}

type kill struct{}

// hooks is what the env's hook calls; tests swap it.
var hooks = func() *hookFunc { h := &hookFunc{}; h.Store(func(string) {}); return h }()

// Killing the clock at random points and starting it again changes
// nothing: every contact gets the same emails at the same times.
func TestWorkflowStepsHappenExactlyOnce(t *testing.T) {
	clean := newEnv(t, envOptions{})
	welcomeFlow(t, clean)
	want := runFlow(t, clean, nil)
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			e := newEnv(t, envOptions{hook: func(p string) { hooks.Load()(p) }})
			welcomeFlow(t, e)
			rng := rand.New(rand.NewPCG(seed, 42))
			kills := 0
			got := runFlow(t, e, func(point string) {
				if (strings.HasPrefix(point, "tick:") || strings.HasPrefix(point, "send:") || strings.HasPrefix(point, "write:")) && rng.IntN(4) == 0 {
					kills++
					panic(kill{})
				}
			})
			if kills == 0 {
				t.Fatal("nothing was killed")
			}
			// Ids differ between the two data directories: compare the rest.
			if strip(got) != strip(want) {
				t.Fatalf("after %d kills the outbox differs:\n%s\nwant:\n%s", kills, strip(got), strip(want))
			}
		})
	}
}

func strip(lines []string) string {
	var out []string
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, " ")
		out = append(out, rest)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// hookFunc holds the function the env's hook calls.
type hookFunc struct {
	mu sync.Mutex
	fn func(string)
}

func (h *hookFunc) Store(fn func(string)) { h.mu.Lock(); h.fn = fn; h.mu.Unlock() }
func (h *hookFunc) Load() func(string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fn
}

// A date_property workflow enrols each contact on the day their date says;
// set_property changes the contact (contact-updates.csv) before the branch
// that reads it.
func TestDateTriggerAndSetProperty(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Anniversary", Markets: []string{"US"}})
	em, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Happy anniversary", Subject: "A year already", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Thanks for a year.</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Anniversary", Activate: true,
		Trigger: sandbox.Trigger{Type: "date_property", Property: "signup_date"},
		Steps: []sandbox.Step{
			{ID: "tag", Type: "set_property", Property: "lifecycle_stage", Value: "advocate", Next: "check"},
			{ID: "check", Type: "branch", Condition: &sandbox.BranchCondition{Property: "lifecycle_stage", Operator: "eq", Value: "advocate"}, Then: "send", Else: "stop"},
			{ID: "send", Type: "send_email", EmailID: em.Artifact.ID},
			{ID: "stop", Type: "exit"},
		}}); err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	// katherine signed up on 2026-01-20 (the sample contacts).
	day := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{day.Add(-24 * time.Hour), day, day.Add(time.Hour)} {
		if _, err := e.local.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	got := outboxOf(t, e.dir)
	if len(got) != 1 || !strings.Contains(got[0], "katherine@example.com "+day.Format(time.RFC3339)) {
		t.Fatalf("the outbox: %v", got)
	}
	updates, _ := os.ReadFile(e.local.ContactUpdatesFile())
	if !strings.Contains(string(updates), "katherine@example.com,advocate") {
		t.Fatalf("contact-updates.csv:\n%s", updates)
	}
}
