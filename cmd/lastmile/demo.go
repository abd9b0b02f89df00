package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/report"
	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/tools"
)

func demoCommand(e *env) *cobra.Command {
	var c common
	var yes, cleanup bool
	cmd := &cobra.Command{
		Use:   "demo [--yes] [--cleanup]",
		Short: "stage, plan, approve and promote a sample campaign on a throwaway data directory",
		Long: "Run the whole loop on a throwaway data directory with the local target and no accounts: an\n" +
			"in-process agent stages a campaign, checks and plans it, is refused when it promotes unapproved, and\n" +
			"waits for you to type the plan's code; then it promotes, simulates engagement and reads the metrics.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd.Context(), e, c, yes, cleanup) },
	}
	c.register(cmd, "use the data directory `DIR`, which must be empty or not exist (default: a new temporary directory)")
	cmd.Flags().BoolVar(&yes, "yes", false, "approve as a scripted pipeline would, without a terminal (for CI; a person should type the code)")
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "remove the temporary data directory when the demo ends")
	return cmd
}

// demoTries is how many times the demo asks for the code.
const demoTries = 3

// runDemo runs the whole trust loop on a throwaway data directory: an
// in-process agent stages a campaign over MCP, plans it, a human approves
// at the terminal, the agent promotes it to the local target, engagement
// events arrive and the agent reads the metrics back.
func runDemo(ctx context.Context, e *env, c common, yes, cleanup bool) (err error) {
	if cleanup && c.dataDir != "" {
		return usagef("--cleanup removes only the demo's own temporary directory; without --data-dir it makes one")
	}
	if !yes && (!e.tty || !e.ttyOut) {
		return refusal{fmt.Errorf("no terminal to show the code and type it back at: run the demo in a terminal, or pass --yes to approve as a scripted pipeline would (CI)")}
	}
	temporary := c.dataDir == ""
	if temporary {
		dir, err := os.MkdirTemp("", "lastmile-demo-")
		if err != nil {
			return err
		}
		c.dataDir = dir
		if cleanup {
			defer func() {
				if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
					err = rerr
				} else if rerr == nil {
					fmt.Fprintf(e.stdout, "\nRemoved the demo's data directory %s (--cleanup).\n", dir)
				}
			}()
		}
	} else if entries, _ := os.ReadDir(c.dataDir); len(entries) > 0 {
		return fmt.Errorf("%s is not empty: the demo needs a fresh data directory (omit --data-dir for a temporary one)", c.dataDir)
	}
	if c.logLevel == "" {
		c.logLevel = "warn"
	}
	if err := initDataDir(c.dataDir, false, acmeSamplePolicy, io.Discard); err != nil {
		return err
	}
	if yes {
		if err := enableScripted(c.dataDir, e.stderr); err != nil {
			return err
		}
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	w := e.stdout
	switch {
	case temporary && cleanup:
		fmt.Fprintf(w, "lastmile demo — temporary data directory %s (removed at the end: --cleanup)\n\n", a.dir)
	case temporary:
		fmt.Fprintf(w, "lastmile demo — temporary data directory %s (it stays for you to look at; --cleanup removes it)\n\n", a.dir)
	default:
		fmt.Fprintf(w, "lastmile demo — data directory %s\n\n", a.dir)
	}
	approveCmd := "lastmile approve PLAN --data-dir " + shellArg(a.dir)

	cl, err := client.NewInProcessClient(tools.New(a.sb, tools.Options{Version: versionString(), Logger: a.log}))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Start(ctx); err != nil {
		return err
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "demo-agent", Version: versionString()}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	if _, err := cl.Initialize(ctx, init); err != nil {
		return err
	}
	ag := &demoAgent{ctx: ctx, c: cl, w: w}

	fmt.Fprintln(w, "1. The agent stages a campaign (nothing is live yet)")
	camp := ag.call("create_campaign", map[string]any{
		"name": "Acme Insights launch", "brief": "Announce Acme Insights to engaged US customers and invite them to a walkthrough.",
		"goal": "150 walkthrough sign-ups", "markets": []string{"US"}, "industry": "saas",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "insights_launch"},
	})
	cid := ag.str(camp, "id")
	seg := ag.call("build_segment", map[string]any{
		"campaign_id": cid, "name": "Engaged US customers", "match": "all",
		"conditions": []map[string]any{
			{"property": "lifecycle_stage", "operator": "eq", "value": "customer"},
			{"property": "country", "operator": "eq", "value": "US"},
			{"property": "marketing_consent", "operator": "eq", "value": "true"},
		},
	})
	sid := ag.str(seg, "id")
	launch := ag.call("create_email", map[string]any{
		"campaign_id": cid, "name": "Launch announcement", "subject": "Meet Acme Insights: your numbers, explained",
		"preview_text": "See which campaigns work, in plain words, every Monday.", "from_name": "Acme", "from_email": "news@acme.com",
		"reply_to": "hello@acme.com", "audience": map[string]any{"include": []string{sid}},
		"blocks": []map[string]any{
			{"type": "heading", "text": "Your numbers, explained", "level": 1},
			{"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }},\n\nAcme Insights reads your campaign results and tells you, in plain words, what worked and what to try next. It arrives every Monday."},
			{"type": "image", "src": "https://assets.acme.com/insights/weekly-report.png", "alt": "A weekly Insights report with three findings", "width": 552},
			{"type": "button", "text": "See a sample report", "url": "https://www.acme.com/insights/sample"},
			{"type": "paragraph", "text": "Want a tour? [Book a 20-minute walkthrough](https://www.acme.com/insights-launch) with our team."},
		},
	})
	lid := ag.str(launch, "id")
	follow := ag.call("create_email", map[string]any{
		"campaign_id": cid, "name": "Walkthrough follow-up", "subject": "Your Insights walkthrough: pick a time",
		"preview_text": "Twenty minutes, your data, your questions.", "from_name": "Acme", "from_email": "news@acme.com",
		"blocks": []map[string]any{
			{"type": "heading", "text": "Pick a time that suits you", "level": 1},
			{"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, a specialist will walk you through Insights with your own campaigns."},
			{"type": "button", "text": "Book a walkthrough", "url": "https://www.acme.com/insights-launch"},
		},
	})
	fid := ag.str(follow, "id")
	page := ag.call("publish_page", map[string]any{
		"campaign_id": cid, "title": "Acme Insights walkthrough", "slug": "insights-launch",
		"meta_description": "Book a 20-minute walkthrough of Acme Insights with your own campaigns.",
		"blocks": []map[string]any{
			{"type": "heading", "text": "See Acme Insights with your own campaigns", "level": 1},
			{"type": "paragraph", "text": "In twenty minutes a specialist shows you what Insights finds in your last quarter."},
		},
		"form": map[string]any{
			"fields": []map[string]any{
				{"name": "email", "label": "Work email", "type": "email", "required": true},
				{"name": "firstname", "label": "First name", "type": "text"},
				{"name": "marketing_consent", "label": "Send me product news (you can unsubscribe at any time)", "type": "checkbox"},
			},
			"submit_label": "Book my walkthrough", "success_message": "Thanks! We will email you a link to pick a time.",
		},
	})
	pid := ag.str(page, "id")
	wf := ag.call("configure_workflow", map[string]any{
		"campaign_id": cid, "name": "Launch follow-up", "activate": true,
		"trigger": map[string]any{"type": "segment_entry", "segment_id": sid},
		"steps": []map[string]any{
			{"id": "wait_2d", "type": "wait", "duration": "2d", "next": "follow_up"},
			{"id": "follow_up", "type": "send_email", "email_id": fid},
		},
	})
	if ag.err != nil {
		return ag.err
	}
	wid := ag.str(wf, "id")
	names := map[string]string{cid: "Acme Insights launch", sid: "Engaged US customers", lid: "Launch announcement", fid: "Walkthrough follow-up", pid: "Acme Insights walkthrough", wid: "Launch follow-up"}
	named := func(id string) string { return fmt.Sprintf("%-30s %s", id, termsafe.Quote(names[id], summaryMax)) }
	fmt.Fprintf(w, "   campaign %s\n   segment  %s, %v members\n   email    %s\n   email    %s\n   page     %s\n   workflow %s\n\n",
		named(cid), named(sid), seg["estimated_size"], named(lid), named(fid), named(pid), named(wid))

	fmt.Fprintln(w, "2. The agent checks brand and compliance")
	chk := ag.call("check_campaign", map[string]any{"campaign_id": cid})
	if ag.err != nil {
		return ag.err
	}
	fmt.Fprintf(w, "   %v errors, %v warnings, %v suggestions\n\n", chk["errors"], chk["warnings"], chk["suggestions"])

	fmt.Fprintln(w, "3. The agent plans the promotion")
	plan := ag.call("plan_promotion", map[string]any{"campaign_id": cid})
	if ag.err != nil {
		return ag.err
	}
	planID := ag.str(plan, "id")
	p, err := a.sb.GetPlan(ctx, planID)
	if err != nil {
		return err
	}
	printPlan(&indentWriter{w: w}, p, false)
	fmt.Fprintln(w)

	fmt.Fprintln(w, "4. The agent tries to promote before anyone approved — refused:")
	if msg := ag.callError("confirm_promotion", map[string]any{"plan_id": planID}); msg != "" {
		fmt.Fprintf(w, "   %s\n\n", safe(msg))
	}

	approveCmd = strings.Replace(approveCmd, "PLAN", planID, 1)
	in := sandbox.ApproveInput{PlanID: planID, Approver: osUser(e.getenv), Channel: sandbox.ChannelCLI, Hash: p.Hash}
	if yes {
		fmt.Fprintf(w, "5. --yes: approving as a scripted pipeline would (`%s --scripted`).\n", approveCmd)
		fmt.Fprintln(w, "   No person reviews or types anything; this throwaway data directory's policy enables the scripted channel.")
		in.Approver, in.Channel = "scripted:"+in.Approver, sandbox.ChannelScripted
		if _, err := a.sb.Approve(ctx, in); err != nil {
			return err
		}
		fmt.Fprintln(w, "   approved")
		fmt.Fprintln(w)
	} else if err := demoApprove(ctx, e, a, w, in, approveCmd); err != nil {
		return err
	}
	fmt.Fprintln(w, "6. The agent confirms: the plan is promoted to the local target, exactly once")
	res := ag.call("confirm_promotion", map[string]any{"plan_id": planID})
	if ag.err != nil {
		return ag.err
	}
	steps, _ := res["steps"].([]any)
	for _, s := range steps {
		st, _ := s.(map[string]any)
		id, _ := st["artifact_id"].(string)
		fmt.Fprintf(w, "   %-9s %-8s %-30s %-10s %s\n", cell(st["op"]), cell(st["kind"]), cell(id), cell(st["status"]), termsafe.Quote(names[id], summaryMax))
	}
	fmt.Fprintln(w)

	lt, ok := a.targets["local"].(*local.Target)
	if !ok {
		return fmt.Errorf("the local target is not available")
	}
	// lastmile serve (or lastmile run) keeps the local target's clock; the
	// demo moves it on by hand, two days at once.
	fmt.Fprintln(w, "7. Two days later (the clock, moved on by the demo): the workflow waited 2d and sends its follow-up")
	later := time.Now().Add(49 * time.Hour)
	if _, err := lt.Tick(ctx, time.Now()); err != nil {
		return err
	}
	rep, err := lt.Tick(ctx, later)
	if err != nil {
		return err
	}
	followUps, _ := os.ReadDir(filepath.Join(a.dir, "outbox", fid))
	fmt.Fprintf(w, "   %q sent to %d contacts, dated %s (%d workflow steps taken)\n\n", names[fid], len(followUps), later.UTC().Format("2006-01-02 15:04 MST"), rep.Steps)

	fmt.Fprintln(w, "8. Recipients engage (sample events appended to events.jsonl)")
	n, err := lt.Simulate("lastmile-demo", []string{lid}, []string{pid})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %d events\n\n", n)

	fmt.Fprintln(w, "9. The agent fetches the metrics")
	met := ag.call("fetch_metrics", map[string]any{"campaign_id": cid})
	if ag.err != nil {
		return ag.err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   ARTIFACT\tNAME\tSENT\tDELIVERED\tUNIQUE OPENS\tOPEN RATE\tCLICK RATE\tVIEWS\tSUBMISSIONS\tCONVERSION")
	arts, _ := met["artifacts"].([]any)
	var flows []string
	for _, x := range arts {
		m, _ := x.(map[string]any)
		id, _ := m["artifact_id"].(string)
		if wf, ok := m["workflow"].(map[string]any); ok {
			flows = append(flows, fmt.Sprintf("   %s  %s: %s enrolled, %s active, %s finished", cell(id), termsafe.Quote(names[id], summaryMax), cell(wf["enrolled"]), cell(wf["active"]), cell(wf["finished"])))
			continue
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%.1f%%\t%.1f%%\t%s\t%s\t%.1f%%\n", cell(id), termsafe.Quote(names[id], summaryMax), cell(m["sent"]), cell(m["delivered"]), cell(m["unique_opens"]),
			num(m["open_rate"])*100, num(m["click_rate"])*100, cell(m["page_views"]), cell(m["form_submissions"]), num(m["conversion_rate"])*100)
	}
	tw.Flush()
	for _, f := range flows {
		fmt.Fprintln(w, f)
	}
	fmt.Fprintln(w)

	// The week the demo's events span: today, the follow-up two days on,
	// the deals won five days on.
	today := time.Now().UTC()
	period := today.Format(time.DateOnly) + ".." + today.AddDate(0, 0, 6).Format(time.DateOnly)
	fmt.Fprintf(w, "10. The team's report for the week (lastmile report --period %s)\n", period)
	if _, err := a.sb.SyncOutcomes(ctx); err != nil {
		return err
	}
	gathered, err := report.Gather(ctx, a.sb, period, today, "")
	if err != nil {
		return err
	}
	r := report.Build(gathered)
	var text strings.Builder
	if err := writeReportText(&text, r); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
		if line != "" {
			line = "  " + line
		}
		fmt.Fprintln(w, line)
	}
	reportFile := filepath.Join(a.dir, "report.html")
	if err := writeFileWith(reportFile, func(f io.Writer) error { return report.WriteHTML(f, r) }); err != nil {
		return err
	}
	fmt.Fprintf(w, "   with charts: %s\n\n", reportFile)

	outbox, _ := os.ReadDir(filepath.Join(a.dir, "outbox", lid))
	if cleanup {
		fmt.Fprintln(w, "Where everything went live (until --cleanup removes it below):")
	} else {
		fmt.Fprintln(w, "Where everything went live:")
	}
	fmt.Fprintf(w, "   emails     %s (%d .eml files, one per recipient)\n", filepath.Join(a.dir, "outbox", lid), len(outbox))
	fmt.Fprintf(w, "   page       %s\n", filepath.Join(a.dir, "site", "insights-launch", "index.html"))
	fmt.Fprintf(w, "   segment    %s\n", filepath.Join(a.dir, "segments", sid+".json"))
	fmt.Fprintf(w, "   workflow   %s\n", filepath.Join(a.dir, "workflows", wid+".json"))
	fmt.Fprintf(w, "   events     %s\n", lt.EventsFile())
	fmt.Fprintf(w, "   audit log  lastmile audit --data-dir %s\n", shellArg(a.dir))
	if temporary && !cleanup {
		fmt.Fprintf(w, "   (a temporary directory: remove it with rm -rf %s, or run the demo with --cleanup)\n", shellArg(a.dir))
	}
	fmt.Fprintln(w)
	return printClientConfig(w, e)
}

