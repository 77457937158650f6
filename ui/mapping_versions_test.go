package ui

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/sync/mapping"
)

// saveVersion saves the editor's links through Ctrl+S and the note
// dialog, and waits for version want in the list.
func saveVersion(t *testing.T, c *Console, s *mappingScreen, loop uiLoop, note string, want int) {
	t.Helper()
	settle(t, s, loop)
	press(c, mappingSaveShortcut)
	if s.noteEntry == nil || c.Window().Canvas().Overlays().Top() == nil {
		t.Fatal("Ctrl+S opened no dialog")
	}
	test.Type(s.noteEntry, note)
	tapOverlayButton(t, c, "Save")
	loop.runUntil(t, "the new version in the list", func() bool { return len(s.versions) > 0 && s.versions[0].Version == want })
	s.noteEntry = nil
}

// A revert is confirmed first, and can be undone: Undo saves the version
// that was newest again and gives the editor back the edits the revert
// replaced, unsaved ones included.
func TestMappingRevertCanBeUndone(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	saveVersion(t, c, s, loop, "the default", 1)
	s.links = append(s.links, mapping.Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: mapping.Transform{Name: mapping.Trim}})
	s.edited()
	saveVersion(t, c, s, loop, "map lead source", 2)
	v2 := slices.Clone(s.links)
	// An unsaved edit, which the revert replaces.
	s.links = append(s.links, mapping.Link{AD: "custom_3", GHL: "customFields.tags", Transform: mapping.Transform{Name: mapping.Trim}})
	s.edited()
	edited := slices.Clone(s.links)

	s.tabs.SelectIndex(2)
	var revert *widget.Button
	for _, o := range test.LaidOutObjects(s.versionList) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Revert" && !b.Disabled() {
			revert = b
		}
	}
	if revert == nil {
		t.Fatal("no enabled Revert button for version 1")
	}
	test.Tap(revert)
	if text := dialogText(t, c); !strings.Contains(text, "version 1") || !strings.Contains(text, "undo") {
		t.Errorf("the confirmation reads %q; want the version and that it can be undone", text)
	}
	tapOverlayButton(t, c, "Revert")
	loop.runUntil(t, "version 3", func() bool { return len(s.versions) > 0 && s.versions[0].Version == 3 })
	if s.undoRevertBtn.Hidden || !strings.Contains(s.undoRevertBtn.Text, "version 2") {
		t.Fatalf("after the revert the undo button is hidden (%v) or reads %q", s.undoRevertBtn.Hidden, s.undoRevertBtn.Text)
	}

	test.Tap(s.undoRevertBtn)
	loop.runUntil(t, "version 4", func() bool { return len(s.versions) > 0 && s.versions[0].Version == 4 })
	got, err := r.e.MappingAt(context.Background(), 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, v2, sameLink) {
		t.Errorf("version 4 = %v; want version 2 again, %v", got, v2)
	}
	if !slices.EqualFunc(s.links, edited, sameLink) || !s.dirty() {
		t.Errorf("the editor has %v (unsaved %v); want the edits from before the revert, unsaved", s.links, s.dirty())
	}
	if !s.undoRevertBtn.Hidden {
		t.Error("the undo button is still shown after the undo")
	}
}

// Selecting a link brings its two fields into view in the side lists, in
// bold and the primary colour; the ActiveDEMAND column's title counts the fields left unmapped.
func TestMappingSelectedLinkShowsItsFields(t *testing.T) {
	r := newMappingRig(t)
	_, s, _ := openMapping(t, r, fyne.NewSize(startWidth, startHeight))
	// Created, Updated, Tags and Lead Source: the password is never
	// sent, and message fields fill messages, not the contact.
	if want := "ActiveDEMAND fields · 4 unmapped"; s.adTitle.Text != want {
		t.Errorf("the column's title is %q; want %q", s.adTitle.Text, want)
	}
	s.links = append(s.links, mapping.Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: mapping.Transform{Name: mapping.Trim}})
	s.edited()
	if want := "ActiveDEMAND fields · 3 unmapped"; s.adTitle.Text != want {
		t.Errorf("after a link from Lead Source the column's title is %q; want %q", s.adTitle.Text, want)
	}
	s.linkList.Select(len(s.links) - 1)
	for name, c := range map[string]struct {
		l    *keyList
		want string
	}{"ActiveDEMAND": {s.adList, "Lead Source"}, "HighLevel": {s.ghlList, "Custom field lead_source"}} {
		var shown *widget.Label
		for _, lb := range visibleRowLabels(c.l) {
			if lb.Text == c.want {
				shown = lb
			}
		}
		if shown == nil {
			t.Errorf("the %s list does not show %q", name, c.want)
		} else if !shown.TextStyle.Bold || shown.Importance != widget.HighImportance {
			t.Errorf("the %s list shows %q, but not in bold in the primary colour", name, c.want)
		}
	}
	// Another field stays in the body's type.
	for _, lb := range visibleRowLabels(s.adList) {
		if lb.Text != "Lead Source" && lb.TextStyle.Bold && lb.Text != "Custom fields" && lb.Text != "Message fields" {
			t.Errorf("%q is in bold though the selected link does not read it", lb.Text)
		}
	}
}
