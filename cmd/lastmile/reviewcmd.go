package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/sandbox"
)

// reviewFlags are how the review page is reached: where it listens, and the
// origin people open when a TLS proxy stands in front of it.
type reviewFlags struct {
	addr, origin string
}

func (f *reviewFlags) originFor(addr string) string {
	if f.origin != "" {
		return strings.TrimSuffix(f.origin, "/")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	return "http://localhost:" + port
}

func reviewCommand(e *env) *cobra.Command {
	var c common
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "review [--addr ADDR] [--origin URL]",
		Short: "serve the review page, where enrolled approvers see each plan rendered and approve it with a passkey",
		Long: "Serve the review page on loopback (default " + review.DefaultAddr + "). Each plan has a page at\n" +
			"/plans/PLAN showing the finished campaign: every email as its recipients will see it at desktop and\n" +
			"mobile widths, segments with counts and sample members, workflow diagrams, landing pages, diffs and\n" +
			"findings; an enrolled approver approves or rejects it there with their passkey.\n\n" +
			"Passkeys need a domain name: open it at http://localhost:PORT, not 127.0.0.1. Behind a TLS proxy,\n" +
			"pass the public origin with --origin https://review.example.com. Enrol approvers with\n" +
			"lastmile approvers add EMAIL.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			return serveReview(cmd.Context(), e, a, f.addr, f.originFor(f.addr))
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&f.addr, "addr", review.DefaultAddr, "listen on `ADDR`")
	cmd.Flags().StringVar(&f.origin, "origin", "", "the `URL` people open, when a TLS proxy serves the page (its host is the passkeys' relying party)")
	return cmd
}

// reviewApp builds the review app for an opened data directory.
func reviewApp(a *app, origin string) (*review.Server, error) {
	return review.New(review.Options{Sandbox: a.sb, Approvers: approvers.New(a.st, nil), Origin: origin, Log: a.log})
}

// serveReview serves the review page until ctx ends.
func serveReview(ctx context.Context, e *env, a *app, addr, origin string) error {
	rs, err := reviewApp(a, origin)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("the review page cannot listen on %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		a.log.Warn("the review page listens beyond loopback; serve it behind TLS with --origin https://…", "addr", addr)
	}
	srv := &http.Server{Handler: rs.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stderr, "lastmile: review page %s\n", rs.Origin())
	a.log.Info("lastmile serving the review page", "origin", rs.Origin(), "listen", ln.Addr().String())
	return serveUntil(ctx, a.log, srv, ln, 5*time.Second)
}

func reviewAudit(actor, action, object string, detail map[string]any) sandbox.AuditEntry {
	return sandbox.AuditEntry{Actor: actor, Action: action, Object: object, Detail: detail}
}

func approversCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvers",
		Short: "enrol, list and remove the people who approve plans on the review page",
		Long: "Approvers approve plans on the review page with a passkey. lastmile approvers add EMAIL prints a\n" +
			"one-time link (it works for 15 minutes) that the person opens to register their passkey. Roles\n" +
			"(--role legal) must be ones the policy gives that address under roles:; an approval carries a role\n" +
			"only when both do.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(approversAddCommand(e), approversListCommand(e), approversRemoveCommand(e))
	return cmd
}

