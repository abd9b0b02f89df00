package governance

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// Finding is one problem, located precisely enough to fix.
//
// Line and Col are 1-based positions in the field's value (for HTML: the
// source, pointing at the offending text or attribute value; Col counts
// characters). A finding about something missing from an HTML body points
// at </body>, where a footer would go. Line and Col are 0 when there is no
// text to point into: a missing field, header or segment condition.
type Finding struct {
	Rule       string `json:"rule"`
	Level      string `json:"level"`
	ArtifactID string `json:"artifact_id"`
	Field      string `json:"field"`
	Line       int    `json:"line"`
	Col        int    `json:"col"`
	Excerpt    string `json:"excerpt"`
	Message    string `json:"message"`
	Fix        string `json:"fix"`
	Link       string `json:"link,omitempty"`
}

// Fingerprint identifies a finding across re-checks of unchanged content,
// so a human's acknowledgement of a warning can be recorded with an
// approval and matched against the report at promotion time.
func (f Finding) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{f.Rule, f.Level, f.ArtifactID, f.Field, strconv.Itoa(f.Line), strconv.Itoa(f.Col), f.Excerpt, f.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "fnd_" + hex.EncodeToString(h.Sum(nil)[:12])
}

// Report is the outcome of a check. Passed means no errors: warnings do not
// block promotion but must be acknowledged at approval.
type Report struct {
	Findings    []Finding `json:"findings"`
	Errors      int       `json:"errors"`
	Warnings    int       `json:"warnings"`
	Suggestions int       `json:"suggestions"`
	Passed      bool      `json:"passed"`
}

// Blocking returns the error-level findings: those that stop promotion.
func (r Report) Blocking() []Finding { return r.byLevel(LevelError) }

// ToAcknowledge returns the warnings whose fingerprints are not in acked:
// what a human still has to accept before the plan can be approved.
func (r Report) ToAcknowledge(acked []string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Level == LevelWarning && !slices.Contains(acked, f.Fingerprint()) {
			out = append(out, f)
		}
	}
	return out
}

func (r Report) byLevel(level string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Level == level {
			out = append(out, f)
		}
	}
	return out
}

func newReport(fs []Finding) Report {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.ArtifactID, b.ArtifactID),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
			cmp.Compare(a.Excerpt, b.Excerpt),
		)
	})
	r := Report{Findings: fs}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, f := range fs {
		switch f.Level {
		case LevelError:
			r.Errors++
		case LevelWarning:
			r.Warnings++
		default:
			r.Suggestions++
		}
	}
	r.Passed = r.Errors == 0
	return r
}

// lowerLevel caps a rule's level: some findings (Mailchimp fallbacks that
// live in audience settings, the soft size threshold) are at most warnings.
func lowerLevel(level, limit string) string {
	rank := map[string]int{LevelError: 2, LevelWarning: 1, LevelSuggestion: 0}
	if rank[level] > rank[limit] {
		return limit
	}
	return level
}
