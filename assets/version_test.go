package assets

import (
	"strings"
	"testing"
	"time"
)

func TestVersionString(t *testing.T) {
	v := VersionInfo{Version: "0.1.0", Commit: "1a2b3c4d5e6f", Built: time.Date(2026, 12, 1, 16, 40, 0, 0, time.UTC), Go: "go1.26.0", Platform: "linux/amd64"}
	if got, want := v.String(), "Parley 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01 16:40 UTC, go1.26.0 linux/amd64)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	v.Modified, v.BuiltIsCommit = true, true
	if got := v.String(); !strings.Contains(got, "with local changes") || !strings.Contains(got, "committed 2026-12-01") {
		t.Errorf("String() = %q, want the local changes and the commit time said", got)
	}
	if got := (VersionInfo{}).String(); !strings.Contains(got, "unknown commit") || !strings.Contains(got, "build date unknown") {
		t.Errorf("String() of nothing known = %q", got)
	}
}

func TestVersionReadsTheBuildDate(t *testing.T) {
	old := buildDate
	t.Cleanup(func() { buildDate = old })
	buildDate = "2026-12-01T16:40:00Z"
	if v := Version("0.1.0"); v.BuiltIsCommit || !v.Built.Equal(time.Date(2026, 12, 1, 16, 40, 0, 0, time.UTC)) {
		t.Errorf("Version().Built = %v (commit time: %v), want the stamped build date", v.Built, v.BuiltIsCommit)
	}
	buildDate = ""
	if v := Version(""); v.Version != "development build" {
		t.Errorf("Version(\"\").Version = %q", v.Version)
	}
}
