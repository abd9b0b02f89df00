package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/sandbox"
)

// cmdCheck runs the brand and compliance policy over HTML files, for
// marketing teams' own pipelines: exit 1 when any error-level finding
// exists, 0 otherwise.
func cmdCheck(_ context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "check", "check FILE.html... [--policy P] [--market US] [--industry finserv] [--channel email] [--subject S] [--json]")
	c.register(fs)
	policyPath := fs.String("policy", "", "policy file (default: the data directory's configured policy)")
	markets := fs.String("market", "", "markets the content is sent to, comma-separated ISO codes (e.g. US,CA)")
	industry := fs.String("industry", "", "industry, e.g. finserv")
	channel := fs.String("channel", "email", "email or page")
	subject := fs.String("subject", "", "the email's subject line, checked too when given")
	preview := fs.String("preview-text", "", "the email's preview text, checked too when given")
	recipients := fs.Int("recipients", -1, "audience size, for rules that depend on it (-1: unknown)")
	noUnsub := fs.Bool("no-list-unsubscribe", false, "the sending platform adds no List-Unsubscribe header (by default it is assumed to)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var files []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 {
		fs.Usage()
		return errUsage
	}
	pol, err := loadCheckPolicy(e, c, *policyPath)
	if err != nil {
		return err
	}
	var docs []governance.Document
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		d := governance.Document{ArtifactID: f, Channel: *channel, Industry: strings.ToLower(*industry), Recipients: *recipients,
			Fields: []governance.Field{{Name: "html", HTML: true, Value: string(data)}}}
		for _, m := range strings.Split(*markets, ",") {
			if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
				d.Markets = append(d.Markets, m)
			}
		}
		if *subject != "" {
			d.Fields = append(d.Fields, governance.Field{Name: "subject", Value: *subject})
		}
		if *preview != "" {
			d.Fields = append(d.Fields, governance.Field{Name: "preview_text", Value: *preview})
		}
		if *channel == "email" && !*noUnsub {
			d.Headers = map[string]string{"List-Unsubscribe": "<mailto:unsubscribe@sender.invalid>"}
		}
		docs = append(docs, d)
	}
	rep := pol.Check(docs)
	// A bare HTML file has no subject or preview text; unless they were
	// given, findings about them would only say they are missing.
	var skipped []string
	if *subject == "" {
		skipped = append(skipped, "subject")
	}
	if *preview == "" {
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
	if *asJSON {
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
		return exitError{code: 1}
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
