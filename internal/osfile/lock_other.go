//go:build !unix && !windows

package osfile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// No file locks here (plan9, js, wasip1): refuse rather than let several
// processes write one store unexcluded.
var errNoLocks = fmt.Errorf("file locks on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func Lock(*os.File, LockMode) error    { return errNoLocks }
func TryLock(*os.File, LockMode) error { return errNoLocks }
func Unlock(*os.File) error            { return errNoLocks }
