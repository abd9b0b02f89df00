package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

// answerer plays the user in the client: it answers every elicitation.
type answerer struct {
	action  mcp.ElicitationResponseAction
	approve bool
	asked   atomic.Int32
	message atomic.Value
}

func (a *answerer) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.asked.Add(1)
	a.message.Store(req.Params.Message)
	res := &mcp.ElicitationResult{}
	res.Action = a.action
	if a.action == mcp.ElicitationResponseActionAccept {
		res.Content = map[string]any{"approve": a.approve}
	}
	return res, nil
}

type elicitEnv struct {
	dir string
	sb  *sandbox.Sandbox
	c   *client.Client
}

func newElicitEnv(t *testing.T, protocol string, handler client.ElicitationHandler, allow bool) *elicitEnv {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600)
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lt, _ := local.New("local", dir, local.Config{})
	var pol sandbox.StaticPolicy
	if allow {
		// The policy, not the server's config, lets the client's prompt
		// count, and only for small sends.
		p, err := governance.Parse("policy.yaml", []byte("approval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: 50}\n"))
		if err != nil {
			t.Fatal(err)
		}
		pol.P = p
	}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: sandbox.DefaultConfig(), Policy: pol, Targets: map[string]sandbox.Target{"local": lt}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var opts []client.ClientOption
	if handler != nil {
		opts = append(opts, client.WithElicitationHandler(handler))
	}
	if protocol != "" {
		opts = append(opts, client.WithProtocolVersion(protocol))
	}
	c := stdioClient(t, tools.New(sb, tools.Options{}), opts...)
	ctx := context.Background()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "elicit-test", Version: "0"}
	if protocol != "" {
		init.Params.ProtocolVersion = protocol
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return &elicitEnv{dir: dir, sb: sb, c: c}
}

// plan stages a one-email campaign and plans it.
func (e *elicitEnv) plan(t *testing.T) *sandbox.Plan {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Elicit"})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "All", Conditions: []sandbox.Condition{{Property: "email", Operator: "exists"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Hi", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<p>Hi</p>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}}); err != nil {
		t.Fatal(err)
	}
	p, err := e.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *elicitEnv) confirm(t *testing.T, planID string) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "confirm_promotion", map[string]any{"plan_id": planID}
	res, err := e.c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("confirm_promotion: protocol error %v", err)
	}
	return res
}

func resText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// A client that declares elicitation is asked; the user's accept records an
// approval with channel elicitation and the plan is promoted. Both eras:
// 2026-07-28 (multi round-trip) and 2025-11-25 (elicitation/create).
func TestElicitationApproves(t *testing.T) {
	for _, protocol := range []string{"", mcp.ProtocolVersion20251125} {
		name := protocol
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			user := &answerer{action: mcp.ElicitationResponseActionAccept, approve: true}
			e := newElicitEnv(t, protocol, user, true)
			p := e.plan(t)
			res := e.confirm(t, p.ID)
			if res.IsError {
				t.Fatalf("confirm: %s", resText(res))
			}
			if user.asked.Load() != 1 {
				t.Fatalf("the user was asked %d times", user.asked.Load())
			}
			msg, _ := user.message.Load().(string)
			if !strings.Contains(msg, p.ID) || !strings.Contains(msg, "recipients") {
				t.Errorf("the prompt does not show the plan: %q", msg)
			}
			got, _ := e.sb.GetPlan(context.Background(), p.ID)
			if got.Status != sandbox.PlanPromoted || len(got.Approvals.Have) != 1 || got.Approvals.Have[0].Channel != sandbox.ChannelElicitation {
				t.Fatalf("plan after elicitation: status %s approvals %+v", got.Status, got.Approvals.Have)
			}
		})
	}
}

// Declining, cancelling, or accepting without ticking approve promotes
// nothing.
func TestElicitationDeclined(t *testing.T) {
	for _, user := range []*answerer{
		{action: mcp.ElicitationResponseActionDecline},
		{action: mcp.ElicitationResponseActionCancel},
		{action: mcp.ElicitationResponseActionAccept, approve: false},
	} {
		t.Run(string(user.action), func(t *testing.T) {
			e := newElicitEnv(t, mcp.ProtocolVersion20251125, user, true)
			p := e.plan(t)
			res := e.confirm(t, p.ID)
			if !res.IsError || !strings.Contains(resText(res), "did not approve") {
				t.Fatalf("confirm: %s", resText(res))
			}
			if _, err := os.Stat(filepath.Join(e.dir, "outbox")); !os.IsNotExist(err) {
				t.Fatal("something went live")
			}
			got, _ := e.sb.GetPlan(context.Background(), p.ID)
			if len(got.Approvals.Have) != 0 {
				t.Fatalf("approvals recorded: %+v", got.Approvals.Have)
			}
		})
	}
}

// Without the capability (or with elicitation turned off in the config),
// the client is never asked: the tool error says what the human must do.
func TestNoElicitationWithoutCapability(t *testing.T) {
	cases := []struct {
		name     string
		protocol string
		handler  client.ElicitationHandler
		allow    bool
	}{
		{"client without the capability, default protocol", "", nil, true},
		{"client without the capability, 2025-11-25", mcp.ProtocolVersion20251125, nil, true},
		{"client without the capability, 2025-06-18", mcp.ProtocolVersion20250618, nil, true},
		{"elicitation not counted by the policy", mcp.ProtocolVersion20251125, &answerer{action: mcp.ElicitationResponseActionAccept, approve: true}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newElicitEnv(t, c.protocol, c.handler, c.allow)
			p := e.plan(t)
			res := e.confirm(t, p.ID)
			if !res.IsError || !strings.Contains(resText(res), "lastmile approve "+p.ID) {
				t.Fatalf("confirm: %s", resText(res))
			}
			if a, ok := c.handler.(*answerer); ok && a.asked.Load() != 0 {
				t.Fatal("the client was asked although elicitation is off")
			}
		})
	}
}
