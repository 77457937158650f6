package ui

import (
	"errors"
	"net/url"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// urlApp records what the console asks the desktop to open, where the real
// app hands it to the desktop (xdg-open, a portal, the shell).
type urlApp struct {
	fyne.App
	opened []string
	err    error
}

func (a *urlApp) OpenURL(u *url.URL) error {
	a.opened = append(a.opened, u.String())
	return a.err
}

func menuItem(t *testing.T, c *Console, menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, m := range c.Window().MainMenu().Items {
		if m.Label != menu {
			continue
		}
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no %s > %s in the menu", menu, label)
	return nil
}

func TestOpenDataFolderGoesThroughTheApp(t *testing.T) {
	a := &urlApp{App: test.NewTempApp(t)}
	c := NewConsole(a, Deps{History: newTestStore(t), Do: newUILoop().post, DataDir: "/data/My Parley"})
	t.Cleanup(c.Window().Close)
	menuItem(t, c, "File", "Open Data Folder").Action()
	if len(a.opened) != 1 || a.opened[0] != "file:///data/My%20Parley" {
		t.Fatalf("opened %q, want the data folder as one file URL", a.opened)
	}
	if c.Window().Canvas().Overlays().Top() != nil {
		t.Fatal("an error dialog is shown though the folder opened")
	}
}

func TestOpenDataFolderSaysWhatFailed(t *testing.T) {
	a := &urlApp{App: test.NewTempApp(t), err: errors.New("xdg-open not found")}
	c := NewConsole(a, Deps{History: newTestStore(t), Do: newUILoop().post, DataDir: "/data/parley"})
	t.Cleanup(c.Window().Close)
	c.Window().Show()
	menuItem(t, c, "File", "Open Data Folder").Action()
	if c.Window().Canvas().Overlays().Top() == nil {
		t.Fatal("no error dialog when the folder could not be opened")
	}
}
