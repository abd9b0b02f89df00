package governance

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Approval channels the policy can let count. What each proves:
//
//   - review: the review page, with an enrolled approver's passkey; the one
//     channel an agent with a shell on the approver's machine cannot drive.
//   - cli: a person at an interactive terminal typed back the code it showed;
//     proves someone typed, as the OS user, not who.
//   - scripted: a pipeline that approves by design; proves nothing about a
//     person.
//   - elicitation: an answer relayed by the MCP client; by the MCP
//     specification no proof that a person saw anything.
const (
	ChannelReview      = "review"
	ChannelCLI         = "cli"
	ChannelScripted    = "scripted"
	ChannelElicitation = "elicitation"
)

var channelNames = []string{ChannelReview, ChannelCLI, ChannelScripted, ChannelElicitation}

// ChannelRule is what the policy says about one approval channel.
type ChannelRule struct {
	// MaxRecipients, when set, limits the channel to plans whose every send
	// has a known audience of at most this many people.
	MaxRecipients *int `json:"max_recipients,omitempty"`
	// Roles lets approvals through the channel carry the approver's policy
	// roles. Never for scripted or elicitation: they name nobody.
	Roles bool `json:"roles,omitempty"`
}

// defaultChannels is what counts when the policy has no approval section:
// the channels a person uses; nothing a program can answer.
func defaultApprovalChannels() map[string]ChannelRule {
	return map[string]ChannelRule{ChannelReview: {Roles: true}, ChannelCLI: {}}
}

// ChannelVerdict says whether approvals through a channel count for a plan.
type ChannelVerdict struct {
	Channel string `json:"channel"`
	Counts  bool   `json:"counts"`
	// Roles is true when approvals through the channel carry roles.
	Roles bool `json:"roles,omitempty"`
	// AtMostOne is true for channels that name no person: however many
	// answers arrive, they are one approval.
	AtMostOne bool `json:"at_most_one,omitempty"`
	// Why explains a channel that does not count.
	Why string `json:"why,omitempty"`
}

// Channels says, for a plan whose largest send reaches maxRecipients people
// (-1: unknown; 0: the plan sends nothing), which approval channels count.
func (p *Policy) Channels(maxRecipients int) []ChannelVerdict {
	out := make([]ChannelVerdict, 0, len(channelNames))
	for _, name := range channelNames {
		v := ChannelVerdict{Channel: name, AtMostOne: name == ChannelScripted || name == ChannelElicitation}
		r, ok := p.channels[name]
		switch {
		case !ok:
			v.Why = "the policy does not list " + name + " under approval.channels"
		case r.MaxRecipients != nil && maxRecipients < 0:
			v.Why = fmt.Sprintf("the policy lets %s approve only sends of at most %d recipients, and this plan's audience size is unknown", name, *r.MaxRecipients)
		case r.MaxRecipients != nil && maxRecipients > *r.MaxRecipients:
			v.Why = fmt.Sprintf("the policy lets %s approve only sends of at most %d recipients, and this plan sends to %d", name, *r.MaxRecipients, maxRecipients)
		default:
			v.Counts, v.Roles = true, r.Roles
		}
		out = append(out, v)
	}
	return out
}

var (
	approvalKeys = []string{"channels"}
	channelKeys  = []string{"max_recipients", "roles"}
)

func (l *loader) approval(n *yaml.Node) map[string]ChannelRule {
	f := l.fields(n, "approval", approvalKeys)
	cn, ok := f["channels"]
	if !ok {
		l.errAt(n, "approval needs channels: the approval channels that count (%s)", strings.Join(channelNames, ", "))
		return defaultApprovalChannels()
	}
	out := map[string]ChannelRule{}
	for name, c := range l.fields(cn.v, "approval.channels", channelNames) {
		// The review page proves who approved, so its approvals carry the
		// approver's roles unless the policy says otherwise.
		r := ChannelRule{Roles: name == ChannelReview}
		if c.v.Kind == yaml.ScalarNode && c.v.ShortTag() == "!!null" {
			out[name] = r
			continue
		}
		cf := l.fields(c.v, "approval.channels."+name, channelKeys)
		if v, ok := cf["max_recipients"]; ok {
			if n, ok := l.integer(v.v, "approval.channels."+name+".max_recipients", 0, 100_000_000); ok {
				r.MaxRecipients = &n
			}
		}
		if v, ok := cf["roles"]; ok {
			r.Roles, _ = l.boolean(v.v, "approval.channels."+name+".roles")
			if r.Roles && (name == ChannelScripted || name == ChannelElicitation) {
				l.errAt(v.k, "approval.channels.%s.roles: %s approvals name no person, so they can never carry a role", name, name)
				r.Roles = false
			}
		}
		out[name] = r
	}
	if len(out) == 0 {
		l.errAt(cn.v, "approval.channels lists no channel: nothing could approve a plan (valid: %s)", strings.Join(channelNames, ", "))
	}
	return out
}

// ChannelRules returns the approval channels the policy lets count, sorted.
func (p *Policy) ChannelRules() map[string]ChannelRule {
	out := make(map[string]ChannelRule, len(p.channels))
	for k, v := range p.channels {
		out[k] = v
	}
	return out
}
