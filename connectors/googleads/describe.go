package googleads

import (
	"context"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe names the account (customer id, name, currency, time zone);
// no token is part of it.
func (t *Target) Describe() sandbox.Description {
	acct := "Google Ads customer " + dashed(t.customer)
	if t.cfg.AccountName != "" {
		acct += " (" + t.cfg.AccountName + ")"
	}
	if t.cfg.Currency != "" {
		acct += ", " + t.cfg.Currency
	}
	if t.cfg.TimeZone != "" {
		acct += ", " + t.cfg.TimeZone
	}
	if t.cfg.LoginCustomerID != "" {
		acct += ", through manager " + t.cfg.LoginCustomerID
	}
	return sandbox.Description{Account: acct, Auth: sandbox.AuthOAuth, Scopes: []string{Scope}, Limits: limitsText()}
}

func limitsText() []string {
	return []string{
		"ad campaigns only (search campaigns with responsive search ads and keywords): Google Ads has no emails, segments, workflows or pages for lastmile",
		"locations and languages are campaign criteria (countries and languages, targeted positively); exclusions added in Google Ads are left alone",
		"customer lists (Customer Match) are not supported yet: ad campaigns naming audience segments are refused at planning",
	}
}

func dashed(id string) string {
	if len(id) != 10 {
		return id
	}
	return id[:3] + "-" + id[3:6] + "-" + id[6:]
}

// CheckAuth reads the customer (one GAQL query).
func (t *Target) CheckAuth(ctx context.Context) error {
	_, err := t.probe(ctx)
	return err
}

// Account is what a probe reads of the customer.
type Account struct {
	CustomerID, Name, Currency, TimeZone string
	Manager, Test                        bool
}

func (t *Target) probe(ctx context.Context) (Account, error) {
	rows, err := t.search(ctx, "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone, customer.manager, customer.test_account FROM customer")
	if err != nil {
		return Account{}, t.fail("read the Google Ads account", err)
	}
	if len(rows) == 0 || rows[0].Customer == nil {
		return Account{}, failf("read the Google Ads account", nil, "Google Ads answered without customer %s", t.customer)
	}
	c := rows[0].Customer
	return Account{CustomerID: c.ID, Name: c.DescriptiveName, Currency: c.CurrencyCode, TimeZone: c.TimeZone, Manager: c.Manager, Test: c.TestAccount}, nil
}

// Probe reads the account: id, name, currency, time zone.
func (t *Target) Probe(ctx context.Context) (Account, error) { return t.probe(ctx) }
