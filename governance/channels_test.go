package governance

import (
	"strings"
	"testing"
)

func verdictOf(vs []ChannelVerdict, channel string) ChannelVerdict {
	for _, v := range vs {
		if v.Channel == channel {
			return v
		}
	}
	return ChannelVerdict{}
}

func TestApprovalChannels(t *testing.T) {
	cases := []struct {
		name       string
		src        string
		recipients int
		counts     map[string]bool
		roles      map[string]bool
	}{
		{name: "no approval section: people only", src: "name: x\n", recipients: 10,
			counts: map[string]bool{"review": true, "cli": true, "scripted": false, "elicitation": false},
			roles:  map[string]bool{"review": true}},
		{name: "elicitation within its limit", src: "approval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: 50}\n", recipients: 50,
			counts: map[string]bool{"review": false, "cli": true, "elicitation": true}},
		{name: "elicitation above its limit", src: "approval:\n  channels:\n    elicitation: {max_recipients: 50}\n", recipients: 51,
			counts: map[string]bool{"elicitation": false}},
		{name: "an unknown audience is not small", src: "approval:\n  channels:\n    scripted: {max_recipients: 50}\n", recipients: -1,
			counts: map[string]bool{"scripted": false}},
		{name: "a plan that sends nothing", src: "approval:\n  channels:\n    scripted: {max_recipients: 0}\n", recipients: 0,
			counts: map[string]bool{"scripted": true}},
		{name: "bare channel names", src: "approval:\n  channels:\n    cli:\n    review:\n", recipients: 5,
			counts: map[string]bool{"cli": true, "review": true}, roles: map[string]bool{"review": true}},
		{name: "the review page carries roles unless told not to", src: "approval:\n  channels:\n    review: {roles: false}\n", recipients: 5,
			counts: map[string]bool{"review": true}},
		{name: "terminal roles on request", src: "approval:\n  channels:\n    cli: {roles: true}\n", recipients: 5,
			counts: map[string]bool{"cli": true}, roles: map[string]bool{"cli": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			vs := p.Channels(c.recipients)
			for ch, want := range c.counts {
				v := verdictOf(vs, ch)
				if v.Counts != want {
					t.Errorf("%s counts = %v, want %v (%s)", ch, v.Counts, want, v.Why)
				}
				if !v.Counts && v.Why == "" {
					t.Errorf("%s does not count and says not why", ch)
				}
				if v.Roles != c.roles[ch] {
					t.Errorf("%s roles = %v, want %v", ch, v.Roles, c.roles[ch])
				}
				if v.AtMostOne != (ch == "scripted" || ch == "elicitation") {
					t.Errorf("%s at most one = %v", ch, v.AtMostOne)
				}
			}
		})
	}
}

func TestApprovalChannelLoadErrors(t *testing.T) {
	for src, want := range map[string]string{
		"approval:\n  channels:\n    email: {}\n":                  `unknown key "email" in approval.channels`,
		"approval:\n  channels:\n    elicitation: {roles: true}\n": "never carry a role",
		"approval:\n  channels:\n    scripted: {roles: true}\n":    "never carry a role",
		"approval:\n  channels: {}\n":                              "lists no channel",
		"approval:\n  elicitation: true\n":                         `unknown key "elicitation" in approval`,
		"approval:\n  channels:\n    cli: {max_recipients: -1}\n":  "max_recipients",
		"approval:\n  channels:\n    cli: {max_recipient: 5}\n":    `did you mean "max_recipients"`,
	} {
		_, err := Parse("p.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, want)
		}
	}
}

// The approval section is part of the policy's hash: widening who may
// approve makes every plan approved under the old policy stale.
func TestApprovalChannelsInHash(t *testing.T) {
	a, _ := Parse("p.yaml", []byte("approval:\n  channels:\n    cli: {}\n"))
	b, _ := Parse("p.yaml", []byte("approval:\n  channels:\n    cli: {}\n    elicitation: {}\n"))
	if a.Hash() == b.Hash() {
		t.Fatal("enabling a channel did not change the policy hash")
	}
}
