package hubspot

import (
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// An A/B test is a HubSpot A/B email: A with its testing settings, B made
// by create-variation (once, however often Put runs) and set to variant b;
// publishing A sends both, once.
func TestABTestIsAnABEmail(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("ann@acme.test", "bob@acme.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{StaticEmails: []string{"ann@acme.test", "bob@acme.test"}}), ""))
	obj := emailObj("eml_ab", "Spring launch", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	obj.Email.ABTest = &sandbox.ABTest{TestPercent: 30, Winner: "opens", DecideAfter: "4h", Variants: []sandbox.Variant{
		{Subject: "B for {{ contact.firstname | default: \"you\" }}", FromName: "Ada at Acme", PreviewText: "B preview",
			HTML: `<html><body><p>Version B</p><a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>`},
	}}
	if a, err := e.target.Assess(ctx(), obj); e.note(err) != nil || len(a.Problems) != 0 {
		t.Fatalf("assess: %+v %v", a.Problems, err)
	}
	st := m(e.target.Put(ctx(), obj, ""))
	st = m(e.target.Put(ctx(), obj, st.ID)) // again: no second B
	var a, b *hubspottest.Email
	ems := e.srv.Emails()
	for i := range ems {
		switch {
		case ems[i].ID == st.ID:
			a = &ems[i]
		case strings.Contains(ems[i].Name, "[lm-eml_ab.b]"):
			if b != nil {
				t.Fatal("two B versions")
			}
			b = &ems[i]
		}
	}
	if a == nil || b == nil {
		t.Fatalf("emails %+v", ems)
	}
	ts := a.Doc["testing"].(map[string]any)
	if ts["abTestPercentage"] != float64(30) || ts["hoursToWait"] != float64(4) || ts["abSuccessMetric"] != "OPENS_BY_DELIVERED" || ts["abSamplingDefault"] != "master" {
		t.Errorf("A's testing = %v", ts)
	}
	if a.Doc["isAb"] != true || !strings.Contains(b.Subject, `contact.firstname|default("you")`) || b.Doc["from"].(map[string]any)["fromName"] != "Ada at Acme" {
		t.Errorf("B = %+v", b)
	}
	w := b.Doc["content"].(map[string]any)["widgets"].(map[string]any)
	if !strings.Contains(w["lastmile_body"].(map[string]any)["body"].(map[string]any)["html"].(string), "Version B") {
		t.Errorf("B's content is not variant b's")
	}
	// Find finds A, not B.
	if f, found, err := e.target.Find(ctx(), obj); err != nil || !found || f.ID != st.ID {
		t.Errorf("Find = %+v %v %v", f, found, err)
	}
	m(e.target.Send(ctx(), obj, st, time.Time{}))
	m(e.target.Send(ctx(), obj, st, time.Time{}))
	for _, em := range e.srv.Emails() {
		if !em.IsPublished {
			t.Errorf("%s was not published with the test", em.Name)
		}
		if em.ID == st.ID && em.Sends != 1 {
			t.Errorf("A went out %d times", em.Sends)
		}
	}
}

// What HubSpot cannot run as approved is a plan-time problem.
func TestABTestHubSpotLimits(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	for _, tc := range []struct {
		name string
		ab   sandbox.ABTest
		want string
	}{
		{"three versions", sandbox.ABTest{TestPercent: 20, Winner: "clicks", DecideAfter: "4h", Variants: []sandbox.Variant{{Subject: "B"}, {Subject: "C"}}}, "exactly two versions"},
		{"minutes", sandbox.ABTest{TestPercent: 20, Winner: "clicks", DecideAfter: "90m", Variants: []sandbox.Variant{{Subject: "B"}}}, "whole hours"},
	} {
		obj := emailObj("eml_x", "X", []string{"seg_1"}, map[string]string{})
		obj.Email.ABTest = &tc.ab
		a, err := e.target.Assess(ctx(), obj)
		if e.note(err) != nil || !containsAny(a.Problems, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, a.Problems, tc.want)
		}
	}
}

// fetch_metrics reports version A's and version B's figures.
func TestABTestMetricsPerVersion(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("ann@acme.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{StaticEmails: []string{"ann@acme.test"}}), ""))
	obj := emailObj("eml_ab", "Spring", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	obj.Email.ABTest = &sandbox.ABTest{TestPercent: 20, Winner: "clicks", DecideAfter: "2h", Variants: []sandbox.Variant{{Subject: "B"}}}
	st := m(e.target.Put(ctx(), obj, ""))
	m(e.target.Send(ctx(), obj, st, time.Time{}))
	ms, err := e.target.Metrics(ctx(), sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_ab", Kind: sandbox.KindEmail, LiveID: st.ID}}})
	if e.note(err) != nil || len(ms) != 1 {
		t.Fatalf("metrics: %+v %v", ms, err)
	}
	if v := ms[0].Variants; v == nil || v["a"][sandbox.MetricSent] != ms[0].Counters[sandbox.MetricSent] || v["b"] == nil {
		t.Fatalf("variants: %+v", ms[0])
	}
}

// The sweep never takes version B for a stray of the email.
func TestABTestVersionBIsNoStray(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	m := must[sandbox.LiveState](t, e)
	e.srv.AddContacts("ann@acme.test")
	list := m(e.target.Put(ctx(), segmentObj("seg_1", "Readers", sandbox.Segment{StaticEmails: []string{"ann@acme.test"}}), ""))
	obj := emailObj("eml_ab", "Spring", []string{"seg_1"}, map[string]string{"seg_1": list.ID})
	obj.Email.ABTest = &sandbox.ABTest{TestPercent: 20, Winner: "clicks", DecideAfter: "2h", Variants: []sandbox.Variant{{Subject: "B"}}}
	st := m(e.target.Put(ctx(), obj, ""))
	marked, err := e.target.Marked(ctx(), sandbox.KindEmail)
	if e.note(err) != nil {
		t.Fatal(err)
	}
	if len(marked) != 1 || marked[0].LiveID != st.ID || marked[0].ArtifactID != "eml_ab" {
		t.Fatalf("marked emails: %+v", marked)
	}
}
