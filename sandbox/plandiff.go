package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// field is one metadata field of an artifact, rendered for a diff.
type field struct{ name, value string }

func fmtTime(t *time.Time) string {
	if t == nil {
		return "(at confirmation)"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtList(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	return strings.Join(ids, ", ")
}

func quote(s string) string {
	if s == "" {
		return "(empty)"
	}
	return fmt.Sprintf("%q", s)
}

// metadata lists the fields a human compares; content goes in a unified
// diff below them.
func metadata(r *Revision) []field {
	switch {
	case r.Email != nil:
		e := r.Email
		return append(append([]field(nil), []field{
			{"name", quote(e.Name)}, {"subject", quote(e.Subject)}, {"preview_text", quote(e.PreviewText)},
			{"from", quote(e.FromName) + " <" + e.FromEmail + ">"}, {"reply_to", quote(e.ReplyTo)},
			{"audience.include", fmtList(e.Audience.Include)}, {"audience.exclude", fmtList(e.Audience.Exclude)},
			{"send_at", fmtTime(e.SendAt)},
		}...), abMetadata(e)...)
	case r.Page != nil:
		p := r.Page
		form := "(none)"
		if p.Form != nil {
			names := make([]string, len(p.Form.Fields))
			for i, f := range p.Form.Fields {
				names[i] = f.Name
			}
			form = strings.Join(names, ", ")
		}
		return []field{{"title", quote(p.Title)}, {"slug", p.Slug}, {"meta_description", quote(p.MetaDescription)}, {"form", form}, {"publish_at", fmtTime(p.PublishAt)}}
	case r.Segment != nil:
		return []field{{"name", quote(r.Segment.Name)}}
	case r.Workflow != nil:
		w := r.Workflow
		return []field{{"name", quote(w.Name)}, {"trigger", w.Trigger.Type}, {"steps", fmt.Sprint(len(w.Steps))}, {"activate", fmt.Sprint(w.Activate)}, {"reenrol", fmt.Sprint(w.Reenrol)}}
	case r.Ad != nil:
		a := r.Ad
		end := a.EndDate
		if end == "" {
			end = "(no end)"
		}
		return []field{{"name", quote(a.Name)}, {"platform", a.Platform}, {"objective", a.Objective},
			{"budget", FormatMoney(a.Budget.Micros, a.Budget.Currency) + " " + a.Budget.Period}, {"start_date", a.StartDate}, {"end_date", end},
			{"max_spend", a.MaxSpend().Text}, {"locations", fmtList(a.Locations)}, {"languages", fmtList(a.Languages)},
			{"audience_segments", fmtList(a.AudienceSegments)}, {"enable", fmt.Sprint(a.Enable)}}
	}
	return nil
}

// contents lists the bodies compared line by line.
func contents(r *Revision) []field {
	pretty := func(v any) string {
		data, _ := json.MarshalIndent(v, "", "  ")
		return string(data)
	}
	switch {
	case r.Email != nil:
		return append([]field{{"html", r.Email.HTML}, {"text", r.Email.Text}}, abContents(r.Email)...)
	case r.Page != nil:
		return []field{{"html", r.Page.HTML}}
	case r.Segment != nil:
		s := r.Segment
		return []field{{"definition", pretty(struct {
			Group
			IncludeSegments []string `json:"include_segments,omitempty"`
			ExcludeSegments []string `json:"exclude_segments,omitempty"`
			StaticEmails    []string `json:"static_emails,omitempty"`
			Target          string   `json:"target,omitempty"`
		}{s.Group, s.IncludeSegments, s.ExcludeSegments, s.StaticEmails, s.Target})}}
	case r.Workflow != nil:
		return []field{{"graph", pretty(struct {
			Trigger Trigger `json:"trigger"`
			Steps   []Step  `json:"steps"`
		}{r.Workflow.Trigger, r.Workflow.Steps})}}
	case r.Ad != nil:
		return []field{{"ad_groups", pretty(r.Ad.Groups)}}
	}
	return nil
}

// describeNew summarizes an artifact that does not exist yet.
func describeNew(r *Revision) string {
	var b strings.Builder
	for _, f := range metadata(r) {
		fmt.Fprintf(&b, "+ %s: %s\n", f.name, f.value)
	}
	for _, f := range contents(r) {
		lines := strings.Count(f.value, "\n") + 1
		switch f.name {
		case "definition", "graph", "ad_groups":
			b.WriteString(indent(f.value, "+ "))
		default:
			fmt.Fprintf(&b, "+ %s: %.1f KB, %d lines\n", f.name, float64(len(f.value))/1024, lines)
		}
	}
	return b.String()
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range splitLines(s) {
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// describeChange is a field-level diff of the metadata and a unified diff of
// each body, against what is live.
func describeChange(live, staged *Revision) string {
	var b strings.Builder
	// Fields are matched by name: an A/B test added or dropped adds or
	// removes fields, and each must show.
	lm, sm := metadata(live), metadata(staged)
	for _, f := range sm {
		if v, ok := fieldNamed(lm, f.name); !ok {
			fmt.Fprintf(&b, "+ %s: %s\n", f.name, f.value)
		} else if v != f.value {
			fmt.Fprintf(&b, "~ %s: %s → %s\n", f.name, v, f.value)
		}
	}
	for _, f := range lm {
		if _, ok := fieldNamed(sm, f.name); !ok {
			fmt.Fprintf(&b, "- %s: %s\n", f.name, f.value)
		}
	}
	lc, sc := contents(live), contents(staged)
	for _, f := range sc {
		if v, ok := fieldNamed(lc, f.name); ok {
			b.WriteString(unifiedDiff(f.name, v, f.value))
		} else {
			fmt.Fprintf(&b, "+ %s: %.1f KB, %d lines\n", f.name, float64(len(f.value))/1024, strings.Count(f.value, "\n")+1)
		}
	}
	for _, f := range lc {
		if _, ok := fieldNamed(sc, f.name); !ok {
			fmt.Fprintf(&b, "- %s (removed)\n", f.name)
		}
	}
	if b.Len() == 0 {
		return "(no visible change; the revision was re-staged)\n"
	}
	return b.String()
}