// printClientConfig ends the demo with what to do next: the MCP client
// configuration for the data directory lastmile serve would use here.
func printClientConfig(w io.Writer, e *env) error {
	dir, err := resolveDataDir("", e.getenv)
	if err != nil {
		return err
	}
	def, _ := defaultDataDir(e.getenv)
	exe, err := os.Executable()
	if err != nil {
		exe = "/absolute/path/to/bin/lastmile"
	}
	server := struct {
		Command string            `json:"command"`
		Args    []string          `json:"args"`
		Env     map[string]string `json:"env,omitempty"`
	}{Command: exe, Args: []string{"serve"}}
	where := "the default"
	addEnv := ""
	if dir != def {
		// Clients start servers without the shell's environment.
		server.Env = map[string]string{"LASTMILE_HOME": dir}
		where = "from $LASTMILE_HOME"
		addEnv = " -e LASTMILE_HOME=" + shellArg(dir)
	}
	cfg, err := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"lastmile": server}}, "   ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "next: connect Claude Desktop / Claude Code")
	fmt.Fprintf(w, "   lastmile serve will use the data directory %s (%s; lastmile status shows it).\n\n", dir, where)
	fmt.Fprintln(w, "   Claude Desktop — add to claude_desktop_config.json:")
	fmt.Fprintf(w, "   %s\n\n", cfg)
	fmt.Fprintln(w, "   Claude Code:")
	fmt.Fprintf(w, "   claude mcp add lastmile%s -- %s serve\n", addEnv, shellArg(exe))
	return nil
}

