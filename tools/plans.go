package tools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/sandbox"
)

type planIn struct {
	CampaignID string `json:"campaign_id" jsonschema:"minLength=1" jsonschema_description:"Campaign id (cmp_…)."`
}

type planIDIn struct {
	PlanID string `json:"plan_id" jsonschema:"minLength=1" jsonschema_description:"Plan id (pln_…) from plan_promotion."`
}

type getPlanIn struct {
	PlanID string `json:"plan_id" jsonschema:"minLength=1" jsonschema_description:"Plan id (pln_…) from plan_promotion."`
	Cursor string `json:"cursor,omitempty" jsonschema_description:"next_cursor of an earlier answer."`
}

// planSummary is the text clients without structured content see first:
// one line, bounded, irreversible effects first named.
func planSummary(sb *sandbox.Sandbox, pg *sandbox.PlanPage) string {
	p := pg.Plan
	var b strings.Builder
	fmt.Fprintf(&b, "Plan %s for campaign %s (%s): %d steps, %s. Approvals: %d of %d", p.ID, p.CampaignID, p.Status, pg.Total, p.Governance.Summary, len(p.Counted()), p.Approvals.Required)
	if len(p.Approvals.Roles) > 0 {
		fmt.Fprintf(&b, " (roles needed: %s)", strings.Join(p.Approvals.Roles, ", "))
	}
	b.WriteString(".")
	if irr := pg.Irreversible; len(irr) > 0 {
		b.WriteString(" Irreversible:")
		for i, st := range irr {
			if i == 5 {
				fmt.Fprintf(&b, " and %d more (see irreversible);", len(irr)-i)
				break
			}
			fmt.Fprintf(&b, " %s %s", st.Op, st.ArtifactID)
			if st.AudienceSize != nil {
				fmt.Fprintf(&b, " (%d recipients)", *st.AudienceSize)
			}
			if st.Spend != nil {
				fmt.Fprintf(&b, " (spends %s)", st.Spend.Text)
			}
			b.WriteString(";")
		}
	}
	switch p.Status {
	case sandbox.PlanPending:
		fmt.Fprintf(&b, " Nothing is live. %s.", sb.HowToApprove(p))
	case sandbox.PlanBlocked:
		fmt.Fprintf(&b, " Blocked by %d governance errors: fix them (see governance.findings) and plan again; it cannot be approved.", p.Governance.Errors)
	}
	b.WriteString(straySummary(p.Strays))
	return b.String()
}

// straySummary tells the agent about strays in a sentence or two; strays
// lists each.
func straySummary(strays []sandbox.Stray) string {
	n := map[string]int{}
	for _, s := range strays {
		n[s.Outcome]++
	}
	var out string
	if k := n[sandbox.StrayDiscarded]; k > 0 {
		out += fmt.Sprintf(" Removed %d duplicate object(s) that never reached anyone from the platforms (see strays).", k)
	}
	if k := n[sandbox.StrayNeedsHuman] + n[sandbox.StrayDiscardFailed]; k > 0 {
		out += fmt.Sprintf(" %d object(s) on the platforms carry this campaign's markers but are not the objects lastmile bound; tell the human: strays says what each is and why lastmile left it.", k)
	}
	return out
}

// canElicit reports whether the client declared the elicitation capability,
// in either protocol era. mcp-go sends elicitation requests without
// checking, and a client that never answers would hang the call.
func canElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	}
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		return s.GetClientCapabilities().Elicitation != nil
	}
	return false
}

const elicitID = "approve_plan"

// reviewElicitID names the URL-mode question that sends the user to the
// review page. Its answer approves nothing: it says only that the user
// went there; the approval is the passkey's, recorded by the review page.
const reviewElicitID = "review_plan"

// canElicitURL reports whether the client declared URL-mode elicitation.
func canElicitURL(ctx context.Context) bool {
	var caps *mcp.ElicitationCapability
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		if info.ClientCapabilities != nil {
			caps = info.ClientCapabilities.Elicitation
		}
	} else if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		caps = s.GetClientCapabilities().Elicitation
	}
	return caps != nil && caps.URL != nil
}

