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

// audienceCampaign stages one segment of customers and one email to it.
func audienceCampaign(t *testing.T, e *env, name string) (campaignID, segment, email string) {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: name, Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: name + " customers", Match: "all", Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	em, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: name, Subject: name, FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Hello.</p></body></html>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, seg.Artifact.ID, em.Artifact.ID
}

func editContacts(t *testing.T, e *env, edit func(string) string) {
	t.Helper()
	path := filepath.Join(e.dir, "contacts.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	// The contact book notices changes by size and modification time.
	later := time.Now().Add(time.Minute)
	os.Chtimes(path, later, later)
}

func outbox(t *testing.T, e *env, email string) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(e.dir, "outbox", email))
	var out []string
	for _, en := range ents {
		out = append(out, en.Name())
	}
	return out
}

func mailed(files []string, addr string) bool {
	prefix := strings.NewReplacer(".", "_").Replace(addr) + "-"
	for _, f := range files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// The audience is part of what was approved: it may shrink after approval,
// never grow.
func TestApprovedAudience(t *testing.T) {
	ctx := context.Background()
	t.Run("someone added after approval makes the plan stale", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		cid, _, _ := audienceCampaign(t, e, "A")
		p := planAndApprove(t, e, cid)
		if p.Steps[len(p.Steps)-1].AudienceDigest == "" {
			t.Fatalf("the send records no audience digest: %+v", p.Steps)
		}
		editContacts(t, e, func(s string) string {
			return s + "zoe@example.com,Zoe,New,US,customer,pro,2027-02-01,true,Denver\n"
		})
		_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
		if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), "1 person joined the audience") {
			t.Fatalf("err = %v, want stale because someone joined", err)
		}
		if files := liveFiles(t, e.dir); len(files) != 0 {
			t.Fatalf("live files written: %v", files)
		}
	})
	t.Run("someone added between planning and approval makes the plan stale at confirmation", func(t *testing.T) {
		// Approving does not resolve audiences again (that reads every
		// contact); the human approves the audience the plan recorded, and
		// confirming compares it with the audience then.
		e := newEnv(t, envOptions{})
		cid, _, _ := audienceCampaign(t, e, "A")
		p, err := e.sb.PlanPromotion(ctx, "agent", cid)
		if err != nil {
			t.Fatal(err)
		}
		editContacts(t, e, func(s string) string {
			return s + "zoe@example.com,Zoe,New,US,customer,pro,2027-02-01,true,Denver\n"
		})
		if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.sb.Confirm(ctx, "agent", p.ID, nil)
		if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), "1 person joined the audience") {
			t.Fatalf("err = %v, want stale because someone joined", err)
		}
		if files := liveFiles(t, e.dir); len(files) != 0 {
			t.Fatalf("live files written: %v", files)
		}
	})
	t.Run("approving does not read the contacts", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		cid, _, _ := audienceCampaign(t, e, "A")
		p, err := e.sb.PlanPromotion(ctx, "agent", cid)
		if err != nil {
			t.Fatal(err)
		}
		// A new process, as lastmile approve is: nothing read before.
		e.st.Close()
		e = openEnv(t, e.dir, envOptions{})
		if err := os.Rename(filepath.Join(e.dir, "contacts.csv"), filepath.Join(e.dir, "contacts.away")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)}); err != nil {
			t.Fatalf("approve without contacts.csv: %v", err)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err == nil || !strings.Contains(err.Error(), "no contacts file") {
			t.Fatalf("confirm without contacts.csv: err = %v, want the missing file", err)
		}
		if files := liveFiles(t, e.dir); len(files) != 0 {
			t.Fatalf("live files written: %v", files)
		}
	})
	t.Run("someone who withdrew consent after approval is not mailed", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		cid, _, email := audienceCampaign(t, e, "A")
		p := planAndApprove(t, e, cid)
		approved := *p.Steps[len(p.Steps)-1].AudienceSize
		editContacts(t, e, func(s string) string {
			return strings.Replace(s, "grace@example.com,Grace,Hopper,US,customer,enterprise,2024-06-14,true", "grace@example.com,Grace,Hopper,US,customer,enterprise,2024-06-14,false", 1)
		})
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			t.Fatalf("a smaller audience must still go out: %v", err)
		}
		files := outbox(t, e, email)
		if mailed(files, "grace@example.com") || len(files) != approved-1 {
			t.Fatalf("outbox %v: want the %d approved recipients less grace", files, approved)
		}
	})
	t.Run("a live segment is resolved again at planning", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		cid, seg, _ := audienceCampaign(t, e, "A")
		if _, err := e.sb.Confirm(ctx, "agent", planAndApprove(t, e, cid).ID, nil); err != nil {
			t.Fatal(err)
		}
		// ada leaves the contacts file; a second email to the live segment
		// must not reach her through the member list stored at promotion.
		editContacts(t, e, func(s string) string {
			return strings.Replace(s, "ada@example.com,Ada,Lovelace,GB,customer,pro,2025-11-02,true,London\n", "", 1)
		})
		second, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: cid, Name: "Second", Subject: "Second", FromName: "Acme", FromEmail: "news@acme.com",
			HTML: "<html><body><p>Again.</p></body></html>", Audience: sandbox.Audience{Include: []string{seg}}})
		if err != nil {
			t.Fatal(err)
		}
		p := planAndApprove(t, e, cid)
		var send sandbox.PlanStep
		for _, st := range p.Steps {
			if st.Op == sandbox.OpSend {
				send = st
			}
		}
		if send.ArtifactID != second.Artifact.ID || send.AudienceSize == nil {
			t.Fatalf("send step %+v", send)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			t.Fatal(err)
		}
		files := outbox(t, e, second.Artifact.ID)
		if mailed(files, "ada@example.com") || len(files) != *send.AudienceSize {
			t.Fatalf("outbox %v, plan said %d recipients", files, *send.AudienceSize)
		}
	})
}
