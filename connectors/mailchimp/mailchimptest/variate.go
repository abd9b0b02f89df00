package mailchimptest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Variate (A/B) campaigns, as the spec describes them: POST /campaigns
// with type "variate" and variate_settings (winner_criteria, wait_time in
// minutes and whole hours, test_size 10–100, subject_lines, from_names
// with as many reply_to_addresses); the content options by PUT
// /campaigns/{id}/content with variate_contents. Mailchimp tests every
// combination of the options, at most 8.

// VariateSettings is a variate campaign's A/B settings, as accepted.
type VariateSettings struct {
	WinnerCriteria   string   `json:"winner_criteria"`
	WaitTime         int      `json:"wait_time"`
	TestSize         int      `json:"test_size"`
	SubjectLines     []string `json:"subject_lines,omitempty"`
	FromNames        []string `json:"from_names,omitempty"`
	ReplyToAddresses []string `json:"reply_to_addresses,omitempty"`
}

// VariateContent is one content option of a variate campaign.
type VariateContent struct {
	ContentLabel string `json:"content_label"`
	HTML         string `json:"html"`
	PlainText    string `json:"plain_text,omitempty"`
}

// maxCombinations is Mailchimp's limit on a variate campaign's tests.
const maxCombinations = 8

// checkVariate reads and checks variate_settings for a campaign of type
// typ; nil settings when none were given.
func checkVariate(typ string, raw json.RawMessage, prev *VariateSettings) (*VariateSettings, reply, bool) {
	given := len(raw) > 0 && string(raw) != "null"
	switch {
	case !given && typ == "variate" && prev == nil:
		return nil, invalidResource(FieldError{Field: "variate_settings", Message: "This value should not be blank for a variate campaign."}), false
	case !given:
		return prev, reply{}, true
	case typ != "variate":
		return nil, invalidResource(FieldError{Field: "variate_settings", Message: "variate_settings is only for variate campaigns."}), false
	}
	var v VariateSettings
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalidResource(FieldError{Field: "variate_settings", Message: err.Error()}), false
	}
	var errs []FieldError
	if v.WaitTime <= 0 || v.WaitTime%60 != 0 {
		errs = append(errs, FieldError{Field: "variate_settings.wait_time", Message: "The value of wait_time must be greater than 0 and in whole hours, specified in minutes."})
	}
	if v.TestSize < 10 || v.TestSize > 100 {
		errs = append(errs, FieldError{Field: "variate_settings.test_size", Message: "The test size must be a value between 10 and 100."})
	}
	if len(v.FromNames) != len(v.ReplyToAddresses) {
		errs = append(errs, FieldError{Field: "variate_settings.from_names", Message: "The number of from_names provided must match the number of reply_to_addresses."})
	}
	if n := combinations(&v, 1); n > maxCombinations {
		errs = append(errs, FieldError{Field: "variate_settings", Message: fmt.Sprintf("A variate campaign tests at most %d combinations; this one makes %d.", maxCombinations, n)})
	}
	if len(errs) > 0 {
		return nil, invalidResource(errs...), false
	}
	return &v, reply{}, true
}

func combinations(v *VariateSettings, contents int) int {
	n := max(1, len(v.SubjectLines)) * max(1, len(v.FromNames)) * max(1, contents)
	return n
}

// putVariateContents sets a variate campaign's content options.
func putVariateContents(c *Campaign, raw json.RawMessage) (reply, bool) {
	if c.Type != "variate" {
		return fail(400, "Bad Request", "variate_contents is only for variate campaigns."), false
	}
	var vc []VariateContent
	if err := json.Unmarshal(raw, &vc); err != nil {
		return invalidResource(FieldError{Field: "variate_contents", Message: err.Error()}), false
	}
	var errs []FieldError
	for i, x := range vc {
		if strings.TrimSpace(x.HTML) == "" {
			errs = append(errs, FieldError{Field: fmt.Sprintf("variate_contents.%d.html", i), Message: "Each content option must provide HTML content."})
		}
	}
	if c.Variate != nil && combinations(c.Variate, len(vc)) > maxCombinations {
		errs = append(errs, FieldError{Field: "variate_contents", Message: fmt.Sprintf("A variate campaign tests at most %d combinations.", maxCombinations)})
	}
	if len(vc) == 0 {
		errs = append(errs, FieldError{Field: "variate_contents", Message: "Provide at least one content option."})
	}
	if len(errs) > 0 {
		return invalidResource(errs...), false
	}
	c.VariateContents = vc
	c.HTML, c.PlainText = vc[0].HTML, vc[0].PlainText
	if c.PlainText == "" {
		c.PlainText = strings.TrimSpace(tagRE.ReplaceAllString(c.HTML, " "))
	}
	return reply{}, true
}

// variateJSON is a variate campaign's variate_settings as GET returns it.
func variateJSON(c *Campaign) map[string]any {
	v := c.Variate
	if v == nil {
		return nil
	}
	var labels []string
	for _, x := range c.VariateContents {
		labels = append(labels, x.ContentLabel)
	}
	var combos []map[string]any
	n := combinations(v, len(c.VariateContents))
	recipients := 0 // each combination's share of the test, once sent
	if c.Status == "sent" || c.Status == "sending" {
		recipients = len(c.Recipients) * v.TestSize / 100 / n
	}
	for ci := range max(1, len(c.VariateContents)) {
		for fi := range max(1, len(v.FromNames)) {
			for si := range max(1, len(v.SubjectLines)) {
				combos = append(combos, map[string]any{"id": fmt.Sprintf("%s-%d", c.ID, len(combos)), "subject_line": si, "from_name": fi, "reply_to": fi, "content_description": ci, "send_time": 0, "recipients": recipients})
			}
		}
	}
	return map[string]any{
		"winner_criteria": v.WinnerCriteria, "wait_time": v.WaitTime, "test_size": v.TestSize,
		"subject_lines": v.SubjectLines, "from_names": v.FromNames, "reply_to_addresses": v.ReplyToAddresses,
		"contents": labels, "combinations": combos, "winning_combination_id": "", "winning_campaign_id": "",
	}
}

// variateUnsub reports whether every content option has an unsubscribe
// link (or the footer adds one).
func variateUnsub(c *Campaign) bool {
	for _, x := range c.VariateContents {
		if !c.Settings.AutoFooter && !strings.Contains(x.HTML, "*|UNSUB|*") {
			return false
		}
	}
	return true
}
