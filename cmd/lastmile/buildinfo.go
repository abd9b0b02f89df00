package main

import "runtime/debug"

// resolveVersion is the version lastmile reports. Release builds set it
// with -ldflags "-X main.version=$(git describe --tags --always --dirty)"
// (make build, make release); `go install` sets no ldflags, so it falls
// back to what the go command recorded in the binary: the module version
// (a tag such as v1.4.0, or since Go 1.24 a pseudo-version for a checkout),
// else the VCS revision, marked -dirty like git describe's when the
// checkout had uncommitted changes, else "dev".
//
// (Called resolveVersion, not buildVersion, because main.go on this
// branch still declares a buildVersion() of its own.)
func resolveVersion(ldflagsVersion string) string {
	bi, _ := debug.ReadBuildInfo() // nil when the binary carries none
	return versionOf(ldflagsVersion, bi)
}

// versionOf is resolveVersion over given build information (nil: none).
func versionOf(ldflagsVersion string, bi *debug.BuildInfo) string {
	if ldflagsVersion != "" {
		return ldflagsVersion
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
