package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/assets"
)

var wantScreens = []string{"Connections", "Mapping", "Conversations", "Contacts", "Sync", "History", "Automations", "Alerts"}

func newTestConsole(t *testing.T, d Deps) (*Console, uiLoop) {
	t.Helper()
	a := test.NewTempApp(t)
	if d.History == nil {
		d.History = newTestStore(t)
	}
	loop := newUILoop()
	d.Do = loop.post
	c := NewConsole(a, d)
	c.Window().Resize(fyne.NewSize(1100, 720))
	c.Window().Show()
	t.Cleanup(func() {
		// Fyne's test driver panics on closing a window twice.
		if c.ctx.Err() == nil {
			c.Window().Close()
		}
	})
	return c, loop
}

// visibleLabels returns the text of every label laid out in the window.
func visibleLabels(c *Console) []string {
	var texts []string
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if l, ok := o.(*widget.Label); ok && o.Visible() {
			texts = append(texts, l.Text)
		}
	}
	return texts
}

func TestNavigationListsEveryScreen(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	if got := c.Titles(); !slices.Equal(got, wantScreens) {
		t.Fatalf("screens = %v, want %v", got, wantScreens)
	}
	if c.Current() != "Connections" {
		t.Fatalf("opens on %q, want Connections", c.Current())
	}
	if c.Window().Title() != "Parley" {
		t.Fatalf("window title %q", c.Window().Title())
	}
}

func TestSelectingANavigationEntryShowsItsScreen(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	for i, title := range wantScreens {
		c.nav.Select(i)
		if c.Current() != title {
			t.Fatalf("after selecting %d, current = %q, want %q", i, c.Current(), title)
		}
		labels := visibleLabels(c)
		if !slices.Contains(labels, title) {
			t.Fatalf("screen %q: its heading is not on display; labels: %v", title, labels)
		}
		// Only the current screen is on display: no other screen's heading.
		// The sidebar comes first, a title and a badge per entry.
		for _, other := range wantScreens {
			if other != title && slices.Contains(labels[2*len(wantScreens):], other) {
				t.Fatalf("screen %q also shows %q", title, other)
			}
		}
	}
	if c.Show("No such screen") {
		t.Fatal("Show accepted an unknown screen")
	}
}

func TestKeyboardShortcutsSwitchScreens(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	keys := []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7}
	handler := c.Window().Canvas().(fyne.Shortcutable)
	for i := len(keys) - 1; i >= 0; i-- {
		handler.TypedShortcut(&desktop.CustomShortcut{KeyName: keys[i], Modifier: fyne.KeyModifierShortcutDefault})
		if c.Current() != wantScreens[i] {
			t.Fatalf("shortcut %s: current = %q, want %q", keys[i], c.Current(), wantScreens[i])
		}
	}
}

func TestMenuOffersEveryScreen(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	menu := c.Window().MainMenu()
	if menu == nil {
		t.Fatal("no main menu")
	}
	var goMenu *fyne.Menu
	for _, m := range menu.Items {
		if m.Label == "Go" {
			goMenu = m
		}
	}
	if goMenu == nil || len(goMenu.Items) != len(wantScreens) {
		t.Fatalf("Go menu = %+v", goMenu)
	}
	goMenu.Items[5].Action()
	if c.Current() != "History" {
		t.Fatalf("Go > History shows %q", c.Current())
	}
}

type probe struct{ err error }

func (p probe) Probe() error { return p.err }

func waitForLabel(t *testing.T, c *Console, loop uiLoop, substr string) {
	t.Helper()
	loop.runUntil(t, "a label containing "+substr, func() bool {
		return slices.ContainsFunc(visibleLabels(c), func(l string) bool { return strings.Contains(l, substr) })
	})
}

func TestConnectionsShowsKeyringState(t *testing.T) {
	t.Run("available", func(t *testing.T) {
		started := make(chan struct{})
		c, loop := newTestConsole(t, Deps{Keyring: probe{}, Demo: true, DemoSandboxes: func() (string, string, error) {
			<-started
			return "http://127.0.0.1:4001/v1/", "http://127.0.0.1:4002", nil
		}})
		waitForLabel(t, c, loop, "Starting the demo sandbox…")
		close(started)
		waitForLabel(t, c, loop, "kept in the system keyring")
		waitForLabel(t, c, loop, "The demo syncs a built-in sandbox running on this computer at http://127.0.0.1:4001/v1/")
		waitForLabel(t, c, loop, "The demo syncs a built-in sandbox running on this computer at http://127.0.0.1:4002")
	})
	t.Run("demo sandboxes failed", func(t *testing.T) {
		c, loop := newTestConsole(t, Deps{Keyring: probe{}, Demo: true, DemoSandboxes: func() (string, string, error) {
			return "", "", errors.New("start the HighLevel sandbox on 127.0.0.1:80: permission denied")
		}})
		waitForLabel(t, c, loop, "did not start: start the HighLevel sandbox on 127.0.0.1:80: permission denied")
	})
	t.Run("unavailable", func(t *testing.T) {
		c, loop := newTestConsole(t, Deps{Keyring: probe{errors.New("no Secret Service is running: start one")}})
		waitForLabel(t, c, loop, "Credentials cannot be saved: no Secret Service is running: start one")
		waitForLabel(t, c, loop, "Not connected")
	})
}

