package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/osfile"
)

// backuper is a store that can copy itself while in use (bbolt).
type backuper interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// notCopied are the data directory's files a backup leaves out: the
// database (written from a snapshot instead) and its lock files.
var notCopied = map[string]bool{"lastmile.db": true, "lastmile.lock": true, "lastmile.wait": true}

func backupCommand(e *env) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "backup DIR",
		Short: "copy the data directory to DIR while lastmile runs (the database from a consistent snapshot)",
		Long: "Copy the data directory into DIR, a new or empty directory: the database from one consistent\n" +
			"snapshot, taken while servers go on running, then every other file (config.yaml, the policy,\n" +
			"promotion journals, the local target's outbox and site). Journals are copied after the\n" +
			"snapshot, so a promotion under way resumes from the copy as it would have. To restore, stop\n" +
			"every lastmile process and use DIR as the data directory (or copy it back).\n\n" +
			"With store: postgres://… the database is PostgreSQL's to back up (pg_dump); this command\n" +
			"refuses rather than copy half.",
		Args: exactArgs("DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, dir, ok, err := openExisting(e, c)
			if err != nil {
				return err
			}
			if !ok {
				return errNoDataDir(e, c, dir)
			}
			defer a.Close()
			b, ok := any(a.st).(backuper)
			if !ok {
				return fmt.Errorf("the store is PostgreSQL: back it up with pg_dump (docs/deployment.md, Backups), and copy %s's config.yaml and policy beside it", dir)
			}
			to, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if rel, err := filepath.Rel(dir, to); err == nil && filepath.IsLocal(rel) {
				return usagef("%s is inside the data directory %s: back up somewhere else", to, dir)
			}
			if err := emptyDir(to); err != nil {
				return err
			}
			n, err := writeSnapshot(cmd.Context(), b, filepath.Join(to, "lastmile.db"))
			if err != nil {
				return err
			}
			files, size, err := copyTree(dir, to)
			if err != nil {
				return err
			}
			if err := osfile.SyncDir(to); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Backed up %s to %s: the database (%d bytes, one snapshot) and %d other files (%d bytes).\n", dir, to, n, files, size)
			return nil
		},
	}
	c.register(cmd, dataDirHelp)
	return cmd
}

// emptyDir makes dir, or accepts it when it exists and is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) > 0:
		return usagef("%s is not empty: back up into a new or empty directory", dir)
	}
	return nil
}

func writeSnapshot(ctx context.Context, b backuper, path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := b.Backup(ctx, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("backup of the database: %w", err)
	}
	return n, nil
}

// copyTree copies every regular file under from but the database and its
// locks into to, keeping modes, and says how many files and bytes.
func copyTree(from, to string) (files int, size int64, err error) {
	err = filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil || rel == "." {
			return err
		}
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, info.Mode().Perm()|0o700)
		case !d.Type().IsRegular() || notCopied[rel]:
			return nil
		}
		n, err := copyFile(path, dst, info.Mode().Perm())
		files, size = files+1, size+n
		return err
	})
	return files, size, err
}

func copyFile(from, to string, mode fs.FileMode) (int64, error) {
	src, err := os.Open(from)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return n, err
}
