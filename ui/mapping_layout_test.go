package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/mapping"
)

// textFits says whether a label shows its whole text, or the part of it
// before cut, without an ellipsis.
func textFits(l *widget.Label, cut string) (bool, string) {
	text := l.Text
	if cut != "" {
		text, _, _ = strings.Cut(text, cut)
	}
	size := theme.Size(l.SizeName)
	if l.SizeName == "" {
		size = theme.TextSize()
	}
	need := fyne.MeasureText(text, size, l.TextStyle).Width + 2*theme.InnerPadding()
	return need <= l.Size().Width+0.5, fmt.Sprintf("%q needs %.0f px, has %.0f", text, need, l.Size().Width)
}

// visibleRowLabels are the labels of a list's rows wholly on display,
// found through the renderers Fyne has (see screenOf).
func visibleRowLabels(l *keyList) []*widget.Label {
	var out []*widget.Label
	var walk func(o fyne.CanvasObject, at fyne.Position)
	walk = func(o fyne.CanvasObject, at fyne.Position) {
		if !o.Visible() {
			return
		}
		at = at.Add(o.Position())
		var kids []fyne.CanvasObject
		switch x := o.(type) {
		case *widget.Label:
			// Its text, that is: the padding around it may lie outside.
			pad := theme.InnerPadding()
			if x.Text != "" && at.Y+pad >= 0 && at.Y+x.Size().Height-pad <= l.Size().Height+0.5 {
				out = append(out, x)
			}
			return
		case *fyne.Container:
			kids = x.Objects
		case fyne.Widget:
			kids = test.WidgetRenderer(x).Objects()
		}
		for _, k := range kids {
			walk(k, at)
		}
	}
	for _, k := range test.WidgetRenderer(l).Objects() {
		walk(k, fyne.Position{})
	}
	return out
}

// rowCount is how many rows the labels are: a row's first line is in
// the body's type, its detail in the caption's.
func rowCount(labels []*widget.Label) int {
	n := 0
	for _, l := range labels {
		if l.SizeName != theme.SizeNameCaptionText {
			n++
		}
	}
	return n
}

// At the console's first size, and at a common laptop's, both field
// lists, the links, the link's form and the preview are usable: every row
// on display shows its field and its mark whole, each link reads whole
// (its problems may be cut: the form shows them), each list shows several
// rows, and no placeholder is cut.
func TestMappingFitsTheWindow(t *testing.T) {
	for _, size := range []fyne.Size{{Width: startWidth, Height: startHeight}, {Width: 1366, Height: 768}} {
		t.Run(fmt.Sprintf("%.0fx%.0f", size.Width, size.Height), func(t *testing.T) {
			r := newMappingRig(t)
			c, s, loop := openMapping(t, r, size)
			// A link with a list parameter and one with a table, so
			// that their forms are measured too.
			s.links = append(s.links,
				mapping.Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: mapping.Transform{Name: mapping.Lookup,
					Params: map[string]any{"entries": map[string]string{"Trade show": "event"}}}},
				mapping.Link{AD: "created_at", GHL: "customFields.first_seen", Transform: mapping.Transform{Name: mapping.DateConv}})
			s.edited()
			settle(t, s, loop)

			for name, l := range map[string]*keyList{"ActiveDEMAND": s.adList, "HighLevel": s.ghlList} {
				rows := visibleRowLabels(l)
				if n := rowCount(rows); n < 5 {
					t.Errorf("the %s list shows %d rows; want at least 5", name, n)
				}
				for _, lb := range rows {
					if ok, why := textFits(lb, ""); !ok {
						t.Errorf("%s row cut: %s", name, why)
					}
				}
			}
			links := visibleRowLabels(s.linkList)
			if n := rowCount(links); n < 5 {
				t.Errorf("the link list shows %d links; want at least 5", n)
			}
			for _, lb := range links {
				if ok, why := textFits(lb, "  ⚠"); !ok {
					t.Errorf("link cut: %s", why)
				}
			}

			for _, i := range []int{len(s.links) - 2, len(s.links) - 1} {
				s.linkList.Select(i)
				// The tab bar and four rows of the form; it scrolls.
				if s.tabs.Size().Height < 180 {
					t.Errorf("the link's form and its tab bar have %.0f px of height; want 180", s.tabs.Size().Height)
				}
				for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
					var e *widget.Entry
					switch x := o.(type) {
					case *fwdEntry:
						e = &x.Entry
					case *fwdSelectEntry:
						e = &x.Entry
					case *widget.Entry:
						e = x
					}
					if e == nil || e.PlaceHolder == "" || !e.Visible() {
						continue
					}
					room := e.Size().Width - 2*theme.InnerPadding() - 2*theme.InputBorderSize()
					if _, ok := o.(*fwdSelectEntry); ok {
						room -= theme.IconInlineSize() + 2*theme.Padding()
					}
					if need := fyne.MeasureText(e.PlaceHolder, theme.TextSize(), fyne.TextStyle{}).Width; need > room {
						t.Errorf("placeholder %q needs %.0f px, has %.0f", e.PlaceHolder, need, room)
					}
				}
			}

			s.tabs.SelectIndex(1)
			var previewRows int
			for _, o := range test.LaidOutObjects(s.previewRows) {
				if lb, ok := o.(*widget.Label); ok && lb.Visible() {
					previewRows++
					// A wrapped row is whole if it has the height its lines need.
					if lb.Wrapping != fyne.TextWrapOff {
						if lb.Size().Height+0.5 < lb.MinSize().Height {
							t.Errorf("preview row %q has %.0f px of the %.0f its lines need", lb.Text, lb.Size().Height, lb.MinSize().Height)
						}
					} else if ok, why := textFits(lb, ""); !ok {
						t.Errorf("preview row cut: %s", why)
					}
				}
			}
			if previewRows == 0 {
				t.Error("the preview shows nothing")
			}
		})
	}
}
