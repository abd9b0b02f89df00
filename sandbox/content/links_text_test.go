package content

import "testing"

func TestApplyUTMText(t *testing.T) {
	u := UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}
	cases := []struct{ in, want string }{
		{"See https://www.acme.com/spring.", "See https://www.acme.com/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring."},
		{"Read more (https://acme.com/a?x=1#top)", "Read more (https://acme.com/a?x=1&utm_source=newsletter&utm_medium=email&utm_campaign=spring#top)"},
		{"Unsubscribe: {{ unsubscribe_url }}", "Unsubscribe: {{ unsubscribe_url }}"},
		{"mailto:hello@acme.com and ftp://x", "mailto:hello@acme.com and ftp://x"},
		{"no links", "no links"},
	}
	for _, c := range cases {
		got := ApplyUTMText(c.in, u)
		if got != c.want {
			t.Errorf("ApplyUTMText(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := ApplyUTMText(got, u); again != got {
			t.Errorf("not idempotent: %q → %q", got, again)
		}
	}
}
