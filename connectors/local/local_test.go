package local

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

func newTarget(t *testing.T, contacts string) *Target {
	t.Helper()
	dir := t.TempDir()
	if contacts != "" {
		os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(contacts), 0o600)
	}
	lt, err := New("local", dir, Config{}, WithClock(func() time.Time { return time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	return lt
}

func TestContactsFile(t *testing.T) {
	cases := []struct {
		name, csv, wantErr string
		want               int
	}{
		{"sample", SampleContacts, "", 16},
		{"header case, BOM, spaces, duplicates and blank addresses", "\ufeffEmail , Country\nA@x.com,US\na@x.com,GB\n,US\nb@x.com,DE\n", "", 2},
		{"no email column", "name,country\nAda,GB\n", "no email column", 0},
		{"empty", "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readContacts(strings.NewReader(c.csv), "contacts.csv")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || len(got) != c.want {
				t.Fatalf("%d contacts, %v; want %d", len(got), err, c.want)
			}
		})
	}
	lt := newTarget(t, "")
	if _, err := lt.Count(context.Background(), []string{"seg_x"}, nil, nil); err == nil || !strings.Contains(err.Error(), "lastmile init") {
		t.Fatalf("a missing contacts.csv: err = %v, want a hint to run lastmile init", err)
	}
}

func TestPersonalizationTokens(t *testing.T) {
	c := sandbox.Contact{"email": "ada@x.com", "firstname": "Ada <3", "city": ""}
	cases := []struct{ in, text, html string }{
		{`Hi {{ contact.firstname | default: "there" }}`, "Hi Ada <3", "Hi Ada &lt;3"},
		{`Hi {{contact.FirstName|default:'you'}}`, "Hi Ada <3", "Hi Ada &lt;3"},
		{`in {{ contact.city | default: "your city" }}`, "in your city", "in your city"},
		{`in {{ contact.city | default: &quot;town&quot; }}`, "in town", "in town"},
		{`{{ contact.missing }}!`, "!", "!"},
		{`<a href="{{ unsubscribe_url }}">`, `<a href="mailto:u">`, `<a href="mailto:u">`},
	}
	for _, cs := range cases {
		if got := fill(cs.in, c, "mailto:u", false); got != cs.text {
			t.Errorf("text %q → %q, want %q", cs.in, got, cs.text)
		}
		if got := fill(cs.in, c, "mailto:u", true); got != cs.html {
			t.Errorf("html %q → %q, want %q", cs.in, got, cs.html)
		}
	}
}

// One message per recipient: a MIME multipart/alternative with the headers
// a mail client needs, personalized parts, and a sent event each.
func TestSendWritesOneMessagePerRecipient(t *testing.T) {
	ctx := context.Background()
	lt := newTarget(t, "email,firstname,country\nada@x.com,Ada,GB\ngrace@x.com,,US\nalan@x.com,Alan,GB\n")
	segs := map[string]*sandbox.Segment{"seg_gb": {Name: "GB", Group: sandbox.Group{Match: "all", Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "GB"}}}}}
	seg := sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: "seg_gb", Segment: segs["seg_gb"], Segments: segs}
	if _, err := lt.Put(ctx, seg, ""); err != nil {
		t.Fatal(err)
	}
	email := &sandbox.Email{Name: "Hi", Subject: "Hello {{ contact.firstname | default: \"friend\" }} — ünïcode", FromName: "Acme, Inc.", FromEmail: "news@acme.com",
		HTML: `<p>Hi {{ contact.firstname | default: "there" }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`, Text: "Hi {{ contact.firstname | default: \"there\" }}",
		Audience: sandbox.Audience{Include: []string{"seg_gb"}}}
	obj := sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: "eml_1", Email: email, Segments: segs}
	live, err := lt.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 2, 8, 0, 0, 0, time.UTC)
	if _, err := lt.Send(ctx, obj, live, at); err != nil {
		t.Fatal(err)
	}
	// Scheduled: nothing goes out before its time.
	if files, _ := os.ReadDir(filepath.Join(lt.Dir(), "outbox", "eml_1")); len(files) != 0 {
		t.Fatalf("%d messages before the send's time", len(files))
	}
	if rep, err := lt.Tick(ctx, at.Add(-time.Minute)); err != nil || rep.Sent != 0 {
		t.Fatalf("a tick before the time: %+v %v", rep, err)
	}
	if rep, err := lt.Tick(ctx, at); err != nil || rep.Sent != 2 {
		t.Fatalf("the tick at the time: %+v %v", rep, err)
	}
	files, _ := os.ReadDir(filepath.Join(lt.Dir(), "outbox", "eml_1"))
	if len(files) != 2 {
		t.Fatalf("%d messages, want 2 (the GB contacts)", len(files))
	}
	raw, _ := os.ReadFile(filepath.Join(lt.Dir(), "outbox", "eml_1", fileName("ada@x.com")))
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id", "List-Unsubscribe", "Mime-Version"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(msg.Header.Get("Subject")); subj != "Hello Ada — ünïcode" {
		t.Errorf("Subject = %q", subj)
	}
	if d, _ := msg.Header.Date(); !d.Equal(at) {
		t.Errorf("Date = %v, want the scheduled time %v", d, at)
	}
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Name != "Acme, Inc." {
		t.Errorf("From = %q (%v)", msg.Header.Get("From"), err)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		parts = append(parts, p.Header.Get("Content-Type")+"|"+string(body))
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "text/plain") || !strings.Contains(parts[0], "Hi Ada") ||
		!strings.HasPrefix(parts[1], "text/html") || !strings.Contains(parts[1], "<p>Hi Ada</p>") || !strings.Contains(parts[1], "mailto:unsubscribe@acme.com") {
		t.Fatalf("parts: %q", parts)
	}
	// Sending again mails nobody twice and adds no event.
	if _, err := lt.Send(ctx, obj, live, at); err != nil {
		t.Fatal(err)
	}
	sent := 0
	lt.ReadEvents(func(e Event) {
		if e.Type == "sent" {
			sent++
		}
	})
	if sent != 2 {
		t.Fatalf("%d sent events, want 2", sent)
	}
}

