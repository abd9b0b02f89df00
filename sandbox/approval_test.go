package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

func mustPolicy(t *testing.T, src string) *governance.Policy {
	t.Helper()
	p, err := governance.Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func refusalCode(err error) string {
	var re *sandbox.RefusedError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// auditActions lists the actions of every audit entry about a plan.
func auditActions(t *testing.T, e *env, planID string) []string {
	t.Helper()
	entries, err := e.sb.Audit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.Object == planID {
			out = append(out, en.Action)
		}
	}
	return out
}

func count(list []string, v string) int {
	n := 0
	for _, s := range list {
		if s == v {
			n++
		}
	}
	return n
}

// Approvals through channels the policy does not list are refused and
// audited; channels that name nobody count once however many answers come.
func TestApprovalChannels(t *testing.T) {
	ctx := context.Background()
	t.Run("default policy: scripted and elicitation do not count", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		c := stageCampaign(t, e, "A")
		p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range []string{sandbox.ChannelScripted, sandbox.ChannelElicitation, "anything"} {
			_, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "ci", Channel: ch})
			if refusalCode(err) != sandbox.RefusedChannel {
				t.Errorf("%s: err = %v, want a channel refusal", ch, err)
			}
		}
		if got := auditActions(t, e, p.ID); count(got, "approval_refused") != 3 || count(got, "approve_plan") != 0 {
			t.Errorf("audit = %v, want three refused attempts and no approval", got)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); refusalCode(err) != sandbox.RefusedNeedsApproval {
			t.Fatalf("confirm: %v", err)
		}
	})
	t.Run("scripted, when the policy lists it, is one approval", func(t *testing.T) {
		e := newEnv(t, envOptions{policy: mustPolicy(t, "approval:\n  channels:\n    cli: {}\n    scripted: {}\nrules:\n  - id: two\n    kind: approvals\n    approvers: 2\n")})
		c := stageCampaign(t, e, "A")
		p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "scripted:ci", Channel: sandbox.ChannelScripted}); err != nil {
			t.Fatal(err)
		}
		_, err = e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "scripted:other", Channel: sandbox.ChannelScripted})
		if err == nil || !strings.Contains(err.Error(), "already approved") {
			t.Fatalf("a second scripted approval: %v", err)
		}
		got, _ := e.sb.GetPlan(ctx, p.ID)
		if got.Missing() != "1 of 2 approvals" {
			t.Fatalf("missing = %q", got.Missing())
		}
	})
	t.Run("elicitation only for small sends, never for a role", func(t *testing.T) {
		e := newEnv(t, envOptions{policy: mustPolicy(t, "approval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: 2}\n")})
		c := stageCampaign(t, e, "A") // sends to more than two
		p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
		if err != nil {
			t.Fatal(err)
		}
		if v := p.ChannelVerdict(sandbox.ChannelElicitation); v.Counts || !strings.Contains(v.Why, "at most 2 recipients") {
			t.Fatalf("verdict = %+v", v)
		}
		state, err := e.sb.IssueSolicitation(ctx, p, "s", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "elicitation", Channel: sandbox.ChannelElicitation, Solicitation: state, Session: "s"}); refusalCode(err) != sandbox.RefusedChannel {
			t.Fatalf("err = %v, want a channel refusal", err)
		}
		if _, err := governance.Parse("p.yaml", []byte("approval:\n  channels:\n    elicitation: {roles: true}\n")); err == nil || !strings.Contains(err.Error(), "never carry a role") {
			t.Fatalf("roles on elicitation: %v", err)
		}
	})
	t.Run("terminal approvals carry roles only when the policy says so", func(t *testing.T) {
		src := "roles:\n  legal: [dana]\nrules:\n  - id: legal\n    kind: approvals\n    roles: [legal]\n"
		e := newEnv(t, envOptions{policy: mustPolicy(t, src)})
		c := stageCampaign(t, e, "A")
		p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Missing() != "an approver with role legal" {
			t.Fatalf("missing = %q: an OS user at a terminal got a role the policy did not give the terminal", got.Missing())
		}
	})
}

