package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

func statusCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "status",
		Short: "show the data directory, its policy, targets and pending plans",
		Long: "Show which data directory lastmile uses here and where that choice came from, the policy and\n" +
			"whether it loads, each configured target and whether it is usable, and the plans waiting for a\n" +
			"person. It creates nothing.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), e, c) },
	}
	c.register(cmd, dataDirHelp)
	return cmd
}

func runStatus(ctx context.Context, e *env, c common) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "Data directory  %s (%s)\n", dir, dataDirOrigin(c.dataDir, e.getenv))
	cfgPath := filepath.Join(dir, sandbox.ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		fmt.Fprintf(w, "                not set up: %s\n", noData(e, c, dir))
		return nil
	}
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Config          %s\n", cfgPath)
	if cfg.PostgresStore() {
		fmt.Fprintf(w, "Store           PostgreSQL %s (config.yaml store:)\n", termsafe.Text(store.DescribePostgres(cfg.Store), lineMax))
	}

	switch {
	case cfg.Policy == "":
		fmt.Fprintln(w, "Policy          none (config.yaml names no policy file: nothing is checked)")
	default:
		p := cfg.Policy
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pol, err := governance.Load(p)
		if err != nil {
			fmt.Fprintf(w, "Policy          %s — does not load, planning is blocked until it does:\n", p)
			for _, l := range termsafe.Lines(err.Error(), lineMax) {
				fmt.Fprintf(w, "                  %s\n", l)
			}
			break
		}
		var channels []string
		for ch := range pol.ChannelRules() {
			channels = append(channels, ch)
		}
		slices.Sort(channels)
		name := ""
		if pol.Name() != "" {
			name = termsafe.Quote(pol.Name(), nameMax) + ", "
		}
		fmt.Fprintf(w, "Policy          %s (%sversion %.12s; approvals count from %s)\n", p, name, pol.Hash(), strings.Join(channels, ", "))
	}

	names := cfg.TargetNames()
	limits := newAccountLimits()
	for i, name := range names {
		label := ""
		if i == 0 {
			label = "Targets"
		}
		tc := cfg.Targets[name]
		state := "ready"
		if _, err := buildTarget(name, dir, tc, openOptions{}, limits); err != nil {
			state = "unavailable: " + termsafe.Text(err.Error(), textMax)
		}
		def := ""
		if name == cfg.DefaultTarget {
			def = ", default"
		}
		fmt.Fprintf(w, "%-15s %s (%s%s) %s\n", label, termsafe.Text(name, nameMax), termsafe.Text(tc.Type, nameMax), def, state)
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "Targets         none configured")
	}

	if !hasData(dir) {
		fmt.Fprintln(w, "Plans           none yet (no agent has used this data directory)")
		return nil
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	var waiting []sandbox.PlanSummary
	for _, st := range []string{sandbox.PlanPending, sandbox.PlanApproved, sandbox.PlanFailed} {
		ps, err := a.sb.ListPlans(ctx, st, 100)
		if err != nil {
			return err
		}
		waiting = append(waiting, ps...)
	}
	if len(waiting) == 0 {
		fmt.Fprintln(w, "Plans           none open (lastmile plans lists them all)")
		return nil
	}
	fmt.Fprintf(w, "Plans           %s open (approve or reject with lastmile approve PLAN, lastmile reject PLAN --reason …):\n", plural(len(waiting), "plan"))
	for _, p := range waiting {
		fmt.Fprintf(w, "                %s %-8s %s approvals %s, expires %s\n", termsafe.Text(p.ID, summaryMax), termsafe.Text(p.Status, summaryMax), termsafe.Quote(p.Campaign, summaryMax),
			termsafe.Text(p.Approvals, summaryMax), p.ExpiresAt.Local().Format("2006-01-02 15:04"))
	}
	return nil
}
