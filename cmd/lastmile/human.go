package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// The human side: these commands are the approval channel the agent cannot
// use. They run while servers hold the same data directory.

func osUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if v := getenv("USER"); v != "" {
		return v
	}
	return "unknown"
}

// openForPlan opens the data directory a plan is in, creating nothing:
// no data there is an error naming the directory.
func openForPlan(e *env, c common, id string) (*app, error) {
	a, dir, ok, err := openExisting(e, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no plan %s in %s", termsafe.Text(id, nameMax), noData(e, c, dir))
	}
	return a, nil
}

// getPlan is GetPlan, saying which data directory did not have the plan.
func getPlan(ctx context.Context, e *env, c common, a *app, id string) (*sandbox.Plan, error) {
	p, err := a.sb.GetPlan(ctx, id)
	if errors.Is(err, sandbox.ErrNotFound) {
		return nil, fmt.Errorf("%w in the data directory %s (%s); %s", err, a.dir, dataDirOrigin(c.dataDir, e.getenv), chooseDir)
	}
	return p, err
}

// Widths at which agent-written text is cut on screen. A name is short
// in the summary a person approves, so it cannot push the facts off it.
const (
	nameMax    = 80
	summaryMax = 40 // names in the IRREVERSIBLE summary and table cells
	lineMax    = 240
	textMax    = 600
)

// safe is termsafe.Text at the width for free text.
func safe(s string) string { return termsafe.Text(s, textMax) }

// writeJSON writes v as one JSON line with every unsafe rune escaped:
// encoding/json leaves bidi and zero-width characters raw.
func writeJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(termsafe.JSON(data), '\n'))
	return err
}

var planStatuses = []string{sandbox.PlanPending, sandbox.PlanBlocked, sandbox.PlanApproved, sandbox.PlanPromoting, sandbox.PlanPromoted, sandbox.PlanRejected, sandbox.PlanExpired, sandbox.PlanFailed}

func plansCommand(e *env) *cobra.Command {
	var c common
	var status string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plans",
		Short: "list plans and their status",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlans(cmd.Context(), e, c, status, asJSON)
		},
	}
	c.register(cmd, dataDirHelp)
	enumFlag(cmd, &status, "status", "", "only plans with this `status`: "+strings.Join(planStatuses, ", "), planStatuses...)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func runPlans(ctx context.Context, e *env, c common, status string, asJSON bool) error {
	a, dir, ok, err := openExisting(e, c)
	if err != nil {
		return err
	}
	if !ok {
		if asJSON {
			return errNoDataDir(e, c, dir)
		}
		fmt.Fprintf(e.stdout, "No plans in %s.\n", noData(e, c, dir))
		return nil
	}
	defer a.Close()
	plans, err := a.sb.ListPlans(ctx, status, 100)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, plans)
	}
	if len(plans) == 0 {
		what := "No plans"
		if status != "" {
			what = "No " + status + " plans"
		}
		fmt.Fprintf(e.stdout, "%s in %s (%s; %s). An agent makes one with plan_promotion.\n", what, a.dir, dataDirOrigin(c.dataDir, e.getenv), chooseDir)
		return nil
	}
	// Every cell is escaped: a tab or newline in a campaign name would
	// otherwise start a new column or row.
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAN\tSTATUS\tAPPROVALS\tSTEPS\tCAMPAIGN\tCREATED\tEXPIRES")
	for _, p := range plans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", termsafe.Text(p.ID, summaryMax), termsafe.Text(p.Status, summaryMax), termsafe.Text(p.Approvals, summaryMax), p.Steps,
			termsafe.Quote(p.Campaign, summaryMax), p.CreatedAt.Local().Format("2006-01-02 15:04"), p.ExpiresAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// printPlan writes what a human reviews before approving: every step and
