package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// A send by recipient time zone within a window: each recipient at 09:00
// in their zone (one without a zone at send_at's offset), once each; one
// who unsubscribes before their time is not mailed; a recipient whose time
// came while the clock was not running waits for the window to open again.
func TestSpreadSend(t *testing.T) {
	ctx := context.Background()
	lt := newTarget(t, "email,timezone,country\nada@x.com,Europe/Berlin,GB\ngrace@x.com,America/New_York,GB\nalan@x.com,,GB\nbob@x.com,Asia/Tokyo,GB\neve@x.com,Nowhere/Land,GB\n")
	segs := map[string]*sandbox.Segment{"seg_gb": {Name: "GB", Group: sandbox.Group{Match: "all", Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "GB"}}}}}
	if _, err := lt.Put(ctx, sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: "seg_gb", Segment: segs["seg_gb"], Segments: segs}, ""); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC) // a Tuesday
	email := &sandbox.Email{Name: "Hi", Subject: "Hello", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>Hi</p>", Text: "Hi",
		Audience: sandbox.Audience{Include: []string{"seg_gb"}}, SendAt: &at, RecipientTimeZone: true,
		SendWindow: &sandbox.SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}}
	obj := sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: "eml_1", Email: email, Segments: segs}
	a, err := lt.Assess(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if a.FirstSend == nil || !a.FirstSend.Equal(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) || !a.LastSend.Equal(time.Date(2027, 3, 2, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("first/last = %v/%v, want Tokyo's and New York's 09:00", a.FirstSend, a.LastSend)
	}
	if !strings.Contains(strings.Join(a.Notes, "\n"), "2 recipient(s) have no valid timezone") {
		t.Errorf("notes %q do not name the recipient without a zone", a.Notes)
	}
	var keys []string
	for _, r := range a.Recipients {
		keys = append(keys, sandbox.RecipientKey(r))
	}
	obj.Recipients = sandbox.NewRecipientSet(keys)
	live, err := lt.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lt.Send(ctx, obj, live, *a.FirstSend); err != nil {
		t.Fatal(err)
	}
	// A new revision while it is scheduled keeps the recipients' times.
	obj.Revision = 2
	if _, err := lt.Put(ctx, obj, ""); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(lt.Dir(), "outbox", "eml_1")
	count := func() int { files, _ := os.ReadDir(box); return len(files) }
	tick := func(at time.Time, want int) {
		t.Helper()
		rep, err := lt.Tick(ctx, at)
		if err != nil || rep.Sent != want {
			t.Fatalf("tick at %s: sent %d (%v), want %d", at.Format(time.RFC3339), rep.Sent, err, want)
		}
	}
	tick(time.Date(2027, 3, 1, 23, 59, 0, 0, time.UTC), 0)
	tick(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), 1) // bob, Tokyo
	tick(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), 0)
	if err := lt.AppendEvents([]Event{{Type: "unsubscribe", Email: "ada@x.com", At: time.Date(2027, 3, 2, 7, 0, 0, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	tick(time.Date(2027, 3, 2, 8, 0, 0, 0, time.UTC), 0) // ada unsubscribed

	// A crash after the messages, before the progress: nobody twice.
	sched := lt.schedulePath("eml_1")
	before, _ := os.ReadFile(sched)
	tick(time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC), 2) // alan and eve, at send_at's offset
	os.WriteFile(sched, before, 0o644)
	tick(time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC), 0)
	if count() != 3 {
		t.Fatalf("%d messages, want 3", count())
	}

	// Grace's 09:00 in New York came while the clock was stopped; at
	// 17:00 there the window is shut, so she gets it when it opens.
	tick(time.Date(2027, 3, 2, 22, 0, 0, 0, time.UTC), 0)
	tick(time.Date(2027, 3, 3, 14, 0, 0, 0, time.UTC), 1)
	var rec liveEmail
	if _, err := readJSON(lt.recordPath(sandbox.KindEmail, "eml_1"), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "sent" || rec.Recipients != 4 || rec.DroppedSuppressed != 1 {
		t.Fatalf("record: status %s, %d recipients, %d suppressed; want sent, 4, 1", rec.Status, rec.Recipients, rec.DroppedSuppressed)
	}
	tick(time.Date(2027, 3, 4, 14, 0, 0, 0, time.UTC), 0)
	if count() != 4 {
		t.Fatalf("%d messages, want 4", count())
	}
}
