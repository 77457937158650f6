package ui

// The rows of the Mapping screen's three lists. A column is about a third
// of the window's width, too narrow for a field's name, key, type and
// where it is mapped in one line; so each row has two: what it is, and
// under it in small type the rest.

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/mapping"
)

// fieldMarkSep parts a row's detail from its mark: where the field is
// mapped, or that it is not.
const fieldMarkSep = "  ·  "

// tightLines stacks labels with most of their padding taken out, above,
// between and below them, so that a row of two lines is far less than two
// rows tall.
type tightLines struct{}

func (tightLines) overlap() float32 { return 1.5 * theme.InnerPadding() }

// edge is the padding taken from the top and from the bottom.
func (tightLines) edge() float32 { return 0.75 * theme.InnerPadding() }

// MinSize is the labels' heights less their overlaps; hidden ones count
// for nothing.
func (l tightLines) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var size fyne.Size
	n := 0
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		size.Width = max(size.Width, m.Width)
		size.Height += m.Height
		n++
	}
	if n > 1 {
		size.Height -= float32(n-1) * l.overlap()
	}
	if n > 0 {
		size.Height -= 2 * l.edge()
	}
	return size
}

// Layout gives each label the whole width, one under the other.
func (l tightLines) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := -l.edge()
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - l.overlap()
	}
}

// newLinesRow is a list row: a line in the body's type and one in the
// caption's; both end in an ellipsis if the column is narrower still.
func newLinesRow() fyne.CanvasObject {
	top := widget.NewLabel("")
	top.Truncation = fyne.TextTruncateEllipsis
	detail := widget.NewLabel("")
	detail.Truncation = fyne.TextTruncateEllipsis
	detail.SizeName = theme.SizeNameCaptionText
	return container.New(tightLines{}, top, detail)
}

// setLines fills a row made by newLinesRow; an empty detail hides its
// line (a heading's row).
func setLines(o fyne.CanvasObject, top, detail string, bold bool, imp widget.Importance) {
	row := o.(*fyne.Container)
	t, d := row.Objects[0].(*widget.Label), row.Objects[1].(*widget.Label)
	t.TextStyle = fyne.TextStyle{Bold: bold}
	t.Importance, d.Importance = imp, imp
	// One refresh of the row refreshes both labels; SetText on each
	// would lay them out twice.
	t.Text, d.Text = top, detail
	d.Hidden = detail == ""
	row.Refresh()
}

// headingHeight is the height of a one-line row, for the lists' headings.
func headingHeight() float32 { return widget.NewLabel("Heading").MinSize().Height }

// setRowHeights makes a field list's heading rows one line tall, and
// rows that were headings before full height again. Only those: each
// height changed re-lays the list out, which for every row made the first
// showing take seconds.
func setRowHeights(l *keyList, rows []fieldRow) {
	full := newLinesRow().MinSize().Height
	head := headingHeight()
	was := l.headings
	l.headings = l.headings[:0:0]
	for i, r := range rows {
		if r.heading != "" {
			l.SetItemHeight(i, head)
			l.headings = append(l.headings, i)
		}
	}
	for _, i := range was {
		if i >= len(rows) || rows[i].heading == "" {
			l.SetItemHeight(i, full)
		}
	}
}

func (s *mappingScreen) drawADRow(i widget.ListItemID, o fyne.CanvasObject) {
	r := s.adRows[i]
	if r.heading != "" {
		setLines(o, r.heading, "", true, widget.MediumImportance)
		return
	}
	var to []string
	for _, k := range s.links {
		if k.AD == r.field.Key {
			to = append(to, k.GHL)
		}
	}
	mark, imp := "→ "+strings.Join(to, ", "), widget.MediumImportance
	switch {
	case r.field.Type == mapping.Secret:
		mark, imp = "never sent", widget.LowImportance
	case len(to) == 0:
		mark, imp = "unmapped", widget.WarningImportance
	}
	sel := s.linkReads(r.field.Key)
	if sel {
		imp = widget.HighImportance
	}
	setLines(o, r.field.Label, fmt.Sprintf("%s · %s%s%s", r.field.Key, r.field.Type, fieldMarkSep, mark), sel, imp)
}

