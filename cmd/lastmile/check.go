package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

type checkOptions struct {
	policy, markets, industry, channel, subject, preview string
	recipients                                           int
	noUnsub, asJSON                                      bool
}

// checkCommand runs the brand and compliance policy over HTML files, for
// marketing teams' own pipelines: exit 1 when any error-level finding
// exists, 0 otherwise, 2 when a file or the policy cannot be read.
func checkCommand(e *env) *cobra.Command {
	var c common
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check FILE.html... [--policy P] [--market US] [--industry finserv] [--subject S] [--json]",
		Short: "check HTML files against the brand and compliance policy",
		Long: "Check HTML files against the brand and compliance policy, for your own pipelines.\n" +
			"Exit status 1 when any error-level finding exists; 2 when a file or the policy cannot be read.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing FILE.html: name the files to check")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error { return runCheck(e, c, o, files) },
	}
	c.register(cmd, "take the configured policy from the data directory `DIR` when --policy is not given (default $LASTMILE_HOME, else $XDG_DATA_HOME/lastmile)")
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "", "policy `FILE` (default: the data directory's configured policy)")
	cmd.MarkFlagFilename("policy", "yaml", "yml")
	f.StringVar(&o.markets, "market", "", "`MARKETS` the content is sent to, comma-separated ISO codes (e.g. US,CA)")
	f.StringVar(&o.industry, "industry", "", "`INDUSTRY`, e.g. finserv")
	enumFlag(cmd, &o.channel, "channel", "email", "the content's `channel`: email or page", "email", "page")
	f.StringVar(&o.subject, "subject", "", "the email's `SUBJECT` line, checked too when given")
	f.StringVar(&o.preview, "preview-text", "", "the email's preview `TEXT`, checked too when given")
	f.IntVar(&o.recipients, "recipients", -1, "audience size `N`, for rules that depend on it (-1: unknown)")
	f.BoolVar(&o.noUnsub, "no-list-unsubscribe", false, "the sending platform adds no List-Unsubscribe header (by default it is assumed to)")
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return cmd
}

func runCheck(e *env, c common, o checkOptions, files []string) error {
	pol, err := loadCheckPolicy(e, c, o.policy)
	if err != nil {
		return err
	}
	var docs []governance.Document
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		d := governance.Document{ArtifactID: f, Channel: o.channel, Industry: strings.ToLower(o.industry), Recipients: o.recipients,
			Fields: []governance.Field{{Name: "html", HTML: true, Value: string(data)}}}
		for _, m := range strings.Split(o.markets, ",") {
			if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
				d.Markets = append(d.Markets, m)
			}
		}
		if o.subject != "" {
			d.Fields = append(d.Fields, governance.Field{Name: "subject", Value: o.subject})
		}
		if o.preview != "" {
			d.Fields = append(d.Fields, governance.Field{Name: "preview_text", Value: o.preview})
		}
		if o.channel == "email" && !o.noUnsub {
			d.Headers = map[string]string{"List-Unsubscribe": "<mailto:unsubscribe@sender.invalid>"}
		}
		docs = append(docs, d)
	}
	rep := pol.Check(docs)
	// A bare HTML file has no subject or preview text; unless they were
	// given, findings about them would only say they are missing.
	var skipped []string
	if o.subject == "" {
		skipped = append(skipped, "subject")
	}
	if o.preview == "" {
		skipped = append(skipped, "preview_text")
	}
	if len(skipped) > 0 {
		kept := rep.Findings[:0:0]
		for _, f := range rep.Findings {
			if !slices.Contains(skipped, f.Field) {
				kept = append(kept, f)
			}
		}
		rep = governance.Merge(governance.Report{Findings: kept})
	}
	if o.asJSON {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		// The content checked may be an agent's: its bidi and zero-width
		// characters reach the terminal as JSON escapes, not raw.
		if _, err := e.stdout.Write(append(termsafe.JSON(data), '\n')); err != nil {
			return err
		}
	} else {
		// Excerpts quote the checked content, messages and fixes may too.
		for _, f := range rep.Findings {
			fmt.Fprintf(e.stdout, "%s:%d:%d: %s [%s] %s\n", termsafe.Text(f.ArtifactID, lineMax), f.Line, f.Col, termsafe.Text(f.Level, nameMax), termsafe.Text(f.Rule, nameMax), safe(f.Message))
			if f.Excerpt != "" {
				fmt.Fprintf(e.stdout, "    %s\n", termsafe.Text(f.Excerpt, lineMax))
			}
			if f.Fix != "" {
				fmt.Fprintf(e.stdout, "    fix: %s\n", safe(f.Fix))
			}
		}
		fmt.Fprintf(e.stdout, "%d file(s): %s\n", len(files), sandbox.Summarize(&rep))
		if len(skipped) > 0 {
			fmt.Fprintf(e.stdout, "not checked: %s (pass --subject and --preview-text to check them)\n", strings.Join(skipped, ", "))
		}
	}
	if rep.Errors > 0 {
		return exitCode(exitRefused)
	}
	return nil
}

func loadCheckPolicy(e *env, c common, path string) (*governance.Policy, error) {
	if path != "" {
		return governance.Load(path)
	}
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, sandbox.ConfigFile)); err != nil {
		return nil, fmt.Errorf("no policy to check against: pass --policy FILE, or a data directory with a configured policy; looked in %s", noData(e, c, dir))
	}
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Policy == "" {
		return nil, fmt.Errorf("no policy configured in %s: pass --policy FILE", dir)
	}
	p := cfg.Policy
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return governance.Load(p)
}