// reviewWait bounds how long a confirm_promotion whose user went to the
// review page waits for their approval before telling the agent to call
// again.
var reviewWait = elicitationTTL

// awaitReview runs after the user answered the URL-mode question: it
// waits for the plan's approvals (from the review page) and then promotes,
// or says why it did not.
func (d deps) awaitReview(ctx context.Context, req mcp.CallToolRequest, planID string, answer *mcp.ElicitationResult, inner server.ToolHandlerFunc) (*mcp.CallToolResult, error) {
	p, err := d.sb.GetPlan(ctx, planID)
	if err != nil {
		return errorResult(ctx, d.log, "confirm_promotion", err), nil
	}
	if answer.Action != mcp.ElicitationResponseActionAccept {
		return mcp.NewToolResultError(fmt.Sprintf("The user did not open the review page for plan %s (%s); nothing was promoted. %s.", planID, answer.Action, d.sb.HowToApprove(p))), nil
	}
	// Wait for a change to the store (a store that notifies wakes us when
	// any replica writes; others are polled every 250 ms), then look again.
	wctx, cancel := context.WithTimeout(ctx, reviewWait)
	defer cancel()
	for p.Missing() != "" && p.Status == sandbox.PlanPending {
		gen, _ := d.sb.Generation(ctx)
		if p, err = d.sb.GetPlan(ctx, planID); err != nil {
			return errorResult(ctx, d.log, "confirm_promotion", err), nil
		}
		if p.Missing() == "" || p.Status != sandbox.PlanPending {
			break
		}
		if err := d.sb.WaitChange(wctx, gen, 250*time.Millisecond); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return mcp.NewToolResultError(fmt.Sprintf("Plan %s is not approved yet: it still needs %s. Nothing was promoted; call confirm_promotion again once the human has approved it at %s.", planID, p.Missing(), d.sb.ReviewURL(p))), nil
		}
	}
	return inner(ctx, req)
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// elicitationTTL bounds how long a question to the user stays answerable.
const elicitationTTL = 10 * time.Minute

// hasAnswer reports whether a call carries what claims to be an answer to a
// question the server asked: input responses or a request state.
func hasAnswer(req mcp.CallToolRequest) bool {
	return len(req.Params.InputResponses) > 0 || req.Params.RequestState != ""
}

func sessionID(ctx context.Context) string {
	if s := server.ClientSessionFromContext(ctx); s != nil {
		return s.SessionID()
	}
	return ""
}

// askApproval asks the user, through their MCP client, to approve the plan.
// The request state is minted and kept by the sandbox: the answer counts
// only as the answer to this one question.
func (d deps) askApproval(ctx context.Context, p *sandbox.Plan) (*mcp.CallToolResult, error) {
	state, err := d.sb.IssueSolicitation(ctx, p, sessionID(ctx), elicitationTTL)
	if err != nil {
		return nil, err
	}
	return server.NewInputRequestBuilder(state).Elicit(elicitID, mcp.ElicitationParams{
		Message: elicitationMessage(p),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"approve": map[string]any{"type": "boolean", "title": "Approve and promote this plan", "description": "Check to make these changes live now.", "default": false},
			},
			"required": []string{"approve"},
		},
	}).ToolResult(), nil
}

