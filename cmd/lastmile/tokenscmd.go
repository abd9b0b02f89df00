package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/internal/termsafe"
)

// tokensCommand manages lastmile's own access tokens, for serve --http
// without an identity provider. A token authenticates an agent; it never
// approves anything (plans still need a person, on the review page or at a
// terminal).
func tokensCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "create, list and revoke access tokens for agents over HTTP",
		Long: "Access tokens let agents call lastmile over HTTP (Authorization: Bearer lm_…) without an identity\n" +
			"provider. Each has a name, which the audit log and plans record as the actor (token:NAME), and\n" +
			"scopes, which say which tools it may call:\n\n" +
			"  lastmile:read     the tools that only read\n" +
			"  lastmile:stage    staging, test sends, retiring, archiving and updating\n" +
			"  lastmile:plan     plan_promotion\n" +
			"  lastmile:confirm  confirm_promotion (a plan still needs a person's approval)\n\n" +
			"A token is shown once, when it is created; lastmile keeps only its SHA-256.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(tokensCreateCommand(e), tokensListCommand(e), tokensRevokeCommand(e))
	return cmd
}

func tokensCreateCommand(e *env) *cobra.Command {
	var c common
	var name, scopes string
	cmd := &cobra.Command{
		Use:   "create --name NAME --scopes SCOPE,…",
		Short: "create an access token: prints it once",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("give the token a --name (the audit log records it as token:NAME)")
			}
			if err := accesstoken.ValidateName(name); err != nil {
				return usagef("--name: %v", err)
			}
			list, err := accesstoken.ParseScopes(scopes)
			if err != nil {
				return usagef("--scopes: %v", err)
			}
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			secret, tok, err := accesstoken.New(a.st, nil).Create(cmd.Context(), name, list, osUser(e.getenv))
			if errors.Is(err, accesstoken.ErrNameTaken) {
				return usagef("%v; choose another --name", err)
			}
			if err != nil {
				return err
			}
			if err := a.sb.Record(cmd.Context(), reviewAudit(osUser(e.getenv), "access_token_created", tok.Name, map[string]any{"scopes": tok.Scopes})); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Created access token %s (%s). It is shown once, below; lastmile keeps only its hash.\n"+
				"Give it to the agent as Authorization: Bearer TOKEN. Revoke it with: lastmile tokens revoke %s\n",
				tok.Name, strings.Join(tok.Scopes, ", "), tok.Name)
			fmt.Fprintln(e.stdout, secret)
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&name, "name", "", "the token's `NAME` (the actor token:NAME in the audit log)")
	cmd.Flags().StringVar(&scopes, "scopes", "", "comma-separated `SCOPES`: "+strings.Join(accesstoken.Scopes, ", "))
	return cmd
}

func tokensListCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list access tokens: name, scopes, created, revoked (never the token)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, dir, ok, err := openExisting(e, c)
			if err != nil {
				return err
			}
			if !ok {
				return errNoDataDir(e, c, dir)
			}
			defer a.Close()
			list, err := accesstoken.New(a.st, nil).List(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(e.stdout, "No access tokens. Create one with: lastmile tokens create --name NAME --scopes lastmile:read")
				return nil
			}
			for _, t := range list {
				state := "active"
				if t.Revoked() {
					state = "revoked " + t.RevokedAt.Format("2006-01-02 15:04 MST")
					if t.RevokedBy != "" {
						state += " by " + termsafe.Text(t.RevokedBy, nameMax)
					}
				}
				created := "created " + t.CreatedAt.Format("2006-01-02 15:04 MST")
				if t.CreatedBy != "" {
					created += " by " + termsafe.Text(t.CreatedBy, nameMax)
				}
				fmt.Fprintf(e.stdout, "%s  %s; %s; %s\n", t.Name, strings.Join(t.Scopes, ","), created, state)
			}
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}

func tokensRevokeCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "revoke an access token: it stops working at the next request",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, dir, ok, err := openExisting(e, c)
			if err != nil {
				return err
			}
			if !ok {
				return errNoDataDir(e, c, dir)
			}
			defer a.Close()
			if err := accesstoken.New(a.st, nil).Revoke(cmd.Context(), args[0], osUser(e.getenv)); err != nil {
				if errors.Is(err, accesstoken.ErrUnknown) {
					return usagef("there is no access token %s (lastmile tokens list)", termsafe.Text(args[0], nameMax))
				}
				return err
			}
			if err := a.sb.Record(cmd.Context(), reviewAudit(osUser(e.getenv), "access_token_revoked", args[0], nil)); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Revoked %s: it no longer authenticates. Its name stays taken, so the audit log's token:%s means one token.\n", args[0], args[0])
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}