// shellArg quotes s for a POSIX shell when it needs it.
func shellArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cell is a tool result's value as an escaped table cell.
func cell(v any) string {
	if v == nil {
		return ""
	}
	return termsafe.Text(fmt.Sprint(v), summaryMax)
}

// scriptedPolicy turns on the scripted approval channel, for the demo's
// throwaway data directory only: --yes approves as a pipeline would.
const scriptedPolicy = `
# lastmile demo --yes approves as a CI pipeline would, so this throwaway
# policy lets the scripted channel count.
approval:
  channels:
    cli: {}
    scripted: {}
`

// enableScripted puts scriptedPolicy in place of the approval section of
// the data directory's policy.
func enableScripted(dir string, _ io.Writer) error {
	path := filepath.Join(dir, "policy.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, replaceApprovalSection(orig, scriptedPolicy), 0o600); err != nil {
		return err
	}
	_, err = governance.Load(path)
	return err
}

// replaceApprovalSection drops the policy's top-level approval: block (its
// indented lines) and appends section.
func replaceApprovalSection(policy []byte, section string) []byte {
	var out []string
	inside := false
	for _, line := range strings.Split(string(policy), "\n") {
		switch {
		case line == "approval:" || strings.HasPrefix(line, "approval:"):
			inside = true
			continue
		case inside && (line == "" || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			continue
		}
		inside = false
		out = append(out, line)
	}
	return []byte(strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n" + section)
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// indentWriter indents every line it writes by three spaces.
type indentWriter struct {
	w   io.Writer
	mid bool // inside a line
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		if !iw.mid && line != "\n" {
			b.WriteString("   ")
		}
		b.WriteString(line)
		iw.mid = !strings.HasSuffix(line, "\n")
	}
	_, err := io.WriteString(iw.w, b.String())
	return len(p), err
}

// demoAgent calls tools the way an MCP client would, keeping the first
// failure so the script reads straight through.
type demoAgent struct {
	ctx context.Context
	c   *client.Client
	w   io.Writer
	err error
}

func (d *demoAgent) do(name string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	return d.c.CallTool(d.ctx, req)
}

func (d *demoAgent) call(name string, args map[string]any) map[string]any {
	if d.err != nil {
		return map[string]any{}
	}
	res, err := d.do(name, args)
	if err == nil && res.IsError {
		err = fmt.Errorf("%s: %s", name, resultText(res))
	}
	if err != nil {
		d.err = err
		return map[string]any{}
	}
	var out map[string]any
	data, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(data, &out)
	return out
}

// callError calls a tool expected to refuse and returns its message.
func (d *demoAgent) callError(name string, args map[string]any) string {
	res, err := d.do(name, args)
	if err != nil {
		return err.Error()
	}
	if !res.IsError {
		d.err = fmt.Errorf("%s was expected to refuse, and did not", name)
		return ""
	}
	return resultText(res)
}

func (d *demoAgent) str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, " ")
}

