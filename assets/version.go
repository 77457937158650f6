package assets

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
)

// buildDate is set by the Makefile's builds (-ldflags -X) to when the
// binary was built, in RFC 3339. A plain `go build` leaves it empty and
// Version then reports the commit's time instead.
var buildDate string

// VersionInfo identifies the running binary, for Help > About, `parley
// --version` and bug reports.
type VersionInfo struct {
	// Version is FyneApp.toml's, e.g. "0.1.0".
	Version string
	// Commit is the git revision the binary was built from (shortened),
	// with Modified set when the work tree had uncommitted changes; empty
	// when Go recorded none (e.g. built outside a checkout).
	Commit   string
	Modified bool
	// Built is when the binary was built, or when Commit was made if the
	// build did not record it; BuiltIsCommit says which.
	Built         time.Time
	BuiltIsCommit bool
	// Go is the Go release that compiled it; Platform its OS/architecture.
	Go, Platform string
}

// Version reads what the Go toolchain and the build recorded about this
// binary. Go stamps the commit into every binary built from a git checkout,
// so no build script is needed for it.
func Version(version string) VersionInfo {
	v := VersionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v.Version == "" {
		v.Version = "development build"
	}
	var vcsTime time.Time
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value[:min(12, len(s.Value))]
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "vcs.time":
				vcsTime, _ = time.Parse(time.RFC3339, s.Value)
			}
		}
	}
	if t, err := time.Parse(time.RFC3339, buildDate); err == nil {
		v.Built = t
	} else if !vcsTime.IsZero() {
		v.Built, v.BuiltIsCommit = vcsTime, true
	}
	return v
}

// String is the one line `parley --version` prints, e.g.
// "Parley 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01 16:40 UTC, go1.26.0 linux/amd64)".
func (v VersionInfo) String() string {
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown commit"
	case v.Modified:
		commit = "commit " + commit + " with local changes"
	default:
		commit = "commit " + commit
	}
	built := "build date unknown"
	if !v.Built.IsZero() {
		label := "built"
		if v.BuiltIsCommit {
			label = "committed"
		}
		built = label + " " + v.Built.UTC().Format("2006-01-02 15:04 UTC")
	}
	return fmt.Sprintf("Parley %s (%s, %s, %s %s)", v.Version, commit, built, v.Go, v.Platform)
}
