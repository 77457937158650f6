package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// press delivers a shortcut the way Fyne's desktop driver does
// (internal/driver/glfw/window.go, triggersShortcut): the main menu's
// items first, then the focused widget if it takes shortcuts, and only
// otherwise the window's canvas. Fyne's test canvas hands every shortcut
// to the canvas, which hides what an entry with focus swallows.
func press(c *Console, sc fyne.Shortcut) {
	if m := c.Window().MainMenu(); m != nil {
		for _, menu := range m.Items {
			for _, it := range menu.Items {
				if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() && it.Action != nil {
					it.Action()
					return
				}
			}
		}
	}
	canvas := c.Window().Canvas()
	if f, ok := canvas.Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(sc)
		return
	}
	canvas.(fyne.Shortcutable).TypedShortcut(sc)
}

func ctrl(k fyne.KeyName) fyne.Shortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

// The screen's shortcuts work while a text entry of the link's form, or
// the custom field's, has the focus; the entry keeps its own (undo of
// typing, word moves).
func TestMappingShortcutsWorkInsideEntries(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	canvas := c.Window().Canvas()
	n := len(s.links)

	canvas.Focus(s.customID)
	press(c, mappingAddShortcut)
	if len(s.links) != n+1 {
		t.Fatalf("Ctrl+N in the custom field's entry made %d links; want %d", len(s.links), n+1)
	}
	ghl := selectEntryIn(t, s.editor)
	canvas.Focus(ghl)
	press(c, mappingAddShortcut)
	if len(s.links) != n+2 {
		t.Fatalf("Ctrl+N in the link form's HighLevel entry made %d links; want %d", len(s.links), n+2)
	}

	// Delete from inside an entry, then undo from the link list, with
	// the undo Fyne's driver makes of Ctrl+Z.
	canvas.Focus(selectEntryIn(t, s.editor))
	press(c, mappingDeleteShortcut)
	if len(s.links) != n+1 {
		t.Fatalf("Ctrl+D in an entry left %d links; want %d", len(s.links), n+1)
	}
	canvas.Focus(s.linkList)
	press(c, &fyne.ShortcutUndo{})
	if len(s.links) != n+2 {
		t.Fatalf("Ctrl+Z on the link list left %d links; want %d", len(s.links), n+2)
	}
	// In an entry, Ctrl+Z undoes its typing, not a deleted link.
	s.linkList.Select(len(s.links) - 1)
	canvas.Focus(s.customID)
	press(c, mappingDeleteShortcut)
	typeInto(s.customID, "abc")
	press(c, &fyne.ShortcutUndo{})
	if len(s.links) != n+1 {
		t.Errorf("Ctrl+Z in an entry restored a link: %d links; want %d", len(s.links), n+1)
	}

	// Alt+arrows move between the columns, from the lists and from the
	// form's entries alike.
	s.linkList.Select(0)
	canvas.Focus(selectEntryIn(t, s.editor))
	press(c, mappingColumnLeft)
	if canvas.Focused() != s.adList {
		t.Errorf("Alt+Left from the link form focused %T; want the ActiveDEMAND list", canvas.Focused())
	}
	press(c, mappingColumnRight)
	if canvas.Focused() != s.linkList {
		t.Errorf("Alt+Right from the ActiveDEMAND list focused %T; want the links", canvas.Focused())
	}
	press(c, mappingColumnRight)
	if canvas.Focused() != s.ghlList {
		t.Errorf("Alt+Right from the links focused %T; want the HighLevel list", canvas.Focused())
	}

	// Save from inside an entry.
	settle(t, s, loop)
	canvas.Focus(s.customID)
	press(c, mappingSaveShortcut)
	if s.noteEntry == nil || canvas.Overlays().Top() == nil {
		t.Fatal("Ctrl+S in an entry opened no save dialog")
	}
	tapOverlayButton(t, c, "Cancel")

	// The console's own shortcuts reach it from the screen's entries.
	canvas.Focus(s.customID)
	press(c, ctrl(fyne.KeyF))
	if top := canvas.Overlays().Top(); top != nil {
		tapOverlayButton(t, c, "Discard")
	}
	if c.Current() != "History" {
		t.Errorf("Ctrl+F in an entry left %q on display; want History", c.Current())
	}
}

// typeInto types text into an entry as keys do.
func typeInto(e fyne.Focusable, text string) {
	for _, r := range text {
		e.TypedRune(r)
	}
}

// The screen tells its shortcuts in a help line, and the console's
// Keyboard Shortcuts dialog lists them.
func TestMappingShortcutsAreDocumented(t *testing.T) {
	r := newMappingRig(t)
	c, s, _ := openMapping(t, r, fyne.NewSize(1100, 720))
	for _, want := range []string{"Ctrl+N", "Ctrl+D", "Ctrl+Z", "Ctrl+S", "Alt+←/→"} {
		if !labelWith([]string{s.keysHelp.Text}, want) {
			t.Errorf("the screen's help line %q lacks %q", s.keysHelp.Text, want)
		}
	}
	if !s.keysHelp.Visible() || !slices.Contains(visibleLabels(c), s.keysHelp.Text) {
		t.Error("the help line is not on display")
	}
	c.showShortcuts()
	var texts []string
	overlay := c.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("the Keyboard Shortcuts dialog did not open")
	}
	for _, o := range test.LaidOutObjects(overlay) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	for _, want := range []string{"Ctrl+N", "Add a field link (on Mapping)", "Ctrl+D", "Ctrl+S", "Alt+← / Alt+→"} {
		if !labelWith(texts, want) {
			t.Errorf("the Keyboard Shortcuts dialog lacks %q: %q", want, texts)
		}
	}
}
