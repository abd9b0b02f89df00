package mailchimp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says which account and audience the target was connected with.
// The API key or token is not part of it.
func (t *Target) Describe() sandbox.Description {
	acct := "Mailchimp account"
	if t.account.name != "" {
		acct += " " + t.account.name
	}
	d := sandbox.Description{
		Account:     fmt.Sprintf("%s (data centre %s), audience %s", acct, t.account.dc, t.cfg.ListID),
		Auth:        sandbox.AuthAPIKey,
		ConnectedAt: t.account.connectedAt,
		Limits: []string{
			"no workflows: Mailchimp cannot create Customer Journeys through its API",
			"no landing pages: put pages on a WordPress, HubSpot or local target",
			fmt.Sprintf("at most %d requests in flight per account (Mailchimp allows 10 connections)", cap(t.client.Sem)),
		},
	}
	if t.account.kind == authOAuth {
		d.Auth = sandbox.AuthOAuth
	}
	return d
}

// CheckAuth reads the account's name (GET /3.0/), which Mailchimp answers
// only for a valid key or token.
func (t *Target) CheckAuth(ctx context.Context) error {
	_, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/?fields=account_name"})
	if err != nil {
		return fmt.Errorf("mailchimp: check the credentials: %w", mapErr(err, t.name))
	}
	return nil
}

var _ sandbox.Scheduler = (*Target)(nil)

// Scheduling: variate campaigns for A/B tests; Timewarp for recipient time
// zones; a window becomes the schedule time.
func (t *Target) Scheduling() sandbox.Scheduling {
	return sandbox.Scheduling{ABTests: true, TimeZones: true, SendWindows: true}
}
