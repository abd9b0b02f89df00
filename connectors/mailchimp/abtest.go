package mailchimp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// An A/B test maps to a variate campaign (POST /campaigns type "variate",
// variate_settings): winner_criteria opens or clicks, wait_time in minutes
// (whole hours, as the spec requires), test_size the test's percent, and
// the options tested — subject_lines, from_names (with as many
// reply_to_addresses, which the spec demands), or content options through
// PUT /campaigns/{id}/content variate_contents. Mailchimp splits the test
// share evenly between the combinations and sends the winner to the rest
// itself.
//
// Mailchimp tests every combination of the options it is given, so
// variants that change two kinds of field (b a subject, c a from name)
// would send combinations nobody approved: the plan refuses them, as it
// refuses preview-text variants (variate_settings has no preview text)
// and a wait of other than whole hours.

type variateSettings struct {
	WinnerCriteria   string   `json:"winner_criteria"`
	WaitTime         int      `json:"wait_time"`
	TestSize         int      `json:"test_size"`
	SubjectLines     []string `json:"subject_lines,omitempty"`
	FromNames        []string `json:"from_names,omitempty"`
	ReplyToAddresses []string `json:"reply_to_addresses,omitempty"`
}

type variateContent struct {
	ContentLabel string `json:"content_label"`
	HTML         string `json:"html"`
	PlainText    string `json:"plain_text,omitempty"`
}

// abDimensions lists the kinds of field the variants change: subject,
// preview_text, from_name, content.
func abDimensions(e *sandbox.Email) []string {
	vs := e.Variants()
	var out []string
	seen := map[string]bool{}
	for _, v := range vs[1:] {
		for _, d := range []struct {
			name string
			diff bool
		}{{"subject", v.Subject != vs[0].Subject}, {"preview_text", v.PreviewText != vs[0].PreviewText},
			{"from_name", v.FromName != vs[0].FromName}, {"content", v.HTML != vs[0].HTML || v.Text != vs[0].Text}} {
			if d.diff && !seen[d.name] {
				seen[d.name] = true
				out = append(out, d.name)
			}
		}
	}
	return out
}

// buildVariate turns b into a variate campaign for e's A/B test; problems
// say what Mailchimp cannot test as approved.
func (t *Target) buildVariate(e *sandbox.Email, b *builtEmail, tx func(field, s string) string) {
	ab := e.ABTest
	if ab == nil {
		return
	}
	dims := abDimensions(e)
	for _, d := range dims {
		if d == "preview_text" {
			b.problems = append(b.problems, "Mailchimp's A/B (variate) campaigns cannot test preview text: variate_settings tests subject lines, from names and contents only; test one of those instead")
		}
	}
	if len(dims) > 1 {
		b.problems = append(b.problems, fmt.Sprintf("the A/B variants change %v; Mailchimp tests every combination of the subject lines, from names and contents it is given, so it would send combinations nobody approved: make every variant change the same one kind of field", dims))
	}
	wait := ab.Wait()
	if wait%time.Hour != 0 {
		b.problems = append(b.problems, fmt.Sprintf("decide_after is %s; Mailchimp waits whole hours before picking the winner (variate_settings.wait_time): use e.g. %s", wait, wait.Round(time.Hour).String()))
	}
	vs := e.Variants()
	vset := &variateSettings{WinnerCriteria: ab.Winner, WaitTime: int(wait / time.Minute), TestSize: ab.TestPercent}
	if len(dims) == 1 {
		switch dims[0] {
		case "subject":
			for i, v := range vs {
				vset.SubjectLines = append(vset.SubjectLines, tx("variant "+sandbox.VariantName(i)+" subject", v.Subject))
			}
		case "from_name":
			for _, v := range vs {
				vset.FromNames = append(vset.FromNames, v.FromName)
				vset.ReplyToAddresses = append(vset.ReplyToAddresses, replyTo(e))
			}
		case "content":
			unsub := true
			var contents []variateContent
			for i, v := range vs {
				name := "variant " + sandbox.VariantName(i)
				html := t.translate(name+" html", v.HTML)
				b.problems = append(b.problems, html.problems...)
				unsub = unsub && html.unsub
				contents = append(contents, variateContent{ContentLabel: "Variant " + sandbox.VariantName(i), HTML: html.out, PlainText: tx(name+" text", v.Text)})
			}
			b.content = contentRequest{VariateContents: contents}
			b.campaign.Settings.AutoFooter = !unsub
		}
	}
	b.campaign.Type = "variate"
	b.campaign.VariateSettings = vset
	b.notes = append(b.notes, fmt.Sprintf("Mailchimp runs the A/B test as a variate campaign: %d%% of the audience split between the %d variants, the winner by %s after %s sent by Mailchimp to the rest", ab.TestPercent, len(vs), ab.Winner, wait))
}

// variateMetrics reads a variate campaign's combinations: how many
// recipients each variant's combination had, and the winner once Mailchimp
// picked it. The spec's report has no opens or clicks per combination, so
// those stay the campaign's.
func (t *Target) variateMetrics(ctx context.Context, id string) (map[string]map[string]int64, string, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
		Path: t.campaignPath(id) + "?fields=variate_settings.combinations,variate_settings.winning_combination_id"})
	if err != nil {
		return nil, "", fmt.Errorf("mailchimp: read the A/B combinations of campaign %s: %w", id, mapErr(err, t.name))
	}
	var c struct {
		VariateSettings struct {
			WinningCombinationID string `json:"winning_combination_id"`
			Combinations         []struct {
				ID          string `json:"id"`
				SubjectLine int    `json:"subject_line"`
				FromName    int    `json:"from_name"`
				Content     int    `json:"content_description"`
				Recipients  int64  `json:"recipients"`
			} `json:"combinations"`
		} `json:"variate_settings"`
	}
	if err := resp.Decode(&c); err != nil {
		return nil, "", fmt.Errorf("mailchimp: decoding the A/B combinations of campaign %s: %w", id, err)
	}
	out := map[string]map[string]int64{}
	winner := ""
	for _, cb := range c.VariateSettings.Combinations {
		// lastmile's variants change one kind of field, so one index
		// says the variant and the others are 0.
		v := sandbox.VariantName(max(cb.SubjectLine, cb.FromName, cb.Content))
		out[v] = map[string]int64{sandbox.MetricSent: cb.Recipients}
		if cb.ID != "" && cb.ID == c.VariateSettings.WinningCombinationID {
			winner = v
		}
	}
	return out, winner, nil
}
