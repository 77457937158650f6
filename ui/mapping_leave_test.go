package ui

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// dialogText is every label of the dialog on top.
func dialogText(t *testing.T, c *Console) string {
	t.Helper()
	top := c.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	var texts []string
	for _, o := range test.LaidOutObjects(top) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// askClose asks the window to close as its close button does: through
// the callback set with SetCloseIntercept, which Fyne's test window keeps
// in a field of its own and offers no way to call.
func askClose(t *testing.T, c *Console) {
	t.Helper()
	f := reflect.ValueOf(c.Window()).Elem().FieldByName("onCloseIntercepted")
	if !f.IsValid() {
		t.Fatal("Fyne's test window has no onCloseIntercepted field any more")
	}
	fn := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(func())
	if fn == nil {
		c.Window().Close()
		return
	}
	fn()
}

// Leaving the screen with unsaved edits, by the sidebar or by a key,
// asks first: Stay keeps the edits and the screen, Discard drops them
// and goes. The title says the edits are unsaved meanwhile; a screen
// without edits is left without a question.
func TestMappingAsksBeforeLeavingUnsavedEdits(t *testing.T) {
	r := newMappingRig(t)
	c, s, _ := openMapping(t, r, fyne.NewSize(1100, 720))
	if s.heading.Text != mappingTitle {
		t.Errorf("title %q before any edit; want %q", s.heading.Text, mappingTitle)
	}
	saved := slices.Clone(s.links)
	press(c, mappingAddShortcut)
	if !strings.Contains(s.heading.Text, "•") {
		t.Errorf("title %q with an unsaved edit; want it marked", s.heading.Text)
	}

	c.Show("History")
	if c.Current() != mappingTitle {
		t.Fatalf("the sidebar left the screen with unsaved edits for %q", c.Current())
	}
	if text := dialogText(t, c); !strings.Contains(text, "unsaved") {
		t.Errorf("the question reads %q", text)
	}
	tapOverlayButton(t, c, "Stay")
	if c.Current() != mappingTitle || len(s.links) != len(saved)+1 || c.Window().Canvas().Overlays().Top() != nil {
		t.Fatalf("Stay: on %q with %d links; want Mapping with %d and no dialog", c.Current(), len(s.links), len(saved)+1)
	}
	if sel := selectedNav(c); sel != mappingTitle {
		t.Errorf("after Stay the sidebar shows %q selected; want Mapping", sel)
	}

	press(c, ctrl(fyne.Key1))
	if c.Current() != mappingTitle {
		t.Fatalf("Ctrl+1 left the screen with unsaved edits for %q", c.Current())
	}
	tapOverlayButton(t, c, "Discard")
	if c.Current() != "Connections" {
		t.Fatalf("Discard left %q on display; want Connections", c.Current())
	}
	if !slices.EqualFunc(s.links, saved, sameLink) {
		t.Errorf("Discard kept the edits: %v", s.links)
	}
	c.Show(mappingTitle)
	if s.heading.Text != mappingTitle {
		t.Errorf("title %q after Discard", s.heading.Text)
	}
	c.Show("History")
	if c.Current() != "History" || c.Window().Canvas().Overlays().Top() != nil {
		t.Errorf("leaving without edits: on %q, dialog open %v", c.Current(), c.Window().Canvas().Overlays().Top() != nil)
	}
}

// selectedNav is the title of the sidebar's selected row. widget.List
// has no getter for it; reflection reads its own field.
func selectedNav(c *Console) string {
	sel := reflect.ValueOf(c.nav).Elem().FieldByName("selected")
	if !sel.IsValid() || sel.Len() != 1 {
		return ""
	}
	return c.Titles()[sel.Index(0).Int()]
}

// Save in the question saves a new version with its note and then goes;
// asked before the edit's check is back, it says to wait for it.
func TestMappingSavesBeforeLeaving(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1100, 720))
	press(c, mappingAddShortcut)
	c.Show("History")
	if strings.Contains(dialogText(t, c), "cannot be saved") {
		t.Errorf("the question says a mapping still being checked cannot be saved: %q", dialogText(t, c))
	}
	tapOverlayButton(t, c, "Save…")
	if !strings.Contains(dialogText(t, c), "still being checked") || s.noteEntry != nil {
		t.Fatalf("Save… before the check: %q, note dialog %v", dialogText(t, c), s.noteEntry != nil)
	}
	settle(t, s, loop)
	tapOverlayButton(t, c, "Save…")
	if s.noteEntry == nil {
		t.Fatal("Save… opened no note")
	}
	test.Type(s.noteEntry, "a link for the phone")
	tapOverlayButton(t, c, "Save")
	loop.runUntil(t, "History after the save", func() bool { return c.Current() == "History" })
	vs, err := r.e.MappingVersions(context.Background())
	if err != nil || len(vs) != 1 || vs[0].Note != "a link for the phone" || vs[0].Fields != len(s.links) {
		t.Fatalf("versions = %+v, %v; want one with the note and %d links", vs, err, len(s.links))
	}
	if s.dirty() {
		t.Error("the screen still has unsaved edits after saving them")
	}
}

// Closing the window, or switching mode, with unsaved edits asks the
// same question.
func TestMappingAsksBeforeCloseAndModeSwitch(t *testing.T) {
	r := newMappingRig(t)
	var switches atomic.Int32
	c, loop := newTestConsole(t, Deps{Mapping: r.e, Location: time.UTC, SwitchMode: func(context.Context, bool) (Deps, error) {
		switches.Add(1)
		return Deps{}, errors.New("no other mode in this test")
	}})
	c.Show(mappingTitle)
	s := screenOf(t, c)
	s.delay = 10 * time.Millisecond
	loop.runUntil(t, "the mapping to load", func() bool { return s.loaded && s.checked })
	press(c, mappingAddShortcut)

	c.SwitchMode(true, nil)
	if !strings.Contains(dialogText(t, c), "unsaved") {
		t.Fatal("switching mode did not ask about the unsaved edits")
	}
	tapOverlayButton(t, c, "Stay")
	loop.idleFor(20 * time.Millisecond)
	if switches.Load() != 0 {
		t.Fatal("Stay switched mode all the same")
	}

	askClose(t, c)
	if c.closed || !strings.Contains(dialogText(t, c), "unsaved") {
		t.Fatalf("closing did not ask (closed %v)", c.closed)
	}
	tapOverlayButton(t, c, "Stay")
	if c.closed {
		t.Fatal("Stay closed the window")
	}
	// File > Quit and its Ctrl+Q ask too (Fyne's own Quit would not).
	press(c, quitShortcut)
	if c.closed || !strings.Contains(dialogText(t, c), "unsaved") {
		t.Fatalf("Quit did not ask (closed %v)", c.closed)
	}
	tapOverlayButton(t, c, "Stay")
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(quitShortcut)
	if c.closed || !strings.Contains(dialogText(t, c), "unsaved") {
		t.Fatalf("Ctrl+Q typed in the window did not ask (closed %v)", c.closed)
	}
	tapOverlayButton(t, c, "Stay")
	if c.closed {
		t.Fatal("Stay after Quit closed the window")
	}
	askClose(t, c)
	tapOverlayButton(t, c, "Discard")
	if !c.closed {
		t.Fatal("Discard did not close the window")
	}
}
