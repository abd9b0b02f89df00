package governance

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"golang.org/x/text/currency"

	"github.com/lastmile/lastmile/outcomes"
)

// Money is an amount in one currency, in millionths of its unit (micros),
// as budget thresholds are written: "USD 500" or "500.00 USD".
type Money struct {
	Currency string `json:"currency"`
	Micros   int64  `json:"micros"`
}

func (m Money) String() string {
	return fmt.Sprintf("%s %s", m.Currency, big.NewRat(m.Micros, 1_000_000).FloatString(2))
}

// ParseMoney reads "USD 500", "500 USD" or "USD 1250.50".
func ParseMoney(s string) (Money, error) {
	parts := strings.Fields(s)
	if len(parts) != 2 {
		return Money{}, errors.New(`write an amount and its currency, e.g. "USD 500"`)
	}
	code, amount := parts[0], parts[1]
	if _, err := currency.ParseISO(code); err != nil || len(code) != 3 {
		code, amount = parts[1], parts[0]
	}
	if _, err := currency.ParseISO(code); err != nil || len(code) != 3 || strings.ToUpper(code) != code {
		return Money{}, fmt.Errorf("%q names no ISO 4217 currency (upper case, e.g. USD, EUR)", s)
	}
	m, err := outcomes.ParseMoney(amount, code)
	if err != nil {
		return Money{}, err
	}
	if m.Minor <= 0 || m.Minor > math.MaxInt64/1_000_000 {
		return Money{}, fmt.Errorf("%q is not a positive amount within range", amount)
	}
	return Money{Currency: code, Micros: m.Micros()}, nil
}

// AdSpend is what one ad campaign of a plan may spend.
type AdSpend struct {
	Currency    string `json:"currency"`
	DailyMicros int64  `json:"daily_micros,omitempty"` // 0: a lifetime budget
	// TotalMicros bounds the flight; Unbounded is true when nothing does
	// (a daily budget without an end date).
	TotalMicros int64 `json:"total_micros,omitempty"`
	Unbounded   bool  `json:"unbounded,omitempty"`
}

// budgetMatch says whether the plan's spends reach the rule's budget
// thresholds; unknown is set when a spend in another currency could.
func budgetMatch(c *ruleConfig, spends []AdSpend) (ok bool, unknown string) {
	if c.MinDailyBudget == nil && c.MinTotalBudget == nil {
		return true, ""
	}
	for _, sp := range spends {
		if (c.MinDailyBudget != nil && sp.Currency != c.MinDailyBudget.Currency) || (c.MinTotalBudget != nil && sp.Currency != c.MinTotalBudget.Currency) {
			// Amounts in other currencies are not converted: a missing
			// rate never lowers the bar.
			unknown = "budget in " + c.currencies()
			continue
		}
		daily := sp.DailyMicros
		if daily == 0 && sp.TotalMicros > 0 {
			daily = sp.TotalMicros // a lifetime budget can be spent in a day
		}
		if c.MinDailyBudget != nil && daily >= c.MinDailyBudget.Micros {
			return true, ""
		}
		if c.MinTotalBudget != nil && (sp.Unbounded || sp.TotalMicros >= c.MinTotalBudget.Micros) {
			return true, ""
		}
	}
	return unknown != "", unknown
}

func (c *ruleConfig) currencies() string {
	if c.MinDailyBudget != nil {
		return c.MinDailyBudget.Currency
	}
	return c.MinTotalBudget.Currency
}
