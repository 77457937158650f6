package store

import (
	"path/filepath"
	"testing"
)

func TestDefaultDir(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	home := filepath.FromSlash("/home/ana")
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		home    string
		want    string
		wantErr bool
	}{
		{"linux default", "linux", nil, home, filepath.Join(home, ".local", "share", "parley"), false},
		{"linux XDG", "linux", map[string]string{"XDG_DATA_HOME": filepath.FromSlash("/data/xdg")}, home, filepath.Join(filepath.FromSlash("/data/xdg"), "parley"), false},
		{"linux relative XDG is ignored", "linux", map[string]string{"XDG_DATA_HOME": "rel"}, home, filepath.Join(home, ".local", "share", "parley"), false},
		{"freebsd", "freebsd", nil, home, filepath.Join(home, ".local", "share", "parley"), false},
		{"linux without home", "linux", nil, "", "", true},
		{"macOS", "darwin", map[string]string{"XDG_DATA_HOME": "/ignored"}, home, filepath.Join(home, "Library", "Application Support", "Parley"), false},
		{"windows", "windows", map[string]string{"LocalAppData": filepath.FromSlash("/c/Users/ana/AppData/Local")}, "", filepath.Join(filepath.FromSlash("/c/Users/ana/AppData/Local"), "Parley"), false},
		{"windows without LocalAppData", "windows", nil, home, "", true},
	}
	for _, tt := range tests {
		got, err := defaultDir(tt.goos, env(tt.env), tt.home)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: defaultDir = %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	path, err := DefaultPath()
	if err != nil || path != filepath.Join(dir, DatabaseFile) {
		t.Errorf("DefaultPath = %q, %v; want %q", path, err, filepath.Join(dir, DatabaseFile))
	}
}