// An elicitation answer counts only as the answer to a question the server
// minted for this plan, in this session, once.
func TestSolicitedAnswersOnly(t *testing.T) {
	ctx := context.Background()
	pol := mustPolicy(t, "approval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: 50}\nrules:\n  - id: two\n    kind: approvals\n    approvers: 2\n")
	e := newEnv(t, envOptions{policy: pol})
	n := 0
	plan := func() *sandbox.Plan {
		n++
		c := stageCampaign(t, e, strings.Repeat("c", n))
		p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := plan(), plan()
	answer := func(p *sandbox.Plan, state, session string) error {
		_, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "elicitation via agent", Channel: sandbox.ChannelElicitation, Solicitation: state, Session: session})
		return err
	}
	guessable := a.ID + "|" + a.Hash
	for name, state := range map[string]string{"no state": "", "plan id and hash": guessable, "made up": "lms_" + strings.Repeat("ab", 32)} {
		if err := answer(a, state, "s1"); refusalCode(err) != sandbox.RefusedUnsolicited {
			t.Errorf("%s: err = %v, want unsolicited", name, err)
		}
	}
	stateA, err := e.sb.IssueSolicitation(ctx, a, "s1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := answer(b, stateA, "s1"); refusalCode(err) != sandbox.RefusedUnsolicited || !strings.Contains(err.Error(), "another plan") {
		t.Errorf("plan A's question answered for plan B: %v", err)
	}
	// That attempt used the question up.
	if err := answer(a, stateA, "s1"); refusalCode(err) != sandbox.RefusedUnsolicited {
		t.Errorf("replay after a refused use: %v", err)
	}
	stateA, _ = e.sb.IssueSolicitation(ctx, a, "s1", time.Minute)
	if err := answer(a, stateA, "s2"); refusalCode(err) != sandbox.RefusedUnsolicited || !strings.Contains(err.Error(), "another session") {
		t.Errorf("answered from another session: %v", err)
	}
	stateA, _ = e.sb.IssueSolicitation(ctx, a, "s1", time.Minute)
	if err := answer(a, stateA, "s1"); err != nil {
		t.Fatalf("the solicited answer: %v", err)
	}
	if err := answer(a, stateA, "s1"); refusalCode(err) != sandbox.RefusedUnsolicited {
		t.Errorf("replayed answer: %v", err)
	}
	// However many questions are answered, the client's prompt is one
	// approver: the plan still needs a person.
	again, _ := e.sb.IssueSolicitation(ctx, a, "s1", time.Minute)
	if err := answer(a, again, "s1"); err == nil || !strings.Contains(err.Error(), "already approved") {
		t.Errorf("a second elicitation approval: %v", err)
	}
	expired, _ := e.sb.IssueSolicitation(ctx, b, "s1", time.Minute)
	e.clock.Add(2 * time.Minute)
	if err := answer(b, expired, "s1"); refusalCode(err) != sandbox.RefusedUnsolicited || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired question: %v", err)
	}
	got, _ := e.sb.GetPlan(ctx, a.ID)
	if got.Missing() != "1 of 2 approvals" || len(got.Counted()) != 1 {
		t.Fatalf("plan A: missing %q, counted %+v", got.Missing(), got.Counted())
	}
	if n := count(auditActions(t, e, a.ID), "approval_refused"); n < 6 {
		t.Errorf("plan A's audit has %d refused attempts, want every forged answer recorded", n)
	}
	if files := liveFiles(t, e.dir); len(files) != 0 {
		t.Fatalf("live files written: %v", files)
	}
}

// flaky fails Put of one kind of artifact while fail is set.
type flaky struct {
	sandbox.Target
	kind sandbox.Kind
	fail atomic.Bool
}

func (f *flaky) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if f.fail.Load() && obj.Kind == f.kind {
		return sandbox.LiveState{}, errors.New("flaky: the platform is down")
	}
	return f.Target.Put(ctx, obj, liveID)
}

