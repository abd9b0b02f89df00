package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// Exit statuses, as every command's help states them.
const (
	exitOK      = 0
	exitRefused = 1 // refused (a plan not approved, a cancelled prompt) or findings (check)
	exitError   = 2 // bad usage, or an error running the command
)

const exitHelp = "Exit status: 0 ok, 1 refused or findings, 2 usage or runtime error."

// exitCode ends a command with a status and no further message: what it
// had to say is already written.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// usageError is a mistake in the command line: exit 2, with a pointer to
// the command's help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// refusal is a command that did what it should by refusing: exit 1.
type refusal struct{ error }

func (r refusal) Unwrap() error { return r.error }

func run(ctx context.Context, e *env, args []string) int {
	ce := *e
	root := newRoot(&ce)
	root.SetArgs(args)
	// A safety net under every human-facing command: whatever agent text a
	// command forgot to escape reaches the terminal inert. serve's stdout
	// is the protocol and is left alone.
	if c, _, err := root.Find(args); err != nil || c.Name() != "serve" || c.Parent() != root {
		out, errw := termsafe.NewWriter(e.stdout), termsafe.NewWriter(e.stderr)
		defer out.Flush()
		defer errw.Flush()
		ce.stdout, ce.stderr = out, errw
	}
	root.SetIn(ce.stdin)
	root.SetOut(ce.stdout)
	root.SetErr(ce.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	name := "lastmile"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	// Errors can quote agent text (a rejection reason, a name).
	fmt.Fprintf(ce.stderr, "%s: %s\n", name, termsafe.Text(err.Error(), 2000))
	var ue usageError
	var re *sandbox.RefusedError
	var rf refusal
	switch {
	case errors.As(err, &ue):
		if cmd != nil && cmd.Name() == "help" {
			name = "lastmile"
		}
		fmt.Fprintf(ce.stderr, "Run '%s --help' for usage.\n", name)
		return exitError
	case errors.As(err, &re), errors.As(err, &rf):
		return exitRefused
	}
	return exitError
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "lastmile",
		Short: "let AI agents execute marketing campaigns, with a human approving what goes live",
		Long: "lastmile is an MCP server: an agent stages campaigns in a sandbox, and nothing goes live until a\n" +
			"person approves the exact plan (lastmile approve PLAN at a terminal).\n\n" +
			"Every command that uses a data directory takes --data-dir DIR; else $LASTMILE_HOME; else\n" +
			"$XDG_DATA_HOME/lastmile (~/.local/share/lastmile). lastmile status shows which one is in use.\n\n" +
			exitHelp,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          rootArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// No persistent pre-run: each command opens what it needs.
	}
	root.SetVersionTemplate("lastmile {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitHelp + "\n")
	root.SetHelpCommand(helpCommand())
	root.AddCommand(
		serveCommand(e),
		demoCommand(e),
		initCommand(e),
		statusCommand(e),
		plansCommand(e),
		approveCommand(e),
		rejectCommand(e),
		reviewCommand(e),
		approversCommand(e),
		runCommand(e),
		enrolCommand(e),
		costCommand(e),
		reportCommand(e),
		siteCommand(e),
		auditCommand(e),
		checkCommand(e),
		connectCommand(e),
		tokensCommand(e),
		backupCommand(e),
		&cobra.Command{
			Use: "version", Short: "print the version", Args: noArgs,
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintln(e.stdout, "lastmile", versionString())
				return nil
			},
		},
	)
	return root
}

// rootArgs turns a word that names no command into a usage error with
// suggestions.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommand(cmd, args[0])
}

func unknownCommand(cmd *cobra.Command, name string) error {
	return usageError{fmt.Sprintf("unknown command %q", name) + suggest(cmd, name)}
}

// suggest is "; did you mean X?" for the subcommands of cmd near name.
func suggest(cmd *cobra.Command, name string) string {
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		return "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return ""
}

// helpCommand is `lastmile help [COMMAND…]`: the command's help on stdout,
// or a usage error for a command that does not exist.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := c.Root()
			for _, a := range args {
				next, _, err := cmd.Find([]string{a})
				if err != nil || next == cmd {
					return unknownCommand(cmd, a)
				}
				cmd = next
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// flagError is every flag mistake: an unknown flag (with the nearest real
// one), a missing or invalid value. Reported once, exit 2.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := nearestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
	}
	return usageError{msg}
}

func nearestFlag(cmd *cobra.Command, name string) string {
	best, bestD := "", 3
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein(name, f.Name)
		if strings.HasPrefix(f.Name, name) {
			d = 1
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// noArgs refuses any positional argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q (%s takes none)", strings.Join(args, " "), cmd.Name())
	}
	return nil
}

// exactArgs wants exactly the named arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usagef("missing %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usagef("unexpected argument %q (%s takes %s)", strings.Join(args[len(names):], " "), cmd.Name(), strings.Join(names, " "))
		}
		return nil
	}
}

// enum is a string flag that takes one of a fixed set of values; "" is
// allowed when the flag's default is "".
type enum struct {
	v       *string
	allowed []string
}

func (e *enum) String() string { return *e.v }
func (e *enum) Type() string   { return "string" }
func (e *enum) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("must be one of %s", strings.Join(e.allowed, ", "))
	}
	*e.v = s
	return nil
}

// enumFlag defines a flag with fixed values, and completes them.
func enumFlag(cmd *cobra.Command, p *string, name, value, usage string, allowed ...string) {
	*p = value
	cmd.Flags().Var(&enum{v: p, allowed: allowed}, name, usage)
	cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
}

// common holds the flags every command that uses a data directory shares.
type common struct {
	dataDir  string
	logLevel string
}

const dataDirHelp = "use the data directory `DIR` (default $LASTMILE_HOME, else $XDG_DATA_HOME/lastmile)"

func (c *common) register(cmd *cobra.Command, dirHelp string) {
	cmd.Flags().StringVar(&c.dataDir, "data-dir", "", dirHelp)
	cmd.MarkFlagDirname("data-dir")
	enumFlag(cmd, &c.logLevel, "log-level", "", "log `level` on stderr: debug, info, warn or error (default $LASTMILE_LOG, else info)", "debug", "info", "warn", "error")
}
