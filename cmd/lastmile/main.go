// Command lastmile is the MCP server that lets AI agents stage marketing
// campaigns, and the CLI through which humans approve what goes live.
//
//	lastmile serve            MCP over stdio (what Claude and other clients run)
//	lastmile demo             the whole loop on a throwaway data directory
//	lastmile init             write a config, sample contacts and a sample policy
//	lastmile status           the data directory, policy, targets and pending plans
//	lastmile plans            list plans; lastmile approve PLAN / reject PLAN
//	lastmile audit            print the audit log
//	lastmile check FILE.html  brand and compliance checks for your own pipelines
//	lastmile connect PLATFORM connect HubSpot, Mailchimp or WordPress
//	lastmile version
//	lastmile completion SHELL
//
// Exit status: 0 ok, 1 refused or findings, 2 usage or runtime error.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func versionString() string { return resolveVersion(version) }

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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		tty: isTerminal(os.Stdin), ttyOut: isTerminal(os.Stdout)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
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
