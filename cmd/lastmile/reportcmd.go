package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/report"
)

func reportCommand(e *env) *cobra.Command {
	var c common
	var period, htmlFile, model string
	var asJSON, noSync bool
	cmd := &cobra.Command{
		Use:   "report [--period 2026-11] [--html FILE] [--json] [--model M]",
		Short: "campaigns staged, approved and live, how fast, and what they brought",
		Long: "Report a period (a month 2026-11, a quarter 2026-Q4, a year, or 2026-11-01..2026-11-15; default this\n" +
			"month): campaigns staged, approved and live; brief-to-live time and approval wait (median, p90) from\n" +
			"the audit log; sends, opens, clicks, conversions, pipeline and revenue attributed to each campaign\n" +
			"(by the configured attribution model, or --model first_touch|last_touch|linear); cost (lastmile\n" +
			"cost) and return. Outcomes are read from the targets first (--no-sync to skip). --html writes a page\n" +
			"with charts; --json writes every figure.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model != "" && !isModel(model) {
				return usagef("--model %q is not first_touch, last_touch or linear", model)
			}
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := cmd.Context()
			if !noSync {
				reps, err := a.sb.SyncOutcomes(ctx)
				if err != nil {
					return err
				}
				for _, r := range reps {
					if r.Error != "" {
						fmt.Fprintf(e.stderr, "lastmile: outcomes from %s could not all be read (%s); the report uses what was kept\n", r.Target, termsafe.Text(r.Error, lineMax))
					}
				}
			}
			in, err := report.Gather(ctx, a.sb, period, time.Now(), model)
			if err != nil {
				if strings.Contains(err.Error(), "is not a period") {
					return usagef("--period: %v", err)
				}
				return err
			}
			r := report.Build(in)
			if htmlFile != "" {
				if err := writeFileWith(htmlFile, func(w io.Writer) error { return report.WriteHTML(w, r) }); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "lastmile: report written to %s\n", htmlFile)
			}
			if asJSON {
				return writeJSON(e.stdout, r)
			}
			return writeReportText(e.stdout, r)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&period, "period", "", "the `PERIOD`: 2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-15 (default: this month)")
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write the report as an HTML page with charts to `FILE`")
	cmd.Flags().BoolVar(&asJSON, "json", false, "write every figure as JSON")
	cmd.Flags().StringVar(&model, "model", "", "attribution `MODEL`: first_touch, last_touch or linear (default: the configuration's)")
	cmd.Flags().BoolVar(&noSync, "no-sync", false, "do not read new outcomes from the targets first")
	return cmd
}

func isModel(m string) bool {
	for _, x := range outcomes.Models {
		if string(x) == m {
			return true
		}
	}
	return false
}

// writeFileWith writes a file whole or not at all.
func writeFileWith(path string, fn func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// writeReportText is the report for a terminal.
func writeReportText(w io.Writer, r report.Report) error {
	money := func(ms []outcomes.Money) string { return outcomes.Amounts(ms, "none") }
	fmt.Fprintf(w, "Campaigns, %s (%s attribution)\n\n", r.Period, r.Model)
	fmt.Fprintf(w, "  %d live, %d approved, %d staged\n", r.Live, r.Approved, r.Staged)
	fmt.Fprintf(w, "  brief to live: median %s, p90 %s (n=%d)\n", report.Hours(r.TimeToLive.Median), report.Hours(r.TimeToLive.P90), r.TimeToLive.N)
	fmt.Fprintf(w, "  approval wait: median %s, p90 %s (n=%d)\n", report.Hours(r.ApprovalWait.Median), report.Hours(r.ApprovalWait.P90), r.ApprovalWait.N)
	fmt.Fprintf(w, "  sent %d, opened %d, clicked %d, conversions %s\n", r.Funnel.Sent, r.Funnel.Opened, r.Funnel.Clicked, trimFloat(r.Funnel.Conversions))
	fmt.Fprintf(w, "  pipeline %s; revenue %s; cost %s\n", money(r.Pipeline), money(r.Revenue), money(r.Cost))
	for _, x := range r.ROI {
		fmt.Fprintf(w, "  return %s%% in %s\n", trimFloat(x.Ratio*100), x.Currency)
	}
	if len(r.Campaigns) > 0 {
		fmt.Fprintln(w)
	}
	for _, l := range r.Campaigns {
		fmt.Fprintf(w, "  %s  %s: sent %d, opened %d, clicked %d, conversions %s, revenue %s\n", l.ID, termsafe.Quote(l.Name, summaryMax),
			l.Result.Sent, l.Result.UniqueOpens, l.Result.UniqueClicks, trimFloat(l.Result.Conversions), money(l.Result.Revenue))
	}
	return nil
}

func trimFloat(x float64) string {
	s := fmt.Sprintf("%.2f", x)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
