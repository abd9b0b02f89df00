package liquid

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	ada := map[string]string{"firstname": "Ada <3", "plan": "Pro", "seats": "12", "city": ""}
	grace := map[string]string{"firstname": "Grace", "plan": "starter", "seats": "3"}
	for _, c := range []struct {
		in         string
		ada, grace string
	}{
		{`Hi {{ contact.firstname | default: "there" }}`, "Hi Ada &lt;3", "Hi Grace"},
		{`{% if contact.plan == "pro" %}Pro tips{% else %}Upgrade{% endif %}!`, "Pro tips!", "Upgrade!"},
		{`{% if contact.seats > 10 %}big{% elsif contact.seats > 2 %}mid{% else %}small{% endif %}`, "big", "mid"},
		{`{% if contact.city %}in {{ contact.city }}{% endif %}.`, ".", "."},
		{`{% if contact.plan != 'pro' %}A{% endif %}{% if contact.firstname contains "gr" %}B{% endif %}`, "", "AB"},
		{`{% if contact.plan == &quot;starter&quot; %}S{% endif %}`, "", "S"},
		{`{% if contact.plan == "pro" %}{% if contact.seats < 5 %}x{% else %}y{% endif %}{% endif %}`, "y", ""},
		{`<a href="{{ unsubscribe_url }}">out</a> {{ hubl.thing }} {b}`, `<a href="https://u">out</a> {{ hubl.thing }} {b}`, `<a href="https://u">out</a> {{ hubl.thing }} {b}`},
		// A default is the template's HTML: its entities are escaped once.
		{`{{ contact.city | default: "Tom &amp; Jerry" }}`, "Tom &amp; Jerry", "Tom &amp; Jerry"},
	} {
		if got := Render(c.in, ada, "https://u", true); got != c.ada {
			t.Errorf("%s for Ada: %q, want %q", c.in, got, c.ada)
		}
		if got := Render(c.in, grace, "https://u", true); got != c.grace {
			t.Errorf("%s for Grace: %q, want %q", c.in, got, c.grace)
		}
	}
}

func TestUnsupported(t *testing.T) {
	for in, want := range map[string]string{
		`{% for p in products %}{{ p.name }}{% endfor %}`: "{% for %} is not rendered",
		`{% if contact.plan == "pro" %}x`:                 "without its {% endif %}",
		`x{% endif %}`:                                    "without an {% if %}",
		`{% if contact.a and contact.b %}x{% endif %}`:    "a condition tests one contact property",
		`{% assign x = 1 %}`:                              "{% assign %} is not rendered",
		`{{ contact.firstname | upcase }}`:                "only {{ contact.property }}",
		`{% unless contact.vip %}x{% endunless %}`:        "{% unless %} is not rendered",
	} {
		got := Unsupported(in)
		if len(got) == 0 || !strings.Contains(got[0].Why, want) {
			t.Errorf("%s: %+v, want %q", in, got, want)
		}
	}
	for _, ok := range []string{`Hi {{ contact.firstname | default: "you" }} {% if contact.vip %}VIP{% elsif contact.plan == "pro" %}Pro{% else %}-{% endif %}`, `{{ hubl_thing }}`, `a { b } c`} {
		if got := Unsupported(ok); len(got) != 0 {
			t.Errorf("%s: %+v", ok, got)
		}
	}
}

func TestTranslate(t *testing.T) {
	var got []Node
	out, bad := Translate("local", `a {{ contact.FirstName | default: &quot;x&amp;y&quot; }} {% if contact.n > 2 %}b{% elsif contact.p == '' %}{% endif %}{{ unsubscribe_url }} {{ other }}`, func(n Node) string {
		got = append(got, n)
		return "[" + n.Kind + "]"
	})
	if len(bad) > 0 || out != `a [output] [if]b[elsif][endif][output] {{ other }}` {
		t.Fatalf("%q %+v", out, bad)
	}
	want := []Node{
		{Kind: "output", Text: `{{ contact.FirstName | default: &quot;x&amp;y&quot; }}`, Prop: "firstname", Value: "x&amp;y", Quote: "&quot;"},
		{Kind: "if", Text: `{% if contact.n > 2 %}`, Prop: "n", Op: ">", Value: "2"},
		{Kind: "elsif", Text: `{% elsif contact.p == '' %}`, Prop: "p", Op: "==", Quote: "'"},
		{Kind: "endif", Text: `{% endif %}`},
		{Kind: "output", Text: `{{ unsubscribe_url }}`},
	}
	if len(got) != len(want) {
		t.Fatalf("nodes %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("node %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	in := `{% if contact.a contains "x" %}y{% endif %}`
	if out, bad := Translate("mailchimp", in, func(Node) string { return "!" }); out != in || len(bad) != 1 || !strings.Contains(bad[0].Why, "contains") {
		t.Errorf("mailchimp: %q %+v, want it as written with one construct", out, bad)
	}
	if bad := Unrenderable("myspace", `{{ contact.a }}`); len(bad) != 1 || !strings.Contains(bad[0].Why, "does not know what myspace renders") {
		t.Errorf("an unknown target: %+v", bad)
	}
}

func FuzzRender(f *testing.F) {
	f.Add(`{% if contact.a == "1" %}x{% elsif contact.b %}y{% else %}z{% endif %}{{ contact.c | default: "d" }}`)
	f.Add(`{% if %}{% endif %}{% else %}{{`)
	f.Fuzz(func(t *testing.T, s string) {
		Unsupported(s)
		out := Render(s, map[string]string{"a": "1"}, "u", true)
		if len(Unsupported(s)) == 0 && strings.Contains(out, "{% if") {
			t.Fatalf("a supported condition was left in the output: %q → %q", s, out)
		}
	})
}