// demoReview serves the review page for the demo (on localhost:8766, or
// another free port), enrols demo@example.com, and reports on reviewed
// who approved the plan there. stop ends it.
func demoReview(ctx context.Context, a *app, planID string, reviewed chan<- string) (planURL, link string, stop func(), err error) {
	ln, err := net.Listen("tcp", review.DefaultAddr)
	if err != nil {
		if ln, err = net.Listen("tcp", "localhost:0"); err != nil {
			return "", "", nil, err
		}
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	rs, err := reviewApp(a, "http://localhost:"+port)
	if err != nil {
		ln.Close()
		return "", "", nil, err
	}
	token, _, _, err := approvers.New(a.st, nil).Invite(ctx, "demo@example.com", nil, "lastmile demo")
	if err != nil {
		ln.Close()
		return "", "", nil, err
	}
	srv := &http.Server{Handler: rs.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			p, err := a.sb.GetPlan(ctx, planID)
			if err != nil {
				continue
			}
			for _, ap := range p.Approvals.Have {
				if ap.Channel == sandbox.ChannelReview && p.Missing() == "" {
					reviewed <- ap.Approver
					return
				}
			}
		}
	}()
	return rs.PlanURL(planID), rs.EnrolURL(token), func() { close(done); srv.Close() }, nil
}

