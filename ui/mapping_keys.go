package ui

// The Mapping screen's keys. Fyne hands a shortcut to the focused widget
// alone when it takes shortcuts, and an entry drops the ones it does not
// know; so the screen's text entries are of a kind that passes those on
// to the window, and Ctrl+S typed in a link's form saves.

import (
	"fmt"
	"runtime"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Shortcuts of the Mapping screen; they act only while it is on display.
var (
	mappingAddShortcut    = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	mappingDeleteShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierShortcutDefault}
	// Fyne's desktop driver turns Ctrl+Z into its own undo, never into a
	// custom shortcut; in an entry it undoes the typing.
	mappingUndoShortcut = &fyne.ShortcutUndo{}
	mappingSaveShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	// Alt, as the Automations screen moves its rules: Ctrl+arrows move
	// by word in an entry.
	mappingColumnLeft  = &desktop.CustomShortcut{KeyName: fyne.KeyLeft, Modifier: fyne.KeyModifierAlt}
	mappingColumnRight = &desktop.CustomShortcut{KeyName: fyne.KeyRight, Modifier: fyne.KeyModifierAlt}
)

// shortcutMod is how the shortcut modifier is written on this system.
func shortcutMod() string {
	if runtime.GOOS == "darwin" {
		return "⌘"
	}
	return "Ctrl"
}

// mappingShortcutRows are the screen's rows of the console's Keyboard
// Shortcuts dialog.
func mappingShortcutRows(mod string) [][2]string {
	return [][2]string{
		{mod + "+N", "Add a field link (on Mapping)"},
		{mod + "+D", "Delete the selected field link (on Mapping)"},
		{mod + "+Z", "Undo the last deleted link, outside a text box (on Mapping)"},
		{mod + "+S", "Save the field mapping as a new version (on Mapping)"},
		{"Alt+← / Alt+→", "Move between the field lists and the links (on Mapping)"},
	}
}

// mappingKeysHelp is the screen's line of keys.
func mappingKeysHelp(mod string) string {
	return fmt.Sprintf("Keys: %[1]s+N add link · %[1]s+D delete link · %[1]s+Z undo delete · %[1]s+S save · "+
		"Alt+←/→ move between columns · Insert and Delete in the lists", mod)
}

// addShortcuts registers the screen's shortcuts on its window. Each
// showing does it again: a canvas keeps one action per shortcut, and
// another Mapping screen in the same window (the first-run guide's) may
// have taken them meanwhile.
func (s *mappingScreen) addShortcuts() {
	c := s.win.Canvas()
	for sc, act := range map[fyne.Shortcut]func(){
		mappingAddShortcut:    s.addLink,
		mappingDeleteShortcut: s.deleteSelected,
		mappingUndoShortcut:   s.undo,
		mappingSaveShortcut:   func() { s.askSave(nil) },
		mappingColumnLeft:     func() { s.moveColumn(-1) },
		mappingColumnRight:    func() { s.moveColumn(1) },
	} {
		c.AddShortcut(sc, func(fyne.Shortcut) {
			// A dialog on top (the save's note) has the keys.
			if s.active() && c.Overlays().Top() == nil {
				act()
			}
		})
	}
}

// moveColumn moves the focus one column left (step -1) or right among
// ActiveDEMAND's fields, the links and HighLevel's fields; from anywhere
// else (the link's form) it moves as from the links, whose form it is.
func (s *mappingScreen) moveColumn(step int) {
	cols := []fyne.Focusable{s.adList, s.linkList, s.ghlList}
	at := slices.Index(cols, s.win.Canvas().Focused())
	if at < 0 {
		at = 1
	}
	s.win.Canvas().Focus(cols[max(0, min(len(cols)-1, at+step))])
}

// fwdEntry is an entry that passes the window's shortcuts on.
type fwdEntry struct{ widget.Entry }

func newFwdEntry() *fwdEntry {
	e := &fwdEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func newFwdMultiLineEntry() *fwdEntry {
	e := &fwdEntry{}
	e.MultiLine, e.Wrapping = true, fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut keeps the entry's own shortcuts and passes on the rest.
func (e *fwdEntry) TypedShortcut(sc fyne.Shortcut) { forwardShortcut(e, &e.Entry, sc) }

// fwdSelectEntry is a select entry that passes the window's shortcuts on.
type fwdSelectEntry struct{ widget.SelectEntry }

func newFwdSelectEntry(options []string) *fwdSelectEntry {
	e := &fwdSelectEntry{}
	e.ExtendBaseWidget(e)
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.SetOptions(options)
	return e
}

// TypedShortcut keeps the entry's own shortcuts and passes on the rest.
func (e *fwdSelectEntry) TypedShortcut(sc fyne.Shortcut) { forwardShortcut(e, &e.Entry, sc) }

func forwardShortcut(o fyne.CanvasObject, own fyne.Shortcutable, sc fyne.Shortcut) {
	if entryOwns(sc) {
		own.TypedShortcut(sc)
		return
	}
	if c, ok := fyne.CurrentApp().Driver().CanvasForObject(o).(fyne.Shortcutable); ok {
		c.TypedShortcut(sc)
	}
}

// entryOwns says whether Fyne's entry acts on sc: the clipboard's, undo,
// redo and select all (its named shortcuts), and the modified arrows,
// Backspace and Delete that move and delete by word (see registerShortcut
// in fyne's widget/entry.go).
func entryOwns(sc fyne.Shortcut) bool {
	cs, ok := sc.(*desktop.CustomShortcut)
	if !ok {
		return true
	}
	word := fyne.KeyModifierShortcutDefault
	if runtime.GOOS == "darwin" {
		word = fyne.KeyModifierAlt
		if cs.Modifier == fyne.KeyModifierSuper && (cs.KeyName == fyne.KeyLeft || cs.KeyName == fyne.KeyRight) {
			return true // Home and End
		}
	}
	switch cs.KeyName {
	case fyne.KeyLeft, fyne.KeyRight, fyne.KeyBackspace, fyne.KeyDelete:
		return cs.Modifier&^fyne.KeyModifierShift == word
	}
	return false
}
