//go:build !linux || lastmile_portable

package osfile

import (
	"fmt"
	"os"
)

// DataSync returns once f's data is on disk. Outside Linux that is f.Sync,
// deliberately: on macOS fsync(2) (and fdatasync) only hand the data to the
// drive, whose cache a power cut loses, and Go's f.Sync there issues
// F_FULLFSYNC, which flushes that cache (falling back to fsync where a file
// system refuses it, as SMB mounts do) — the guarantee the promotion
// journal promises. bbolt syncs through f.Sync on macOS too. On Windows it
// is FlushFileBuffers, the only choice; on other systems fsync.
func DataSync(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	return nil
}
