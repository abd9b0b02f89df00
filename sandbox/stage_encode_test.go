package sandbox

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// encodeRevision must give exactly what marshal gives: stored revisions
// keep one encoding whichever path wrote them.
func TestEncodeRevisionIsMarshal(t *testing.T) {
	base := Revision{ArtifactID: "eml_1", Kind: KindEmail, CampaignID: "cmp_1", Number: 3, Hash: "sha256:x", CreatedAt: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC), Actor: "agent <a&b>"}
	revs := map[string]Revision{}
	r := base
	r.Email = &Email{Name: "Launch", Subject: "Hi", HTML: "<p>a & b</p>", Audience: Audience{Include: []string{"seg_1"}}}
	revs["email"] = r
	r = base
	r.Segment = &Segment{Name: "VIP", Group: Group{Match: "all", Conditions: []Condition{{Property: "country", Operator: "eq", Value: "GB"}}}}
	revs["segment"] = r
	r = base
	r.Workflow = &Workflow{Name: "Welcome", Steps: []Step{{ID: "s1", Type: "exit"}}}
	revs["workflow"] = r
	r = base
	r.Page = &Page{Title: "Spring", Slug: "spring", HTML: "<h1>Spring</h1>"}
	revs["page"] = r
	for name, r := range revs {
		want, err := marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		field, data, err := encodeContent(&r)
		if err != nil || field != name {
			t.Fatalf("%s: field %q, %v", name, field, err)
		}
		got, err := encodeRevision(&r, field, data)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	if _, _, err := encodeContent(&Revision{}); err == nil {
		t.Error("a revision without content encoded")
	}
}

// BenchmarkEncodeRevision20KB encodes a staged 20 KB email as staging
// does: the content (hashed), then the revision around it.
func BenchmarkEncodeRevision20KB(b *testing.B) {
	html, err := os.ReadFile("../testdata/bench/email-20kb.html")
	if err != nil {
		b.Fatal(err)
	}
	r := &Revision{ArtifactID: "eml_1", Kind: KindEmail, CampaignID: "cmp_1", Number: 3, CreatedAt: time.Now(), Actor: "agent",
		Email: &Email{Name: "Launch", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com", HTML: string(html), Audience: Audience{Include: []string{"seg_1"}}}}
	b.SetBytes(int64(len(html)))
	for b.Loop() {
		field, data, err := encodeContent(r)
		if err != nil {
			b.Fatal(err)
		}
		r.Hash = contentHash(data)
		if _, err := encodeRevision(r, field, data); err != nil {
			b.Fatal(err)
		}
	}
}