// its diff, the governance findings and the approvals, and last — directly
// above where the approve prompt goes — the irreversible effects, built
// only from the plan's own facts (operation, kind, id, target, audience
// size, time), with names escaped, cut short and quoted. Whatever the
// agent wrote above it, the person's eye lands on the truth.
func printPlan(w io.Writer, p *sandbox.Plan, diffs bool) {
	fmt.Fprintf(w, "Plan %s — campaign %s (%s)\n", termsafe.Text(p.ID, nameMax), termsafe.Quote(p.Campaign, nameMax), termsafe.Text(p.CampaignID, nameMax))
	fmt.Fprintf(w, "Status %s · planned %s by %s · expires %s\n", termsafe.Text(p.Status, nameMax), p.CreatedAt.Local().Format("2006-01-02 15:04"), termsafe.Quote(p.CreatedBy, nameMax), p.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Hash %s\n\n", termsafe.Text(p.Hash, nameMax))
	fmt.Fprintln(w, "Steps:")
	for _, st := range p.Steps {
		fmt.Fprintf(w, "  %2d. %-9s %-8s %s %s → %s", st.N, termsafe.Text(st.Op, nameMax), termsafe.Text(string(st.Kind), nameMax), termsafe.Text(st.ArtifactID, nameMax), termsafe.Quote(st.Name, nameMax), termsafe.Text(st.Target, nameMax))
		if st.Revision > 0 && !st.Irreversible {
			fmt.Fprintf(w, " (revision %d", st.Revision)
			if st.LiveRevision > 0 {
				fmt.Fprintf(w, ", live %d", st.LiveRevision)
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
		for _, n := range st.Notes {
			fmt.Fprintf(w, "      note: %s\n", termsafe.Text(n, textMax))
		}
		if diffs && st.Diff != "" {
			for _, l := range termsafe.Lines(st.Diff, lineMax) {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	g := p.Governance
	fmt.Fprintln(w)
	for i, l := range termsafe.Lines(g.Summary, lineMax) {
		if i == 0 {
			fmt.Fprintf(w, "Governance: %s\n", l)
		} else {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	for _, f := range g.Findings {
		if f.Level == "suggestion" {
			continue
		}
		fmt.Fprintf(w, "  %-7s %s %s:%d:%d %s", strings.ToUpper(termsafe.Text(f.Level, nameMax)), termsafe.Text(f.ArtifactID, nameMax), termsafe.Text(f.Field, nameMax), f.Line, f.Col, termsafe.Text(f.Message, textMax))
		if f.Fix != "" {
			fmt.Fprintf(w, " (fix: %s)", termsafe.Text(f.Fix, textMax))
		}
		fmt.Fprintf(w, " [%s]\n", termsafe.Text(f.Rule, nameMax))
		if f.Excerpt != "" {
			fmt.Fprintf(w, "          excerpt: %s\n", termsafe.Quote(f.Excerpt, lineMax))
		}
	}
	fmt.Fprintf(w, "\nApprovals: %d of %d", len(p.Counted()), p.Approvals.Required)
	if len(p.Approvals.Roles) > 0 {
		roles := make([]string, len(p.Approvals.Roles))
		for i, r := range p.Approvals.Roles {
			roles[i] = termsafe.Text(r, nameMax)
		}
		fmt.Fprintf(w, ", roles needed: %s", strings.Join(roles, ", "))
	}
	fmt.Fprintln(w)
	for _, r := range p.Approvals.Reasons {
		fmt.Fprintf(w, "  why: %s\n", termsafe.Text(r, textMax))
	}
	var counting []string
	for _, v := range p.Approvals.Channels {
		if v.Counts {
			counting = append(counting, v.Channel)
		}
	}
	if len(counting) > 0 {
		fmt.Fprintf(w, "  counted from (the policy's approval channels): %s\n", strings.Join(counting, ", "))
	}
	for _, a := range p.Approvals.Have {
		fmt.Fprintf(w, "  approved by %s via %s at %s\n", termsafe.Quote(a.Approver, nameMax), termsafe.Text(a.Channel, nameMax), a.At.Local().Format("2006-01-02 15:04"))
	}
	if r := p.Rejection; r != nil {
		fmt.Fprintf(w, "  rejected by %s at %s: %s\n", termsafe.Quote(r.By, nameMax), r.At.Local().Format("2006-01-02 15:04"), termsafe.Quote(r.Reason, textMax))
	}
	if g.Warnings > 0 {
		fmt.Fprintf(w, "Approving acknowledges the %s above.\n", plural(g.Warnings, "governance warning"))
	}
	fmt.Fprintln(w)
	printIrreversible(w, p)
}

// printIrreversible is the summary of what cannot be undone, and the
// totals line under it.
func printIrreversible(w io.Writer, p *sandbox.Plan) {
	var irr, back []sandbox.PlanStep
	for _, st := range p.Irreversible() {
		if sandbox.IsRetire(st.Op) {
			back = append(back, st)
		} else {
			irr = append(irr, st)
		}
	}
	var t effectTotals
	if len(back) > 0 {
		fmt.Fprintln(w, "TAKES BACK — these change what is live now:")
		for _, st := range back {
			fmt.Fprintf(w, "  ! %-10s %-8s %s on %s: %s\n", termsafe.Text(st.Op, summaryMax), termsafe.Text(string(st.Kind), summaryMax), termsafe.Text(st.ArtifactID, summaryMax), termsafe.Text(st.Target, summaryMax), termsafe.Text(st.Diff, textMax))
			t.add(st)
		}
	}
	if len(irr) == 0 {
		fmt.Fprintln(w, "IRREVERSIBLE — none: nothing in this plan reaches people.")
	} else {
		fmt.Fprintln(w, "IRREVERSIBLE — these reach people and cannot be undone:")
	}
	for _, st := range irr {
		fmt.Fprintf(w, "  ! %-8s %-8s %s %s on %s", termsafe.Text(st.Op, summaryMax), termsafe.Text(string(st.Kind), summaryMax), termsafe.Text(st.ArtifactID, summaryMax), termsafe.Quote(st.Name, summaryMax), termsafe.Text(st.Target, summaryMax))
		if st.Op == sandbox.OpSend || st.Op == sandbox.OpSchedule {
			if st.AudienceSize != nil && *st.AudienceSize >= 0 {
				fmt.Fprintf(w, " — %s recipients", thousands(*st.AudienceSize))
			} else {
				fmt.Fprint(w, " — audience size unknown until the target builds it")
			}
		}
		if st.Spend != nil {
			fmt.Fprintf(w, " — starts spending: %s", termsafe.Text(st.Spend.Text, textMax))
		}
		if st.FirstAt != nil && st.LastAt != nil && !st.FirstAt.Equal(*st.LastAt) {
			// Recipients in their own time zones or a window: the first
			// and the last recipient's times are what the human approves.
			fmt.Fprintf(w, " from %s (first recipient) to %s (last)", st.FirstAt.Local().Format("2006-01-02 15:04 MST"), st.LastAt.Local().Format("2006-01-02 15:04 MST"))
		} else if st.At != nil {
			fmt.Fprintf(w, " at %s", st.At.Local().Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintln(w)
		t.add(st)
	}
	fmt.Fprintln(w, t.String())
}

type effectTotals struct {
	emails, recipients, unknown, pages, workflows, ads, other int
	// spend is the most the ad campaigns started can spend, by currency
	// (micros); unbounded counts those without an end date.
	spend     map[string]int64
	unbounded int
	// taken back, by operation
	unscheduled, unpublished, deactivated, archived int
}

func (t *effectTotals) add(st sandbox.PlanStep) {
	switch st.Op {
	case sandbox.OpSend, sandbox.OpSchedule:
		t.emails++
		if st.AudienceSize != nil && *st.AudienceSize >= 0 {
			t.recipients += *st.AudienceSize
		} else {
			t.unknown++
		}
	case sandbox.OpPublish:
		t.pages++
	case sandbox.OpActivate:
		t.workflows++
	case sandbox.OpEnable, sandbox.OpResume:
		t.ads++
		if sp := st.Spend; sp != nil && sp.TotalMicros > 0 {
			if t.spend == nil {
				t.spend = map[string]int64{}
			}
			t.spend[sp.Currency] += sp.TotalMicros
		} else {
			t.unbounded++
		}
	case sandbox.OpUnschedule:
		t.unscheduled++
	case sandbox.OpUnpublish:
		t.unpublished++
	case sandbox.OpDeactivate:
		t.deactivated++
	case sandbox.OpArchive:
		t.archived++
	default:
		t.other++
	}
}

// String is the totals line: "This plan sends 2 emails to 1,032
// recipients, publishes 1 page, activates 1 workflow".
func (t effectTotals) String() string {
	var parts []string
	if t.emails > 0 {
		s := fmt.Sprintf("sends %s to %s recipients", plural(t.emails, "email"), thousands(t.recipients))
		if t.unknown > 0 {
			s = fmt.Sprintf("sends %s to %s recipients plus %d audience(s) of unknown size", plural(t.emails, "email"), thousands(t.recipients), t.unknown)
		}
		parts = append(parts, s)
	}
	if t.pages > 0 {
		parts = append(parts, "publishes "+plural(t.pages, "page"))
	}
	if t.workflows > 0 {
		parts = append(parts, "activates "+plural(t.workflows, "workflow"))
	}
	if t.ads > 0 {
		s := "starts " + plural(t.ads, "ad campaign") + " spending"
		var sums []string
		for _, cur := range slices.Sorted(maps.Keys(t.spend)) {
			sums = append(sums, sandbox.FormatMoney(t.spend[cur], cur))
		}
		if len(sums) > 0 {
			s += " up to " + strings.Join(sums, " + ") + " in all"
		}
		if t.unbounded > 0 {
			s += fmt.Sprintf(" (%d with no end date: no total bound)", t.unbounded)
		}
		parts = append(parts, s)
	}
	if t.other > 0 {
		parts = append(parts, "takes "+plural(t.other, "other irreversible step"))
	}
	if t.unscheduled > 0 {
		parts = append(parts, "unschedules "+plural(t.unscheduled, "email"))
	}
	if t.unpublished > 0 {
		parts = append(parts, "unpublishes "+plural(t.unpublished, "page"))
	}
	if t.deactivated > 0 {
		parts = append(parts, "switches off "+plural(t.deactivated, "workflow"))
	}
	if t.archived > 0 {
		parts = append(parts, "archives "+plural(t.archived, "object"))
	}
	if len(parts) == 0 {
		return "This plan sends nothing and publishes nothing."
	}
	return "This plan " + strings.Join(parts, ", ") + "."
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// thousands writes n with comma separators: 1,032.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// errNoTerminal is why lastmile approve refuses without one, and what to do.
func errNoTerminal(e *env) error {
	var not []string
	if !e.tty {
		not = append(not, "stdin")
	}
	if !e.ttyOut {
		not = append(not, "stdout")
	}
	which := "neither stdin nor stdout is a terminal"
	if len(not) == 1 {
		which = not[0] + " is not a terminal"
	}
	return refusal{fmt.Errorf("lastmile approve is for a person at a terminal, and %s; nothing was approved. "+
		"Run `lastmile approve PLAN` yourself in a terminal: it shows the plan and a code to type back. "+
		"A pipeline that approves by design runs `lastmile approve PLAN --scripted`, which counts only if the policy enables the scripted channel (approval: channels: scripted)",
		which)}
}

func approveCommand(e *env) *cobra.Command {
	var c common
	var noDiff, scripted bool
	cmd := &cobra.Command{
		Use:   "approve PLAN",
		Short: "approve a plan after reviewing its summary (at a terminal)",
		Long: "Print the plan — every step and diff, the governance findings, and last what cannot be undone —\n" +
			"then show a short code and approve when you type it back. Refuses (exit 1) unless stdin and stdout\n" +
			"are terminals. --scripted approves as a pipeline, which counts only if the policy enables it.",
		Args: exactArgs("PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApprove(cmd.Context(), e, c, args[0], noDiff, scripted)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().BoolVar(&noDiff, "no-diff", false, "do not print the diffs")
	cmd.Flags().BoolVar(&scripted, "scripted", false, "approve as a pipeline: no terminal, no code; recorded as the scripted channel, which counts only if the policy enables it")
	return cmd
}

func runApprove(ctx context.Context, e *env, c common, id string, noDiff, scripted bool) error {
	// A person must see the plan and type the code: refuse before opening
	// anything when there is no terminal to do that at.
	if !scripted && (!e.tty || !e.ttyOut) {
		return errNoTerminal(e)
	}
	a, err := openForPlan(e, c, id)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := getPlan(ctx, e, c, a, id)
	if err != nil {
		return err
	}
	printPlan(e.stdout, p, !noDiff)
	user := osUser(e.getenv)
	if scripted {
		approver := "scripted:" + user
		p, err = a.sb.Approve(ctx, sandbox.ApproveInput{PlanID: id, Approver: approver, Channel: sandbox.ChannelScripted, Hash: p.Hash})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Approved by %s through the scripted channel (a pipeline, not a person at a terminal).\n", termsafe.Quote(approver, nameMax))
		return approvedNext(e.stdout, p)
	}
	switch p.Status {
	case sandbox.PlanPending, sandbox.PlanApproved:
	case sandbox.PlanBlocked:
		return refusal{fmt.Errorf("plan %s is blocked by %d governance errors (above) and cannot be approved; ask the agent to fix them and plan again", p.ID, p.Governance.Errors)}
	default:
		return refusal{fmt.Errorf("plan %s is %s and cannot be approved; ask the agent for a new plan", p.ID, p.Status)}
	}
	code, err := a.sb.PlanCode(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Code: %s\n", code)
	fmt.Fprintf(e.stdout, "Approve as %s? Type the code above to approve, or press Enter to cancel: ", termsafe.Quote(user, nameMax))
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	typed := strings.TrimSpace(line)
	if typed == "" {
		fmt.Fprintln(e.stdout, "Cancelled; nothing was approved.")
		return exitCode(exitRefused)
	}
	p, err = a.sb.Approve(ctx, sandbox.ApproveInput{PlanID: id, Approver: user, Channel: sandbox.ChannelCLI, Code: typed, Hash: p.Hash})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Approved by %s.\n", termsafe.Quote(user, nameMax))
	return approvedNext(e.stdout, p)
}

// approvedNext says what happens after an approval.
func approvedNext(w io.Writer, p *sandbox.Plan) error {
	if missing := p.Missing(); missing != "" {
		fmt.Fprintf(w, "The plan still needs %s before it can be promoted.\n", safe(missing))
		return nil
	}
	fmt.Fprintf(w, "The agent can now call confirm_promotion with plan_id %s (valid until %s).\n", p.ID, p.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	return nil
}

func rejectCommand(e *env) *cobra.Command {
	var c common
	var reason string
	cmd := &cobra.Command{
		Use:   "reject PLAN --reason TEXT",
		Short: "reject a plan, telling the agent why",
		Args:  exactArgs("PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReject(cmd.Context(), e, c, args[0], reason)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&reason, "reason", "", "why, so the agent knows what to change (required)")
	return cmd
}

func runReject(ctx context.Context, e *env, c common, id, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return usagef("give a reason (--reason TEXT), so the agent knows what to change")
	}
	a, err := openForPlan(e, c, id)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := getPlan(ctx, e, c, a, id); err != nil {
		return err
	}
	p, err := a.sb.Reject(ctx, id, osUser(e.getenv), reason, sandbox.ChannelCLI)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Rejected plan %s: %s. It can never be promoted; the agent sees your reason.\n", termsafe.Text(p.ID, nameMax), termsafe.Quote(reason, textMax))
	return nil
}

func auditCommand(e *env) *cobra.Command {
	var c common
	var after uint64
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "print the audit log: every write, approval, rejection and promotion step",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit <= 0 {
				return usagef("--limit must be at least 1")
			}
			return runAudit(cmd.Context(), e, c, after, limit, asJSON)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().Uint64Var(&after, "after", 0, "only entries after this sequence number `SEQ`")
	cmd.Flags().IntVar(&limit, "limit", 1000, "at most `N` entries")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

func runAudit(ctx context.Context, e *env, c common, after uint64, limit int, asJSON bool) error {
	a, dir, ok, err := openExisting(e, c)
	if err != nil {
		return err
	}
	if !ok {
		if asJSON {
			return errNoDataDir(e, c, dir)
		}
		fmt.Fprintf(e.stdout, "No audit entries in %s.\n", noData(e, c, dir))
		return nil
	}
	defer a.Close()
	entries, err := a.sb.Audit(ctx, after, limit)
	if err != nil {
		return err
	}
	if len(entries) == 0 && !asJSON {
		what := "No audit entries"
		if after > 0 {
			what += fmt.Sprintf(" after %d", after)
		}
		fmt.Fprintf(e.stdout, "%s in %s (%s; %s).\n", what, a.dir, dataDirOrigin(c.dataDir, e.getenv), chooseDir)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, en := range entries {
		if asJSON {
			if err := writeJSON(e.stdout, en); err != nil {
				return err
			}
			continue
		}
		detail := ""
		if len(en.Detail) > 0 {
			d, _ := json.Marshal(en.Detail)
			detail = string(d)
		}
		obj := en.Object
		if en.Revision > 0 {
			obj += fmt.Sprintf("@%d", en.Revision)
		}
		// Actor is the MCP client's own name for itself, object and detail
		// carry what the agent wrote: every cell is escaped, so neither a
		// tab nor a newline nor a bidi override can move the columns.
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", en.Seq, en.At.Local().Format(time.DateTime), termsafe.Text(en.Actor, nameMax), termsafe.Text(en.Action, nameMax), termsafe.Text(obj, nameMax), termsafe.Text(detail, textMax))
	}
	return tw.Flush()
}
