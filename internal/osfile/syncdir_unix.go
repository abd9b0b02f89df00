//go:build !windows

package osfile

import (
	"fmt"
	"os"
)

// SyncDir returns once the entries of directory dir (files created,
// renamed or removed in it) are on disk: a file's own sync does not make
// its name durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
