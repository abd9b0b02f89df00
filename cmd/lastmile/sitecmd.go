package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/internal/memlimit"
)

// defaultSiteAddr is where lastmile site listens unless told otherwise.
const defaultSiteAddr = "localhost:8767"

func siteCommand(e *env) *cobra.Command {
	var c common
	var addr string
	var cf clockFlags
	cmd := &cobra.Command{
		Use:   "site [--addr ADDR]",
		Short: "serve the local target's site: published pages, their forms, and one-click unsubscribe",
		Long: "Serve what the local target published, on loopback (default " + defaultSiteAddr + "): each page at\n" +
			"/SLUG/, its form posting to /forms/PAGE (a submission adds or updates the contact in\n" +
			"contact-updates.csv, with the consent it gave, and enrols it in form_submission workflows), and the\n" +
			"one-click unsubscribe links (RFC 8058) in messages sent while the site is served. It runs the clock\n" +
			"too, so workflows a submission starts take their steps.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			memlimit.Keep(cmd.Context(), e.getenv, 10*time.Second)
			now, err := cf.now()
			if err != nil {
				return err
			}
			a, err := openApp(e, c, openOptions{now: now, siteURL: siteOrigin(addr)})
			if err != nil {
				return err
			}
			defer a.Close()
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go runClock(ctx, e, a, now, cf)
			return serveSite(ctx, e, a, addr)
		},
	}
	c.register(cmd, dataDirHelp)
	cf.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", defaultSiteAddr, "listen on `ADDR`")
	return cmd
}

func siteOrigin(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return "http://localhost:" + port
	}
	return "http://" + addr
}

// serveSite serves the local target's site until ctx ends.
func serveSite(ctx context.Context, e *env, a *app, addr string) error {
	lt, ok := a.targets["local"].(*local.Target)
	if !ok {
		return fmt.Errorf("no local target is configured: only local has a site lastmile serves")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("the site cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: lt.SiteHandler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
	fmt.Fprintf(e.stderr, "lastmile: site %s\n", siteOrigin(addr))
	return serveUntil(ctx, a.log, srv, ln, 5*time.Second)
}