func (s *mappingScreen) drawGHLRow(i widget.ListItemID, o fyne.CanvasObject) {
	r := s.ghlRows[i]
	if r.heading != "" {
		setLines(o, r.heading, "", true, widget.MediumImportance)
		return
	}
	name := r.field.Label
	if r.field.Required {
		name += " · required"
	}
	detail, imp := fmt.Sprintf("%s · %s", r.field.Key, r.field.Type), widget.MediumImportance
	from := slices.IndexFunc(s.links, func(l mapping.Link) bool { return l.GHL == r.field.Key })
	switch {
	case from >= 0:
		detail += fieldMarkSep + "← " + linkSource(s.links[from])
	case r.field.Required && !s.requirementMet(r.field.Key):
		detail += fieldMarkSep + "required: not mapped"
		imp = widget.DangerImportance
	}
	sel := s.selected >= 0 && s.selected < len(s.links) && s.links[s.selected].GHL == r.field.Key
	if sel {
		imp = widget.HighImportance
	}
	setLines(o, name, detail, sel, imp)
}

// drawLinkRow shows a link's fields on its first line and its transform
// on the second; a link with problems is drawn in the danger colour with
// them after its transform.
func (s *mappingScreen) drawLinkRow(i widget.ListItemID, o fyne.CanvasObject) {
	l := s.links[i]
	ad := l.AD
	if ad == "" {
		ad = mapping.NoADField
	}
	detail := transformText(l.Transform)
	var msgs []string
	for _, p := range s.problems {
		if p.Link == i+1 && s.checked {
			msgs = append(msgs, p.Message)
		}
	}
	imp := widget.MediumImportance
	if len(msgs) > 0 {
		detail += linkProblemSep + strings.Join(msgs, "; ")
		imp = widget.DangerImportance
	}
	setLines(o, fmt.Sprintf("%d. %s → %s", i+1, ad, l.GHL), detail, false, imp)
}

// linkProblemSep parts a link's transform from its problems.
const linkProblemSep = "  ⚠ "

// linkReads says whether the selected link reads ActiveDEMAND field key.
func (s *mappingScreen) linkReads(key string) bool {
	return s.selected >= 0 && s.selected < len(s.links) && s.links[s.selected].AD == key
}

// showLinkFields brings the selected link's two fields into view in the
// side lists; their rows draw them in bold, in the primary colour.
func (s *mappingScreen) showLinkFields() {
	if s.selected >= 0 && s.selected < len(s.links) {
		l := s.links[s.selected]
		if i := slices.IndexFunc(s.adRows, func(r fieldRow) bool { return r.heading == "" && r.field.Key == l.AD }); i >= 0 {
			s.adList.ScrollTo(i)
		}
		if i := slices.IndexFunc(s.ghlRows, func(r fieldRow) bool { return r.heading == "" && r.field.Key == l.GHL }); i >= 0 {
			s.ghlList.ScrollTo(i)
		}
	}
	s.adList.Refresh()
	s.ghlList.Refresh()
}

// countUnmapped puts the number of contact fields no link reads in the
// ActiveDEMAND column's title. Passwords are never sent, and message
// fields fill messages, so neither counts.
func (s *mappingScreen) countUnmapped() {
	n := 0
	for _, f := range s.cat.AD {
		if f.Type == mapping.Secret || f.Group == mapping.GroupMessage {
			continue
		}
		if !slices.ContainsFunc(s.links, func(l mapping.Link) bool { return l.AD == f.Key }) {
			n++
		}
	}
	text := "ActiveDEMAND fields"
	if n > 0 {
		text += fmt.Sprintf(" · %d unmapped", n)
	}
	s.adTitle.SetText(text)
}
