package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/store"
)

// Approval channels: how an approval reached lastmile. The policy says which
// count, and for what (governance.Policy.Channels). No MCP tool argument is
// one.
const (
	// ChannelCLI is a person at an interactive terminal (lastmile approve):
	// it proves someone typed the code the screen showed, as the OS user.
	ChannelCLI = governance.ChannelCLI
	// ChannelReview is the review page, with an enrolled approver's passkey.
	ChannelReview = governance.ChannelReview
	// ChannelScripted is lastmile approve --scripted, for pipelines that
	// approve by design; no person is proven.
	ChannelScripted = governance.ChannelScripted
	// ChannelElicitation is an answer relayed by the MCP client, which by the
	// MCP specification proves no person saw anything.
	ChannelElicitation = governance.ChannelElicitation
)

// RefusedChannel is an approval through a channel the policy does not let
// count for the plan; RefusedUnsolicited an elicitation answer to a question
// the server never asked (or asked for something else, or already had
// answered).
const (
	RefusedChannel     = "channel"
	RefusedUnsolicited = "unsolicited"
	RefusedCode        = "code"
)

// ApproveInput is a human's approval.
type ApproveInput struct {
	PlanID   string
	Approver string
	Channel  string
	// Code is the plan's read-back code, typed by the person (cli channel).
	Code string
	// Hash, when set, is the plan hash the approver was shown; approving
	// fails if the stored plan differs.
	Hash string
	// Solicitation is, for the elicitation channel, the request state the
	// server minted when it asked the question (IssueSolicitation); the
	// answer counts only as the answer to that one question.
	Solicitation string
	// Session is the MCP session the answer came in; a question asked in one
	// session is not answered from another.
	Session string
	// Credential is, for the review channel, the passkey that signed the
	// approval; Enrolled the roles the approver was enrolled with. An
	// approval carries a role only when the policy gives it to the approver
	// and, on the review channel, the enrolment does too.
	Credential string
	Enrolled   []string
}

// identity is who an approval counts as. Channels that name no person are
// one approver however many answers come through them.
func identity(channel, approver string) string {
	switch channel {
	case ChannelScripted, ChannelElicitation:
		return channel
	}
	return strings.ToLower(strings.TrimSpace(approver))
}

// ChannelVerdict says whether approvals through channel count for the plan.
func (p *Plan) ChannelVerdict(channel string) governance.ChannelVerdict { return p.verdict(channel) }

// verdict is what the plan says about approvals through a channel. Plans
// made before channels were recorded accept only the terminal.
func (p *Plan) verdict(channel string) governance.ChannelVerdict {
	if p.Approvals.Channels == nil {
		return governance.ChannelVerdict{Channel: channel, Counts: channel == ChannelCLI, Why: "this plan was made by an older lastmile, which counts only terminal approvals"}
	}
	for _, v := range p.Approvals.Channels {
		if v.Channel == channel {
			return v
		}
	}
	return governance.ChannelVerdict{Channel: channel, Why: "unknown approval channel " + channel}
}

