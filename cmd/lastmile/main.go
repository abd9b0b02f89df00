// Command lastmile is the MCP server that lets AI agents stage marketing
// campaigns, and the CLI through which humans approve what goes live.
//
//	lastmile serve            MCP over stdio (what Claude and other clients run)
//	lastmile demo             the whole loop on a throwaway data directory
//	lastmile init             write a config, sample contacts and a sample policy
//	lastmile plans            list plans; lastmile approve PLAN / reject PLAN
//	lastmile audit            print the audit log
//	lastmile check FILE.html  brand and compliance checks for your own pipelines
//	lastmile connect PLATFORM connect HubSpot, Mailchimp or WordPress
//	lastmile version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/lastmile/lastmile/internal/termsafe"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env is what a command reads and writes besides its arguments, so tests
// can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// tty and ttyOut report whether stdin and stdout are terminals: a
	// person who reads the plan and types at the keyboard needs both.
	tty, ttyOut bool
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the MCP server over stdio", cmdServe},
		{"demo", "stage, plan, approve and promote a sample campaign on a throwaway data directory", cmdDemo},
		{"init", "write config.yaml, contacts.csv and policy.yaml into the data directory", cmdInit},
		{"plans", "list plans and their status", cmdPlans},
		{"approve", "approve a plan after reviewing its summary", cmdApprove},
		{"reject", "reject a plan", cmdReject},
		{"audit", "print the audit log", cmdAudit},
		{"check", "check an HTML file against the brand and compliance policy", cmdCheck},
		{"connect", "connect a platform (hubspot, mailchimp, wordpress)", cmdConnect},
		{"version", "print the version", func(_ context.Context, e *env, _ []string) error {
			fmt.Fprintln(e.stdout, "lastmile", buildVersion())
			return nil
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "lastmile %s: let AI agents execute marketing campaigns, with a human approving what goes live.\n\nUsage: lastmile COMMAND [flags]\n\nCommands:\n", buildVersion())
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEvery command takes --data-dir DIR (else $LASTMILE_HOME, else $XDG_DATA_HOME/lastmile).\nRun lastmile COMMAND -h for its flags.\n")
}

// exitError carries a process exit code (lastmile check exits 1 on errors).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ce := e
		if c.name != "serve" {
			// A safety net under every human-facing command: whatever agent
			// text a command forgot to escape reaches the terminal inert.
			// serve's stdout is the protocol and is left alone.
			out, errw := termsafe.NewWriter(e.stdout), termsafe.NewWriter(e.stderr)
			defer out.Flush()
			defer errw.Flush()
			cp := *e
			cp.stdout, cp.stderr = out, errw
			ce = &cp
		}
		err := c.run(ctx, ce, args[1:])
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		// Errors can quote agent text (a rejection reason, a name).
		fmt.Fprintf(ce.stderr, "lastmile %s: %s\n", c.name, termsafe.Text(err.Error(), 2000))
		return 1
	}
	fmt.Fprintf(e.stderr, "lastmile: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		tty: isTerminal(os.Stdin), ttyOut: isTerminal(os.Stdout)}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// newLogger logs to stderr: in serve mode stdout carries only the protocol.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
