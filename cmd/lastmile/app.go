package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// common holds the flags every command shares.
type common struct {
	dataDir  string
	logLevel string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (default $LASTMILE_HOME, else $XDG_DATA_HOME/lastmile)")
	fs.StringVar(&c.logLevel, "log-level", "", "debug, info, warn or error (default $LASTMILE_LOG, else info)")
}

// resolveDataDir applies the precedence --data-dir, $LASTMILE_HOME, the XDG
// data directory.
func resolveDataDir(flagValue string, getenv func(string) string) (string, error) {
	switch {
	case flagValue != "":
		return filepath.Abs(flagValue)
	case getenv("LASTMILE_HOME") != "":
		return filepath.Abs(getenv("LASTMILE_HOME"))
	case getenv("XDG_DATA_HOME") != "":
		return filepath.Join(getenv("XDG_DATA_HOME"), "lastmile"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no data directory: pass --data-dir or set LASTMILE_HOME")
		}
		home = h
	}
	return filepath.Join(home, ".local", "share", "lastmile"), nil
}

func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("lastmile "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: lastmile %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// app is an opened data directory.
type app struct {
	dir     string
	cfg     sandbox.Config
	st      *store.Bolt
	sb      *sandbox.Sandbox
	log     *slog.Logger
	targets map[string]sandbox.Target
}

type openOptions struct {
	// hook is passed to the sandbox and the local target (crash tests).
	hook func(string)
	now  func() time.Time
}

func openApp(e *env, c common, o openOptions) (*app, error) {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return nil, err
	}
	level := c.logLevel
	if level == "" {
		level = e.getenv("LASTMILE_LOG")
	}
	log := newLogger(e.stderr, level)
	cfg, err := sandbox.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenBolt(dir)
	if err != nil {
		return nil, err
	}
	targets, err := buildTargets(dir, cfg, log, o)
	if err != nil {
		st.Close()
		return nil, err
	}
	var pol sandbox.PolicySource = sandbox.StaticPolicy{}
	if cfg.Policy != "" {
		p := cfg.Policy
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pol = &policyFile{path: p}
	}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: targets, Policy: pol, Logger: log, Hook: o.hook, Now: o.now, DataDir: dir})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &app{dir: dir, cfg: cfg, st: st, sb: sb, log: log, targets: targets}, nil
}

func (a *app) Close() error { return a.st.Close() }

// policyFile reloads the policy when the file changes, so marketing-ops can
// edit rules without restarting agents' servers. A broken file is reported
// (with file:line:col) and blocks planning until fixed.
type policyFile struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	p       *governance.Policy
	err     error
}

func (f *policyFile) Policy() (*governance.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("policy file %s does not exist: restore it, run lastmile init, or remove the policy line from config.yaml", f.path)
	}
	if err != nil {
		return nil, err
	}
	if (f.p != nil || f.err != nil) && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return f.p, f.err
	}
	f.p, f.err = governance.Load(f.path)
	f.modTime, f.size = st.ModTime(), st.Size()
	return f.p, f.err
}
