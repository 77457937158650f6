package ui

// Golden pictures of the console: each screen inside the window shell,
// drawn by Fyne's software test driver at a fixed size, theme and time zone
// from fixed data, so a broken layout fails a test.
//
// The pictures are in testdata/console/. To change one on purpose, delete it
// and run
//
//	CGO_ENABLED=0 go test ./ui/ -run TestConsoleLooks
//
// which writes the new picture to testdata/failed/console/; look at it, and
// if it shows what it should, move it over the old one and commit it with
// the change that explains it. A test that fails writes what it drew to
// the same place, to compare with the master by eye.

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"parley/store"
	"parley/sync/engine"
)

// variantTheme is Fyne's default theme held to one variant, whatever the
// desktop prefers.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (v variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return v.Theme.Color(n, v.variant)
}

// seedGoldenHistory writes a few rows of every kind the History screen
// colours differently.
func seedGoldenHistory(t *testing.T, s *store.Store) {
	t.Helper()
	at := time.Date(2026, 11, 2, 14, 30, 0, 0, time.UTC)
	entries := []store.HistoryEntry{
		{At: at, Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "ad-msg-1001", RemoteID: "ghl-msg-8842",
			Outcome: store.OutcomeOK, HTTPStatus: 201, Attempts: 1, Latency: 84 * time.Millisecond},
		{At: at.Add(time.Minute), Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "ad-msg-1002",
			Outcome: store.OutcomeFailed, HTTPStatus: 429, Attempts: 3, Latency: 1200 * time.Millisecond,
			Error: "rate limited by HighLevel: retry after 10 s"},
		{At: at.Add(2 * time.Minute), Operation: store.OpMessagePush, System: store.SystemAD, LocalID: "ad-msg-1003", RemoteID: "ad-7731",
			Outcome: store.OutcomeRetrying, HTTPStatus: 503, Attempts: 2, Latency: 310 * time.Millisecond},
		{At: at.Add(3 * time.Minute), Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "ad-msg-1004",
			Outcome: store.OutcomeSkipped, Attempts: 0, Error: "already recorded"},
	}
	if err := s.AppendHistory(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleLooks(t *testing.T) {
	light := variantTheme{theme.DefaultTheme(), theme.VariantLight}
	dark := variantTheme{theme.DefaultTheme(), theme.VariantDark}
	tests := []struct {
		screen string
		theme  fyne.Theme
		file   string
	}{
		{"Connections", light, "console/connections.png"},
		{"Mapping", light, "console/mapping.png"},
		{"Conversations", light, "console/conversations.png"},
		{"Contacts", light, "console/contacts.png"},
		{"Sync", light, "console/sync.png"},
		{"History", light, "console/history.png"},
		{"Automations", light, "console/automations.png"},
		{"History", dark, "console/history_dark.png"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(tc.file, "console/"), ".png"), func(t *testing.T) {
			a := test.NewTempApp(t)
			test.ApplyTheme(t, tc.theme)
			s := newTestStore(t)
			seedGoldenHistory(t, s)
			loop := newUILoop()
			c := NewConsole(a, Deps{
				History:  s,
				Keyring:  probe{},
				Importer: engine.NewImporter(s, engine.ImporterOptions{Location: time.UTC}),
				DataDir:  "/home/admin/.local/share/parley",
				Demo:     true,
				DemoSandboxes: func() (string, string, error) {
					return "http://127.0.0.1:4001/v1/", "http://127.0.0.1:4002", nil
				},
				Location:    time.UTC,
				Do:          loop.post,
				Automations: s,
			})
			t.Cleanup(c.Window().Close)
			c.Window().Resize(fyne.NewSize(startWidth, startHeight))
			c.Window().Show()
			c.Show(tc.screen)
			switch tc.screen {
			case "Connections":
				waitForLabel(t, c, loop, keyringOK)
				waitForLabel(t, c, loop, "running on this computer at http://127.0.0.1:4002")
			case "History":
				loop.runUntil(t, "the history page", func() bool { return len(c.history.rows) == 4 })
			}
			loop.idleFor(50 * time.Millisecond) // anything else in flight lands before the picture
			assertLooks(t, tc.file, c.Window().Canvas().Capture())
		})
	}
}

// assertLooks is test.AssertImageMatches with a short answer to a mismatch.
// Fyne's prints a diff of every byte of both pictures, which for a window
// takes two minutes and two megabytes each, so a change to the theme would
// run the package out of time. A match, or a missing master, is left to
// Fyne's.
func assertLooks(t *testing.T, name string, got image.Image) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		test.AssertImageMatches(t, name, got)
		return
	}
	want, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("read the master %s: %v", name, err)
	}
	n, where := pixelDiff(want, got)
	if n == 0 {
		test.AssertImageMatches(t, name, got)
		return
	}
	failed := filepath.Join("testdata", "failed", name)
	if err := os.MkdirAll(filepath.Dir(failed), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(failed)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(out, got); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Errorf("%s: %d pixels differ, within %v; what was drawn is in %s", name, n, where, failed)
}

// pixelDiff counts the pixels that differ between two pictures and the
// rectangle that holds them; pictures of different sizes differ everywhere.
func pixelDiff(a, b image.Image) (int, image.Rectangle) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return a.Bounds().Dx() * a.Bounds().Dy(), a.Bounds().Union(b.Bounds())
	}
	n, where := 0, image.Rectangle{}
	oa, ob := a.Bounds().Min, b.Bounds().Min
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			r1, g1, b1, a1 := a.At(oa.X+x, oa.Y+y).RGBA()
			r2, g2, b2, a2 := b.At(ob.X+x, ob.Y+y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				n++
				where = where.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, where
}
