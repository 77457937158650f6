package ui

// Reverting saves an older version again as the newest; it can be undone
// until the next save, which puts back both the version that was newest
// and the editor's links as they were, unsaved edits included.

import (
	"context"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/mapping"
)

// revertUndo is what undoing the last revert needs.
type revertUndo struct {
	// head is the version that was newest before the revert.
	head int
	// links are the editor's links before the revert.
	links []mapping.Link
}

// versionsTab is the version list under the undo of the last revert.
func (s *mappingScreen) versionsTab() fyne.CanvasObject {
	s.undoRevertBtn = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), s.undoRevert)
	s.undoRevertBtn.Hide()
	return container.NewBorder(s.undoRevertBtn, nil, nil, nil, s.versionList)
}

// askRevert confirms, then saves version v again as the newest.
func (s *mappingScreen) askRevert(v int) {
	msg := fmt.Sprintf("Save version %d again as a new version? The sync uses it from its next job. "+
		"Unsaved edits here are replaced; you can undo the revert from the Versions tab.", v)
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Revert the field mapping", "Revert", "Cancel", text, func(ok bool) {
		if ok {
			s.revert(v)
		}
	}, s.win)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

func (s *mappingScreen) revert(v int) {
	undo := revertUndo{links: slices.Clone(s.links)}
	if len(s.versions) > 0 {
		undo.head = s.versions[0].Version
	}
	s.status.SetText(fmt.Sprintf("Reverting to version %d…", v))
	s.restore(v, fmt.Sprintf("Reverted: version %%d is version %d again.", v), func(nv int) {
		if undo.head > 0 {
			s.lastRevert = &undo
			s.undoRevertBtn.SetText(fmt.Sprintf("Undo the revert: back to version %d and the edits before it", undo.head))
			s.undoRevertBtn.Show()
		}
	}, nil)
}

// undoRevert saves the version that was newest before the last revert
// again, and gives the editor back its links from before it.
func (s *mappingScreen) undoRevert() {
	u := s.lastRevert
	if u == nil {
		return
	}
	s.lastRevert = nil
	s.undoRevertBtn.Hide()
	s.status.SetText(fmt.Sprintf("Undoing the revert: saving version %d again…", u.head))
	s.restore(u.head, fmt.Sprintf("Undone: version %%d is version %d again, and the edits are back.", u.head), nil, u.links)
}

// restore saves version v again as the newest, then shows it in the
// editor (or, if set, links instead) and says done, with the new
// version's number in place of its %d.
func (s *mappingScreen) restore(v int, done string, then func(nv int), links []mapping.Link) {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		nv, err := s.ed.RevertMapping(ctx, v)
		if err != nil {
			return func() {
				s.status.SetText(fmt.Sprintf("Could not save version %d again: %v. Open the Mapping screen again and retry.", v, err))
			}
		}
		saved, err := s.ed.MappingAt(ctx, nv)
		return func() {
			if err != nil {
				s.status.SetText(fmt.Sprintf("Version %d was saved but could not be read back: %v. Open the screen again.", nv, err))
				return
			}
			if links == nil {
				links = saved
			}
			s.links, s.saved, s.base, s.removed = slices.Clone(links), saved, nv, nil
			s.linkList.UnselectAll()
			s.selectLink(-1)
			s.status.SetText(fmt.Sprintf(done, nv))
			s.edited()
			s.loadVersions()
			if then != nil {
				then(nv)
			}
		}
	})
}

// dropRevertUndo forgets the last revert once a save makes its undo
// wrong: it would throw the save away.
func (s *mappingScreen) dropRevertUndo() {
	s.lastRevert = nil
	if s.undoRevertBtn != nil {
		s.undoRevertBtn.Hide()
	}
}
