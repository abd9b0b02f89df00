package sandbox_test

import (
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
)

// abCampaign stages and promotes, at epoch, an A/B email to n static
// addresses: b changes the subject, c the HTML; 30% in the test, the
// winner by clicks after 4h. It returns the email's id.
func abCampaign(t *testing.T, e *env, n int, sendAt string) string {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "AB", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("r%03d@example.com", i))
	}
	seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "List", StaticEmails: addrs})
	if err != nil {
		t.Fatal(err)
	}
	footer := `<p>Acme, 1 Main St. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`
	r, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Launch", Subject: "Subject A", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Body A</p>" + footer + "</body></html>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}, SendAt: sendAt,
		ABTest: &sandbox.ABTest{TestPercent: 30, Winner: "clicks", DecideAfter: "4h", Variants: []sandbox.Variant{
			{Subject: "Subject B"}, {HTML: "<html><body><p>Body C</p>" + footer + "</body></html>"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	return r.Artifact.ID
}

// abOutbox reads the email's messages: recipient → variant header, and
// checks each variant's content is its own.
func abOutbox(t *testing.T, dir, id string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := os.ReadDir(filepath.Join(dir, "outbox", id))
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, "outbox", id, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		to, _ := m.Header.AddressList("To")
		v := m.Header.Get("X-Lastmile-Variant")
		subject, body := m.Header.Get("Subject"), string(data)
		switch {
		case v == "a" && subject == "Subject A" && strings.Contains(body, "Body A"):
		case v == "b" && subject == "Subject B" && strings.Contains(body, "Body A"):
		case v == "c" && subject == "Subject A" && strings.Contains(body, "Body C"):
		default:
			t.Fatalf("%s: variant %q with subject %q is not that variant", f.Name(), v, subject)
		}
		out[to[0].Address] = v
	}
	return out
}

// sentEvents counts the email's sent events by variant, and fails on a
// recipient sent twice.
func sentEvents(t *testing.T, e *env, id string) map[string]int {
	t.Helper()
	out, seen := map[string]int{}, map[string]bool{}
	e.local.ReadEvents(func(ev local.Event) {
		if ev.Type == "sent" && ev.Artifact == id {
			if seen[ev.Email] {
				t.Errorf("%s was sent twice", ev.Email)
			}
			seen[ev.Email] = true
			out[ev.Variant]++
		}
	})
	return out
}

// On local an A/B send mails the test group (by recipient key) their
// variants and holds the rest; at decide_after the clock picks the
// variant with the best click rate and mails it to the rest, once.
func TestABTestOnLocal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	id := abCampaign(t, e, 300, "")
	test := abOutbox(t, e.dir, id)
	if n := len(test); n < 60 || n > 120 {
		t.Fatalf("the test went to %d of 300 (want about 30%%)", n)
	}
	byVariant := map[string][]string{}
	for addr, v := range test {
		byVariant[v] = append(byVariant[v], addr)
	}
	for _, v := range []string{"a", "b", "c"} {
		if len(byVariant[v]) < 10 {
			t.Fatalf("variant %s went to %d: the split is not even (%v)", v, len(byVariant[v]), byVariant)
		}
	}
	if ev := sentEvents(t, e, id); ev["a"]+ev["b"]+ev["c"] != len(test) || ev[""] != 0 {
		t.Fatalf("sent events by variant %v do not match the %d test messages", ev, len(test))
	}
	// Variant c's recipients click most; a's open (opens do not count).
	var evs []local.Event
	for _, addr := range byVariant["c"][:3] {
		evs = append(evs, local.Event{Type: "click", Artifact: id, Email: addr, At: epoch.Add(time.Hour)})
	}
	for _, addr := range byVariant["a"][:8] {
		evs = append(evs, local.Event{Type: "open", Artifact: id, Email: addr, At: epoch.Add(time.Hour)})
	}
	if err := e.local.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.local.Tick(ctx, epoch.Add(4*time.Hour-time.Minute)); err != nil || rep.Sent != 0 {
		t.Fatalf("before decide_after the clock sent %d (%v)", rep.Sent, err)
	}
	rep, err := e.local.Tick(ctx, epoch.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 300-len(test) {
		t.Fatalf("the winner went to %d; the rest are %d", rep.Sent, 300-len(test))
	}
	all := abOutbox(t, e.dir, id)
	for addr, v := range all {
		if tv, ok := test[addr]; ok && tv != v {
			t.Fatalf("%s got %s in the test and %s after", addr, tv, v)
		} else if !ok && v != "c" {
			t.Fatalf("%s of the rest got %s, not the winner c", addr, v)
		}
	}
	if rep, err := e.local.Tick(ctx, epoch.Add(5*time.Hour)); err != nil || rep.Sent != 0 {
		t.Fatalf("a second tick sent %d (%v)", rep.Sent, err)
	}
	if ev := sentEvents(t, e, id); ev["c"] != 300-len(test)+len(byVariant["c"]) {
		t.Fatalf("sent events %v", ev)
	}
	ms, err := e.sb.FetchMetrics(ctx, sandbox.MetricsScope{ArtifactID: id})
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if m.Winner != "c" || len(m.Variants) != 3 || m.Variants[2].Variant != "c" || m.Variants[2].UniqueClicks != 3 || m.Variants[0].UniqueOpens != 8 ||
		m.Variants[1].Sent != int64(len(byVariant["b"])) || m.Sent != 300 {
		t.Fatalf("metrics per variant: %+v", m)
	}
}

// A test nobody engaged with is a tie: variant a, the email as written,
// goes to the rest. A scheduled A/B email starts its test at send_at.
func TestABTestTieAndSchedule(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	id := abCampaign(t, e, 100, epoch.Add(2*time.Hour).Format(time.RFC3339))
	if n := len(abOutbox(t, e.dir, id)); n != 0 {
		t.Fatalf("a scheduled test sent %d at promotion", n)
	}
	if rep, _ := e.local.Tick(ctx, epoch.Add(time.Hour)); rep.Sent != 0 {
		t.Fatal("sent before send_at")
	}
	rep, err := e.local.Tick(ctx, epoch.Add(2*time.Hour))
	if err != nil || rep.Sent == 0 || rep.Sent == 100 {
		t.Fatalf("the test at send_at sent %d (%v)", rep.Sent, err)
	}
	if rep, _ := e.local.Tick(ctx, epoch.Add(5*time.Hour)); rep.Sent != 0 {
		t.Fatal("the winner went before send_at + decide_after")
	}
	test := len(abOutbox(t, e.dir, id))
	if rep, _ := e.local.Tick(ctx, epoch.Add(6*time.Hour)); rep.Sent != 100-test {
		t.Fatalf("the winner went to %d, want %d", rep.Sent, 100-test)
	}
	for addr, v := range abOutbox(t, e.dir, id) {
		_ = addr
		if v == "" {
			t.Fatal("a message without its variant")
		}
	}
	ms, _ := e.sb.FetchMetrics(ctx, sandbox.MetricsScope{ArtifactID: id})
	if ms[0].Winner != "a" {
		t.Fatalf("a tie went to %q, not a", ms[0].Winner)
	}
}

// A clock cut short after the decision, or in the middle of the winner's
// send, resumes with the same winner (even if engagement arrived since
// that would change it) and mails nobody twice.
func TestABTestWinnerSendResumes(t *testing.T) {
	ctx := context.Background()
	for _, point := range []string{"ab-decided:", "send:"} {
		t.Run(point, func(t *testing.T) {
			var armed atomic.Bool
			var crashes atomic.Int32
			hook := func(p string) {
				if armed.Load() && strings.HasPrefix(p, point) && (point != "send:" || strings.HasSuffix(p, ":50")) {
					armed.Store(false)
					crashes.Add(1)
					panic("crash at " + p)
				}
			}
			e := newEnv(t, envOptions{hook: hook})
			id := abCampaign(t, e, 200, "")
			test := abOutbox(t, e.dir, id)
			var b []string
			for addr, v := range test {
				if v == "b" {
					b = append(b, addr)
				}
			}
			e.local.AppendEvents([]local.Event{{Type: "click", Artifact: id, Email: b[0], At: epoch.Add(time.Hour)}})
			armed.Store(true)
			func() {
				defer func() { recover() }()
				e.local.Tick(ctx, epoch.Add(4*time.Hour))
			}()
			if crashes.Load() != 1 {
				t.Fatalf("the clock did not stop at %s", point)
			}
			// Engagement after the decision that would make c the winner.
			var evs []local.Event
			for addr, v := range test {
				if v == "c" {
					evs = append(evs, local.Event{Type: "click", Artifact: id, Email: addr, At: epoch.Add(4 * time.Hour)})
				}
			}
			e.local.AppendEvents(evs)
			if _, err := e.local.Tick(ctx, epoch.Add(4*time.Hour+time.Minute)); err != nil {
				t.Fatal(err)
			}
			all := abOutbox(t, e.dir, id)
			if len(all) != 200 {
				t.Fatalf("%d of 200 mailed", len(all))
			}
			for addr, v := range all {
				if _, ok := test[addr]; !ok && v != "b" {
					t.Fatalf("%s got %s after the resume, not the winner b", addr, v)
				}
			}
			sentEvents(t, e, id) // fails on a recipient sent twice
		})
	}
}
