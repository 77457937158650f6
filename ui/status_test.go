package ui

import (
	"path/filepath"
	"runtime"
	"testing"
)

// TestHomeShortWritesTheHomeFolderAsATilde: the status bar's data folder
// reads ~/… inside the home folder and whole outside it, including a
// sibling whose name starts with the home folder's.
func TestHomeShortWritesTheHomeFolderAsATilde(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows paths are shown whole")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for dir, want := range map[string]string{
		filepath.Join(home, ".local", "share", "parley"): "~/.local/share/parley",
		home:                   "~",
		home + "-other/parley": home + "-other/parley",
		"/var/lib/parley":      "/var/lib/parley",
		filepath.Dir(home):     filepath.Dir(home),
	} {
		if got := homeShort(dir); got != want {
			t.Errorf("homeShort(%q) = %q, want %q", dir, got, want)
		}
	}
}
