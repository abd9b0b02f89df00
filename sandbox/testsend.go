package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/store"
)

// TestSender is a target that can send a proof of an email to a few
// addresses before it goes live: marked as a test, never counted in its
// metrics, and leaving nothing behind that a send could mistake for the
// email.
type TestSender interface {
	// SendTest sends obj (an email, final: blocks rendered, UTM applied)
	// to each address in to and says where the proof went.
	SendTest(ctx context.Context, obj Object, to []string) (TestSend, error)
}

// TestSend is what a target did with a test send.
type TestSend struct {
	// Where names where the proofs are: files written, or the platform's
	// own test send.
	Where string `json:"where"`
}

// MaxTestRecipients bounds one test send: a proof for a few colleagues,
// not a mailing.
const MaxTestRecipients = 10

// TestSendResult is what SendTest returns.
type TestSendResult struct {
	ArtifactID string   `json:"artifact_id"`
	Revision   int      `json:"revision"`
	Target     string   `json:"target"`
	To         []string `json:"to"`
	Where      string   `json:"where"`
	// Errors counts the governance errors the email still has: a test of a
	// draft, which the policy allows.
	Errors int `json:"governance_errors"`
	// Variants are the A/B variants proofed, one proof each (a, b, c).
	Variants []string `json:"variants,omitempty"`
}

// SendTest sends a proof of an email's current revision to addresses the
// policy's test_sends section allows (its seed list and internal
// domains), through the email's target, without approval: nothing reaches
// anyone outside the team, and nothing goes live. An email with
// governance errors is refused unless the policy allows drafts. Every test
// send is in the audit log.
func (s *Sandbox) SendTest(ctx context.Context, actor, artifactID string, to []string) (*TestSendResult, error) {
	p, err := s.policy.Policy()
	if err != nil {
		return nil, &RefusedError{Code: RefusedGovernance, Reason: "the policy file has errors: " + err.Error(), Action: "A human must fix the policy file; nothing can be sent until then"}
	}
	refuse := func(msg, fix string) error {
		return &ValidationError{What: "test send", Outcome: "was not sent", Problems: []Problem{{Field: "to", Message: msg, Fix: fix}}}
	}
	switch {
	case len(to) == 0:
		return nil, refuse("name at least one address", "give addresses from the policy's test_sends.seed_list or its internal domains")
	case len(to) > MaxTestRecipients:
		return nil, refuse(fmt.Sprintf("%d addresses; a test send goes to at most %d", len(to), MaxTestRecipients), "send the proof to a few colleagues; the real send goes to the segment")
	}
	var ps problems
	allowed := p.TestSends()
	var addrs []string
	for i, raw := range to {
		field := fmt.Sprintf("to[%d]", i)
		a, err := mail.ParseAddress(raw)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
			ps.add(field, fmt.Sprintf("%q is not a plain email address", raw), "give an address such as qa@acme.com")
			continue
		}
		addr := strings.ToLower(a.Address)
		switch {
		case allowed == nil:
			ps.add(field, "the policy names nobody who may receive test sends", "a human adds test_sends.seed_list or test_sends.internal_domains to the policy (docs/policy.md)")
		case !allowed.Allows(addr):
			ps.add(field, fmt.Sprintf("%s is not on the policy's seed list or at one of its internal domains", addr), "send tests only to the team: the seed list and internal domains are in lastmile://policy under test_sends")
		case slices.Contains(addrs, addr):
			ps.add(field, fmt.Sprintf("%s is named twice", addr), "name each address once")
		default:
			addrs = append(addrs, addr)
		}
	}
	if len(ps) > 0 {
		return nil, &ValidationError{What: "test send", Outcome: "was not sent", Problems: ps}
	}

	var in *planInput
	if err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		in, err = s.loadArtifactInput(tx, "", artifactID)
		return err
	}); err != nil {
		return nil, err
	}
	a := in.artifacts[0]
	if a.Kind != KindEmail {
		return nil, &ValidationError{What: "test send", Outcome: "was not sent", Problems: []Problem{{Field: "artifact_id", Message: fmt.Sprintf("%s is a %s; only emails have test sends", a.ID, a.Kind), Fix: "give an email's id (eml_…)"}}}
	}
	rep, _, err := s.Check(ctx, CheckScope{ArtifactID: a.ID})
	if err != nil {
		return nil, err
	}
	if rep.Errors > 0 && !allowed.AllowDrafts {
		return nil, &RefusedError{Code: RefusedGovernance,
			Reason: fmt.Sprintf("%s has %d governance error(s), and the policy does not allow test sends of drafts", a.ID, rep.Errors),
			Action: "fix them (check_campaign lists them) and send the test again; a human can set test_sends.allow_drafts in the policy"}
	}
	t, ok := s.targets[a.Target]
	if !ok {
		return nil, &ValidationError{What: "test send", Outcome: "was not sent", Problems: []Problem{{Field: "artifact_id", Message: fmt.Sprintf("the email's target %q is not connected", a.Target), Fix: "list_targets shows the connected targets"}}}
	}
	ts, ok := t.(TestSender)
	if !ok {
		return nil, fmt.Errorf("target %s (%s) has no test send lastmile can use (its API offers none): send a test from %s's editor once the email is there, or stage the email for the local target to see the proof in outbox/tests/: %w", a.Target, t.Platform(), t.Platform(), ErrNotSupported)
	}
	r := in.revs[a.ID]
	sent, variants, err := sendTestVariants(ctx, ts, s.object(in.campaign, a, r, in.segments, nil), addrs)
	s.noteTarget(ctx, a.Target, "test send", err)
	if err != nil {
		if errors.Is(err, ErrNotSupported) {
			return nil, err
		}
		return nil, fmt.Errorf("test send of %s on %s: %w", a.ID, a.Target, err)
	}
	res := &TestSendResult{ArtifactID: a.ID, Revision: r.Number, Target: a.Target, To: addrs, Where: sent.Where, Errors: rep.Errors, Variants: variants}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		return s.audit(tx, AuditEntry{Actor: actor, Action: "send_test", Object: a.ID, CampaignID: a.CampaignID,
			Detail: map[string]any{"revision": r.Number, "to": addrs, "target": a.Target, "where": sent.Where, "governance_errors": rep.Errors, "variants": variants}})
	})
	return res, err
}
