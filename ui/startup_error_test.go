package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestStartupErrorSaysWhatAndOffersTheFolder(t *testing.T) {
	a := test.NewTempApp(t)
	var opened string
	err := errors.New("/data/parley.db is a damaged database (file is not a database); move it aside or pass --data-dir to use another directory")
	win := NewStartupErrorWindow(a, err, Deps{DataDir: "/data", OpenFolder: func(p string) error { opened = p; return nil }})
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
	if opened != "/data" {
		t.Fatalf("opened %q, want the data folder", opened)
	}
}