// takeAnswer records the user's answer to an approval question. Every
// answer goes to the sandbox, which accepts it only as the answer to a
// question it asked (and audits any other as a refused attempt). It returns
// a result to send back, or nil once an approval was recorded.
func (d deps) takeAnswer(ctx context.Context, req mcp.CallToolRequest, planID string) *mcp.CallToolResult {
	who := "elicitation"
	if a := actor(ctx); a != "agent" {
		who = "elicitation via " + strings.TrimPrefix(a, "agent:")
	}
	in := sandbox.ApproveInput{PlanID: planID, Approver: who, Channel: sandbox.ChannelElicitation, Solicitation: req.Params.RequestState, Session: sessionID(ctx)}
	answer := server.ElicitationResponse(req.Params.InputResponses, elicitID)
	if answer != nil {
		content, _ := answer.Content.(map[string]any)
		if ok, _ := content["approve"].(bool); answer.Action != mcp.ElicitationResponseActionAccept || !ok {
			if err := d.sb.DeclineSolicitation(ctx, who, planID, req.Params.RequestState, string(answer.Action)); err != nil {
				return errorResult(ctx, d.log, "confirm_promotion", err)
			}
			p, _ := d.sb.GetPlan(ctx, planID)
			how := "lastmile approve " + planID
			if p != nil {
				how = d.sb.HowToApprove(p)
			}
			return mcp.NewToolResultError(fmt.Sprintf("The user did not approve plan %s in the client (%s); nothing was promoted. Ask what to change, or: %s", planID, answer.Action, how))
		}
	} else {
		in.Solicitation = "" // no answer to the question: nothing to redeem
	}
	if _, err := d.sb.Approve(ctx, in); err != nil {
		return errorResult(ctx, d.log, "confirm_promotion", err)
	}
	return nil
}

func elicitationMessage(p *sandbox.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Approve plan %s for campaign %q? It makes these changes live:\n", p.ID, p.Campaign)
	for _, st := range p.Steps {
		if st.Op == sandbox.OpUnchanged {
			continue
		}
		mark := "  "
		if st.Irreversible {
			mark = "! "
		}
		fmt.Fprintf(&b, "%s%s %s %q on %s", mark, st.Op, st.Kind, st.Name, st.Target)
		if st.AudienceSize != nil && st.Irreversible {
			fmt.Fprintf(&b, " — %d recipients", *st.AudienceSize)
		}
		if st.Spend != nil && st.Irreversible {
			fmt.Fprintf(&b, " — spends %s", st.Spend.Text)
		}
		if st.At != nil {
			fmt.Fprintf(&b, " at %s", st.At.Format("2006-01-02 15:04 MST"))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "! marks steps that cannot be undone. Governance: %s.", p.Governance.Summary)
	if p.Governance.Warnings > 0 {
		fmt.Fprintf(&b, " Approving acknowledges the %d warnings.", p.Governance.Warnings)
	}
	return b.String()
}

func (d deps) progressNotifier(ctx context.Context, req mcp.CallToolRequest) sandbox.Progress {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil
	}
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return nil
	}
	token := req.Params.Meta.ProgressToken
	return func(done, total int, msg string) {
		// Best effort: a client that went away misses progress, not the result.
		_ = srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
			"progressToken": token, "progress": done, "total": total, "message": msg,
		})
	}
}

