package smoke

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// installedPackage extracts the bundle `make package` built (PARLEY_PACKAGE)
// and installs it with its own Makefile into a temporary DESTDIR, as a user
// would with `sudo make install`; it returns the DESTDIR.
func installedPackage(t *testing.T) string {
	t.Helper()
	bundle := os.Getenv("PARLEY_PACKAGE")
	if bundle == "" {
		t.Skip("PARLEY_PACKAGE is not set; `make package` builds the bundle and sets it")
	}
	requireTools(t, "tar", "make")
	unpacked, dest := t.TempDir(), t.TempDir()
	if out, err := exec.Command("tar", "-xJf", bundle, "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", bundle, err, out)
	}
	install := exec.Command("make", "-C", filepath.Join(unpacked, "parley"), "install", "DESTDIR="+dest, "PREFIX=/usr")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	return dest
}

func TestLinuxPackageInstallsItsParts(t *testing.T) {
	dest := installedPackage(t)
	bin := filepath.Join(dest, "usr", "bin", "parley")
	if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("installed binary %s: %v (mode %v)", bin, err, st.Mode())
	}

	entry, err := os.ReadFile(filepath.Join(dest, "usr", "share", "applications", "app.parley.console.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Desktop Entry]", "Type=Application", "Name=Parley", "Exec=parley", "Icon=app.parley.console"} {
		if !strings.Contains(string(entry), want+"\n") {
			t.Errorf("the .desktop entry lacks %q:\n%s", want, entry)
		}
	}

	icon, err := os.ReadFile(filepath.Join(dest, "usr", "share", "pixmaps", "app.parley.console.png"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(icon))
	if err != nil || cfg.Width < 256 || cfg.Height != cfg.Width {
		t.Errorf("icon: %v, %dx%d; want a square PNG of at least 256 px", err, cfg.Width, cfg.Height)
	}

	// The version the binary reports is FyneApp.toml's, with the commit and
	// build date the release build stamped in.
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("parley --version: %v\n%s", err, out)
	}
	toml, err := os.ReadFile(filepath.Join("..", "..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^Version *= *"(.*)"`).FindSubmatch(toml)
	if version == nil {
		t.Fatal("FyneApp.toml has no Version")
	}
	want := regexp.MustCompile(`^Parley ` + regexp.QuoteMeta(string(version[1])) + ` \(commit [0-9a-f]{12}[^,]*, built \d{4}-\d\d-\d\d \d\d:\d\d UTC, go`)
	if !want.Match(out) {
		t.Errorf("parley --version = %q, want the version, commit and build date", out)
	}
}

func TestLinuxPackageStartsTheConsole(t *testing.T) {
	dest := installedPackage(t)
	l := launchCmd(t, exec.Command(filepath.Join(dest, "usr", "bin", "parley"), "--data-dir", t.TempDir()))
	l.waitForWindow(t, "Parley")
}
