package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
)

// samplePolicy is testdata/policy/acme.yaml (a test keeps the two equal).
//
//go:embed assets/policy.yaml
var samplePolicy []byte

func initCommand(e *env) *cobra.Command {
	var c common
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "write config.yaml, contacts.csv and policy.yaml into the data directory",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := resolveDataDir(c.dataDir, e.getenv)
			if err != nil {
				return err
			}
			policy := samplePolicy
			// ── onboarding goes here ──────────────────────────────────────
			// The brand questionnaire (cmd/lastmile/onboard.go) replaces the
			// sample policy with one built from the answers:
			//   answers, err := onboard(e.stdin, e.stdout, onboardOptions{…})
			//   policy, err = governance.BaselinePolicy(answers)
			// asked only when stdin and stdout are terminals and no flag
			// turns it off, so scripted inits keep writing the sample.
			// ──────────────────────────────────────────────────────────────
			return initDataDir(dir, force, policy, e.stdout)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}

// initDataDir writes the starter files, keeping any that exist unless force.
func initDataDir(dir string, force bool, policy []byte, w io.Writer) error {
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
		case err == nil && !force:
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
	return initDataDir(dir, false, samplePolicy, e.stderr)
}