func approversAddCommand(e *env) *cobra.Command {
	var c common
	var f reviewFlags
	var roles []string
	cmd := &cobra.Command{
		Use:   "add EMAIL [--role ROLE]…",
		Short: "enrol an approver (or let one register another passkey): prints a one-time link",
		Args:  exactArgs("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(e, c, openOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			if err := checkRoles(a, args[0], roles); err != nil {
				return err
			}
			token, expires, needsConfirmation, err := approvers.New(a.st, nil).Invite(cmd.Context(), args[0], roles, osUser(e.getenv))
			if err != nil {
				return usagef("%v", err)
			}
			rs, err := reviewApp(a, f.originFor(f.addr))
			if err != nil {
				return err
			}
			a.sb.Record(cmd.Context(), reviewAudit(osUser(e.getenv), "approver_invited", strings.ToLower(args[0]), map[string]any{"roles": roles, "expires_at": expires}))
			if needsConfirmation {
				fmt.Fprintf(e.stdout, "Send this link to %s:\n\n  %s\n\n", termsafe.Text(args[0], nameMax), rs.EnrolURL(token))
				fmt.Fprintf(e.stdout, "It works once an enrolled approver confirms the invitation with their passkey on the review\n"+
					"page (%s, \"Invitations waiting\"), before %s; then once, for %d minutes. No one can\n"+
					"make themselves an approver by running this command.\n", rs.Origin(), expires.Format("2006-01-02 15:04 MST"), int(approvers.EnrolmentTTL/time.Minute))
				return nil
			}
			fmt.Fprintf(e.stdout, "Send this link to %s; it works once, until %s:\n\n  %s\n\n", termsafe.Text(args[0], nameMax), expires.Format("15:04 MST"), rs.EnrolURL(token))
			fmt.Fprintf(e.stdout, "They open it while lastmile review (or serve --review) runs, and register a passkey. As the first\n"+
				"approver they need nobody's confirmation; every later invitation needs an enrolled approver's.\n")
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringArrayVar(&roles, "role", nil, "a policy `ROLE` the approver holds (repeat for several)")
	cmd.Flags().StringVar(&f.addr, "addr", review.DefaultAddr, "the review page's `ADDR`, for the link")
	cmd.Flags().StringVar(&f.origin, "origin", "", "the review page's public `URL`, for the link")
	return cmd
}

// checkRoles refuses a role the policy does not give the address: the
// policy, which is reviewed like code, stays where roles come from.
func checkRoles(a *app, email string, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	pol, err := a.sb.Policy()
	if err != nil {
		return err
	}
	for _, r := range roles {
		if !slices.Contains(pol.Roles(), r) {
			return usagef("the policy defines no role %q (it defines: %s)", r, strings.Join(pol.Roles(), ", "))
		}
		if !slices.ContainsFunc(pol.RoleMembers(r), func(m string) bool { return strings.EqualFold(m, email) }) {
			return usagef("the policy's roles.%s does not list %s: add the address there first", r, email)
		}
	}
	return nil
}

func approversListCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list approvers, their roles and passkeys",
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
			store := approvers.New(a.st, nil)
			list, err := store.List(cmd.Context())
			if err != nil {
				return err
			}
			invites, err := store.Invitations(cmd.Context())
			if err != nil {
				return err
			}
			for _, inv := range invites {
				state := "the link works until " + inv.ExpiresAt.Format("2006-01-02 15:04 MST")
				if inv.Waiting {
					state = "waiting for an enrolled approver to confirm it on the review page"
				}
				fmt.Fprintf(e.stdout, "%s  invited by %s, not enrolled yet; %s\n", termsafe.Text(inv.Email, nameMax), termsafe.Text(inv.InvitedBy, nameMax), state)
			}
			if len(list) == 0 && len(invites) == 0 {
				fmt.Fprintln(e.stdout, "No approvers. Enrol one with: lastmile approvers add EMAIL")
				return nil
			}
			for _, ap := range list {
				state := "no passkey yet (the enrolment link was not used)"
				if ap.Enrolled() {
					state = fmt.Sprintf("%d passkey(s)", len(ap.Credentials))
				}
				roles := "no roles"
				if len(ap.Roles) > 0 {
					roles = "roles " + strings.Join(ap.Roles, ", ")
				}
				fmt.Fprintf(e.stdout, "%s  %s; %s; added %s by %s\n", termsafe.Text(ap.Email, nameMax), roles, state, ap.AddedAt.Format("2006-01-02"), termsafe.Text(ap.AddedBy, nameMax))
			}
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}

func approversRemoveCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "remove EMAIL",
		Short: "remove an approver and their passkeys (approvals they gave stay recorded)",
		Args:  exactArgs("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, dir, ok, err := openExisting(e, c)
			if err != nil {
				return err
			}
			if !ok {
				return errNoDataDir(e, c, dir)
			}
			defer a.Close()
			if err := approvers.New(a.st, nil).Remove(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, approvers.ErrUnknown) {
					return usagef("%s is not an approver (lastmile approvers list)", args[0])
				}
				return err
			}
			a.sb.Record(cmd.Context(), reviewAudit(osUser(e.getenv), "approver_removed", strings.ToLower(args[0]), nil))
			fmt.Fprintf(e.stdout, "Removed %s: their passkeys and links no longer sign in, enrol or approve.\n", termsafe.Text(args[0], nameMax))
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}
