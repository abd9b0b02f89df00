package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

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

// openForPlan parses `COMMAND PLAN [flags]` (the plan id before or after
// the flags) and opens the data directory.
func openForPlan(e *env, c *common, fs *flag.FlagSet, args []string) (string, *app, error) {
	id := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if id == "" {
		fs.Usage()
		return "", nil, errUsage
	}
	a, err := openApp(e, *c, openOptions{})
	return id, a, err
}

func cmdPlans(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "plans", "plans [--status pending|approved|promoted|rejected|expired|failed] [--json]")
	c.register(fs)
	status := fs.String("status", "", "only plans with this status")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	plans, err := a.sb.ListPlans(ctx, *status, 100)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(plans)
	}
	if len(plans) == 0 {
		fmt.Fprintln(e.stdout, "No plans. An agent makes one with plan_promotion.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAN\tSTATUS\tAPPROVALS\tSTEPS\tCAMPAIGN\tCREATED\tEXPIRES")
	for _, p := range plans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", p.ID, p.Status, p.Approvals, p.Steps, p.Campaign, p.CreatedAt.Local().Format("2006-01-02 15:04"), p.ExpiresAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// printPlan writes the summary a human reviews before approving: the
// irreversible steps first, with audience sizes, then every step and its
// diff, the governance findings and what approvals are needed.
func printPlan(w io.Writer, p *sandbox.Plan, diffs bool) {
	fmt.Fprintf(w, "Plan %s — campaign %q (%s)\n", p.ID, p.Campaign, p.CampaignID)
	fmt.Fprintf(w, "Status %s · planned %s by %s · expires %s\n", p.Status, p.CreatedAt.Local().Format("2006-01-02 15:04"), p.CreatedBy, p.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Hash %s\n\n", p.Hash)
	if irr := p.Irreversible(); len(irr) > 0 {
		fmt.Fprintln(w, "IRREVERSIBLE — these reach people and cannot be undone:")
		for _, st := range irr {
			fmt.Fprintf(w, "  ! %-8s %s %q on %s", st.Op, st.Kind, st.Name, st.Target)
			if st.AudienceSize != nil {
				fmt.Fprintf(w, " — %d recipients", *st.AudienceSize)
			}
			if st.At != nil {
				fmt.Fprintf(w, " at %s", st.At.Local().Format("2006-01-02 15:04 MST"))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Steps:")
	for _, st := range p.Steps {
		fmt.Fprintf(w, "  %2d. %-9s %-8s %s %q → %s", st.N, st.Op, st.Kind, st.ArtifactID, st.Name, st.Target)
		if st.Revision > 0 && !st.Irreversible {
			fmt.Fprintf(w, " (revision %d", st.Revision)
			if st.LiveRevision > 0 {
				fmt.Fprintf(w, ", live %d", st.LiveRevision)
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
		for _, n := range st.Notes {
			fmt.Fprintf(w, "      note: %s\n", n)
		}
		if diffs && st.Diff != "" {
			for _, l := range strings.Split(strings.TrimRight(st.Diff, "\n"), "\n") {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	g := p.Governance
	fmt.Fprintf(w, "\nGovernance: %s\n", g.Summary)
	for _, f := range g.Findings {
		if f.Level == "suggestion" {
			continue
		}
		fmt.Fprintf(w, "  %-7s %s %s:%d:%d %s", strings.ToUpper(f.Level), f.ArtifactID, f.Field, f.Line, f.Col, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, " (fix: %s)", f.Fix)
		}
		fmt.Fprintf(w, " [%s]\n", f.Rule)
	}
	fmt.Fprintf(w, "\nApprovals: %d of %d", len(p.Approvals.Have), p.Approvals.Required)
	if len(p.Approvals.Roles) > 0 {
		fmt.Fprintf(w, ", roles needed: %s", strings.Join(p.Approvals.Roles, ", "))
	}
	fmt.Fprintln(w)
	for _, r := range p.Approvals.Reasons {
		fmt.Fprintf(w, "  why: %s\n", r)
	}
	for _, a := range p.Approvals.Have {
		fmt.Fprintf(w, "  approved by %s via %s at %s\n", a.Approver, a.Channel, a.At.Local().Format("2006-01-02 15:04"))
	}
}

func cmdApprove(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "approve", "approve PLAN [--code CODE] [--as NAME] [--no-diff]")
	c.register(fs)
	code := fs.String("code", "", "the plan's code, for scripts (otherwise you are asked on the terminal)")
	as := fs.String("as", "", "approver name (default: your OS user)")
	noDiff := fs.Bool("no-diff", false, "do not print the diffs")
	id, a, err := openForPlan(e, &c, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.sb.GetPlan(ctx, id)
	if err != nil {
		return err
	}
	printPlan(e.stdout, p, !*noDiff)
	fmt.Fprintln(e.stdout)
	approver := *as
	if approver == "" {
		approver = osUser(e.getenv)
	}
	typed := *code
	if typed == "" {
		if !e.tty {
			return fmt.Errorf("no terminal to ask for the plan's code: pass --code CODE (the code comes with the plan)")
		}
		if p.Governance.Warnings > 0 {
			fmt.Fprintf(e.stdout, "By approving you acknowledge the %d warnings above.\n", p.Governance.Warnings)
		}
		fmt.Fprintf(e.stdout, "Approve as %s? Type the plan's code to approve, or press Enter to cancel: ", approver)
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		typed = strings.TrimSpace(line)
		if typed == "" {
			fmt.Fprintln(e.stdout, "Cancelled; nothing was approved.")
			return exitError{code: 1}
		}
	}
	p, err = a.sb.Approve(ctx, sandbox.ApproveInput{PlanID: id, Approver: approver, Channel: sandbox.ChannelCLI, Code: typed, Hash: p.Hash})
	if err != nil {
		return err
	}
	if missing := p.Missing(); missing != "" {
		fmt.Fprintf(e.stdout, "Approved by %s. The plan still needs %s before it can be promoted.\n", approver, missing)
		return nil
	}
	fmt.Fprintf(e.stdout, "Approved by %s. The agent can now call confirm_promotion with plan_id %s (valid until %s).\n", approver, p.ID, p.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	return nil
}

func cmdReject(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "reject", "reject PLAN --reason TEXT [--as NAME]")
	c.register(fs)
	reason := fs.String("reason", "", "why, so the agent knows what to change (required)")
	as := fs.String("as", "", "your name (default: your OS user)")
	id, a, err := openForPlan(e, &c, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	by := *as
	if by == "" {
		by = osUser(e.getenv)
	}
	p, err := a.sb.Reject(ctx, id, by, *reason, sandbox.ChannelCLI)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Rejected plan %s: %s. It can never be promoted; the agent sees your reason.\n", p.ID, *reason)
	return nil
}

func cmdAudit(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "audit", "audit [--after SEQ] [--limit N] [--json]")
	c.register(fs)
	after := fs.Uint64("after", 0, "only entries after this sequence number")
	limit := fs.Int("limit", 1000, "at most this many entries")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	entries, err := a.sb.Audit(ctx, *after, *limit)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, en := range entries {
		if *asJSON {
			if err := enc.Encode(en); err != nil {
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", en.Seq, en.At.Local().Format(time.DateTime), en.Actor, en.Action, obj, detail)
	}
	return tw.Flush()
}