// Metrics add events up per artifact; a torn last line (a writer that died
// mid-append) is skipped and the next append starts on a new line.
func TestMetricsFromEvents(t *testing.T) {
	ctx := context.Background()
	lt := newTarget(t, SampleContacts)
	at := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	lt.AppendEvents([]Event{
		{Type: "sent", Artifact: "eml_1", Email: "a@x.com", At: at}, {Type: "sent", Artifact: "eml_1", Email: "b@x.com", At: at},
		{Type: "delivered", Artifact: "eml_1", Email: "a@x.com", At: at}, {Type: "open", Artifact: "eml_1", Email: "a@x.com", At: at},
		{Type: "open", Artifact: "eml_1", Email: "a@x.com", At: at}, {Type: "click", Artifact: "eml_1", Email: "a@x.com", At: at},
		{Type: "page_view", Artifact: "pg_1", At: at}, {Type: "form_submission", Artifact: "pg_1", At: at},
	})
	f, _ := os.OpenFile(lt.EventsFile(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"type":"open","artifact":"eml_1","em`) // torn
	f.Close()
	if err := lt.AppendEvents([]Event{{Type: "bounce", Artifact: "eml_1", Email: "b@x.com", At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := lt.AppendEvents([]Event{{Type: "teleport", Artifact: "eml_1"}}); err == nil {
		t.Fatal("an unknown event type was accepted")
	}
	ms, err := lt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_1", LiveID: "eml_1"}, {ArtifactID: "pg_1", LiveID: "pg_1"}}})
	if err != nil {
		t.Fatal(err)
	}
	e, p := ms[0].Counters, ms[1].Counters
	if e["sent"] != 2 || e["delivered"] != 1 || e["opens"] != 2 || e["unique_opens"] != 1 || e["clicks"] != 1 || e["bounces"] != 1 {
		t.Errorf("email counters %v", e)
	}
	if p["page_views"] != 1 || p["form_submissions"] != 1 {
		t.Errorf("page counters %v", p)
	}
	later, _ := lt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_1", LiveID: "eml_1"}}, Since: at.Add(time.Hour)})
	if later[0].Counters["sent"] != 0 {
		t.Errorf("since filters nothing: %v", later[0].Counters)
	}
}

// Live reports drift: a record or published page edited by hand changes
// its version.
func TestLiveVersionShowsHandEdits(t *testing.T) {
	ctx := context.Background()
	lt := newTarget(t, SampleContacts)
	page := sandbox.Object{Kind: sandbox.KindPage, ArtifactID: "pg_1", Page: &sandbox.Page{Title: "T", Slug: "spring", HTML: "<p>v1</p>"}}
	put, err := lt.Put(ctx, page, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lt.Publish(ctx, page, put, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	again, found, _ := lt.Live(ctx, sandbox.KindPage, "pg_1")
	if !found || again.Version != pub.Version || !strings.HasSuffix(again.URL, "/spring/") {
		t.Fatalf("Live after publish: %+v (publish said %+v)", again, pub)
	}
	os.WriteFile(filepath.Join(lt.Dir(), "site", "spring", "index.html"), []byte("hacked"), 0o644)
	edited, _, _ := lt.Live(ctx, sandbox.KindPage, "pg_1")
	if edited.Version == pub.Version {
		t.Fatal("a hand edit of the published page did not change its version")
	}
	if _, found, _ := lt.Live(ctx, sandbox.KindPage, "../../etc/passwd"); found {
		t.Fatal("Live accepted a path as an id")
	}
}
