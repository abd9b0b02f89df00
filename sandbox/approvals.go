package sandbox

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/store"
)

// Approval channels: how an approval reached lastmile. The policy says which
// count, and for what (governance.Channels). No MCP tool argument is one.
const (
	// ChannelCLI is a person at an interactive terminal (lastmile approve):
	// it proves someone typed the code the screen showed, as the OS user.
	ChannelCLI = "cli"
	// ChannelReview is the review page, with an enrolled approver's passkey.
	ChannelReview = "review"
	// ChannelScripted is lastmile approve --scripted, for pipelines that
	// approve by design; no person is proven.
	ChannelScripted = "scripted"
	// ChannelElicitation is an answer relayed by the MCP client, which by the
	// MCP specification proves no person saw anything.
	ChannelElicitation = "elicitation"
)

// ApproveInput is a human's approval.
type ApproveInput struct {
	PlanID   string
	Approver string
	Channel  string
	// Code is the plan's short code, typed by the human (CLI channel).
	Code string
	// Hash, when set, is the plan hash the approver was shown; approving
	// fails if the stored plan differs.
	Hash string
}

// Approve records a human approval of a plan's exact hash. It refuses a
// plan that is stale, expired, rejected, already promoted, or blocked by
// governance errors, and a second approval by the same person.
func (s *Sandbox) Approve(ctx context.Context, in ApproveInput) (*Plan, error) {
	p, err := s.GetPlan(ctx, in.PlanID)
	if err != nil {
		return nil, err
	}
	if err := approvable(p); err != nil {
		return nil, err
	}
	code, err := s.PlanCode(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if in.Channel == ChannelCLI && subtle.ConstantTimeCompare([]byte(strings.ToLower(strings.TrimSpace(in.Code))), []byte(code)) != 1 {
		return nil, &RefusedError{Reason: "the code does not match this plan's code", Action: "Type the code the agent showed with the plan (it comes with plan_promotion's result); nothing was approved"}
	}
	if in.Hash != "" && in.Hash != p.Hash {
		return nil, &RefusedError{Reason: "the plan is not the one you reviewed", Action: "Review it again"}
	}
	why, err := s.staleness(ctx, p)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, &RefusedError{Reason: "plan " + p.ID + " is stale: " + why + " after it was planned", Action: "Ask the agent to run plan_promotion again, and approve the new plan"}
	}
	approver := strings.TrimSpace(in.Approver)
	if approver == "" {
		return nil, fmt.Errorf("an approval needs the approver's name")
	}
	pol, err := s.policy.Policy()
	if err != nil {
		return nil, err
	}
	var roles []string
	for _, r := range pol.Roles() {
		if slices.ContainsFunc(pol.RoleMembers(r), func(m string) bool { return strings.EqualFold(m, approver) }) {
			roles = append(roles, r)
		}
	}
	var out *Plan
	err = s.st.Update(ctx, func(tx store.Tx) error {
		cur, err := s.loadPlan(tx, p.ID)
		if err != nil {
			return err
		}
		cur.Status = cur.effectiveStatus(s.clock())
		if err := approvable(cur); err != nil {
			return err
		}
		for _, a := range cur.Approvals.Have {
			if strings.EqualFold(a.Approver, approver) {
				return &RefusedError{Reason: approver + " already approved plan " + cur.ID, Action: fmt.Sprintf("It still needs %s from someone else", orNothing(cur.Missing()))}
			}
		}
		cur.Approvals.Have = append(cur.Approvals.Have, Approval{Approver: approver, Roles: roles, At: s.clock(), Channel: in.Channel, PlanHash: cur.Hash, AcknowledgedWarnings: cur.Governance.Warnings})
		if cur.Missing() == "" {
			cur.Status = PlanApproved
		}
		out = cur
		if err := putJSON(tx, bPlans, cur.ID, cur); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: approver, Action: "approve_plan", Object: cur.ID, CampaignID: cur.CampaignID,
			Detail: map[string]any{"channel": in.Channel, "hash": cur.Hash, "roles": roles, "acknowledged_warnings": cur.Governance.Warnings, "still_missing": cur.Missing()}})
	})
	return out, err
}

func orNothing(s string) string {
	if s == "" {
		return "nothing more"
	}
	return s
}

// approvable refuses plans a human can no longer approve.
func approvable(p *Plan) error {
	switch p.Status {
	case PlanPending, PlanApproved:
	case PlanExpired:
		return &RefusedError{Reason: fmt.Sprintf("plan %s expired at %s", p.ID, p.ExpiresAt.Format("2006-01-02 15:04 MST")), Action: "Ask the agent to run plan_promotion again"}
	case PlanRejected:
		return &RefusedError{Reason: fmt.Sprintf("plan %s was rejected by %s: %s", p.ID, p.Rejection.By, p.Rejection.Reason), Action: "Ask the agent for a new plan"}
	default:
		return &RefusedError{Reason: fmt.Sprintf("plan %s is already %s", p.ID, p.Status), Action: "Nothing to approve"}
	}
	if p.Governance.Errors > 0 {
		return &RefusedError{Reason: fmt.Sprintf("plan %s has %d governance errors, which block promotion", p.ID, p.Governance.Errors), Action: "Ask the agent to fix them (check_campaign lists them) and plan again"}
	}
	return nil
}

// Reject records a human's rejection; the plan can then never be promoted.
func (s *Sandbox) Reject(ctx context.Context, planID, by, reason, channel string) (*Plan, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, fmt.Errorf("give a reason (--reason), so the agent knows what to change")
	}
	var out *Plan
	err := s.st.Update(ctx, func(tx store.Tx) error {
		p, err := s.loadPlan(tx, planID)
		if err != nil {
			return err
		}
		switch p.effectiveStatus(s.clock()) {
		case PlanPromoting, PlanPromoted:
			return &RefusedError{Reason: fmt.Sprintf("plan %s is already %s", p.ID, p.Status), Action: "A promoted plan cannot be rejected"}
		case PlanRejected:
			return &RefusedError{Reason: fmt.Sprintf("plan %s was already rejected", p.ID)}
		}
		p.Status = PlanRejected
		p.Rejection = &Rejection{By: by, Reason: reason, At: s.clock(), Channel: channel}
		out = p
		if err := putJSON(tx, bPlans, p.ID, p); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: by, Action: "reject_plan", Object: p.ID, CampaignID: p.CampaignID, Detail: map[string]any{"reason": reason, "channel": channel}})
	})
	return out, err
}
