package tools

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

// A plan's answer is bounded whatever the campaign's size: the summary, the
// irreversible effects and the approvals in full, then the steps a page at
// a time (cursor), each page at most stepsPerPage steps and about
// pageBytes of diffs.
const (
	stepsPerPage = 50
	pageBytes    = 64 << 10
)

// stepOut is one step of a plan as the agent sees it.
type stepOut struct {
	N            int        `json:"n"`
	ArtifactID   string     `json:"artifact_id"`
	Kind         string     `json:"kind"`
	Name         string     `json:"name"`
	Op           string     `json:"op"`
	Target       string     `json:"target"`
	Revision     int        `json:"revision"`
	Irreversible bool       `json:"irreversible"`
	AudienceSize *int       `json:"audience_size,omitempty"`
	At           *time.Time `json:"at,omitempty" jsonschema_description:"Scheduled send or publish time."`
	FirstAt      *time.Time `json:"first_at,omitempty" jsonschema_description:"Send by time zone or window: the first recipient's time."`
	LastAt       *time.Time `json:"last_at,omitempty" jsonschema_description:"And the last one's."`
	Spend        string     `json:"spend,omitempty" jsonschema_description:"Ad campaigns: the most it can spend."`
	Diff         string     `json:"diff,omitempty"`
	Notes        []string   `json:"notes,omitempty"`
	// Where promotion stands (get_plan and confirm_promotion).
	Status string `json:"status,omitempty" jsonschema:"enum=pending,enum=done,enum=unchanged,enum=skipped,enum=failed"`
	LiveID string `json:"live_id,omitempty"`
	URL    string `json:"url,omitempty"`
	Error  string `json:"error,omitempty"`
}

func newStepOut(s sandbox.PlanStep) stepOut {
	return stepOut{N: s.N, ArtifactID: s.ArtifactID, Kind: string(s.Kind), Name: s.Name, Op: s.Op, Target: s.Target,
		Revision: s.Revision, Irreversible: s.Irreversible, AudienceSize: s.AudienceSize, At: s.At, FirstAt: s.FirstAt, LastAt: s.LastAt, Diff: s.Diff, Notes: s.Notes, Spend: spendText(s.Spend)}
}

func spendText(sp *sandbox.Spend) string {
	if sp == nil {
		return ""
	}
	return sp.Text
}

// withResult adds where promotion stands to a step.
func (s stepOut) withResult(r *sandbox.StepResult) stepOut {
	if r != nil {
		s.Status, s.LiveID, s.URL, s.Error = r.Status, r.LiveID, r.URL, r.Error
		if r.At != nil {
			s.At = r.At
		}
	}
	return s
}

type planGovernanceOut struct {
	Summary     string               `json:"summary"`
	Errors      int                  `json:"errors"`
	Warnings    int                  `json:"warnings"`
	Suggestions int                  `json:"suggestions"`
	Passed      bool                 `json:"passed"`
	Findings    []governance.Finding `json:"findings,omitempty" jsonschema_description:"Errors first, at most 20; check_campaign lists every finding."`
	Unlisted    int                  `json:"unlisted_findings,omitempty" jsonschema_description:"Findings not listed here."`
}

type planOut struct {
	ID           string                 `json:"id"`
	Hash         string                 `json:"hash"`
	CampaignID   string                 `json:"campaign_id"`
	CampaignName string                 `json:"campaign_name"`
	Status       string                 `json:"status"`
	CreatedAt    time.Time              `json:"created_at"`
	ExpiresAt    time.Time              `json:"expires_at"`
	Irreversible []stepOut              `json:"irreversible" jsonschema_description:"Every step that reaches people (sends, publishes, activations), in full."`
	Approvals    sandbox.PlanApprovals  `json:"approvals"`
	Governance   planGovernanceOut      `json:"governance"`
	Rejection    *sandbox.Rejection     `json:"rejection,omitempty"`
	Promotion    *sandbox.PlanPromotion `json:"promotion,omitempty"`
	Strays       []sandbox.Stray        `json:"strays,omitempty"`
	StepCount    int                    `json:"step_count"`
	Steps        []stepOut              `json:"steps" jsonschema_description:"Steps in order, one page."`
	NextCursor   string                 `json:"next_cursor,omitempty" jsonschema_description:"Pass as cursor to get_plan for the next page of steps."`
	ApproveCmd   string                 `json:"approve_command,omitempty" jsonschema_description:"What the human runs in a terminal to approve this plan; absent when the plan cannot be approved."`
	ReviewURL    string                 `json:"review_url,omitempty" jsonschema_description:"The plan's page on the review page, where an enrolled approver sees the finished campaign and approves it with a passkey; absent when that page does not count for the plan."`
	Next         string                 `json:"next"`
}

// parseCursor reads a cursor of a paged answer: the number, from 1, of the
// first step or artifact to show.
func parseCursor(c string) (int, error) {
	if c == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(c)
	if err != nil || n < 1 {
		return 0, &sandbox.ValidationError{What: "request", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "cursor", Message: fmt.Sprintf("%q is not a cursor from an earlier answer", c), Fix: "pass next_cursor as it came, or omit cursor for the first page"}}}
	}
	return n, nil
}

