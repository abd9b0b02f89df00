package governance

import (
	"strings"
	"testing"
)

// Budget approval rules: a plan whose ad campaigns may spend above a
// threshold needs the roles and approvers the rule names; a spend in
// another currency is not converted and counts as reaching it.
func TestApprovalsByAdBudget(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(`version: 1
roles:
  finance: [ana]
rules:
  - id: approvals.big-spend
    kind: approvals
    roles: [finance]
    min_daily_budget: USD 100
  - id: approvals.big-flight
    kind: approvals
    approvers: 3
    min_total_budget: 5000.00 USD
`))
	if err != nil {
		t.Fatal(err)
	}
	usd := func(daily, total int64, unbounded bool) []AdSpend {
		return []AdSpend{{Currency: "USD", DailyMicros: daily * 1e6, TotalMicros: total * 1e6, Unbounded: unbounded}}
	}
	for _, tc := range []struct {
		name      string
		spends    []AdSpend
		roles     []string
		count     int
		reasonHas string
	}{
		{"no ads", nil, nil, 1, ""},
		{"below both", usd(50, 1000, false), nil, 1, ""},
		{"daily at the threshold", usd(100, 2000, false), []string{"finance"}, 1, "USD 100.00 a day"},
		{"total above", usd(50, 6000, false), nil, 3, "USD 5000.00 in all"},
		{"no end date is unbounded", usd(50, 0, true), nil, 3, "in all"},
		{"lifetime budget counts as a day's", []AdSpend{{Currency: "USD", TotalMicros: 150e6}}, []string{"finance"}, 1, "a day"},
		{"other currency never lowers the bar", []AdSpend{{Currency: "EUR", DailyMicros: 10e6, TotalMicros: 10e6}}, []string{"finance"}, 3, "does not state its budget in USD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := p.Approvals(ApprovalInput{MaxRecipients: 0, Channels: []string{"ad"}, Spends: tc.spends})
			if strings.Join(req.Roles, ",") != strings.Join(tc.roles, ",") || req.Count != tc.count {
				t.Errorf("Approvals = roles %v count %d, want %v and %d (reasons %q)", req.Roles, req.Count, tc.roles, tc.count, req.Reasons)
			}
			if tc.reasonHas != "" && !strings.Contains(strings.Join(req.Reasons, "\n"), tc.reasonHas) {
				t.Errorf("reasons %q lack %q", req.Reasons, tc.reasonHas)
			}
		})
	}
}

func TestBudgetThresholdErrors(t *testing.T) {
	for _, bad := range []string{"100", "USD", "usd 100", "ZZZ 100", "USD -5", "USD 1e3", "USD 0.0000001"} {
		_, err := Parse("policy.yaml", []byte("version: 1\nrules:\n  - id: a\n    kind: approvals\n    approvers: 2\n    min_daily_budget: " + bad + "\n"))
		if err == nil || !strings.Contains(err.Error(), "min_daily_budget") {
			t.Errorf("min_daily_budget %q: error %v, want one naming the key", bad, err)
		}
	}
}
