// Package outcomes is what happened after a campaign went live, as data:
// the events targets report (engagement, form submissions, replies,
// meetings, deals, purchases), money in exact minor units, and — in the
// files beside this one — their attribution to the campaigns and
// artifacts that touched the contact, and the insights a workspace's own
// history supports. It is pure: no I/O, deterministic for the same input.
package outcomes

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"golang.org/x/text/currency"
)

// Event types lastmile knows. Sources may report others: they are kept
// and reported as unknown, never dropped.
const (
	Sent               = "sent"
	Delivered          = "delivered"
	Open               = "open"
	Click              = "click"
	Bounce             = "bounce"
	Unsubscribe        = "unsubscribe"
	SpamReport         = "spam_report"
	PageView           = "page_view"
	FormSubmission     = "form_submission"
	Reply              = "reply"
	MeetingBooked      = "meeting_booked"
	OpportunityCreated = "opportunity_created"
	DealWon            = "deal_won"
	Purchase           = "purchase"
)

// Known lists the event types above.
var Known = []string{Sent, Delivered, Open, Click, Bounce, Unsubscribe, SpamReport, PageView, FormSubmission, Reply, MeetingBooked, OpportunityCreated, DealWon, Purchase}

// Conversions are the event types that count as a campaign's results.
var Conversions = []string{FormSubmission, Reply, MeetingBooked, OpportunityCreated, DealWon, Purchase}

// Touches are the event types by which a campaign reaches a contact; a
// form submission is a conversion and a touch of its page for what comes
// after.
var Touches = []string{Sent, Open, Click, PageView, FormSubmission}

// IsKnown reports whether t is one of Known.
func IsKnown(t string) bool { return slices.Contains(Known, t) }

// Event is one thing that happened, as a target reported it.
type Event struct {
	// ID is stable per source, so the same event read twice is kept once.
	ID     string `json:"id"`
	Type   string `json:"type"`
	Source string `json:"source"` // e.g. "local:events.jsonl", "hubspot:deals", "mailchimp:ecommerce"
	// Contact is the lower-case address, when the event is a contact's.
	Contact string `json:"contact,omitempty"`
	// LiveID is the live object the event is about (an email, a page),
	// when the source says; Target names where it lives.
	Target string    `json:"target,omitempty"`
	LiveID string    `json:"live_id,omitempty"`
	At     time.Time `json:"at"`
	// URL is a click's or a landing's address, with its UTM parameters.
	URL string `json:"url,omitempty"`
	// Value is a deal's amount or a purchase's revenue.
	Value *Money `json:"value,omitempty"`
	// Problem says what in the source could not be read (an amount that is
	// not a number): the event is kept, without what was unreadable.
	Problem string `json:"problem,omitempty"`
}

// Money is an amount in a currency's minor units (cents for USD, yen for
// JPY), so that sums are exact.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"` // ISO 4217, upper case
}

// ParseMoney reads a decimal amount ("1200", "49.90", "-3.5") in an ISO
// 4217 currency. It refuses an unknown currency, more decimals than the
// currency has, and amounts beyond int64 minor units.
func ParseMoney(amount, cur string) (Money, error) {
	unit, err := currency.ParseISO(strings.TrimSpace(cur))
	if err != nil {
		return Money{}, fmt.Errorf("%q is not an ISO 4217 currency", cur)
	}
	scale, _ := currency.Standard.Rounding(unit)
	r, ok := new(big.Rat).SetString(strings.TrimSpace(amount))
	if !ok || strings.ContainsAny(amount, "eE/") {
		return Money{}, fmt.Errorf("%q is not a decimal amount", amount)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return Money{}, fmt.Errorf("%q has more decimals than %s's %d", amount, unit, scale)
	}
	n := r.Num()
	if !n.IsInt64() {
		return Money{}, fmt.Errorf("%q is too large", amount)
	}
	return Money{Minor: n.Int64(), Currency: unit.String()}, nil
}

// MoneyFromFloat is ParseMoney for a JSON number, rounded to the
// currency's minor unit (platforms report amounts as floats).
func MoneyFromFloat(amount float64, cur string) (Money, error) {
	unit, err := currency.ParseISO(strings.TrimSpace(cur))
	if err != nil {
		return Money{}, fmt.Errorf("%q is not an ISO 4217 currency", cur)
	}
	scale, _ := currency.Standard.Rounding(unit)
	v := math.Round(amount * math.Pow10(scale))
	if math.IsNaN(v) || math.Abs(v) > math.MaxInt64/2 {
		return Money{}, fmt.Errorf("%v is not an amount", amount)
	}
	return Money{Minor: int64(v), Currency: unit.String()}, nil
}

// MarshalJSON writes the amount for people too: {"minor": 120000,
// "currency": "USD", "amount": "1200.00"}.
func (m Money) MarshalJSON() ([]byte, error) {
	amount, _, _ := strings.Cut(m.String(), " ")
	return json.Marshal(struct {
		Minor    int64  `json:"minor"`
		Currency string `json:"currency"`
		Amount   string `json:"amount"`
	}{m.Minor, m.Currency, amount})
}

// JSONSchemaExtend says in the schema what MarshalJSON adds.
func (Money) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Properties.Set("amount", &jsonschema.Schema{Type: "string", Description: "The amount with the currency's decimals, e.g. 1200.00."})
	s.Required = append(s.Required, "amount")
}

// Amounts writes amounts in several currencies, "1200.00 USD, 90.00 EUR",
// or none when there are none.
func Amounts(ms []Money, none string) string {
	if len(ms) == 0 {
		return none
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// String writes the amount with its currency's decimals: "1200.00 USD".
func (m Money) String() string {
	unit, err := currency.ParseISO(m.Currency)
	if err != nil {
		return fmt.Sprintf("%d %s (minor units)", m.Minor, m.Currency)
	}
	scale, _ := currency.Standard.Rounding(unit)
	r := new(big.Rat).SetFrac(big.NewInt(m.Minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	return r.FloatString(scale) + " " + m.Currency
}

// Micros is the amount in millionths of the currency's unit, as ad
// platforms count budgets and costs.
func (m Money) Micros() int64 {
	scale := 2
	if unit, err := currency.ParseISO(m.Currency); err == nil {
		scale, _ = currency.Standard.Rounding(unit)
	}
	p := int64(1)
	for range 6 - scale {
		p *= 10
	}
	return m.Minor * p
}
