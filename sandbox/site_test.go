package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// The site the local target publishes: a form submission over HTTP adds
// the contact (with the consent it gave), and a form_submission workflow
// sends them the thank-you on the clock; a bot's submission (the honeypot
// filled in) and invalid ones record nothing.
func TestFormSubmissionRunsTheWorkflow(t *testing.T) {
	e := newEnv(t, envOptions{siteURL: "http://localhost:8767"})
	ctx := context.Background()
	c, _ := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Forms", Markets: []string{"US"}})
	page, err := e.sb.StagePage(ctx, "agent", sandbox.PageInput{CampaignID: c.ID, Title: "Demo", Slug: "demo", HTML: "<html><body><h1>Book a demo</h1></body></html>",
		Form: &content.Form{Fields: []content.FormField{{Name: "email", Label: "Work email", Type: "email", Required: true}, {Name: "firstname", Label: "First name"},
			{Name: "news_consent", Label: "Send me product news", Type: "checkbox"}}, SuccessMessage: "Thanks, we will be in touch."}})
	if err != nil {
		t.Fatal(err)
	}
	thanks, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Thanks", Subject: "Thanks {{ contact.firstname | default: \"there\" }}", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Thanks.</p><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Thank", Activate: true,
		Trigger: sandbox.Trigger{Type: "form_submission", PageID: page.Artifact.ID},
		Steps:   []sandbox.Step{{ID: "thanks", Type: "send_email", EmailID: thanks.Artifact.ID}}}); err != nil {
		t.Fatal(err)
	}
	p := planAndApprove(t, e, c.ID)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(e.local.SiteHandler())
	defer site.Close()
	res, err := http.Get(site.URL + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `action="/forms/`+page.Artifact.ID+`"`) || !strings.Contains(string(body), `name="lm_website"`) {
		t.Fatalf("the published form is not wired:\n%s", body)
	}
	post := func(v url.Values) (int, string) {
		res, err := http.PostForm(site.URL+"/forms/"+page.Artifact.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, bad := range []url.Values{{"firstname": {"No email"}}, {"email": {"not an address"}}, {"email": {"x@example.com"}, "firstname": {strings.Repeat("x", 3000)}}} {
		if st, _ := post(bad); st != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, st)
		}
	}
	if st, b := post(url.Values{"email": {"bot@example.com"}, "lm_website": {"http://spam"}}); st != 200 || !strings.Contains(b, "Thanks, we will") {
		t.Errorf("the bot was not thanked: %d", st)
	}
	if st, b := post(url.Values{"email": {"Noor@Example.com"}, "firstname": {"Noor"}, "news_consent": {"on"}}); st != 200 || !strings.Contains(b, "Thanks, we will be in touch.") {
		t.Fatalf("a submission: %d %s", st, b)
	}
	contacts, _ := os.ReadFile(e.local.ContactUpdatesFile())
	if !strings.Contains(string(contacts), "noor@example.com,Noor,true") || strings.Contains(string(contacts), "bot@") {
		t.Fatalf("contact-updates.csv:\n%s", contacts)
	}
	if _, err := e.local.Tick(ctx, e.clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(filepath.Join(e.dir, "outbox", thanks.Artifact.ID))
	if len(files) != 1 || !strings.HasPrefix(files[0].Name(), "noor@") {
		t.Fatalf("the thank-you went to %v", files)
	}
	// The message carries a one-click unsubscribe (RFC 8058); a forged
	// link is refused, a GET only asks, the POST unsubscribes.
	data, _ := os.ReadFile(filepath.Join(e.dir, "outbox", thanks.Artifact.ID, files[0].Name()))
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers: %v", m.Header)
	}
	link := regexp.MustCompile(`<(http://localhost:8767/unsubscribe\?[^>]+)>`).FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if link == nil {
		t.Fatalf("List-Unsubscribe: %s", m.Header.Get("List-Unsubscribe"))
	}
	u := strings.Replace(link[1], "http://localhost:8767", site.URL, 1)
	forged := strings.Replace(u, "a=noor", "a=ada", 1)
	if res, _ := http.PostForm(forged, url.Values{"List-Unsubscribe": {"One-Click"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged link: %d", res.StatusCode)
	}
	if res, _ := http.Get(u); res.StatusCode != 200 {
		t.Fatalf("the unsubscribe page: %d", res.StatusCode)
	}
	if res, _ := http.PostForm(u, url.Values{"List-Unsubscribe": {"One-Click"}}); res.StatusCode != 200 {
		t.Fatalf("one-click: %d", res.StatusCode)
	}
	unsub := 0
	e.local.ReadEvents(func(ev local.Event) {
		if ev.Type == "unsubscribe" {
			unsub++
			if ev.Email != "noor@example.com" {
				t.Errorf("unsubscribed %s", ev.Email)
			}
		}
	})
	if unsub != 1 {
		t.Fatalf("%d unsubscribe events", unsub)
	}
}
