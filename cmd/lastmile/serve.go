package main

import (
	"context"
	"errors"
	"io"
	"log"

	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/tools"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "serve", "serve [--data-dir DIR]")
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := ensureInitialized(e, c); err != nil {
		return err
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	a.log.Info("lastmile serving MCP on stdio", "version", buildVersion(), "data_dir", a.dir, "targets", a.sb.TargetNames())
	delivery := tools.NewDelivery()
	s := tools.New(a.sb, tools.Options{Version: buildVersion(), Logger: a.log, Delivery: delivery})
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(e.stderr, "mcp: ", 0))
	err = stdio.Listen(ctx, e.stdin, delivery.Writer(e.stdout))
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
