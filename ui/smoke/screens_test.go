package smoke

import (
	"image"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/ui/screenshot"
)

// screens are the console's screens in navigation order; the README shows
// each one's picture.
var screens = []string{"Connections", "Mapping", "Conversations", "Contacts", "Sync", "History", "Automations", "Alerts"}

// TestEveryScreenDraws runs the console's screen tour (PARLEY_SCREENSHOTS):
// one start of the real binary in demo mode, which shows every screen in
// turn, writes its picture and quits. No picture may be blank, neither the
// window nor the area of the screen's own content.
//
// PARLEY_SMOKE_SCREENS, if set, is the folder the pictures are copied to
// (`make screenshots`: docs/screens); the tour then first waits for the
// demo's sync to settle, so every screen has data. Without it the pictures
// are taken at once, which keeps `make test` quick.
func TestEveryScreenDraws(t *testing.T) {
	dest := os.Getenv("PARLEY_SMOKE_SCREENS")
	wait := time.Duration(0)
	if dest != "" {
		wait = 3 * time.Minute
	}
	dir := t.TempDir()
	t.Setenv(screenshot.Env, dir)
	t.Setenv(screenshot.WaitEnv, wait.String())
	// Mesa's llvmpipe, Xvfb's default, reads the window back as zeros;
	// softpipe reads back what it drew.
	t.Setenv("GALLIUM_DRIVER", "softpipe")
	l := launch(t, "--data-dir", homeDataDir(t))
	limit := wait + 2*time.Minute
	select {
	case <-l.exited:
	case <-time.After(limit):
		t.Fatalf("the screen tour did not end within %v:\n%s", limit, l.out.String())
	}
	if l.err != nil {
		t.Fatalf("parley ended with %v:\n%s", l.err, l.out.String())
	}
	m, err := screenshot.ReadManifest(dir)
	if err != nil {
		t.Fatalf("no manifest of the pictures (%v); output:\n%s", err, l.out.String())
	}
	var titles []string
	for _, s := range m.Screens {
		titles = append(titles, s.Title)
	}
	if !slices.Equal(titles, screens) {
		t.Fatalf("pictures of %q, want %q", titles, screens)
	}
	for _, s := range m.Screens {
		img, err := screenshot.Load(filepath.Join(dir, s.File))
		if err != nil {
			t.Errorf("%s: %v", s.Title, err)
			continue
		}
		if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 500 || !s.Content.In(b) || s.Content.Dx() < 400 || s.Content.Dy() < 300 {
			t.Errorf("%s: a %v picture with the screen at %v", s.Title, b, s.Content)
			continue
		}
		content := img.(interface {
			SubImage(r image.Rectangle) image.Image
		}).SubImage(s.Content)
		if err := screenshot.Blank(img, screenshot.Window); err != nil {
			t.Errorf("%s: the window: %v", s.Title, err)
		}
		if err := screenshot.Blank(content, screenshot.Content); err != nil {
			t.Errorf("%s: the screen's own area: %v", s.Title, err)
		}
		t.Logf("%s: window %+v, screen %+v, settled %v", s.Title, screenshot.Measure(img), screenshot.Measure(content), s.Settled)
	}
	// The demo starts unconnected, so the tour pictures the setup guide too.
	if m.Guide == "" {
		t.Error("no picture of the setup guide")
	} else if img, err := screenshot.Load(filepath.Join(dir, m.Guide)); err != nil {
		t.Errorf("the setup guide: %v", err)
	} else if err := screenshot.Blank(img, screenshot.Window); err != nil {
		t.Errorf("the setup guide: %v", err)
	}
	if dest == "" || t.Failed() {
		return
	}
	files := []string{m.Guide}
	for _, s := range m.Screens {
		files = append(files, s.File)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dest, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("copied %d pictures to %s", len(files), dest)
}

// TestREADMEShowsEveryScreen: the README shows a picture of every screen,
// and every picture it shows is in the repository.
func TestREADMEShowsEveryScreen(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range screens {
		pic := "docs/screens/" + screenshot.FileName(title)
		if !strings.Contains(string(readme), "("+pic+")") {
			t.Errorf("the README does not show the %s screen (%s)", title, pic)
		}
	}
	for _, m := range regexp.MustCompile(`!\[[^\]]*\]\(([^)]+\.png)\)`).FindAllStringSubmatch(string(readme), -1) {
		if _, err := screenshot.Load(filepath.Join(root, filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("the README shows %s: %v", m[1], err)
		}
	}
}

// TestConnectionsConnectedPicture renders Connections with both accounts
// connected, over the demo's data, for the README beside the unconnected
// one: the credentials, location and provider come from the PARLEY_*
// variables, which the console reads after the keyring. Only `make
// screenshots` runs it (PARLEY_SMOKE_SCREENS), into
// connections-connected.png.
func TestConnectionsConnectedPicture(t *testing.T) {
	dest := os.Getenv("PARLEY_SMOKE_SCREENS")
	if dest == "" {
		t.Skip("a picture for the README: make screenshots takes it")
	}
	dir := t.TempDir()
	t.Setenv(screenshot.Env, dir)
	t.Setenv(screenshot.WaitEnv, "0s")
	t.Setenv("GALLIUM_DRIVER", "softpipe")
	for k, v := range map[string]string{
		"PARLEY_ACTIVEDEMAND_APPLICATION_KEY":  "example-application-key",
		"PARLEY_ACTIVEDEMAND_API_KEY":          "example-api-key",
		"PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN": "example-private-integration-token",
		"PARLEY_GHL_LOCATION":                  "loc_harbourview",
		"PARLEY_GHL_PROVIDER":                  "provider_parley",
	} {
		t.Setenv(k, v)
	}
	l := launch(t, "--demo", "--data-dir", homeDataDir(t))
	select {
	case <-l.exited:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the screen tour did not end:\n%s", l.out.String())
	}
	if l.err != nil {
		t.Fatalf("parley ended with %v:\n%s", l.err, l.out.String())
	}
	src := filepath.Join(dir, screenshot.FileName("Connections"))
	img, err := screenshot.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := screenshot.Blank(img, screenshot.Window); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "connections-connected.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
