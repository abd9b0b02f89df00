package local

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// everyone selects every contact whose list column is "all".
var everyone = map[string]*sandbox.Segment{"seg_all": {Name: "All", Group: sandbox.Group{Match: "all",
	Conditions: []sandbox.Condition{{Property: "list", Operator: "eq", Value: "all"}}}}}

// liveEmailTo puts seg_all and an email to it, returning the email object.
func liveEmailTo(t *testing.T, lt *Target, id string, segs map[string]*sandbox.Segment) sandbox.Object {
	t.Helper()
	ctx := context.Background()
	if _, err := lt.Put(ctx, sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: "seg_all", Segment: segs["seg_all"], Segments: segs}, ""); err != nil {
		t.Fatal(err)
	}
	email := &sandbox.Email{Name: "Hi", Subject: "Hi", FromEmail: "news@acme.com", HTML: "<p>Hi</p>", Text: "Hi",
		Audience: sandbox.Audience{Include: []string{"seg_all"}}}
	obj := sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: id, Email: email, Segments: segs}
	if _, err := lt.Put(ctx, obj, ""); err != nil {
		t.Fatal(err)
	}
	return obj
}

// outbox maps each message's To address to its file name.
func outbox(t *testing.T, lt *Target, id string) map[string]string {
	t.Helper()
	files, err := os.ReadDir(filepath.Join(lt.Dir(), "outbox", id))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		raw, err := os.Open(filepath.Join(lt.Dir(), "outbox", id, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(raw)
		raw.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		to, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil {
			t.Fatalf("%s: To %q: %v", f.Name(), msg.Header.Get("To"), err)
		}
		if prev, dup := out[to.Address]; dup {
			t.Errorf("%s has two messages: %s and %s", to.Address, prev, f.Name())
		}
		out[to.Address] = f.Name()
	}
	return out
}

// sentEvents counts the sent events of an email per address.
func sentEvents(t *testing.T, lt *Target, id string) map[string]int {
	t.Helper()
	out := map[string]int{}
	if err := lt.ReadEvents(func(e Event) {
		if e.Type == "sent" && e.Artifact == id {
			out[e.Email]++
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func liveRecord(t *testing.T, lt *Target, id string) liveEmail {
	t.Helper()
	var rec liveEmail
	if found, err := readJSON(lt.recordPath(sandbox.KindEmail, id), &rec); err != nil || !found {
		t.Fatalf("live record of %s: found=%v err=%v", id, found, err)
	}
	return rec
}

// writeContacts replaces contacts.csv and moves its time on, so the
// cached copy is read again even when the size happens to match.
func writeContacts(t *testing.T, lt *Target, csv string, at time.Time) {
	t.Helper()
	p := filepath.Join(lt.Dir(), "contacts.csv")
	if err := os.WriteFile(p, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// Addresses that the old file naming folded into one file, and spellings
// that differ only in case, each get exactly one message, and there are as
// many sent events as messages.
func TestOneMessagePerAddress(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("x", 300) + "@example.com"
	want := []string{"o'brien@x", "o_brien@x", "o=brien@x", "jürgen@x", "j_rgen@x", "a+b@x", "a%b@x", "a_b@x", `"a:b"@x`, long}
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	w.Write([]string{"email", "list"})
	for _, a := range append(want, "O'Brien@X", "JÜRGEN@X", " A+B@x") { // the last three normalize equal to earlier ones
		w.Write([]string{a, "all"})
	}
	w.Flush()
	lt := newTarget(t, buf.String())
	segs := map[string]*sandbox.Segment{"seg_all": {Name: "All", StaticEmails: []string{"o'brien@x"},
		Group: everyone["seg_all"].Group}}
	obj := liveEmailTo(t, lt, "eml_1", segs)

	a, err := lt.Assess(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if a.AudienceSize != len(want) || !sameSet(a.Recipients, want) {
		t.Fatalf("Assess: size %d, recipients %q; want %d: %q", a.AudienceSize, a.Recipients, len(want), want)
	}
	if _, err := lt.Send(ctx, obj, sandbox.LiveState{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	box := outbox(t, lt, "eml_1")
	if !sameSet(slices.Collect(mapsKeys(box)), want) {
		t.Fatalf("messages to %q, want one each to %q", slices.Collect(mapsKeys(box)), want)
	}
	sent := sentEvents(t, lt, "eml_1")
	for addr, n := range sent {
		if n != 1 || box[addr] == "" {
			t.Errorf("%s: %d sent events, message %q", addr, n, box[addr])
		}
	}
	if len(sent) != len(box) || liveRecord(t, lt, "eml_1").Recipients != len(box) {
		t.Errorf("%d addresses with sent events, record says %d recipients, for %d messages", len(sent), liveRecord(t, lt, "eml_1").Recipients, len(box))
	}
}

// File names are safe on case-insensitive file systems and on Windows, and
// short enough everywhere.
func TestFileNamesArePortable(t *testing.T) {
	portable := regexp.MustCompile(`^[a-z0-9@_+-]+-[0-9a-f]{64}\.eml$`)
	seen := map[string]string{}
	for _, addr := range []string{"ada@x.com", "con@x", "con.x@y", "nul@x", `"a<b>c:d|e?f*g\h/i"@x`, "a..b@x", ".a@x", "a.@x", "ünïcödé@x", strings.Repeat("é", 200) + "@x", strings.Repeat("a", 1000) + "@x"} {
		name := fileName(addr)
		if !portable.MatchString(name) || len(name) > 255 {
			t.Errorf("fileName(%q) = %q (%d bytes): not portable", addr, name, len(name))
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			t.Errorf("%q and %q share the file %s", prev, addr, name)
		}
		seen[strings.ToLower(name)] = addr
	}
}

// A send interrupted under the old file naming, then resumed by this
// version, mails nobody twice: a sent event or an old-style message
// addressed to the recipient counts as mailed.
func TestSendResumesAfterOldFileNaming(t *testing.T) {
	ctx := context.Background()
	lt := newTarget(t, "email,list\no'brien@x,all\no_brien@x,all\no=brien@x,all\nada@x.com,all\n")
	obj := liveEmailTo(t, lt, "eml_1", everyone)
	box := filepath.Join(lt.Dir(), "outbox", "eml_1")
	old := func(addr string) {
		c := sandbox.Contact{"email": addr}
		if err := lt.writeFile(filepath.Join(box, legacyFileName(addr)), message(obj.Email, "eml_1", c, time.Now(), "acme.com", "", "")); err != nil {
			t.Fatal(err)
		}
	}
	// The old version mailed o'brien into o_brien@x.eml, then skipped
	// o_brien (file exists) but gave both a sent event; it wrote ada's
	// message and died before that event was flushed.
	old("o'brien@x")
	old("ada@x.com")
	at := time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)
	lt.AppendEvents([]Event{{Type: "sent", Artifact: "eml_1", Email: "o'brien@x", At: at}, {Type: "sent", Artifact: "eml_1", Email: "o_brien@x", At: at}})

	if _, err := lt.Send(ctx, obj, sandbox.LiveState{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(box)
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	wantNames := []string{legacyFileName("o'brien@x"), legacyFileName("ada@x.com"), fileName("o=brien@x")}
	if !sameSet(names, wantNames) {
		t.Fatalf("outbox %q, want %q (only o=brien newly mailed)", names, wantNames)
	}
	sent := sentEvents(t, lt, "eml_1")
	for _, addr := range []string{"o'brien@x", "o_brien@x", "o=brien@x", "ada@x.com"} {
		if sent[addr] != 1 {
			t.Errorf("%s: %d sent events, want 1", addr, sent[addr])
		}
	}
}

// The audience is resolved at the send from the segment definitions and the
// current contacts.csv, minus suppression, and only within the approved set.
func TestSendDropsSuppressedAndUnapproved(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	lt := newTarget(t, "")
	writeContacts(t, lt, "email,list,marketing_consent\n"+
		"ada@x,all,true\n"+
		"grace@x,all,yes\n"+ // withdraws consent after approval
		"alan@x,all,\n"+ // blank: not a refusal
		"linus@x,all,TRUE\n"+ // unsubscribes after approval
		"ken@x,all,N\n"+ // never consented
		"tim@x,all,true\n"+ // reported spam before
		"hedy@x,all,true\n"+ // bounced before
		"zed@x,all,true\n", // deleted from contacts.csv after approval
		day)
	lt.AppendEvents([]Event{
		{Type: "spam_report", Artifact: "eml_old", Email: "tim@x", At: day},
		{Type: "bounce", Artifact: "eml_old", Email: "Hedy@X", At: day},
		{Type: "open", Artifact: "eml_old", Email: "ada@x", At: day}, // engagement suppresses nobody
	})
	obj := liveEmailTo(t, lt, "eml_1", everyone)

	seg, err := lt.Assess(ctx, sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: "seg_all", Segment: everyone["seg_all"], Segments: everyone})
	if err != nil || seg.AudienceSize != 8 {
		t.Fatalf("segment Assess: %d members, %v; want all 8 (membership ignores suppression)", seg.AudienceSize, err)
	}
	a, err := lt.Assess(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	approved := []string{"ada@x", "grace@x", "alan@x", "linus@x", "zed@x"}
	if !sameSet(a.Recipients, approved) || a.AudienceSize != len(approved) {
		t.Fatalf("email Assess: size %d, recipients %q; want %q", a.AudienceSize, a.Recipients, approved)
	}
	keys := make([]string, len(a.Recipients))
	for i, r := range a.Recipients {
		keys[i] = sandbox.RecipientKey(r)
	}
	obj.Recipients = sandbox.NewRecipientSet(keys)

	// After approval: grace withdraws consent, zed is deleted, two
	// contacts are added, linus unsubscribes from another email.
	writeContacts(t, lt, "email,list,marketing_consent\n"+
		"ada@x,all,true\ngrace@x,all,False\nalan@x,all,\nlinus@x,all,true\nken@x,all,n\ntim@x,all,true\nhedy@x,all,true\n"+
		"new@x,all,true\nnewer@x,all,\n", day.Add(time.Hour))
	lt.AppendEvents([]Event{{Type: "unsubscribe", Artifact: "eml_old", Email: "LINUS@x", At: day.Add(time.Hour)}})

	if _, err := lt.Send(ctx, obj, sandbox.LiveState{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	mailed := slices.Collect(mapsKeys(outbox(t, lt, "eml_1")))
	if want := []string{"ada@x", "alan@x"}; !sameSet(mailed, want) {
		t.Fatalf("mailed %q, want %q", mailed, want)
	}
	if sent := sentEvents(t, lt, "eml_1"); len(sent) != len(mailed) {
		t.Errorf("%d sent events for %d messages", len(sent), len(mailed))
	}
	rec := liveRecord(t, lt, "eml_1")
	if rec.Recipients != 2 || rec.DroppedUnapproved != 2 || rec.DroppedSuppressed != 5 {
		t.Errorf("record: recipients %d, dropped_unapproved %d, dropped_suppressed %d; want 2, 2 (new, newer), 5 (grace, linus, ken, tim, hedy)",
			rec.Recipients, rec.DroppedUnapproved, rec.DroppedSuppressed)
	}
	// The live segment keeps the members it had when it went live.
	var segRec liveSegment
	readJSON(lt.recordPath(sandbox.KindSegment, "seg_all"), &segRec)
	if !slices.Contains(segRec.Members, "zed@x") {
		t.Errorf("the live segment record lost its members: %q", segRec.Members)
	}

	// Without an approved set, everyone resolved and not suppressed is
	// mailed, the new contacts too.
	other := liveEmailTo(t, lt, "eml_2", everyone)
	if _, err := lt.Send(ctx, other, sandbox.LiveState{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	mailed = slices.Collect(mapsKeys(outbox(t, lt, "eml_2")))
	if want := []string{"ada@x", "alan@x", "new@x", "newer@x"}; !sameSet(mailed, want) {
		t.Fatalf("with no approved set: mailed %q, want %q", mailed, want)
	}
	raw, _ := os.ReadFile(lt.recordPath(sandbox.KindEmail, "eml_2"))
	var fields map[string]any
	json.Unmarshal(raw, &fields)
	if fields["recipients"] != 4.0 || fields["dropped_suppressed"] != 5.0 || fields["dropped_unapproved"] != nil {
		t.Errorf("eml_2 record: %s", raw)
	}
}

// An audience in which everyone is suppressed is an empty list, not an
// unknown one (nil would let a later send mail anyone).
func TestAssessEmptyAudienceIsKnown(t *testing.T) {
	lt := newTarget(t, "email,list,marketing_consent\nken@x,all,no\n")
	obj := liveEmailTo(t, lt, "eml_1", everyone)
	a, err := lt.Assess(context.Background(), obj)
	if err != nil || a.Recipients == nil || a.AudienceSize != 0 {
		t.Fatalf("Assess: %+v, %v; want an empty, non-nil recipient list", a, err)
	}
}

func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}
