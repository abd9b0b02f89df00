package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// enrolCommand starts a manual workflow for named contacts: the person's
// side of a "manual" trigger, which the approver saw in the plan.
func enrolCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "enrol WORKFLOW EMAIL...",
		Short: "enrol contacts in a live manual workflow on the local target",
		Long: "Enrol contacts in a switched-on workflow whose trigger is manual, on the local target. The clock\n" +
			"(lastmile serve, run or site) enrols them at its next tick and they take the workflow's steps. A\n" +
			"contact goes through once unless the workflow re-enrols. Every address must be in the contacts.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("give the workflow's id and at least one contact's address")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			lt, ok := a.targets["local"].(*local.Target)
			if !ok {
				return fmt.Errorf("no local target is configured: manual workflows on a platform are started there")
			}
			wf, addrs := args[0], args[1:]
			if err := lt.Enrol(wf, addrs); errors.Is(err, local.ErrNotEnrollable) || errors.Is(err, local.ErrUnknownContact) {
				return refusal{err}
			} else if err != nil {
				return err
			}
			if err := a.sb.Record(cmd.Context(), sandbox.AuditEntry{Actor: osUser(e.getenv), Action: "workflow.enrol", Object: wf,
				Detail: map[string]any{"contacts": len(addrs), "channel": "cli"}}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Asked to enrol %d contact(s) in %s; the clock enrols them at its next tick.\n", len(addrs), termsafe.Text(wf, nameMax))
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}