// Approve records a human approval of a plan's exact hash. It refuses a
// plan that is stale, expired, rejected, already promoted, or blocked by
// governance errors; a channel the policy does not let count for the plan;
// and a second approval by the same person. Refusals of the approval itself
// (wrong channel, wrong code, an unsolicited answer) are audited.
func (s *Sandbox) Approve(ctx context.Context, in ApproveInput) (*Plan, error) {
	p, err := s.GetPlan(ctx, in.PlanID)
	if err != nil {
		return nil, err
	}
	approver := strings.TrimSpace(in.Approver)
	if approver == "" {
		return nil, fmt.Errorf("an approval needs the approver's name")
	}
	if err := approvable(p); err != nil {
		return nil, err
	}
	if v := p.verdict(in.Channel); !v.Counts {
		return nil, s.refuseApproval(ctx, approver, p, in.Channel, &RefusedError{Code: RefusedChannel,
			Reason: fmt.Sprintf("a %s approval does not count for plan %s: %s", in.Channel, p.ID, v.Why),
			Action: "Nothing was approved. " + s.approvalHint(p)})
	}
	switch in.Channel {
	case ChannelCLI:
		code, err := s.PlanCode(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(strings.TrimSpace(in.Code))), []byte(code)) != 1 {
			return nil, s.refuseApproval(ctx, approver, p, in.Channel, &RefusedError{Code: RefusedCode,
				Reason: "the code does not match this plan's code", Action: "Type the code shown above the prompt; nothing was approved"})
		}
	case ChannelElicitation:
		if in.Solicitation == "" {
			return nil, s.refuseApproval(ctx, approver, p, in.Channel, s.unsolicited(p, "the answer names no question the server asked"))
		}
	}
	if in.Hash != "" && in.Hash != p.Hash {
		return nil, &RefusedError{Reason: "the plan is not the one you reviewed", Action: "Review it again"}
	}
	why, err := s.staleness(ctx, p, false)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, &RefusedError{Code: RefusedStale, Reason: "plan " + p.ID + " is stale: " + why + " after it was planned", Action: "Ask the agent to run plan_promotion again, and approve the new plan"}
	}
	pol, err := s.policy.Policy()
	if err != nil {
		return nil, err
	}
	var roles []string
	if p.verdict(in.Channel).Roles {
		for _, r := range pol.Roles() {
			if in.Channel == ChannelReview && !slices.Contains(in.Enrolled, r) {
				continue
			}
			if slices.ContainsFunc(pol.RoleMembers(r), func(m string) bool { return strings.EqualFold(m, approver) }) {
				roles = append(roles, r)
			}
		}
	}
	who := identity(in.Channel, approver)
	var out *Plan
	var refused *RefusedError
	err = s.st.Update(ctx, func(tx store.Tx) error {
		cur, err := s.loadPlan(tx, p.ID)
		if err != nil {
			return err
		}
		cur.Status = cur.effectiveStatus(s.clock())
		if err := approvable(cur); err != nil {
			return err
		}
		if in.Channel == ChannelElicitation {
			// Redeemed in the transaction that records the approval, so
			// one question is one answer, even with two racing replies.
			if why := redeemSolicitation(tx, in.Solicitation, in.Session, cur, s.clock()); why != "" {
				refused = s.unsolicited(cur, why)
				return s.audit(tx, refusalEntry(approver, cur, in.Channel, refused))
			}
		}
		for _, a := range cur.Approvals.Have {
			if identity(a.Channel, a.Approver) == who {
				return &RefusedError{Reason: approver + " already approved plan " + cur.ID + " (one person, or one " + in.Channel + " channel, is one approval)", Action: fmt.Sprintf("It still needs %s from someone else", orNothing(cur.Missing()))}
			}
		}
		cur.Approvals.Have = append(cur.Approvals.Have, Approval{Approver: approver, Roles: roles, At: s.clock(), Channel: in.Channel, PlanHash: cur.Hash, Credential: in.Credential, AcknowledgedWarnings: cur.Governance.Warnings})
		if cur.Missing() == "" {
			cur.Status = PlanApproved
		}
		out = cur
		if err := putJSON(tx, bPlans, cur.ID, cur); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: approver, Action: "approve_plan", Object: cur.ID, CampaignID: cur.CampaignID,
			Detail: map[string]any{"channel": in.Channel, "hash": cur.Hash, "roles": roles, "credential": in.Credential, "acknowledged_warnings": cur.Governance.Warnings, "still_missing": cur.Missing()}})
	})
	if err == nil && refused != nil {
		return nil, refused
	}
	return out, err
}

func (s *Sandbox) unsolicited(p *Plan, why string) *RefusedError {
	return &RefusedError{Code: RefusedUnsolicited,
		Reason: fmt.Sprintf("an approval answer for plan %s was refused: %s", p.ID, why),
		Action: "Only an answer to a question the server itself just asked counts, once. Nothing was approved; the attempt is in the audit log. " + s.approvalHint(p)}
}

func refusalEntry(actor string, p *Plan, channel string, err *RefusedError) AuditEntry {
	return AuditEntry{Actor: actor, Action: "approval_refused", Object: p.ID, CampaignID: p.CampaignID,
		Detail: map[string]any{"channel": channel, "hash": p.Hash, "code": err.Code, "reason": err.Reason}}
}

// refuseApproval audits a refused approval attempt and returns the refusal.
func (s *Sandbox) refuseApproval(ctx context.Context, actor string, p *Plan, channel string, refusal *RefusedError) error {
	if err := s.st.Update(ctx, func(tx store.Tx) error { return s.audit(tx, refusalEntry(actor, p, channel, refusal)) }); err != nil {
		return err
	}
	return refusal
}