func planTools(d deps) []Tool {
	return []Tool{
		spec[planIn, planOut]{
			name:  "plan_promotion",
			title: "Plan a promotion",
			description: "Compute exactly what promoting a campaign would change on its targets: steps in dependency order with their operation, diff against live and send audiences; " +
				"governance findings; approvals needed; plan id, code and hash. Writes nothing live (only removes duplicates an interrupted promotion left that reached no one; others are listed as strays). " +
				"A human approves it (lastmile approve PLAN) before confirm_promotion.",
			hints: hints{readOnly: false, destructive: false, idempotent: false, openWorld: true},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in planIn) (planOut, string, error) {
				p, err := d.sb.PlanPromotion(ctx, actor(ctx), in.CampaignID)
				if err != nil {
					return planOut{}, "", err
				}
				pg := p.Page(0, stepsPerPage)
				return newPlanOut(d.sb, pg, nil), planSummary(d.sb, pg), nil
			},
		}.build(d),

		spec[getPlanIn, planOut]{
			name:        "get_plan",
			title:       "Get a plan",
			description: "Get a plan: approvals, governance summary, where each step's promotion stands; steps a page at a time (cursor).",
			hints:       hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in getPlanIn) (planOut, string, error) {
				first, err := parseCursor(in.Cursor)
				if err != nil {
					return planOut{}, "", err
				}
				pg, results, err := d.sb.GetPlanStatusPage(ctx, in.PlanID, first-1, stepsPerPage)
				if err != nil {
					return planOut{}, "", err
				}
				return newPlanOut(d.sb, pg, results), planSummary(d.sb, pg), nil
			},
		}.build(d),

		confirmTool(d),

		spec[fetchMetricsIn, fetchMetricsOut]{
			name:        "fetch_metrics",
			title:       "Fetch metrics",
			description: "Read live emails' sends, deliveries, opens, clicks, bounces, unsubscribes, spam reports and rates, pages' views and submissions, and where workflows' contacts stand; each fetch is kept.",
			hints:       hints{readOnly: false, destructive: false, idempotent: true, openWorld: true},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in fetchMetricsIn) (fetchMetricsOut, string, error) {
				scope, err := in.scope()
				if err != nil {
					return fetchMetricsOut{}, "", err
				}
				ms, err := d.sb.FetchMetrics(ctx, scope)
				if err != nil {
					return fetchMetricsOut{}, "", err
				}
				out := fetchMetricsOut{Artifacts: ms}
				if out.Artifacts == nil {
					out.Artifacts = []sandbox.ArtifactMetrics{}
				}
				var b strings.Builder
				fmt.Fprintf(&b, "Metrics for %d live artifacts.", len(ms))
				for _, m := range ms {
					switch {
					case m.Kind == sandbox.KindEmail:
						fmt.Fprintf(&b, " %s: %d sent, open rate %.1f%%, click rate %.1f%%.", m.ArtifactID, m.Sent, m.OpenRate*100, m.ClickRate*100)
						for _, v := range m.Variants {
							fmt.Fprintf(&b, " Variant %s: %d sent, open rate %.1f%%, click rate %.1f%%.", v.Variant, v.Sent, v.OpenRate*100, v.ClickRate*100)
						}
						if m.Winner != "" {
							fmt.Fprintf(&b, " Winner: variant %s.", m.Winner)
						}
					case m.Workflow != nil:
						fmt.Fprintf(&b, " %s: %d enrolled, %d active, %d finished.", m.ArtifactID, m.Workflow.Enrolled, m.Workflow.Active, m.Workflow.Finished)
					case m.Kind == sandbox.KindWorkflow:
						fmt.Fprintf(&b, " %s: its target does not report enrolments.", m.ArtifactID)
					default:
						fmt.Fprintf(&b, " %s: %d views, %d submissions.", m.ArtifactID, m.PageViews, m.FormSubmissions)
					}
				}
				return out, b.String(), nil
			},
		}.build(d),
	}
}

func confirmTool(d deps) Tool {
	return spec[planIDIn, confirmOut]{
		name:  "confirm_promotion",
		title: "Confirm a promotion",
		description: "Promote an approved plan: exactly its changes, in order, exactly once. " +
			"Refused unless a human approved it (lastmile approve, or your client's prompt), nothing changed since planning, governance has no errors and it has not expired; nothing you pass approves. " +
			"Again on a promoted plan it returns the earlier result; an interrupted one resumes without repeats.",
		hints: hints{readOnly: false, destructive: true, idempotent: true, openWorld: true},
		asks:  d.askForApproval,
		run: func(ctx context.Context, req mcp.CallToolRequest, in planIDIn) (confirmOut, string, error) {
			res, err := d.sb.Confirm(ctx, actor(ctx), in.PlanID, d.progressNotifier(ctx, req))
			if err != nil {
				return confirmOut{}, "", err
			}
			var page *sandbox.Plan
			if pg, err := d.sb.GetPlanPage(ctx, in.PlanID, 0, stepsPerPage); err == nil {
				page = pg.Plan
			}
			out := newConfirmOut(page, res)
			msg := fmt.Sprintf("Plan %s promoted: %d steps done.", res.PlanID, out.Done)
			if res.AlreadyPromoted {
				msg = fmt.Sprintf("Plan %s was already promoted; nothing was changed. This is the earlier result.", res.PlanID)
			}
			urls := 0
			for _, s := range res.Steps {
				if s.URL != "" {
					if urls++; urls <= 5 {
						msg += fmt.Sprintf(" %s: %s", s.ArtifactID, s.URL)
					}
				}
			}
			if urls > 5 {
				msg += fmt.Sprintf(" (and %d more URLs in steps)", urls-5)
			}
			msg += straySummary(res.Strays)
			return out, msg, nil
		},
	}.build(d)
}

