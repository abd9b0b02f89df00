package governance

import (
	"fmt"
	"slices"
	"strings"
)

// ApprovalInput is what a plan knows about its audience when it asks how
// many approvals it needs.
type ApprovalInput struct {
	Markets       []string `json:"markets,omitempty"`
	Industry      string   `json:"industry,omitempty"`
	MaxRecipients int      `json:"max_recipients"` // largest audience in the plan; -1 when unknown
	Channels      []string `json:"channels,omitempty"`
	// Spends are what the plan's ad campaigns may spend, for rules with
	// min_daily_budget or min_total_budget.
	Spends []AdSpend `json:"spends,omitempty"`
}

// Requirement is the approvals a plan needs before it can be promoted.
type Requirement struct {
	Count   int      `json:"count"`             // distinct human approvers
	Roles   []string `json:"roles,omitempty"`   // roles that must be among them
	Reasons []string `json:"reasons,omitempty"` // why, one line per applying rule
}

// Approvals combines every approvals rule that applies: the largest count
// and the union of roles. Without an applying rule one approver suffices.
// Unknown metadata (no markets, audience -1) counts as matching, so a
// missing field never lowers the bar.
func (p *Policy) Approvals(a ApprovalInput) Requirement {
	req := Requirement{Count: 1}
	for _, r := range p.rules {
		if r.cfg.Kind != "approvals" {
			continue
		}
		ok, unknown := r.sel.match(a.Markets, a.Industry, a.Channels, a.MaxRecipients)
		if !ok {
			continue
		}
		if ok, other := budgetMatch(&r.cfg, a.Spends); !ok {
			continue
		} else if other != "" {
			unknown = append(unknown, other)
		}
		req.Count = max(req.Count, r.cfg.Approvers)
		for _, role := range r.cfg.Roles {
			if !slices.Contains(req.Roles, role) {
				req.Roles = append(req.Roles, role)
			}
		}
		reason := r.cfg.Message
		if reason == "" {
			reason = approvalReason(r)
		}
		if len(unknown) > 0 {
			reason += " (applies because the plan does not state its " + strings.Join(unknown, " or ") + ")"
		}
		req.Reasons = append(req.Reasons, r.cfg.ID+": "+reason)
	}
	// Each required role needs its own approver.
	req.Count = max(req.Count, len(req.Roles))
	slices.Sort(req.Roles)
	return req
}

func approvalReason(r *rule) string {
	var when []string
	c := &r.cfg
	if c.MinRecipients > 0 {
		when = append(when, fmt.Sprintf("an audience of %d or more", c.MinRecipients))
	}
	if c.MinDailyBudget != nil {
		when = append(when, fmt.Sprintf("ad budgets of %s a day or more", c.MinDailyBudget))
	}
	if c.MinTotalBudget != nil {
		when = append(when, fmt.Sprintf("ad spend of %s in all or more", c.MinTotalBudget))
	}
	if len(c.Markets) > 0 {
		when = append(when, "market "+strings.Join(c.Markets, "/"))
	}
	if len(c.Industries) > 0 {
		when = append(when, "industry "+strings.Join(c.Industries, "/"))
	}
	if len(c.Channels) > 0 {
		when = append(when, "channel "+strings.Join(c.Channels, "/"))
	}
	need := fmt.Sprintf("%d approver(s)", c.Approvers)
	if len(c.Roles) > 0 {
		need += " including role " + strings.Join(c.Roles, ", ")
	}
	if len(when) == 0 {
		return need
	}
	return need + " for " + strings.Join(when, ", ")
}