func TestStatusBarSaysModeAndDataFolder(t *testing.T) {
	tests := []struct {
		deps Deps
		want string
	}{
		{Deps{Demo: true}, "Demo mode"},
		{Deps{Connected: true}, "Connected to your ActiveDEMAND and HighLevel accounts"},
		{Deps{}, "No accounts connected"},
	}
	for _, tc := range tests {
		tc.deps.DataDir = "/data/parley"
		c, _ := newTestConsole(t, tc.deps)
		if got := c.status.Text; !strings.Contains(got, tc.want) || !strings.Contains(got, "/data/parley") {
			t.Errorf("status = %q, want %q and the data folder", got, tc.want)
		}
	}
}

func TestFindShortcutFocusesHistorySearch(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	if c.Current() != "History" {
		t.Fatalf("Ctrl+F shows %q", c.Current())
	}
	if c.Window().Canvas().Focused() != c.history.search {
		t.Fatal("Ctrl+F did not focus the history search box")
	}
}

func TestReopensOnTheLastScreen(t *testing.T) {
	a := test.NewTempApp(t)
	d := Deps{History: newTestStore(t), Do: newUILoop().post}
	first := NewConsole(a, d)
	first.Show("Automations")
	first.Window().Close()

	second := NewConsole(a, d)
	t.Cleanup(second.Window().Close)
	if second.Current() != "Automations" {
		t.Fatalf("reopened on %q, want Automations", second.Current())
	}
}

func TestReopensAtTheSizeItWasClosedAt(t *testing.T) {
	a := test.NewTempApp(t)
	d := Deps{History: newTestStore(t), Do: newUILoop().post}
	first := NewConsole(a, d)
	first.Window().Resize(fyne.NewSize(900, 650))
	first.Window().Close()

	second := NewConsole(a, d)
	if got := second.Window().Canvas().Size(); got != fyne.NewSize(900, 650) {
		t.Fatalf("reopened at %v, want 900x650", got)
	}

	// A size too small to use is not restored.
	second.Window().Resize(fyne.NewSize(300, 200))
	second.Window().Close()
	third := NewConsole(a, d)
	t.Cleanup(third.Window().Close)
	if got := third.Window().Canvas().Size(); got.Width < minWidth || got.Height < minHeight {
		t.Fatalf("restored an unusable size %v", got)
	}
}

func TestHelpListsShortcuts(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	var help *fyne.Menu
	for _, m := range c.Window().MainMenu().Items {
		if m.Label == "Help" {
			help = m
		}
	}
	if help == nil || help.Items[0].Label != "Keyboard Shortcuts" {
		t.Fatalf("Help menu = %+v", help)
	}
	help.Items[0].Action()
	overlay := c.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no dialog shown")
	}
	var texts []string
	for _, o := range test.LaidOutObjects(overlay) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	for _, want := range []string{"Ctrl+1 … Ctrl+8", "Search the history", "Ctrl+I", "Import an ActiveDEMAND export", "Pause or resume the sync (on Sync)"} {
		if !slices.Contains(texts, want) {
			t.Errorf("shortcuts dialog lacks %q: %v", want, texts)
		}
	}
}

func TestAboutSaysVersionCommitAndBuild(t *testing.T) {
	c, _ := newTestConsole(t, Deps{DataDir: t.TempDir()})
	c.showAbout()
	overlay := c.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no dialog shown")
	}
	var texts []string
	var copyVersion *widget.Button
	for _, o := range test.LaidOutObjects(overlay) {
		switch w := o.(type) {
		case *widget.Label:
			texts = append(texts, w.Text)
		case *widget.Button:
			if w.Text == "Copy version" {
				copyVersion = w
			}
		}
	}
	v := assets.Version(c.app.Metadata().Version)
	for _, want := range []string{v.Version, v.Go + " " + v.Platform, c.deps.DataDir} {
		if !slices.Contains(texts, want) {
			t.Errorf("About lacks %q: %v", want, texts)
		}
	}
	if copyVersion == nil {
		t.Fatal("About has no Copy version button")
	}
	test.Tap(copyVersion)
	if got := c.app.Clipboard().Content(); got != v.String() || !strings.HasPrefix(got, "Parley ") {
		t.Errorf("clipboard = %q, want %q", got, v.String())
	}
}
