package ui

// The form of the selected link: its two fields, its transform, and a
// form for the transform's parameters that fits each kind (a choice, a
// line of text, a list of layouts, a table of lookup entries).

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

// keyList is a list that hands keys to the screen before its own: the
// screen moves between its columns with the arrow keys and adds or
// deletes links with Insert and Delete.
type keyList struct {
	widget.List
	onKey func(*fyne.KeyEvent) bool
	// screen is the screen the list belongs to, found through its
	// widgets by tests.
	screen *mappingScreen
	// headings are the rows drawn one line tall.
	headings []int
}

func newKeyList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *keyList {
	l := &keyList{}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey gives the screen the first say.
func (l *keyList) TypedKey(e *fyne.KeyEvent) {
	if l.onKey != nil && l.onKey(e) {
		return
	}
	l.List.TypedKey(e)
}

// setLink replaces the selected link after an edit in its form.
func (s *mappingScreen) setLink(i int, l mapping.Link) {
	if i < 0 || i >= len(s.links) {
		return
	}
	s.links[i] = l
	s.edited()
}

// buildEditor draws the form of the selected link.
func (s *mappingScreen) buildEditor() {
	s.editor.RemoveAll()
	s.partLabels = nil
	i := s.selected
	if i < 0 || i >= len(s.links) {
		hint := widget.NewLabel(fmt.Sprintf("Select a link to edit it. Add a link with %[1]s+N or Insert, delete the selected one with %[1]s+D or Delete (%[1]s+Z undoes), "+
			"save with %[1]s+S; Tab, the arrow keys and Alt+←/→ move between the field lists and the links. "+
			"A HighLevel custom field is written customFields.<id>: type its id (HighLevel: Settings, Custom Fields) under the HighLevel fields.", shortcutMod()))
		hint.Wrapping = fyne.TextWrapWord
		s.editor.Add(hint)
		return
	}
	l := s.links[i]
	problem := func() *widget.Label {
		p := widget.NewLabel("")
		p.Importance = widget.DangerImportance
		p.Wrapping = fyne.TextWrapWord
		p.Hide()
		return p
	}
	s.partLabels = map[string]*widget.Label{"ad": problem(), "ghl": problem(), "transform": problem()}

	// ActiveDEMAND side: keys with labels; a key the catalog lacks (a
	// deleted field) stays choosable so the link reads as it is.
	adOpts := []string{mapping.NoADField}
	adKey := map[string]string{mapping.NoADField: mapping.NoADField}
	for _, f := range s.cat.AD {
		o := f.Key + " · " + f.Label
		adOpts = append(adOpts, o)
		adKey[o] = f.Key
	}
	cur := mapping.NoADField
	for o, k := range adKey {
		if k == l.AD {
			cur = o
		}
	}
	if l.AD != "" && adKey[cur] != l.AD {
		adOpts = append(adOpts, l.AD)
		adKey[l.AD] = l.AD
		cur = l.AD
	}
	ad := widget.NewSelect(adOpts, nil)
	ad.SetSelected(cur)
	ad.OnChanged = func(o string) {
		nl := s.links[i]
		nl.AD = adKey[o]
		s.setLink(i, nl)
	}

	ghlOpts := make([]string, 0, len(s.cat.GHL))
	for _, f := range s.cat.GHL {
		ghlOpts = append(ghlOpts, f.Key)
	}
	ghl := newFwdSelectEntry(ghlOpts)
	ghl.SetText(l.GHL)
	ghl.SetPlaceHolder("a field, or customFields.<id>")
	ghl.OnChanged = func(t string) {
		nl := s.links[i]
		nl.GHL = strings.TrimSpace(t)
		s.setLink(i, nl)
	}

	var names []string
	for _, sp := range s.cat.Transforms {
		names = append(names, sp.Name)
	}
	name := l.Transform.Name
	if name == "" {
		name = mapping.Copy
	}
	if !slices.Contains(names, name) {
		names = append(names, name) // unknown: shown so its problem makes sense
	}
	tr := widget.NewSelect(names, nil)
	tr.SetSelected(name)
	help := widget.NewLabel(s.spec(name).Help)
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	tr.OnChanged = func(n string) {
		nl := s.links[i]
		sp := s.spec(n)
		// Keep the parameters the new transform also has.
		params := map[string]any{}
		for _, p := range sp.Params {
			if v, ok := nl.Transform.Params[p.Name]; ok {
				params[p.Name] = v
			}
		}
		if len(params) == 0 {
			params = nil
		}
		nl.Transform = mapping.Transform{Name: n, Params: params}
		if sp.Computed {
			nl.AD = mapping.NoADField
		}
		s.setLink(i, nl)
		s.buildEditor()
		s.showPartProblems()
	}

	form := widget.NewForm(
		widget.NewFormItem("ActiveDEMAND", container.NewVBox(ad, s.partLabels["ad"])),
		widget.NewFormItem("Transform", container.NewVBox(tr, help, s.partLabels["transform"])),
	)
	for _, p := range s.spec(name).Params {
		form.Append(p.Name, s.paramEditor(i, p))
	}
	form.Append("HighLevel", container.NewVBox(ghl, s.partLabels["ghl"]))
	s.editor.Add(bold(linkHeading(i, l)))
	s.editor.Add(form)
	s.showPartProblems()
}

func linkHeading(i int, l mapping.Link) string {
	return fmt.Sprintf("Link %d: %s", i+1, l)
}

func (s *mappingScreen) spec(name string) mapping.TransformSpec {
	for _, sp := range s.cat.Transforms {
		if sp.Name == name {
			return sp
		}
	}
	return mapping.TransformSpec{Name: name, Help: "a transform this Parley does not know: pick another"}
}

// setParam sets (or, for an empty value, removes) one parameter of link
// i's transform. The parameter map is copied: the links handed to a check
// in flight keep theirs.
func (s *mappingScreen) setParam(i int, name string, v any, empty bool) {
	if i < 0 || i >= len(s.links) {
		return
	}
	nl := s.links[i]
	params := map[string]any{}
	for k, x := range nl.Transform.Params {
		params[k] = x
	}
	if empty {
		delete(params, name)
	} else {
		params[name] = v
	}
	if len(params) == 0 {
		params = nil
	}
	nl.Transform.Params = params
	s.setLink(i, nl)
}

// paramEditor is the form for one parameter, by its kind.
func (s *mappingScreen) paramEditor(i int, p mapping.ParamSpec) fyne.CanvasObject {
	help := widget.NewLabel(p.Help)
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	cur := s.links[i].Transform.Params[p.Name]
	switch {
	case p.Kind == mapping.ParamText && len(p.Choices) > 0:
		sel := widget.NewSelect(p.Choices, nil)
		if v, _ := cur.(string); v != "" {
			sel.SetSelected(v)
		}
		sel.PlaceHolder = "(default)"
		sel.OnChanged = func(v string) { s.setParam(i, p.Name, v, v == "") }
		return container.NewVBox(sel, help)
	case p.Kind == mapping.ParamText:
		e := newFwdEntry()
		if v, _ := cur.(string); v != "" {
			e.SetText(v)
		}
		e.SetPlaceHolder(p.Name)
		e.OnChanged = func(v string) { s.setParam(i, p.Name, v, v == "" && !p.Required) }
		return container.NewVBox(e, help)
	case p.Kind == mapping.ParamList:
		e := newFwdMultiLineEntry()
		e.SetMinRowsVisible(3)
		switch v := cur.(type) {
		case []string:
			e.SetText(strings.Join(v, "\n"))
		case string:
			e.SetText(v)
		}
		e.SetPlaceHolder("one per line")
		e.OnChanged = func(v string) {
			var lines []string
			for _, ln := range strings.Split(v, "\n") {
				if ln = strings.TrimSpace(ln); ln != "" {
					lines = append(lines, ln)
				}
			}
			s.setParam(i, p.Name, lines, len(lines) == 0)
		}
		return container.NewVBox(e, help)
	case p.Kind == mapping.ParamTable:
		return s.tableEditor(i, p, help)
	}
	return help
}

// tableEditor edits a lookup's entries as rows of two entries. The rows
// keep their order while edited; the table is built from them.
func (s *mappingScreen) tableEditor(i int, p mapping.ParamSpec, help fyne.CanvasObject) fyne.CanvasObject {
	type row struct{ from, to *fwdEntry }
	var rows []*row
	box := container.NewVBox()
	commit := func() {
		table := map[string]string{}
		for _, r := range rows {
			if r.from.Text != "" || r.to.Text != "" {
				table[r.from.Text] = r.to.Text
			}
		}
		s.setParam(i, p.Name, table, len(table) == 0)
	}
	add := func(from, to string) {
		r := &row{from: newFwdEntry(), to: newFwdEntry()}
		r.from.SetText(from)
		r.to.SetText(to)
		r.from.SetPlaceHolder("ActiveDEMAND value")
		r.to.SetPlaceHolder("HighLevel value")
		r.from.OnChanged = func(string) { commit() }
		r.to.OnChanged = func(string) { commit() }
		var line *fyne.Container
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			rows = slices.DeleteFunc(rows, func(x *row) bool { return x == r })
			box.Remove(line)
			commit()
		})
		line = container.NewBorder(nil, nil, nil, remove, container.NewGridWithColumns(2, r.from, r.to))
		rows = append(rows, r)
		box.Add(line)
	}
	cur, _ := s.links[i].Transform.Params[p.Name].(map[string]string)
	keys := make([]string, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, cur[k])
	}
	addBtn := widget.NewButtonWithIcon("Add entry", theme.ContentAddIcon(), func() { add("", "") })
	return container.NewVBox(box, addBtn, help)
}
