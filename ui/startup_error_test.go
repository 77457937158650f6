package ui

import (
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// urlRecorder is a test app that remembers the URLs it was asked to open.
type urlRecorder struct {
	fyne.App
	opened []*url.URL
}

func (a *urlRecorder) OpenURL(u *url.URL) error {
	a.opened = append(a.opened, u)
	return nil
}

func TestStartupErrorSaysWhatAndOffersTheFolder(t *testing.T) {
	a := &urlRecorder{App: test.NewTempApp(t)}
	dataDir := filepath.Join(t.TempDir(), "Parley data")
	err := errors.New(dataDir + "/parley.db is a damaged database (file is not a database); move it aside or pass --data-dir to use another directory")
	win := NewStartupErrorWindow(a, err, Deps{DataDir: dataDir})
	win.Show()
	t.Cleanup(win.Close)

	var labels []string
	var open *widget.Button
	for _, o := range test.LaidOutObjects(win.Content()) {
		switch w := o.(type) {
		case *widget.Label:
			labels = append(labels, w.Text)
		case *widget.Button:
			if w.Text == "Open Data Folder" {
				open = w
			}
		}
	}
	if !slices.ContainsFunc(labels, func(l string) bool { return strings.Contains(l, "move it aside") }) {
		t.Fatalf("the error text is not shown; labels: %v", labels)
	}
	if open == nil {
		t.Fatal("no Open Data Folder button")
	}
	test.Tap(open)
	// Left to itself, the window opens the folder through Fyne (desktop
	// portals on Linux), not through a browser helper.
	if len(a.opened) != 1 {
		t.Fatalf("OpenURL called %d times, want once", len(a.opened))
	}
	if u := a.opened[0]; u.Scheme != "file" || filepath.FromSlash(u.Path) != dataDir {
		t.Errorf("opened %v, want file:// URL of %s", u, dataDir)
	}
}

func TestOpenFolderWithMakesFileURLs(t *testing.T) {
	a := &urlRecorder{App: test.NewTempApp(t)}
	dir := filepath.Join(t.TempDir(), "with space#and?marks")
	if err := OpenFolderWith(a)(dir); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(a.opened[0].String())
	if err != nil || u.Scheme != "file" || filepath.FromSlash(u.Path) != dir {
		t.Fatalf("opened %v (%v), want a file URL that parses back to %s", a.opened[0], err, dir)
	}
}
