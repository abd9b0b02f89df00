package mailchimp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

func abObj(id string, variants ...sandbox.Variant) sandbox.Object {
	return emailObj(id, func(e *sandbox.Email) {
		e.ABTest = &sandbox.ABTest{TestPercent: 30, Winner: "clicks", DecideAfter: "4h", Variants: variants}
	})
}

// An A/B test of subject lines, from names or contents is a variate
// campaign the fake accepts against the spec, sent once.
func TestABTestIsAVariateCampaign(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		v     []sandbox.Variant
		check func(t *testing.T, subjects, froms, replyTos []string, contents int)
	}{
		{"subject", []sandbox.Variant{{Subject: "Hi B {{ contact.first_name | default: \"you\" }}"}, {Subject: "Hi C"}}, func(t *testing.T, s, f, r []string, c int) {
			if len(s) != 3 || !strings.Contains(s[1], "*|FNAME|*") || s[2] != "Hi C" || len(f) != 0 || c != 0 {
				t.Errorf("subject lines %q, from names %q, contents %d", s, f, c)
			}
		}},
		{"from name", []sandbox.Variant{{FromName: "Ada at Acme"}}, func(t *testing.T, s, f, r []string, c int) {
			if len(f) != 2 || f[1] != "Ada at Acme" || len(r) != 2 || r[0] != "news@acme.example" || len(s) != 0 {
				t.Errorf("from names %q, reply-tos %q, subjects %q", f, r, s)
			}
		}},
		{"content", []sandbox.Variant{{HTML: `<p>B</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`}}, func(t *testing.T, s, f, r []string, c int) {
			if c != 2 || len(s) != 0 || len(f) != 0 {
				t.Errorf("contents %d, subjects %q", c, s)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			obj := abObj("eml_1", tc.v...)
			a, err := e.tgt.Assess(ctx, obj)
			if e.record(err) != nil || len(a.Problems) != 0 || !containsText(a.Notes, "variate campaign") {
				t.Fatalf("assess: %+v %v", a, err)
			}
			st := e.put(obj, "")
			c, _ := e.srv.Campaign(st.ID)
			if c.Type != "variate" || c.Variate == nil || c.Variate.WinnerCriteria != "clicks" || c.Variate.WaitTime != 240 || c.Variate.TestSize != 30 {
				t.Fatalf("campaign %+v, variate %+v", c, c.Variate)
			}
			tc.check(t, c.Variate.SubjectLines, c.Variate.FromNames, c.Variate.ReplyToAddresses, len(c.VariateContents))
			if _, err := e.tgt.Send(ctx, obj, st, time.Time{}); e.record(err) != nil {
				t.Fatal(err)
			}
			if _, err := e.tgt.Send(ctx, obj, st, time.Time{}); e.record(err) != nil {
				t.Fatal(err)
			}
			if c, _ := e.srv.Campaign(st.ID); c.SendActions != 1 {
				t.Fatalf("sent %d times", c.SendActions)
			}
			ms, err := e.tgt.Metrics(ctx, sandbox.MetricsRequest{Items: []sandbox.MetricsItem{{ArtifactID: "eml_1", Kind: sandbox.KindEmail, LiveID: st.ID}}})
			if e.record(err) != nil || len(ms) != 1 || len(ms[0].Variants) != len(tc.v)+1 || ms[0].Variants["b"][sandbox.MetricSent] == 0 {
				t.Fatalf("metrics per variant: %+v %v", ms, err)
			}
			e.checkNoSecrets()
		})
	}
}

// What a variate campaign cannot test as approved is a plan-time problem.
func TestABTestMailchimpLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name string
		obj  sandbox.Object
		want string
	}{
		{"preview text", abObj("eml_1", sandbox.Variant{PreviewText: "other"}), "cannot test preview text"},
		{"two kinds", abObj("eml_2", sandbox.Variant{Subject: "B"}, sandbox.Variant{FromName: "C"}), "combinations nobody approved"},
		{"minutes", func() sandbox.Object {
			o := abObj("eml_3", sandbox.Variant{Subject: "B"})
			o.Email.ABTest.DecideAfter = "90m"
			return o
		}(), "whole hours"},
	} {
		a, err := e.tgt.Assess(ctx, tc.obj)
		if e.record(err) != nil || !containsText(a.Problems, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, a.Problems, tc.want)
		}
	}
	// Adding a test to a live regular campaign would change its type.
	st := e.put(emailObj("eml_4", nil), "")
	obj := abObj("eml_4", sandbox.Variant{Subject: "B"})
	obj.Refs = map[string]string{"eml_4": st.ID}
	if a, err := e.tgt.Assess(ctx, obj); e.record(err) != nil || !containsText(a.Problems, "type") {
		t.Errorf("adding a test to a live campaign: %+v %v", a.Problems, err)
	}
}
