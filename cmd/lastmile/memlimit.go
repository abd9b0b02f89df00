package main

import "runtime/debug"

// serverMemoryLimit is the soft memory limit of the long-running commands
// (serve, run, site) unless GOMEMLIMIT sets one. With a million contacts
// loaded (about 50 MB live), the runtime's default pacing lets the heap
// grow to twice that; the limit keeps the process under 100 MB for a few
// tenths more collection (docs/benchmarks.md, the local target). Below
// it, as when serving an MCP client alone, nothing changes.
const serverMemoryLimit = 80 << 20

func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serverMemoryLimit)
	}
}