// approvalHint tells the agent what the human must do.
func (s *Sandbox) approvalHint(p *Plan) string {
	return s.HowToApprove(p)
}

// bSolicitations holds the elicitation questions the server asked and that
// are not answered yet, by their request state.
const bSolicitations = "solicitations"

type solicitation struct {
	PlanID    string    `json:"plan_id"`
	PlanHash  string    `json:"plan_hash"`
	Session   string    `json:"session,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueSolicitation records that the server is about to ask, through the MCP
// client, for approval of the plan as it is now, and returns the request
// state that the answer must carry: 256 random bits, known only to the
// server until it sends the question, single-use, expiring after ttl.
func (s *Sandbox) IssueSolicitation(ctx context.Context, p *Plan, session string, ttl time.Duration) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	state := "lms_" + hex.EncodeToString(b[:])
	now := s.clock()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		// Forget questions nobody answered, so the bucket stays small.
		kvs, err := tx.Scan(bSolicitations, "", "", 1000)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if old, err := getJSONBytes[solicitation](kv.Value); err != nil || old == nil || now.After(old.ExpiresAt) {
				if err := tx.Delete(bSolicitations, kv.Key); err != nil {
					return err
				}
			}
		}
		return putJSON(tx, bSolicitations, state, solicitation{PlanID: p.ID, PlanHash: p.Hash, Session: session, ExpiresAt: now.Add(ttl)})
	})
	return state, err
}

// DeclineSolicitation records that the person declined the question the
// request state names, and closes it: a later "accept" carrying the same
// state is a replay.
func (s *Sandbox) DeclineSolicitation(ctx context.Context, actor, planID, state, action string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		sol, err := getJSON[solicitation](tx, bSolicitations, state)
		if err != nil || sol == nil || sol.PlanID != planID {
			return err
		}
		if err := tx.Delete(bSolicitations, state); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "approval_declined", Object: planID, Detail: map[string]any{"channel": ChannelElicitation, "answer": action}})
	})
}

// redeemSolicitation consumes a request state; it returns why the answer
// does not count, or "".
func redeemSolicitation(tx store.Tx, state, session string, p *Plan, now time.Time) string {
	if state == "" {
		return "the answer names no question the server asked"
	}
	sol, err := getJSON[solicitation](tx, bSolicitations, state)
	if err != nil || sol == nil {
		return "the server never asked this question, or it was already answered"
	}
	if err := tx.Delete(bSolicitations, state); err != nil {
		return "the question could not be closed: " + err.Error()
	}
	switch {
	case now.After(sol.ExpiresAt):
		return "the question expired at " + sol.ExpiresAt.Format(time.RFC3339)
	case sol.Session != "" && sol.Session != session:
		return "the question was asked in another session"
	case sol.PlanID != p.ID:
		return "the question was about another plan, " + sol.PlanID
	case sol.PlanHash != p.Hash:
		return "the plan changed after the question was asked"
	}
	return ""
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
		return &RefusedError{Code: RefusedExpired, Reason: fmt.Sprintf("plan %s expired at %s", p.ID, p.ExpiresAt.Format("2006-01-02 15:04 MST")), Action: "Ask the agent to run plan_promotion again"}
	case PlanRejected:
		return &RefusedError{Code: RefusedRejected, Reason: fmt.Sprintf("plan %s was rejected by %s: %s", p.ID, p.Rejection.By, p.Rejection.Reason), Action: "Ask the agent for a new plan"}
	case PlanBlocked:
		return &RefusedError{Code: RefusedGovernance, Reason: fmt.Sprintf("plan %s is blocked: its content has %d governance errors, so it cannot be approved", p.ID, p.Governance.Errors), Action: "Ask the agent to fix them (check_campaign lists each with its fix) and plan again"}
	default:
		return &RefusedError{Reason: fmt.Sprintf("plan %s is already %s", p.ID, p.Status), Action: "Nothing to approve"}
	}
	if p.Governance.Errors > 0 {
		return &RefusedError{Code: RefusedGovernance, Reason: fmt.Sprintf("plan %s has %d governance errors, which block promotion", p.ID, p.Governance.Errors), Action: "Ask the agent to fix them (check_campaign lists them) and plan again"}
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