// failedPlan promotes a campaign whose page step fails: segments and
// emails go live, the page does not.
func failedPlan(t *testing.T, o envOptions) (*env, *flaky, campaign, *sandbox.Plan) {
	t.Helper()
	f := &flaky{kind: sandbox.KindPage}
	f.fail.Store(true)
	o.wrap = func(t sandbox.Target) sandbox.Target { f.Target = t; return f }
	e := newEnv(t, o)
	c := stageCampaign(t, e, "A")
	p := planAndApprove(t, e, c.id)
	var pe *sandbox.PromotionError
	if _, err := e.sb.Confirm(context.Background(), "agent", p.ID, nil); !errors.As(err, &pe) {
		t.Fatalf("confirm: err = %v, want a failed step", err)
	}
	f.fail.Store(false)
	return e, f, c, p
}

// Resuming a failed plan is held to what a fresh confirmation is held to.
func TestResumeRechecks(t *testing.T) {
	ctx := context.Background()
	refusedUnchanged := func(t *testing.T, e *env, planID, wantCode, want string) {
		t.Helper()
		before := liveFiles(t, e.dir)
		mtimes := modTimes(t, e.dir, before)
		_, err := e.sb.Confirm(ctx, "agent", planID, nil)
		if refusalCode(err) != wantCode || !strings.Contains(err.Error(), want) {
			t.Fatalf("resume: err = %v, want %s mentioning %q", err, wantCode, want)
		}
		if after := liveFiles(t, e.dir); strings.Join(before, "\n") != strings.Join(after, "\n") {
			t.Fatalf("live files changed:\nbefore %v\nafter  %v", before, after)
		}
		for f, m := range modTimes(t, e.dir, before) {
			if !m.Equal(mtimes[f]) {
				t.Errorf("%s was rewritten", f)
			}
		}
		if n := count(auditActions(t, e, planID), "resume_refused"); n != 1 {
			t.Errorf("audit has %d resume_refused entries", n)
		}
	}
	t.Run("control: a resume goes on", func(t *testing.T) {
		e, _, _, p := failedPlan(t, envOptions{})
		res, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
		if err != nil || !res.Resumed {
			t.Fatalf("resume: %+v, %v", res, err)
		}
	})
	t.Run("after expiry", func(t *testing.T) {
		e, _, _, p := failedPlan(t, envOptions{})
		e.clock.Add(25 * time.Hour)
		refusedUnchanged(t, e, p.ID, sandbox.RefusedExpired, "expired")
	})
	t.Run("after a policy change", func(t *testing.T) {
		e, f, _, p := failedPlan(t, envOptions{})
		pol := &switchablePolicy{p: mustPolicy(t, "rules:\n  - id: no-hype\n    kind: existence\n    level: error\n    message: \"hype: %s\"\n    tokens: [hello]\n")}
		sb, err := sandbox.New(sandbox.Options{Store: e.st, Config: sandbox.DefaultConfig(), Targets: map[string]sandbox.Target{"local": f}, Policy: pol, Now: e.clock.Now, DataDir: e.dir})
		if err != nil {
			t.Fatal(err)
		}
		e.sb = sb
		refusedUnchanged(t, e, p.ID, sandbox.RefusedStale, "policy changed")
	})
	t.Run("after a newer plan promoted newer content", func(t *testing.T) {
		e, _, c, p := failedPlan(t, envOptions{})
		newer := "<html><body><h1>Now $79</h1></body></html>"
		if _, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.id, PageID: c.page, Title: "A page", Slug: slugFor("A"), HTML: newer, Form: formOf("email")}); err != nil {
			t.Fatal(err)
		}
		p2 := planAndApprove(t, e, c.id)
		if _, err := e.sb.Confirm(ctx, "agent", p2.ID, nil); err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, e, p.ID, sandbox.RefusedStale, "newer plan")
		site, err := os.ReadFile(filepath.Join(e.dir, "site", slugFor("A"), "index.html"))
		if err != nil || !strings.Contains(string(site), "$79") {
			t.Fatalf("the live page lost the newer content: %s (%v)", site, err)
		}
	})
}
