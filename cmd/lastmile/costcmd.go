package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/outcomes"
)

// costCommand records what a campaign cost: a person's figure, since it
// decides the return the report shows.
func costCommand(e *env) *cobra.Command {
	var c common
	var clear bool
	cmd := &cobra.Command{
		Use:   "cost CAMPAIGN AMOUNT CURRENCY | cost CAMPAIGN --clear",
		Short: "record what a campaign cost, for the report's return on it",
		Long: "Record what a campaign cost (agency fees, tools, time), e.g. lastmile cost cmp_… 1200.00 USD. The report\n" +
			"shows the return on it in that currency; money is never converted. --clear removes it.",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case clear && len(args) != 1:
				return usagef("with --clear, give only the campaign")
			case !clear && len(args) != 3:
				return usagef("give the campaign, the amount and its currency, e.g. cmp_… 1200.00 USD")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var cost *outcomes.Money
			if !clear {
				m, err := outcomes.ParseMoney(args[1], args[2])
				if err != nil {
					return usagef("%v", err)
				}
				if m.Minor < 0 {
					return usagef("a cost cannot be negative")
				}
				cost = &m
			}
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			camp, err := a.sb.SetCampaignCost(cmd.Context(), osUser(e.getenv), args[0], cost)
			if err != nil {
				return err
			}
			if cost == nil {
				fmt.Fprintf(e.stdout, "%s has no cost recorded now.\n", termsafe.Quote(camp.Name, nameMax))
			} else {
				fmt.Fprintf(e.stdout, "%s cost %s.\n", termsafe.Quote(camp.Name, nameMax), cost)
			}
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().BoolVar(&clear, "clear", false, "remove the recorded cost")
	return cmd
}
