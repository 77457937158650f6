package activedemand

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoutesFromDir(t *testing.T) {
	t.Run("no file: the defaults", func(t *testing.T) {
		routes, path, err := RoutesFromDir(t.TempDir())
		if err != nil || path != "" {
			t.Fatalf("RoutesFromDir = %q, %v", path, err)
		}
		want, _ := DefaultRoutes().Route("messages.list")
		if got, _ := routes.Route("messages.list"); got.Path != want.Path {
			t.Errorf("messages.list path %q, want the default %q", got.Path, want.Path)
		}
	})
	t.Run("a correction", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, RoutesFile)
		if err := os.WriteFile(file, []byte("[routes.\"messages.list\"]\npath = \"v2/messages.json\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		routes, path, err := RoutesFromDir(dir)
		if err != nil || path != file {
			t.Fatalf("RoutesFromDir = %q, %v; want %q", path, err, file)
		}
		if got, _ := routes.Route("messages.list"); got.Path != "v2/messages.json" {
			t.Errorf("messages.list path %q, want the corrected one", got.Path)
		}
	})
	t.Run("a broken file is an error naming it", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, RoutesFile)
		if err := os.WriteFile(file, []byte("[routes.\"messages.lst\"]\npath = \"x.json\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := RoutesFromDir(dir); err == nil || !strings.Contains(err.Error(), file) {
			t.Fatalf("RoutesFromDir = %v, want an error naming %s", err, file)
		}
	})
}