// demoApprove lets the person approve the demo's plan at the terminal, by
// typing back its code, or on the review page with a passkey, whichever
// comes first.
func demoApprove(ctx context.Context, e *env, a *app, w io.Writer, in sandbox.ApproveInput, approveCmd string) error {
	planID := in.PlanID
	code, err := a.sb.PlanCode(ctx, planID)
	if err != nil {
		return err
	}
	// The review page runs beside the demo, so the person can approve
	// there with a passkey instead of typing the code.
	reviewed := make(chan string, 1)
	if planURL, link, stop, err := demoReview(ctx, a, planID, reviewed); err != nil {
		fmt.Fprintf(w, "5. (The review page could not start: %v.)\n", err)
	} else {
		defer stop()
		fmt.Fprintln(w, "5. A human approves, in the browser or at the terminal:")
		fmt.Fprintf(w, "   In the browser: open %s to register a passkey as demo@example.com,\n", link)
		fmt.Fprintf(w, "   then approve the plan on its page, %s\n", planURL)
	}
	// This is the human's terminal (as in `lastmile approve`), the one
	// place the code is shown: the agent never sees it.
	fmt.Fprintf(w, "   At the terminal (this is `%s`): code %s\n", approveCmd, code)
	lines := make(chan string)
	go func() {
		rd := bufio.NewReader(e.stdin)
		for {
			line, err := rd.ReadString('\n')
			if err != nil && line == "" {
				close(lines)
				return
			}
			lines <- line
		}
	}()
	for try := 1; ; try++ {
		fmt.Fprintf(w, "   Type the code to approve (Enter cancels): ")
		var line string
		select {
		case who := <-reviewed:
			fmt.Fprintf(w, "\n   approved on the review page by %s, with a passkey\n\n", who)
			return nil
		case l, ok := <-lines:
			if !ok {
				l = ""
			}
			line = l
		}
		in.Code = strings.TrimSpace(line)
		if in.Code == "" {
			fmt.Fprintln(w, "   Cancelled: nothing was promoted. The staged campaign stays in "+a.dir)
			return exitCode(exitRefused)
		}
		_, err = a.sb.Approve(ctx, in)
		var re *sandbox.RefusedError
		if errors.As(err, &re) && re.Code == sandbox.RefusedCode && try < demoTries {
			fmt.Fprintf(w, "   %s is not the code above (try %d of %d; the miss is in the audit log).\n", termsafe.Quote(in.Code, summaryMax), try, demoTries)
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "   approved")
		fmt.Fprintln(w)
		return nil
	}
}
