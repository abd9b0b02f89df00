package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
)

// baselinePolicy is the unbranded legal and deliverability baseline,
// governance.BaselinePolicy of no answers (a test keeps the two equal): what
// a data directory gets until a human sets the brand with lastmile init.
//
//go:embed assets/policy.yaml
var baselinePolicy []byte

func initCommand(e *env) *cobra.Command {
	var c common
	var force, noInput bool
	var o onboardOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "set up the data directory and your brand: config.yaml, contacts.csv and policy.yaml",
		Long: `init writes config.yaml, sample contacts and a policy.yaml with a legal and deliverability
baseline and your brand. At a terminal it asks for the brand (company, postal address, website,
sending domains, default sender, markets, industry, and optionally colours, fonts and logo), showing
any flag given as the default; with --no-input, or without a terminal, it takes the flags or --from
FILE (a YAML file of the same answers in snake_case). Without any brand answers the policy names no
company, and the agent is told which values a human must set by running lastmile init again.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := resolveDataDir(c.dataDir, e.getenv)
			if err != nil {
				return err
			}
			brandGiven := o.FromFile != ""
			cmd.Flags().Visit(func(f *pflag.Flag) {
				switch f.Name {
				case "force", "no-input", "data-dir", "log-level":
				default:
					brandGiven = true
				}
			})
			o.Interactive = e.tty && e.ttyOut && !noInput
			policy := baselinePolicy
			if o.Interactive || brandGiven {
				// The unbranded baseline is replaced freely; a policy someone
				// wrote or edited only with --force, and kept as a backup.
				existing := filepath.Join(dir, "policy.yaml")
				if cur, err := os.ReadFile(existing); err == nil && !force && !bytes.Equal(cur, baselinePolicy) {
					return usagef("%s exists and is not the unbranded baseline: pass --force to replace it with the policy built from your answers (the old one is kept as policy.yaml.bak)", existing)
				}
				if policy, _, err = onboardPolicy(e.stdin, e.stdout, o); err != nil {
					return err
				}
				if err := backup(existing); err != nil {
					return err
				}
				// Only the policy: the brand is no reason to reset the config
				// or the contacts.
				return initDataDir(dir, false, policy, e.stdout, "policy.yaml")
			}
			return initDataDir(dir, force, policy, e.stdout)
		},
	}
	c.register(cmd, dataDirHelp)
	f := cmd.Flags()
	f.BoolVar(&force, "force", false, "overwrite existing files")
	f.BoolVar(&noInput, "no-input", false, "ask nothing: take the brand from the flags or --from")
	f.StringVar(&o.FromFile, "from", "", "a YAML file of brand answers (company, postal_address, website, …)")
	f.StringVar(&o.Company, "company", "", "company name, as the footer and CASL identity show it")
	f.StringVar(&o.PostalAddress, "address", "", "postal address for the footer (CAN-SPAM)")
	f.StringVar(&o.Website, "website", "", "website, e.g. https://northwind.coffee")
	f.StringSliceVar(&o.SendingDomains, "sending-domain", nil, "domains you send from and host images and links on (repeatable)")
	f.StringVar(&o.FromName, "from-name", "", "default sender name")
	f.StringVar(&o.FromEmail, "from-email", "", "default sender address")
	f.StringSliceVar(&o.Markets, "market", nil, "markets you send to, ISO country codes (repeatable: --market US --market CA)")
	f.StringVar(&o.Industry, "industry", "", "your industry, e.g. food, finserv, health, software")
	f.StringToStringVar(&o.Colors, "color", nil, "brand colours, e.g. --color primary=#6b3e26 (primary, text, background, link, button)")
	f.StringVar(&o.BodyFont, "body-font", "", "CSS font stack for body text")
	f.StringVar(&o.HeadingFont, "heading-font", "", "CSS font stack for headings")
	f.StringVar(&o.LogoURL, "logo-url", "", "https URL of your logo")
	return cmd
}

// backup keeps a copy of a policy about to be replaced.
func backup(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path+".bak", data, 0o600)
}

// initDataDir writes the starter files, keeping any that exist unless force
// or named in replace.
func initDataDir(dir string, force bool, policy []byte, w io.Writer, replace ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := []struct {
		name, what string
		data       []byte
	}{
		{sandbox.ConfigFile, "configuration (targets, plan expiry, approval channels)", []byte(sandbox.DefaultConfigText)},
		{"contacts.csv", "sample contacts for the local target", []byte(local.SampleContacts)},
		{"policy.yaml", "brand and compliance policy (edit it: docs/policy.md)", policy},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		_, err := os.Stat(p)
		switch {
		case err == nil && !force && !slices.Contains(replace, f.name):
			fmt.Fprintf(w, "kept    %s (exists; --force overwrites)\n", p)
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if err := os.WriteFile(p, f.data, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote   %s — %s\n", p, f.what)
	}
	fmt.Fprintf(w, "\nData directory ready: %s\nNext: add lastmile serve to your MCP client (see README), or run lastmile demo.\n", dir)
	return nil
}

// ensureInitialized makes a first `lastmile serve` work on a fresh machine:
// a data directory without a config gets the starter files. It reports on
// stderr, never stdout (the protocol).
func ensureInitialized(e *env, c common) error {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, sandbox.ConfigFile)); err == nil {
		return nil
	}
	fmt.Fprintf(e.stderr, "lastmile: initializing %s\n", dir)
	return initDataDir(dir, false, baselinePolicy, e.stderr)
}
