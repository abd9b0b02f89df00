package report

import (
	"bytes"
	"embed"
	"html/template"
	"io"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/outcomes"
)

//go:embed templates/report.html
var files embed.FS

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"money": moneyList,
	"moneyOf": func(m *outcomes.Money) string {
		if m == nil {
			return "—"
		}
		return m.String()
	},
	"hours": Hours,
	"hoursOf": func(h *float64) string {
		if h == nil {
			return "—"
		}
		return Hours(*h)
	},
	"day":   day,
	"count": formatCount,
	"roi": func(rs []ROI) string {
		if len(rs) == 0 {
			return "—"
		}
		out := ""
		for i, r := range rs {
			if i > 0 {
				out += ", "
			}
			out += formatRatio(r.Ratio) + " " + r.Currency
		}
		return out
	},
}).ParseFS(files, "templates/report.html"))

func formatRatio(x float64) string { return formatCount(x*100) + "%" }

// WriteHTML writes the report as one self-contained page: charts inline
// as SVG, styles inline, no script.
func WriteHTML(w io.Writer, r Report) error {
	var buf bytes.Buffer
	err := page.Execute(&buf, struct {
		Report
		WeeksChart, FunnelChart, RevenueChart, TTLChart template.HTML
	}{r, weeksChart(r.LivePerWeek), funnelChart(r.Funnel), revenueChart(r), ttlChart(r.TimeToLive)})
	if err != nil {
		return err
	}
	_, err = w.Write(termsafe.Page(buf.Bytes()))
	return err
}
