package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/report"
	"github.com/lastmile/lastmile/sandbox"
)

type getInsightsIn struct {
	SegmentID string `json:"segment_id,omitempty" jsonschema_description:"A segment (seg_…): the note."`
}

type getInsightsOut struct {
	Insights outcomes.Insights `json:"insights"`
	// Note is the short "from your history" text for drafting an email.
	Note string `json:"note,omitempty"`
}

type getReportIn struct {
	Period string `json:"period,omitempty" jsonschema_description:"2026-11, 2026-Q4, 2026, or 2026-11-01..2026-11-15; default this month."`
	Model  string `json:"model,omitempty" jsonschema:"enum=first_touch,enum=last_touch,enum=linear" jsonschema_description:"Default: config.yaml's."`
}

type getReportOut struct {
	Report report.Report `json:"report"`
}

func outcomeTools(d deps) []Tool {
	return []Tool{
		spec[getInsightsIn, getInsightsOut]{
			name:        "get_insights",
			title:       "Get insights",
			description: "What worked in this workspace's emails: open, click and conversion rates by subject, send time, segment, CTA and template vs the rest, with n and 95% Wilson intervals; only separated differences.",
			hints:       hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in getInsightsIn) (getInsightsOut, string, error) {
				ins, err := d.sb.Insights(ctx)
				if err != nil {
					return getInsightsOut{}, "", err
				}
				note, err := d.sb.HistoryNote(ctx, in.SegmentID)
				if err != nil {
					return getInsightsOut{}, "", err
				}
				return getInsightsOut{Insights: ins, Note: note}, insightsSummary(ins, note), nil
			},
		}.build(d),
		spec[getReportIn, getReportOut]{
			name:        "get_report",
			title:       "Get the report",
			description: "A period's campaigns staged, approved and live, brief-to-live and approval wait, and per campaign sends, conversions, pipeline, revenue, cost and ROI.",
			hints:       hints{readOnly: true, destructive: false, idempotent: true, openWorld: false},
			run: func(ctx context.Context, _ mcp.CallToolRequest, in getReportIn) (getReportOut, string, error) {
				gathered, err := report.Gather(ctx, d.sb, in.Period, time.Now(), in.Model)
				if err != nil {
					if strings.Contains(err.Error(), "is not a period") {
						return getReportOut{}, "", &sandbox.ValidationError{What: "report request", Outcome: "was not run", Problems: []sandbox.Problem{{Field: "period", Message: err.Error()}}}
					}
					return getReportOut{}, "", err
				}
				r := report.Build(gathered)
				return getReportOut{Report: r}, reportSummary(r), nil
			},
		}.build(d),
	}
}

func insightsSummary(ins outcomes.Insights, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Insights from %d emails: %d claims.", ins.Emails, len(ins.Claims))
	for i, c := range ins.Claims {
		if i == 3 {
			fmt.Fprintf(&b, " And %d more (see insights.claims).", len(ins.Claims)-i)
			break
		}
		b.WriteString(" " + c.Statement)
	}
	if note != "" {
		b.WriteString(" " + note)
	}
	return b.String()
}

func reportSummary(r report.Report) string {
	money := func(ms []outcomes.Money) string { return outcomes.Amounts(ms, "none") }
	return fmt.Sprintf("Report %s (%s attribution): %d campaigns live, %d approved, %d staged; brief to live median %.1f h (n=%d); sent %d, conversions %.2f; pipeline %s; revenue %s; cost %s.",
		r.Period, r.Model, r.Live, r.Approved, r.Staged, r.TimeToLive.Median, r.TimeToLive.N, r.Funnel.Sent, r.Funnel.Conversions, money(r.Pipeline), money(r.Revenue), money(r.Cost))
}
