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
// segment: send Welcome, wait 2 days, then Pro tips to those who opened
// Welcome and Upgrade to the others. It returns the three emails' ids.
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
			{ID: "wait", Type: "wait", Duration: "2d", Next: "opened"},
			{ID: "opened", Type: "branch", Condition: &sandbox.BranchCondition{Engagement: "opened", EmailID: welcome}, Then: "pro", Else: "upgrade"},
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
// and, two days later, exactly one of Pro tips and Upgrade, by whether
// they opened Welcome (runFlow has the pro customers open it); a customer
// added later is enrolled then and follows the same path from their own
// start.
func TestWorkflowRunsOnTheClock(t *testing.T) {
	e := newEnv(t, envOptions{})
	welcome, pro, upgrade := welcomeFlow(t, e)
	got := runFlow(t, e, welcome, nil)
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

// runFlow ticks the clock through a week (a pro customer joins on day 3,
// the pro customers open welcome) and returns the outbox. crash, when set, is called at every hook point and
// may panic there, as a kill would stop the process.
func runFlow(t *testing.T, e *env, welcome string, crash func(string)) []string {
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
		if h == 12 || h == 78 {
			// The pro customers open Welcome an hour after it went out (the
			// one who joined on day 3 too, then); the others never do.
			var evs []local.Event
			for _, addr := range proCustomers(t) {
				joinedLate := addr == "new@example.com"
				if joinedLate == (h == 78) {
					evs = append(evs, local.Event{Type: "open", Artifact: welcome, Email: addr, At: at.Add(-5 * time.Hour)})
				}
			}
			if err := e.local.AppendEvents(evs); err != nil {
				t.Fatal(err)
			}
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

func first(a, _, _ string) string { return a }

// proCustomers are the sample's customers on the pro plan, and the one
// runFlow adds.
func proCustomers(t *testing.T) []string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(local.SampleContacts)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"new@example.com"}
	for _, r := range rows[1:] {
		if r[4] == "customer" && r[5] == "pro" {
			out = append(out, r[0])
		}
	}
	return out
}

// hooks is what the env's hook calls; tests swap it.
var hooks = func() *hookFunc { h := &hookFunc{}; h.Store(func(string) {}); return h }()

// Killing the clock at random points and starting it again changes
// nothing: every contact gets the same emails at the same times.
func TestWorkflowStepsHappenExactlyOnce(t *testing.T) {
	clean := newEnv(t, envOptions{})
	want := runFlow(t, clean, first(welcomeFlow(t, clean)), nil)
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			e := newEnv(t, envOptions{hook: func(p string) { hooks.Load()(p) }})
			welcome, _, _ := welcomeFlow(t, e)
			rng := rand.New(rand.NewPCG(seed, 42))
			kills := 0
			got := runFlow(t, e, welcome, func(point string) {
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

// Re-enrolment is off unless the workflow asks: a customer who leaves the
// segment and comes back gets the one-step workflow's email once, or, with
// reenrol, again on coming back (in a message file of its own).
func TestReenrolment(t *testing.T) {
	for _, reenrol := range []bool{false, true} {
		t.Run(fmt.Sprint("reenrol=", reenrol), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			ctx := context.Background()
			c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Winback", Markets: []string{"US"}})
			seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
			if err != nil {
				t.Fatal(err)
			}
			em, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Hello", Subject: "Hello", FromName: "Acme", FromEmail: "news@acme.com",
				HTML: "<html><body><p>Hello.</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Hello", Activate: true, Reenrol: reenrol,
				Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg.Artifact.ID},
				Steps:   []sandbox.Step{{ID: "hello", Type: "send_email", EmailID: em.Artifact.ID}}}); err != nil {
				t.Fatal(err)
			}
			p := planAndApprove(t, e, c.ID)
			if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
				t.Fatal(err)
			}
			setStage := func(stage string) {
				data, err := os.ReadFile(filepath.Join(e.dir, "contacts.csv"))
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(string(data), "\n")
				for i, l := range lines {
					if strings.HasPrefix(l, "ada@example.com,") {
						f := strings.Split(l, ",")
						f[4] = stage
						lines[i] = strings.Join(f, ",")
					}
				}
				if err := os.WriteFile(filepath.Join(e.dir, "contacts.csv"), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tick := func(h int) {
				if _, err := e.local.Tick(ctx, epoch.Add(time.Duration(h)*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			tick(1)
			setStage("churned")
			tick(2)
			tick(3) // still out: no second mark, nothing sent
			setStage("customer")
			tick(4)
			tick(5) // still in: not a third time
			var ada []string
			for _, l := range outboxOf(t, e.dir) {
				if strings.Contains(l, " ada@example.com ") {
					ada = append(ada, strings.SplitN(l, " ", 2)[1])
				}
			}
			want := []string{"ada@example.com " + epoch.Format(time.RFC3339)}
			if reenrol {
				want = append(want, "ada@example.com "+epoch.Add(4*time.Hour).Format(time.RFC3339))
			}
			if !slices.Equal(ada, want) {
				t.Fatalf("ada's messages: %q, want %q", ada, want)
			}
			sent := 0
			if err := e.local.ReadEvents(func(ev local.Event) {
				if ev.Type == "sent" && ev.Email == "ada@example.com" {
					sent++
				}
			}); err != nil {
				t.Fatal(err)
			}
			if sent != len(want) {
				t.Fatalf("%d sent events for ada, want %d", sent, len(want))
			}
		})
	}
}

// A manual workflow enrols whom a person names (lastmile enrol), once;
// its add_to_segment step puts them in a static segment, and a later
// campaign's plan counts them there; a branch on a click since enrolling
// sends the follow-up only to the one who clicked; remove_from_segment
// takes the other out again.
func TestManualEnrolmentAndSegmentSteps(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "VIP", Markets: []string{"US"}})
	vip, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "VIP", StaticEmails: []string{"grace@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	email := func(name string) string {
		r, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: name, Subject: name, FromName: "Acme", FromEmail: "news@acme.com",
			HTML: "<html><body><p>" + name + ".</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	invite, thanks := email("Invitation"), email("Thanks")
	wf, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "VIP invite", Activate: true,
		Trigger: sandbox.Trigger{Type: "manual"},
		Steps: []sandbox.Step{
			{ID: "add", Type: "add_to_segment", SegmentID: vip.Artifact.ID, Next: "invite"},
			{ID: "invite", Type: "send_email", EmailID: invite, Next: "wait"},
			{ID: "wait", Type: "wait", Duration: "1d", Next: "clicked"},
			{ID: "clicked", Type: "branch", Condition: &sandbox.BranchCondition{Engagement: "clicked", EmailID: invite}, Then: "thanks", Else: "drop"},
			{ID: "thanks", Type: "send_email", EmailID: thanks},
			{ID: "drop", Type: "remove_from_segment", SegmentID: vip.Artifact.ID},
		}})
	if err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.local.Enrol(wf.Artifact.ID, []string{"nobody@example.com"}); err == nil || !strings.Contains(err.Error(), "nobody@example.com is not in contacts.csv") {
		t.Fatalf("enrolling a stranger: %v", err)
	}
	if err := e.local.Enrol(wf.Artifact.ID, []string{"ada@example.com", "Alan@example.com"}); err != nil {
		t.Fatal(err)
	}
	tick := func(h int) {
		t.Helper()
		if _, err := e.local.Tick(ctx, epoch.Add(time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	tick(1)
	if err := e.local.Enrol(wf.Artifact.ID, []string{"ada@example.com"}); err != nil { // once: no second round
		t.Fatal(err)
	}
	if err := e.local.AppendEvents([]local.Event{{Type: "click", Artifact: invite, Email: "ada@example.com", URL: "https://acme.com/", At: epoch.Add(2 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		def := map[string]*sandbox.Segment{vip.Artifact.ID: {Name: "VIP", StaticEmails: []string{"grace@example.com"}}}
		n, err := e.local.Count(ctx, []string{vip.Artifact.ID}, nil, def)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("VIP has %d members after the invitations, want grace, ada and alan", n)
	}
	tick(12)
	tick(26)
	tick(50)
	want := []string{
		invite + " ada@example.com " + epoch.Add(time.Hour).Format(time.RFC3339),
		invite + " alan@example.com " + epoch.Add(time.Hour).Format(time.RFC3339),
		thanks + " ada@example.com " + epoch.Add(25*time.Hour).Format(time.RFC3339),
	}
	slices.Sort(want)
	if got := outboxOf(t, e.dir); !slices.Equal(got, want) {
		t.Fatalf("the outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := count(); n != 2 {
		t.Fatalf("VIP has %d members after alan was dropped, want grace and ada", n)
	}

	// fetch_metrics says where each contact stands.
	ms, err := e.sb.FetchMetrics(ctx, sandbox.MetricsScope{CampaignID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	var state *sandbox.WorkflowState
	for _, m := range ms {
		if m.ArtifactID == wf.Artifact.ID {
			state = m.Workflow
		}
	}
	if state == nil || state.Enrolled != 2 || state.Finished != 2 || state.Active != 0 || len(state.Contacts) != 2 {
		t.Fatalf("the workflow's state: %+v", state)
	}
	for _, cs := range state.Contacts {
		last := cs.History[len(cs.History)-1]
		if want := map[string]string{"ada@example.com": "thanks: sent " + thanks, "alan@example.com": "drop: removed from segment " + vip.Artifact.ID}[cs.Email]; !strings.HasSuffix(last, want) {
			t.Fatalf("%s's last step: %q, want …%q", cs.Email, last, want)
		}
	}

	// A later email to VIP reaches the members the workflow left.
	dinner, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Dinner", Subject: "Dinner", FromName: "Acme", FromEmail: "news@acme.com",
		Audience: sandbox.Audience{Include: []string{vip.Artifact.ID}},
		HTML:     "<html><body><p>Dinner.</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	planned := false
	for _, st := range p2.Steps {
		if st.ArtifactID == dinner.Artifact.ID {
			planned = true
			if st.AudienceSize == nil || *st.AudienceSize != 2 {
				t.Fatalf("the dinner's audience: %v, want 2", st.AudienceSize)
			}
		}
	}
	if !planned {
		t.Fatal("the dinner is not in the plan")
	}

	// A segment with conditions cannot be changed by a step.
	c2, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Tags", Markets: []string{"US"}})
	cust, _ := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c2.ID, Name: "Customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c2.ID, Name: "Tag", Trigger: sandbox.Trigger{Type: "manual"},
		Steps: []sandbox.Step{{ID: "add", Type: "add_to_segment", SegmentID: cust.Artifact.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.PlanPromotion(ctx, "agent", c2.ID); err == nil || !strings.Contains(err.Error(), "static segments") {
		t.Fatalf("planning a step that changes a segment with conditions: %v", err)
	}
}
