package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"
	"math"
	"slices"
	"time"

	"github.com/lastmile/lastmile/outcomes"
)

// The charts are server-rendered SVG: no script, readable without one,
// and every label (campaign names are agent text) XML-escaped.

const (
	chartW   = 640
	barColor = "#2563eb"
	inkColor = "#1f2937"
	dimColor = "#6b7280"
)

type svgBuf struct{ bytes.Buffer }

func (b *svgBuf) text(x, y int, anchor, fill, s string) {
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="%s" fill="%s">`, x, y, anchor, fill)
	_ = xml.EscapeText(b, []byte(s))
	b.WriteString("</text>")
}

func (b *svgBuf) open(h int, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="`, chartW, h, chartW, h)
	_ = xml.EscapeText(b, []byte(title))
	b.WriteString(`" font-family="system-ui, sans-serif" font-size="12">`)
}

func (b *svgBuf) html() template.HTML {
	b.WriteString("</svg>")
	return template.HTML(b.String()) // built here, every text escaped
}

// weeksChart: campaigns live per week, as columns.
func weeksChart(weeks []WeekCount) template.HTML {
	const h, top, bottom = 200, 20, 40
	var b svgBuf
	b.open(h, "Campaigns live per week")
	peak := 1
	for _, w := range weeks {
		peak = max(peak, w.Count)
	}
	if len(weeks) == 0 {
		b.text(chartW/2, h/2, "middle", dimColor, "No weeks in the period")
		return b.html()
	}
	slot := (chartW - 40) / len(weeks)
	for i, w := range weeks {
		bh := (h - top - bottom) * w.Count / peak
		x := 40 + i*slot
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d</title></rect>`,
			x+slot/6, h-bottom-bh, slot*2/3, bh, barColor, w.Start.Format("Jan 2"), w.Count)
		b.text(x+slot/2, h-bottom-bh-4, "middle", inkColor, fmt.Sprint(w.Count))
		b.text(x+slot/2, h-bottom+16, "middle", dimColor, w.Start.Format("Jan 2"))
	}
	fmt.Fprintf(&b, `<line x1="36" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, h-bottom, chartW, h-bottom, dimColor)
	return b.html()
}

// hbars draws labelled horizontal bars, the longest full width.
func hbars(title string, labels []string, values []float64, shown []string) template.HTML {
	const row, labelW = 28, 200
	h := max(len(labels), 1)*row + 10
	var b svgBuf
	b.open(h, title)
	if len(labels) == 0 {
		b.text(chartW/2, h/2+4, "middle", dimColor, "Nothing yet")
		return b.html()
	}
	peak := slices.Max(values)
	for i, l := range labels {
		y := 5 + i*row
		w := 0
		if peak > 0 {
			w = int(math.Round(float64(chartW-labelW-90) * values[i] / peak))
		}
		b.text(labelW-8, y+17, "end", inkColor, fit(l, 30))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelW, y+4, w, row-10, barColor)
		b.text(labelW+w+6, y+17, "start", inkColor, shown[i])
	}
	return b.html()
}

func funnelChart(f Funnel) template.HTML {
	vals := []float64{float64(f.Sent), float64(f.Opened), float64(f.Clicked), f.Conversions}
	shown := make([]string, len(vals))
	for i, v := range vals {
		shown[i] = formatCount(v)
		if i > 0 && f.Sent > 0 {
			shown[i] += fmt.Sprintf(" (%.1f%%)", 100*v/float64(f.Sent))
		}
	}
	return hbars("Funnel: sent, opened, clicked, converted", []string{"Sent", "Opened", "Clicked", "Converted"}, vals, shown)
}

// revenueChart: the top campaigns by revenue in the period's main currency
// (the one with the most revenue); other currencies are listed beside.
func revenueChart(r Report) template.HTML {
	cur := ""
	var best int64
	for _, m := range r.Revenue {
		if m.Minor > best {
			cur, best = m.Currency, m.Minor
		}
	}
	var labels, shown []string
	var vals []float64
	for _, l := range r.Campaigns {
		for _, m := range l.Result.Revenue {
			if m.Currency == cur && m.Minor > 0 && len(labels) < 10 {
				labels, vals, shown = append(labels, l.Name), append(vals, float64(m.Minor)), append(shown, m.String())
			}
		}
	}
	return hbars("Revenue by campaign", labels, vals, shown)
}

// ttlBuckets are the time-to-live histogram's bins, in hours.
var ttlBuckets = []struct {
	label string
	upTo  float64
}{{"< 1 day", 24}, {"1–2 days", 48}, {"2–4 days", 96}, {"4–7 days", 168}, {"1–2 weeks", 336}, {"> 2 weeks", math.Inf(1)}}

func ttlChart(d Durations) template.HTML {
	counts := make([]float64, len(ttlBuckets))
	for _, h := range d.Hours {
		for i, bk := range ttlBuckets {
			if h < bk.upTo {
				counts[i]++
				break
			}
		}
	}
	labels, shown := make([]string, len(ttlBuckets)), make([]string, len(ttlBuckets))
	for i, bk := range ttlBuckets {
		labels[i], shown[i] = bk.label, formatCount(counts[i])
	}
	if d.N == 0 {
		return hbars("Brief to live", nil, nil, nil)
	}
	return hbars("Brief to live: campaigns by how long they took", labels, counts, shown)
}

func formatCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fit cuts a label to n runes.
func fit(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func moneyList(ms []outcomes.Money) string { return outcomes.Amounts(ms, "—") }

// Hours writes a duration in hours as a person reads it.
func Hours(h float64) string {
	switch {
	case h <= 0:
		return "—"
	case h < 1.0/60:
		return "under a minute"
	case h < 1:
		return fmt.Sprintf("%.0f min", h*60)
	case h < 48:
		return fmt.Sprintf("%.1f h", h)
	}
	return fmt.Sprintf("%.1f days", h/24)
}

func day(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
