package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

var names = map[string]string{
	"seg_vip":      "VIP customers",
	"seg_churned":  "Churned",
	"seg_new":      "New signups",
	"seg_engaged":  "Engaged in 30 days",
	"eml_welcome":  "Welcome",
	"eml_offer":    "First-order offer",
	"eml_reminder": "Reminder",
	"pag_signup":   "Spring signup",
}

func cond(p, op string, v any) sandbox.Condition {
	return sandbox.Condition{Property: p, Operator: op, Value: v}
}

func TestSegmentWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		seg  *sandbox.Segment
		want []string
	}{
		{"nil", nil, nil},
		{"all", &sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{
			cond("country", "eq", "US"), cond("lifecycle_stage", "eq", "customer"),
		}}}, []string{"Contacts where country is US and lifecycle stage is customer"}},
		{"any", &sandbox.Segment{Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{
			cond("country", "eq", "US"), cond("country", "eq", "CA"),
		}}}, []string{"Contacts where country is US or country is CA"}},
		{"nested", &sandbox.Segment{Group: sandbox.Group{
			Conditions: []sandbox.Condition{cond("lifecycle_stage", "eq", "customer")},
			Groups: []sandbox.Group{
				{Match: "any", Conditions: []sandbox.Condition{cond("country", "eq", "US"), cond("city", "eq", "New York")}},
				{Conditions: []sandbox.Condition{cond("orders", "gt", 3.0)}}, // one part: no parentheses
				{Match: "ANY", Groups: []sandbox.Group{{Conditions: []sandbox.Condition{cond("a", "exists", nil), cond("b", "exists", nil)}}, {Conditions: []sandbox.Condition{cond("c", "exists", nil)}}}},
			},
		}}, []string{`Contacts where lifecycle stage is customer and (country is US or city is "New York") and orders is more than 3 and ((a is set and b is set) or c is set)`}},
		{"refs", &sandbox.Segment{
			Group:           sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "US")}},
			IncludeSegments: []string{"seg_vip", "seg_unknown"},
			ExcludeSegments: []string{"seg_churned"},
			StaticEmails:    []string{"a@x.com", "b@x.com"},
		}, []string{
			"Contacts where country is US",
			`plus the members of segment "VIP customers"`,
			"plus the members of segment seg_unknown",
			"plus 2 listed addresses",
			`minus the members of segment "Churned"`,
		}},
		{"no conditions", &sandbox.Segment{IncludeSegments: []string{"seg_vip"}, ExcludeSegments: []string{"seg_churned"}}, []string{
			`Members of segment "VIP customers"`,
			`minus the members of segment "Churned"`,
		}},
		{"addresses only", &sandbox.Segment{StaticEmails: []string{"a@x.com"}}, []string{"1 listed address"}},
		{"empty", &sandbox.Segment{}, []string{"Nobody: the segment has no conditions, segments or addresses"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SegmentWords(tc.seg, names); !slices.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestConditionWords(t *testing.T) {
	for _, tc := range []struct {
		c    sandbox.Condition
		want string
	}{
		{cond("country", "eq", "US"), "country is US"},
		{cond("country", "neq", "US"), "country is not US"},
		{cond("email", "contains", "@acme.com"), "email contains @acme.com"},
		{cond("email", "not_contains", "test"), "email does not contain test"},
		{cond("first_name", "starts_with", "Ma"), "first name starts with Ma"},
		{cond("orders", "gt", 3.0), "orders is more than 3"},
		{cond("orders", "gte", 2.5), "orders is at least 2.5"},
		{cond("score", "lt", int64(10)), "score is less than 10"},
		{cond("score", "lte", 10), "score is at most 10"},
		{cond("country", "in", []any{"US", "CA"}), "country is one of US, CA"},
		{cond("country", "not_in", []any{"US", "New Zealand"}), `country is not one of US, "New Zealand"`},
		{cond("phone", "exists", nil), "phone is set"},
		{cond("phone", "not_exists", nil), "phone is not set"},
		{cond("renewal_date", "before", "2027-01-31"), "renewal date is before 2027-01-31"},
		{cond("signup_at", "after", "2027-01-31T09:00:00Z"), "signup_at is after 2027-01-31T09:00:00Z"}, // "at" is a structural word,
		{cond("opted_in", "eq", true), "opted_in is true"},
		{cond("nickname", "eq", ""), `nickname is ""`},
		{cond("x", "eq", nil), "x is (no value)"},
		{cond("x", "like", "y"), `x (unknown test "like") y`},
		{cond("x", "in", []any{}), "x is one of (no values)"},
		{cond("x", "eq", map[string]any{"a": 1.0}), `x is "map[a:1]"`},
		// A value or property that would read as more conditions cannot.
		{cond("plan", "eq", "pro and country is US"), `plan is "pro and country is US"`},
		{cond("country_is_US_and_plan", "eq", "pro"), "country_is_US_and_plan is pro"},
		{cond("lifecycle stage", "eq", "x"), `"lifecycle stage" is x`},
		{cond("a", "eq", `say "hi"`), `a is "say \"hi\""`},
	} {
		if got := condition(tc.c.Property, tc.c.Operator, tc.c.Value); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestConditionLongList(t *testing.T) {
	var list []any
	for i := range 25 {
		list = append(list, float64(i))
	}
	got := condition("n", "in", list)
	want := "n is one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 and 5 more"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"maria.lopez@acme.com", "ma•••••••@acme.com"},
		{"  maria.lopez@acme.com ", "ma•••••••@acme.com"},
		{"ab@acme.com", "a•••••••@acme.com"},
		{"a@acme.com", "•••••••@acme.com"},
		{"@acme.com", "•••••••@acme.com"},
		{"maria@", "ma•••••••@"},
		{"not an address", "no•••••••"},
		{"", ""},
		{"josé.núñez@correo.es", "jo•••••••@correo.es"},
		{"ñú@ejemplo.es", "ñ•••••••@ejemplo.es"},
		{"山田太郎@例え.jp", "山田•••••••@例え.jp"},
		{`"a@b"@acme.com`, `"a•••••••@acme.com`}, // the domain is after the last @
		{"\xff\xfeabc@acme.com", "\ufffd\ufffd•••••••@acme.com"},
		// What is kept and the domain are made inert, like any agent text.
		{"\u202eab@acme.com", `\u202ea•••••••@acme.com`},
		{"ma@\u202emoc.emca", `m•••••••@\u202emoc.emca`},
	} {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := Mask("ab@" + strings.Repeat("x", 1000) + ".com")
	if n := len([]rune(long)); n > textMax+40 {
		t.Errorf("a long address masks to %d characters", n)
	}
}
