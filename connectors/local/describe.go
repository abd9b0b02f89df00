package local

import (
	"context"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Describer = (*Target)(nil)

// Describe says where the local target goes live. It has no account and
// no credentials.
func (t *Target) Describe() sandbox.Description {
	return sandbox.Description{
		Account: "the data directory " + t.dir,
		Auth:    sandbox.AuthNone,
		Limits: []string{
			"emails go to outbox/ as .eml files, one per recipient in contacts.csv, not to real inboxes",
			"pages go to site/, served by lastmile site; workflows and scheduled sends run while lastmile serve or lastmile run is running",
		},
	}
}

// CheckAuth has nothing to check: the local target has no credentials.
func (t *Target) CheckAuth(context.Context) error { return nil }

var _ sandbox.Scheduler = (*Target)(nil)

// Scheduling: A/B tests split by recipient key with the clock sending the
// winner; each recipient at their own time, from contacts.csv.
func (t *Target) Scheduling() sandbox.Scheduling {
	return sandbox.Scheduling{ABTests: true, TimeZones: true, SendWindows: true}
}
