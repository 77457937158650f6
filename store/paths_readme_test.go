package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmesNameTheDataFolder checks that the install notes (the README and
// the README.txt shipped in the Windows zip) name the folder defaultDir
// really uses on each platform. The users who read them cannot run Parley
// from a shell to find out, and on Windows nobody here can run it at all.
func TestReadmesNameTheDataFolder(t *testing.T) {
	// Environment variables come back as their own %NAME% or $NAME
	// reference and the home as ~, so the result is what the docs write.
	windowsEnv := func(k string) string { return "%" + k + "%" }
	win, err := defaultDir("windows", windowsEnv, "")
	if err != nil {
		t.Fatal(err)
	}
	// defaultDir joins with this machine's separator; Windows readers see \.
	win = strings.ReplaceAll(filepath.ToSlash(win), "/", `\`)
	mac, err := defaultDir("darwin", func(string) string { return "" }, "~")
	if err != nil {
		t.Fatal(err)
	}
	mac = filepath.ToSlash(mac)

	docs := []struct {
		file string
		want []string
	}{
		{filepath.Join("..", "README.md"), []string{"`" + win + "`", "`" + mac + "`"}},
		{filepath.Join("..", "docs", "windows", "README-windows.txt"), []string{win}},
	}
	for _, d := range docs {
		b, err := os.ReadFile(d.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range d.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s does not mention the data folder %s", d.file, w)
			}
		}
	}
}
