//go:build unix

package governance_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time. Benchmarks report it next
// to wall time because the shared machine's load inflates wall time, while
// CPU time is what the work costs one core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
