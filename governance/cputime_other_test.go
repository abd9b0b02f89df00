//go:build !unix

package governance_test

import "time"

func cpuTime() time.Duration { return 0 }