// newPlanOut is the answer for a page of a plan; results, when given, say
// where promotion stands. A page is cut short when its diffs pass
// pageBytes.
func newPlanOut(sb *sandbox.Sandbox, pg *sandbox.PlanPage, results []sandbox.StepResult) planOut {
	p := pg.Plan
	out := planOut{ID: p.ID, Hash: p.Hash, CampaignID: p.CampaignID, CampaignName: p.Campaign, Status: p.Status,
		CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt, Approvals: p.Approvals, Rejection: p.Rejection, Strays: p.Strays,
		StepCount: pg.Total, Irreversible: []stepOut{}, Steps: []stepOut{}}
	byN := map[int]*sandbox.StepResult{}
	for i := range results {
		byN[results[i].N] = &results[i]
	}
	for _, s := range pg.Irreversible {
		out.Irreversible = append(out.Irreversible, newStepOut(s).withResult(byN[s.N]))
	}
	size := 0
	for i, s := range p.Steps {
		if i > 0 && size+len(s.Diff) > pageBytes {
			out.NextCursor = strconv.Itoa(pg.Offset + i + 1)
			break
		}
		size += len(s.Diff)
		out.Steps = append(out.Steps, newStepOut(s).withResult(byN[s.N]))
	}
	if end := pg.Offset + len(p.Steps); out.NextCursor == "" && end < pg.Total {
		out.NextCursor = strconv.Itoa(end + 1)
	}
	if p.Promotion.Attempts > 0 {
		pr := p.Promotion
		out.Promotion = &pr
	}
	g := p.Governance
	out.Governance = planGovernanceOut{Summary: g.Summary, Errors: g.Errors, Warnings: g.Warnings, Suggestions: g.Suggestions, Passed: g.Passed}
	findings := errorsFirst(g.Findings)
	out.Governance.Findings = findings[:min(len(findings), sandbox.ListedProblems)]
	out.Governance.Unlisted = len(findings) - len(out.Governance.Findings)
	if p.Status == sandbox.PlanPending || p.Status == sandbox.PlanApproved {
		out.ApproveCmd = sb.ApproveCommand(p)
		out.ReviewURL = sb.ReviewURL(p)
	}
	out.Next = planNext(p, sb.HowToApprove(p))
	return out
}

func planNext(p *sandbox.Plan, approve string) string {
	switch p.Status {
	case sandbox.PlanBlocked:
		return fmt.Sprintf("Blocked: the content has %d governance errors (governance.findings lists them with their fixes; check_campaign lists every finding). Do not ask a human to approve this plan: fix the errors by staging new revisions, then run plan_promotion again.", p.Governance.Errors)
	case sandbox.PlanPending:
		return fmt.Sprintf("Show the human this plan (the irreversible steps first) and ask them to approve it. %s. Then call confirm_promotion with plan_id %s.", approve, p.ID)
	case sandbox.PlanApproved:
		return fmt.Sprintf("Approved: call confirm_promotion with plan_id %s.", p.ID)
	case sandbox.PlanPromoting, sandbox.PlanFailed:
		if p.Promotion.ErrorClass == sandbox.ClassRejected {
			return "Promotion stopped because the platform rejected a step (promotion.error says what); confirming again would fail the same way: fix it, then run plan_promotion again."
		}
		return fmt.Sprintf("Promotion did not finish; call confirm_promotion with plan_id %s to resume.", p.ID)
	case sandbox.PlanPromoted:
		return "Promoted. Use fetch_metrics to see results."
	}
	return fmt.Sprintf("This plan can no longer be promoted (%s); run plan_promotion again for a new one.", p.Status)
}

// errorsFirst orders findings errors, warnings, suggestions, keeping the
// report's order within each level.
func errorsFirst(fs []governance.Finding) []governance.Finding {
	rank := func(f governance.Finding) int {
		switch f.Level {
		case governance.LevelError:
			return 0
		case governance.LevelWarning:
			return 1
		}
		return 2
	}
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b governance.Finding) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}

// confirmOut is a promotion's answer: where every step stands, a page at a
// time like a plan's.
type confirmOut struct {
	PlanID          string          `json:"plan_id"`
	Status          string          `json:"status"`
	AlreadyPromoted bool            `json:"already_promoted,omitempty" jsonschema_description:"The plan had been promoted before: this is the earlier result and nothing was changed."`
	Resumed         bool            `json:"resumed,omitempty"`
	Done            int             `json:"done" jsonschema_description:"Steps applied by this or an earlier attempt."`
	StepCount       int             `json:"step_count"`
	Steps           []stepOut       `json:"steps" jsonschema_description:"Steps in order, one page; get_plan with next_cursor gives the rest."`
	NextCursor      string          `json:"next_cursor,omitempty" jsonschema_description:"Pass as cursor to get_plan for the next page of steps."`
	Strays          []sandbox.Stray `json:"strays,omitempty"`
	Next            string          `json:"next"`
}

// newConfirmOut is a promotion's answer; page, when known, is the plan's
// first page of steps, which names them.
func newConfirmOut(page *sandbox.Plan, res *sandbox.PromotionResult) confirmOut {
	out := confirmOut{PlanID: res.PlanID, Status: res.Status, AlreadyPromoted: res.AlreadyPromoted, Resumed: res.Resumed,
		StepCount: len(res.Steps), Steps: []stepOut{}, Strays: res.Strays, Next: "Use fetch_metrics to read results as they come in."}
	steps := map[int]sandbox.PlanStep{}
	if page != nil {
		for _, s := range page.Steps {
			steps[s.N] = s
		}
	}
	for i, r := range res.Steps {
		if r.Status == "done" {
			out.Done++
		}
		if len(out.Steps) == stepsPerPage {
			if out.NextCursor == "" {
				out.NextCursor = strconv.Itoa(r.N)
			}
			continue
		}
		s, ok := steps[r.N]
		if !ok {
			s = sandbox.PlanStep{N: r.N, ArtifactID: r.ArtifactID, Kind: r.Kind, Op: r.Op, Target: r.Target}
		}
		s.Diff = "" // the plan showed it; get_plan shows it again
		out.Steps = append(out.Steps, newStepOut(s).withResult(&res.Steps[i]))
	}
	return out
}