// askForApproval wraps confirm_promotion. An answer is taken first (and
// refused unless it answers the question the server asked); when the only
// thing missing is an approval, the policy lets the client's prompt count
// for this plan and the client can ask its user, it asks.
func (d deps) askForApproval(inner server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		id, _ := req.GetArguments()["plan_id"].(string)
		if answer := server.ElicitationResponse(req.Params.InputResponses, reviewElicitID); answer != nil {
			return d.awaitReview(ctx, req, id, answer, inner)
		}
		if hasAnswer(req) {
			if refused := d.takeAnswer(ctx, req, id); refused != nil {
				return refused, nil
			}
			return inner(ctx, req)
		}
		res, err := inner(ctx, req)
		if err != nil || !res.IsError || !canElicit(ctx) && !canElicitURL(ctx) {
			return res, err
		}
		p, perr := d.sb.GetPlan(ctx, id)
		if perr != nil {
			return res, nil
		}
		var re *sandbox.RefusedError
		if cerr := d.sb.CheckConfirmable(ctx, p); !errors.As(cerr, &re) || re.Code != sandbox.RefusedNeedsApproval {
			return res, nil
		}
		// The review page first: there a person proves who they are.
		if u := d.sb.ReviewURL(p); u != "" && d.reviewServed && canElicitURL(ctx) {
			return server.NewInputRequestBuilder("review:"+p.ID).Elicit(reviewElicitID, mcp.ElicitationParams{
				Mode: mcp.ElicitationModeURL, URL: u, ElicitationID: "lme_" + randomID(),
				Message: fmt.Sprintf("Plan %s for campaign %q needs %s. Open the review page to see the finished campaign and approve it with your passkey.", p.ID, p.Campaign, p.Missing()),
			}).ToolResult(), nil
		}
		if v := p.ChannelVerdict(sandbox.ChannelElicitation); !v.Counts || !canElicit(ctx) {
			return res, nil
		}
		if slices.ContainsFunc(p.Approvals.Have, func(a sandbox.Approval) bool { return a.Channel == sandbox.ChannelElicitation }) {
			return res, nil // the client's prompt already counted once
		}
		return d.askApproval(ctx, p)
	}
}

type fetchMetricsIn struct {
	CampaignID string `json:"campaign_id,omitempty" jsonschema_description:"A campaign (cmp_…), all of it; or give artifact_id."`
	ArtifactID string `json:"artifact_id,omitempty" jsonschema_description:"One live email (eml_…) or page (pg_…)."`
	Since      string `json:"since,omitempty" jsonschema:"format=date-time" jsonschema_description:"Only count events after this time (RFC 3339)."`
}

func (in fetchMetricsIn) scope() (sandbox.MetricsScope, error) {
	var s sandbox.MetricsScope
	switch {
	case in.CampaignID == "" && in.ArtifactID == "":
		return s, &sandbox.ValidationError{What: "metrics request", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "campaign_id", Message: "give campaign_id or artifact_id", Fix: "pass the campaign (cmp_…) or one email or page"}}}
	case in.CampaignID != "" && in.ArtifactID != "":
		return s, &sandbox.ValidationError{What: "metrics request", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "artifact_id", Message: "give campaign_id or artifact_id, not both"}}}
	}
	s.CampaignID, s.ArtifactID = in.CampaignID, in.ArtifactID
	if in.Since != "" {
		t, err := parseTime(in.Since)
		if err != nil {
			return s, &sandbox.ValidationError{What: "metrics request", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "since", Message: fmt.Sprintf("%q is not an RFC 3339 time", in.Since), Fix: "write it like 2027-03-01T00:00:00Z"}}}
		}
		s.Since = t
	}
	return s, nil
}

type fetchMetricsOut struct {
	Artifacts []sandbox.ArtifactMetrics `json:"artifacts"`
}

func parseTime(v string) (time.Time, error) { return time.Parse(time.RFC3339, v) }
