package ui

// Unsaved edits are not lost by leaving: the screen tells them in its
// title, and leaving it (another screen, another mode, closing the
// window) asks to save, discard or stay first.

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/mapping"
)

// unsavedMark follows the title while the edits are unsaved.
const unsavedMark = " • unsaved changes"

// sameLink says whether two links map alike.
func sameLink(a, b mapping.Link) bool {
	return a.AD == b.AD && a.GHL == b.GHL && a.Transform.Encode() == b.Transform.Encode()
}

// dirty says whether the links differ from the version they were read
// from or last saved as.
func (s *mappingScreen) dirty() bool {
	return s.loaded && !slices.EqualFunc(s.links, s.saved, sameLink)
}

// markUnsaved shows in the title whether there are unsaved edits.
func (s *mappingScreen) markUnsaved() {
	if s.heading == nil {
		return
	}
	t := mappingTitle
	if s.dirty() {
		t += unsavedMark
	}
	if s.heading.Text != t {
		s.heading.SetText(t)
	}
}

// canLeave lets the screen go when nothing is unsaved; otherwise it asks
// and keeps the screen, calling proceed if the user saves or discards.
func (s *mappingScreen) canLeave(proceed func()) bool {
	if !s.dirty() {
		return true
	}
	s.askLeave(proceed)
	return false
}

// askLeave asks what becomes of the unsaved edits: Save (with its note),
// Discard, or Stay, which keeps them and the screen.
func (s *mappingScreen) askLeave(proceed func()) {
	msg := "The field mapping has unsaved changes. Save them as a new version, discard them, or stay to keep editing."
	// Problems found by the last check; a check still running is waited
	// for by Save.
	blocked := s.checked && len(s.problems) > 0
	if blocked {
		msg = "The field mapping has unsaved changes that cannot be saved as they are (see the ⚠ marks). " +
			"Discard them, or stay to fix them."
	}
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	save := widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() {
		if !s.canSave() {
			text.SetText("The changes are still being checked; Save again in a moment.")
			return
		}
		d.Hide()
		s.askSave(proceed)
	})
	save.Importance = widget.HighImportance
	if blocked {
		save.Disable()
	}
	discard := widget.NewButtonWithIcon("Discard", theme.DeleteIcon(), func() {
		d.Hide()
		s.discard()
		proceed()
	})
	discard.Importance = widget.DangerImportance
	stay := widget.NewButton("Stay", func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Unsaved changes", container.NewVBox(text, container.NewHBox(stay, discard, save)), s.win)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

// discard puts the links back as they were read or last saved.
func (s *mappingScreen) discard() {
	s.links, s.removed = slices.Clone(s.saved), nil
	s.linkList.UnselectAll()
	s.selectLink(-1)
	s.status.SetText("Discarded the unsaved changes.")
	s.edited()
}
