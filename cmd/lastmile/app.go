package main

import (
	"context"
	"errors"
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

// resolveDataDir applies the precedence --data-dir, $LASTMILE_HOME, the XDG
// data directory.
func resolveDataDir(flagValue string, getenv func(string) string) (string, error) {
	switch {
	case flagValue != "":
		return filepath.Abs(flagValue)
	case getenv("LASTMILE_HOME") != "":
		return filepath.Abs(getenv("LASTMILE_HOME"))
	}
	return defaultDataDir(getenv)
}

// defaultDataDir is the data directory without --data-dir or
// $LASTMILE_HOME: what a person's terminal finds with neither.
func defaultDataDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "lastmile"), nil
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

// dataDirOrigin says where the data directory came from, for messages
// that name it.
func dataDirOrigin(flagValue string, getenv func(string) string) string {
	switch {
	case flagValue != "":
		return "from --data-dir"
	case getenv("LASTMILE_HOME") != "":
		return "from $LASTMILE_HOME"
	}
	return "the default"
}

// chooseDir is how to look elsewhere, for messages that found nothing.
const chooseDir = "choose another with --data-dir DIR or LASTMILE_HOME=DIR"

// hasData reports whether dir holds a lastmile database, or a config.yaml
// that names a PostgreSQL store (whose data is in the database). Read-only
// commands check it first, so they never create one.
func hasData(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "lastmile.db")); err == nil {
		return true
	}
	if _, err := os.Stat(filepath.Join(dir, sandbox.ConfigFile)); err != nil {
		return false
	}
	cfg, err := sandbox.LoadConfig(dir)
	return err == nil && cfg.PostgresStore()
}

// openStore opens the store config.yaml chooses: the bbolt file in the
// data directory, or a PostgreSQL database.
func openStore(dir string, cfg sandbox.Config) (store.Store, error) {
	if cfg.PostgresStore() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return store.OpenPostgres(ctx, cfg.Store)
	}
	return store.OpenBolt(dir)
}

// noData names a data directory that holds no lastmile data, where it
// came from, and how to choose another or make this one.
func noData(e *env, c common, dir string) string {
	what := "it does not exist"
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		what = "it holds no lastmile data yet"
	}
	return fmt.Sprintf("%s: %s (%s); %s. lastmile init, or the first lastmile serve, makes one", dir, what, dataDirOrigin(c.dataDir, e.getenv), chooseDir)
}

// errNoDataDir is noData as an error.
func errNoDataDir(e *env, c common, dir string) error {
	return errors.New("no data directory at " + noData(e, c, dir))
}

// openExisting opens the data directory for a command that only reads
// it, or acts on what is already there: it creates nothing. ok is false
// when there is no data: the directory is returned to name it.
func openExisting(e *env, c common) (a *app, dir string, ok bool, err error) {
	dir, err = resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return nil, "", false, err
	}
	if !hasData(dir) {
		return nil, dir, false, nil
	}
	a, err = openApp(e, c, openOptions{})
	return a, dir, err == nil, err
}

// app is an opened data directory.
type app struct {
	dir     string
	cfg     sandbox.Config
	st      store.Store
	sb      *sandbox.Sandbox
	log     *slog.Logger
	targets map[string]sandbox.Target
}

type openOptions struct {
	// hook is passed to the sandbox and the local target (crash tests).
	hook func(string)
	now  func() time.Time
	// approveArgs follow "lastmile approve PLAN" wherever the sandbox tells
	// an agent what the human runs.
	approveArgs []string
	// reviewURL is where the review page serves a plan, for what the
	// agent is told.
	reviewURL func(planID string) string
	// siteURL is where lastmile site serves the local target's site.
	siteURL string
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
	st, err := openStore(dir, cfg)
	if err != nil {
		return nil, err
	}
	targets, unavailable := buildTargets(dir, cfg, log, o)
	var pol sandbox.PolicySource = sandbox.StaticPolicy{}
	if cfg.Policy != "" {
		p := cfg.Policy
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pol = &policyFile{path: p}
	}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: targets, Policy: pol, Logger: log, Hook: o.hook, Now: o.now, DataDir: dir, ApproveArgs: o.approveArgs, ReviewURL: o.reviewURL, Unavailable: unavailable})
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
