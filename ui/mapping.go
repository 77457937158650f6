package ui

// The Mapping screen edits the field mapping through the engine's API:
// ActiveDEMAND's fields on the left, HighLevel's on the right, the links
// in the middle. Every edit is checked (and previewed on a sample) off the
// UI goroutine after a short pause in typing; answers to an older edit are
// dropped by a generation counter, as History drops answers to old pages.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/engine"
	"parley/sync/mapping"
)

const (
	mappingTitle   = "Mapping"
	mappingPurpose = "Which ActiveDEMAND field fills which HighLevel field, and how. Every save is kept as a version you can return to."
	// mappingCheckDelay is the pause in editing after which the mapping
	// is checked: long enough not to ask the engine on every keystroke.
	mappingCheckDelay = 300 * time.Millisecond
	// mappingSampleLimit is how many ActiveDEMAND contacts the preview
	// offers.
	mappingSampleLimit = 20
	// mappingVersionLimit is how many versions the list shows with their
	// changes.
	mappingVersionLimit = 50
)

// removedLink is a deleted link Undo puts back where it was.
type removedLink struct {
	at   int
	link mapping.Link
}

// versionRow is one saved version with what changed from the one before.
type versionRow struct {
	store.MappingVersion
	links   []mapping.Link
	changes string
}

// fieldRow is a row of a field list: a heading or a field.
type fieldRow struct {
	heading string
	field   mapping.Field
}

type mappingScreen struct {
	ed    MappingEditor
	bg    background
	win   fyne.Window
	loc   *time.Location
	delay time.Duration
	// ctx is the current showing's; nil before the first.
	ctx context.Context

	loaded bool
	cat    mapping.Catalog
	links  []mapping.Link
	// saved are the links as read or last saved, to tell unsaved edits.
	saved    []mapping.Link
	base     int // the version the editor started from (0: the default)
	problems mapping.Problems
	checked  bool // problems are those of links as they are now
	preview  *mapping.Preview
	samples  []engine.MappingSample
	sample   int // index into samples, -1 for none
	removed  []removedLink
	selected int // link index, -1 for none
	adSel    int // row of adRows, -1 for none
	ghlSel   int
	versions []versionRow
	// gen grows with every edit; a check answers only the edit it was
	// asked for. Read off the UI goroutine, hence atomic.
	gen atomic.Int64

	heading *widget.Label
	// adTitle heads the ActiveDEMAND column with its count of unmapped
	// fields.
	adTitle       *widget.Label
	status        *widget.Label
	keysHelp      *widget.Label
	wholeProblems *widget.Label
	adRows        []fieldRow
	ghlRows       []fieldRow
	adList        *keyList
	linkList      *keyList
	ghlList       *keyList
	customID      *fwdEntry
	editor        *fyne.Container
	partLabels    map[string]*widget.Label
	addBtn        *widget.Button
	deleteBtn     *widget.Button
	undoBtn       *widget.Button
	saveBtn       *widget.Button
	sampleSel     *widget.Select
	withMessage   *widget.Check
	previewRows   *fyne.Container
	previewInput  *widget.Label
	versionList   *widget.List
	// undoRevertBtn undoes the last revert; hidden until one is made.
	undoRevertBtn *widget.Button
	lastRevert    *revertUndo
	tabs          *container.AppTabs
	editorTab     *container.TabItem
	noteEntry     *widget.Entry
	saveDialog    dialog.Dialog
}

func newMappingScreen(d Deps, bg background, win fyne.Window) *mappingScreen {
	s := &mappingScreen{ed: d.Mapping, bg: bg, win: win, loc: d.Location, delay: mappingCheckDelay,
		sample: -1, selected: -1, adSel: -1, ghlSel: -1}
	return s
}

// active says whether the screen is on display, so the window-wide
// shortcuts act only here.
func (s *mappingScreen) active() bool { return s.ctx != nil && s.ctx.Err() == nil && s.loaded }

func (s *mappingScreen) screen() *screen {
	return &screen{title: mappingTitle, icon: theme.ListIcon(), build: s.view, shown: s.shown, canLeave: s.canLeave}
}

func (s *mappingScreen) view() fyne.CanvasObject {
	if s.ed == nil {
		note := widget.NewLabelWithStyle("The field mapping is edited where the sync engine runs; this window has none.",
			fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
		return container.NewBorder(header(mappingTitle, mappingPurpose), nil, nil, nil, container.NewCenter(note))
	}
	s.status = widget.NewLabel("Reading the mapping…")
	s.keysHelp = widget.NewLabel(mappingKeysHelp(shortcutMod()))
	s.keysHelp.Wrapping = fyne.TextWrapWord
	s.keysHelp.SizeName = theme.SizeNameCaptionText
	s.status.Wrapping = fyne.TextWrapWord
	s.wholeProblems = widget.NewLabel("")
	s.wholeProblems.Importance = widget.DangerImportance
	s.wholeProblems.Wrapping = fyne.TextWrapWord
	s.wholeProblems.Hide()

	s.addBtn = widget.NewButtonWithIcon("Add link", theme.ContentAddIcon(), s.addLink)
	s.deleteBtn = widget.NewButtonWithIcon("Delete link", theme.DeleteIcon(), s.deleteSelected)
	s.undoBtn = widget.NewButtonWithIcon("Undo delete", theme.ContentUndoIcon(), s.undo)
	s.saveBtn = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() { s.askSave(nil) })
	s.saveBtn.Importance = widget.HighImportance
	for _, b := range []*widget.Button{s.addBtn, s.deleteBtn, s.undoBtn, s.saveBtn} {
		b.Disable()
	}

	s.adList = newKeyList(func() int { return len(s.adRows) }, newLinesRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		s.drawADRow(i, o)
	})
	s.adList.screen = s
	s.adList.OnSelected = func(i widget.ListItemID) { s.adSel = i }
	s.adList.onKey = s.fieldListKeys(fyne.KeyRight)
	s.ghlList = newKeyList(func() int { return len(s.ghlRows) }, newLinesRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		s.drawGHLRow(i, o)
	})
	s.ghlList.OnSelected = func(i widget.ListItemID) { s.ghlSel = i }
	s.ghlList.onKey = s.fieldListKeys(fyne.KeyLeft)
	s.linkList = newKeyList(func() int { return len(s.links) }, newLinesRow, func(i widget.ListItemID, o fyne.CanvasObject) { s.drawLinkRow(i, o) })
	s.linkList.OnSelected = func(i widget.ListItemID) { s.selectLink(i) }
	s.linkList.OnUnselected = func(widget.ListItemID) { s.selectLink(-1) }
	s.linkList.onKey = func(e *fyne.KeyEvent) bool {
		switch e.Name {
		case fyne.KeyLeft:
			s.win.Canvas().Focus(s.adList)
		case fyne.KeyRight:
			s.win.Canvas().Focus(s.ghlList)
		case fyne.KeyInsert:
			s.addLink()
		case fyne.KeyDelete, fyne.KeyBackspace:
			s.deleteSelected()
		default:
			return false
		}
		return true
	}

	s.customID = newFwdEntry()
	s.customID.SetPlaceHolder("custom field id")
	s.customID.OnSubmitted = func(string) { s.addCustom() }
	// How custom fields are named is told in the link form's hint.
	custom := container.NewBorder(nil, nil, nil, widget.NewButton("Link to it", s.addCustom), s.customID)

	s.adTitle = bold("ActiveDEMAND fields")
	left := container.NewBorder(columnTitle(s.adTitle), nil, nil, nil, s.adList)
	right := container.NewBorder(columnTitle(bold("HighLevel fields")), custom, nil, nil, s.ghlList)
	s.editor = container.NewVBox()
	middle := container.NewBorder(container.NewVBox(columnTitle(bold("Links: ActiveDEMAND → HighLevel")), s.wholeProblems), nil, nil, nil, s.linkList)
	inner := container.NewHSplit(middle, right)
	inner.Offset = 0.5
	columns := container.NewHSplit(left, inner)
	columns.Offset = 0.33

	s.sampleSel = widget.NewSelect(nil, func(string) {
		s.sample = s.sampleSel.SelectedIndex()
		s.scheduleCheck()
	})
	s.sampleSel.PlaceHolder = "(no sample contact)"
	s.withMessage = widget.NewCheck(withMessageText, func(bool) { s.scheduleCheck() })
	s.previewRows = container.NewVBox()
	s.previewInput = widget.NewLabel("")
	s.previewInput.TextStyle = fyne.TextStyle{Monospace: true}
	// The sample's select takes the room the label and the check leave:
	// its label is a name and an email address.
	preview := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabel("Sample contact"), s.withMessage, s.sampleSel), nil, nil, nil,
		container.NewHSplit(container.NewVScroll(s.previewRows),
			container.NewBorder(widget.NewLabel("HighLevel contact as it would be sent"), nil, nil, nil, container.NewVScroll(s.previewInput))))

	s.versionList = widget.NewList(func() int { return len(s.versions) }, func() fyne.CanvasObject {
		title := widget.NewLabel("")
		title.TextStyle = fyne.TextStyle{Bold: true}
		changes := widget.NewLabel("")
		changes.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), nil), container.NewVBox(title, changes))
	}, func(i widget.ListItemID, o fyne.CanvasObject) { s.drawVersionRow(i, o) })

	s.editorTab = container.NewTabItem("Link", container.NewVScroll(s.editor))
	s.tabs = container.NewAppTabs(s.editorTab, container.NewTabItem("Preview", preview), container.NewTabItem("Versions", s.versionsTab()))
	s.tabs.SelectIndex(1)
	body := container.NewVSplit(columns, s.tabs)
	body.Offset = 0.63
	return container.NewBorder(s.top(), s.status, nil, nil, body)
}

// top is the screen's header with the buttons beside the title and the
// keys under the purpose: the lists need the height a row of buttons of
// its own would take.
func (s *mappingScreen) top() fyne.CanvasObject {
	s.heading = widget.NewLabelWithStyle(mappingTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.heading.SizeName = theme.SizeNameSubHeadingText
	s.heading.Truncation = fyne.TextTruncateEllipsis
	intro := widget.NewLabel(mappingPurpose)
	intro.Wrapping = fyne.TextWrapWord
	buttons := container.NewHBox(s.addBtn, s.deleteBtn, s.undoBtn, s.saveBtn)
	// The caption's padding is taken up into the purpose's.
	keys := container.New(layout.NewCustomPaddedLayout(-theme.InnerPadding(), 0, 0, 0), s.keysHelp)
	return container.NewVBox(container.NewBorder(nil, nil, nil, buttons, s.heading), intro, keys, widget.NewSeparator())
}

// columnTitle heads a column, with half the padding below it that a
// label has: the list under it has its own.
func columnTitle(title *widget.Label) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedLayout(0, -theme.InnerPadding(), 0, 0), title)
}

func bold(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// shown reads everything on the first showing (or after a failed one);
// later showings keep the edits and read the versions again.
func (s *mappingScreen) shown(ctx context.Context) {
	s.ctx = ctx
	if s.ed == nil {
		return
	}
	s.addShortcuts()
	if s.loaded {
		s.loadVersions()
		return
	}
	s.bg.run(ctx, func(ctx context.Context) func() {
		cat, err := s.ed.MappingCatalog(ctx)
		if err != nil {
			return s.fail("read the field lists", err)
		}
		cur, err := s.ed.CurrentMapping(ctx)
		if err != nil {
			return s.fail("read the current mapping", err)
		}
		vs, verr := s.readVersions(ctx)
		samples, serr := s.ed.MappingSamples(ctx, mappingSampleLimit)
		return func() {
			s.cat, s.links, s.saved, s.base, s.loaded = cat, slices.Clone(cur.Links), slices.Clone(cur.Links), cur.Version, true
			s.samples = samples
			labels := make([]string, len(samples))
			for i, sm := range samples {
				labels[i] = sm.Label
			}
			s.sampleSel.SetOptions(labels)
			if len(samples) > 0 {
				s.sampleSel.SetSelectedIndex(0) // checks the mapping
			}
			s.versions = vs
			s.versionList.Refresh()
			var notes []string
			if cur.Default {
				notes = append(notes, "No mapping was saved yet: this is the default one.")
			} else {
				notes = append(notes, fmt.Sprintf("Editing version %d.", cur.Version))
			}
			if cat.ADNote != "" {
				notes = append(notes, cat.ADNote)
			}
			if verr != nil {
				notes = append(notes, verr.Error())
			}
			if serr != nil {
				notes = append(notes, "No sample contacts for the preview: "+serr.Error())
			}
			s.status.SetText(strings.Join(notes, " "))
			s.addBtn.Enable()
			s.edited()
		}
	})
}

// fail is a load's error, shown in the status line.
func (s *mappingScreen) fail(what string, err error) func() {
	return func() {
		s.status.SetText(fmt.Sprintf("Could not %s: %v. Check the connections, then open the Mapping screen again.", what, err))
	}
}

func (s *mappingScreen) readVersions(ctx context.Context) ([]versionRow, error) {
	vs, err := s.ed.MappingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("the saved versions could not be read: %w", err)
	}
	if len(vs) > mappingVersionLimit {
		vs = vs[:mappingVersionLimit]
	}
	rows := make([]versionRow, len(vs))
	for i, v := range vs {
		links, err := s.ed.MappingAt(ctx, v.Version)
		if err != nil {
			return nil, fmt.Errorf("version %d could not be read: %w", v.Version, err)
		}
		rows[i] = versionRow{MappingVersion: v, links: links}
	}
	for i := range rows {
		// Newest first: the version before is the next row.
		if i+1 < len(rows) && rows[i+1].Version == rows[i].Version-1 {
			rows[i].changes = describeChanges(rows[i+1].links, rows[i].links)
		} else if rows[i].Version == 1 {
			rows[i].changes = "the first saved version"
		}
	}
	return rows, nil
}

func (s *mappingScreen) loadVersions() {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		vs, err := s.readVersions(ctx)
		return func() {
			if err != nil {
				s.status.SetText(err.Error())
				return
			}
			s.versions = vs
			s.versionList.Refresh()
		}
	})
}

// describeChanges says what links gained, lost and changed from old, by
// HighLevel field, since that is what a link fills.
func describeChanges(old, cur []mapping.Link) string {
	before := map[string]mapping.Link{}
	for _, l := range old {
		before[l.GHL] = l
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range cur {
		seen[l.GHL] = true
		o, ok := before[l.GHL]
		switch {
		case !ok:
			out = append(out, "+ "+linkText(l))
		case o.AD != l.AD || o.Transform.Encode() != l.Transform.Encode():
			out = append(out, "~ "+linkText(o)+" ⇒ "+linkText(l))
		}
	}
	for _, l := range old {
		if !seen[l.GHL] {
			out = append(out, "− "+linkText(l))
		}
	}
	if len(out) == 0 {
		return "no change"
	}
	return strings.Join(out, "; ")
}

// linkText is a link as the lists show it: AD field → transform → GHL field.
func linkText(l mapping.Link) string {
	ad := l.AD
	if ad == "" {
		ad = mapping.NoADField
	}
	return ad + " → " + transformText(l.Transform) + " → " + l.GHL
}

// transformText is a transform with the gist of its parameters.
func transformText(t mapping.Transform) string {
	name := t.Name
	if name == "" {
		name = mapping.Copy
	}
	switch name {
	case mapping.Constant:
		return fmt.Sprintf("constant %q", paramText(t, "value"))
	case mapping.Template:
		return fmt.Sprintf("template %q", paramText(t, "text"))
	case mapping.Lookup:
		e, _ := t.Params["entries"].(map[string]string)
		return fmt.Sprintf("lookup (%d entries)", len(e))
	case mapping.E164:
		if r := paramText(t, "region"); r != "" {
			return "e164 " + r
		}
	case mapping.DateConv:
		if l := paramText(t, "layout"); l != "" {
			return "date as " + l
		}
	}
	return name
}

func paramText(t mapping.Transform, k string) string {
	s, _ := t.Params[k].(string)
	return s
}

func linkSource(l mapping.Link) string {
	if l.AD == "" || l.AD == mapping.NoADField {
		return transformText(l.Transform)
	}
	return l.AD
}

// requirementMet says whether each requirement naming key has one of its
// fields mapped: email or phone must be, not both.
func (s *mappingScreen) requirementMet(key string) bool {
	for _, req := range s.cat.Requirements {
		if !slices.Contains(req.OneOf, key) {
			continue
		}
		if !slices.ContainsFunc(s.links, func(l mapping.Link) bool { return slices.Contains(req.OneOf, l.GHL) }) {
			return false
		}
	}
	return true
}

func (s *mappingScreen) drawVersionRow(i widget.ListItemID, o fyne.CanvasObject) {
	row := o.(*fyne.Container)
	v := s.versions[i]
	box := row.Objects[0].(*fyne.Container)
	title, changes := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	revert := row.Objects[1].(*widget.Button)
	note := v.Note
	if note == "" {
		note = "(no note)"
	}
	by := v.SavedBy
	if by == "" {
		by = "someone (not recorded)"
	}
	title.SetText(fmt.Sprintf("Version %d · %s by %s · %s · %d fields", v.Version, v.SavedAt.In(s.loc).Format("2 Jan 2006 15:04"), by, note, v.Fields))
	changes.SetText(v.changes)
	revert.OnTapped = func() { s.askRevert(v.Version) }
	if i == 0 {
		revert.Disable()
	} else {
		revert.Enable()
	}
}

// rebuildFieldRows lists both sides' fields under headings; HighLevel's
// custom fields the links name are listed with the standard ones. The
// standard fields come first under the column's own title, which is
// heading enough: a row is worth more than the words "standard fields".
func (s *mappingScreen) rebuildFieldRows() {
	s.adRows = s.adRows[:0]
	for _, g := range []struct{ group, heading string }{{mapping.GroupContact, "Standard fields"}, {mapping.GroupCustom, "Custom fields"}, {mapping.GroupMessage, "Message fields"}} {
		first := true
		for _, f := range s.cat.AD {
			if f.Group != g.group {
				continue
			}
			if first && len(s.adRows) > 0 {
				s.adRows = append(s.adRows, fieldRow{heading: g.heading})
			}
			first = false
			s.adRows = append(s.adRows, fieldRow{field: f})
		}
	}
	s.ghlRows = s.ghlRows[:0]
	for _, f := range s.cat.GHL {
		s.ghlRows = append(s.ghlRows, fieldRow{field: f})
	}
	var custom []string
	for _, l := range s.links {
		if strings.HasPrefix(l.GHL, mapping.CustomPrefix) && !slices.Contains(custom, l.GHL) {
			custom = append(custom, l.GHL)
		}
	}
	sort.Strings(custom)
	if len(custom) > 0 {
		s.ghlRows = append(s.ghlRows, fieldRow{heading: "Custom fields in use"})
		for _, k := range custom {
			f, ok := s.cat.GHLField(k)
			if !ok {
				f = mapping.Field{Key: k, Label: k, Type: mapping.Text, Group: mapping.GroupCustom}
			}
			s.ghlRows = append(s.ghlRows, fieldRow{field: f})
		}
	}
}

// edited redraws after a change to the links and has them checked.
func (s *mappingScreen) edited() {
	s.rebuildFieldRows()
	s.markUnsaved()
	s.countUnmapped()
	setRowHeights(s.adList, s.adRows)
	setRowHeights(s.ghlList, s.ghlRows)
	s.adList.Refresh()
	s.ghlList.Refresh()
	s.linkList.Refresh()
	s.updateButtons()
	s.scheduleCheck()
}

func (s *mappingScreen) updateButtons() {
	enable := func(b *widget.Button, on bool) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	enable(s.deleteBtn, s.selected >= 0)
	enable(s.undoBtn, len(s.removed) > 0)
	enable(s.saveBtn, s.canSave())
	if s.undoBtn.Disabled() {
		s.undoBtn.SetText("Undo delete")
	} else {
		s.undoBtn.SetText("Undo delete of " + s.removed[len(s.removed)-1].link.String())
	}
}

// canSave is false while the links have problems or are not yet checked.
func (s *mappingScreen) canSave() bool { return s.loaded && s.checked && len(s.problems) == 0 }

// scheduleCheck checks the links, and previews them on the sample, once
// editing pauses for s.delay.
func (s *mappingScreen) scheduleCheck() {
	if !s.loaded {
		return
	}
	s.checked = false
	s.saveBtn.Disable()
	g := s.gen.Add(1)
	links := slices.Clone(s.links)
	sample := s.sampleRecord()
	withMsg, contactID := s.withMessage.Checked, ""
	if sample != nil {
		contactID = s.samples[s.sample].ContactID
	}
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		t := time.NewTimer(s.delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if s.gen.Load() != g {
			return nil // a newer edit has its own check coming
		}
		var p mapping.Preview
		var err error
		msgLabel := ""
		if sample != nil && withMsg {
			msgLabel = s.addSampleMessage(ctx, sample, contactID)
		}
		if sample != nil {
			p, err = s.ed.PreviewMapping(ctx, links, sample)
		} else {
			p.Problems, err = s.ed.ValidateMapping(ctx, links)
		}
		return func() {
			if s.gen.Load() != g {
				return
			}
			if err != nil {
				s.status.SetText("Could not check the mapping: " + err.Error() + ". Edit it again to retry.")
				return
			}
			s.problems, s.checked = p.Problems, true
			if msgLabel != "" {
				s.withMessage.SetText("with a message: " + msgLabel)
			} else {
				s.withMessage.SetText(withMessageText)
			}
			s.preview = nil
			if sample != nil {
				s.preview = &p
			}
			s.showProblems()
			s.showPreview()
			s.updateButtons()
		}
	})
}

// sampleRecord is the chosen sample contact's fields; nil without a
// sample.
func (s *mappingScreen) sampleRecord() mapping.Record {
	if s.sample < 0 || s.sample >= len(s.samples) {
		return nil
	}
	return maps.Clone(s.samples[s.sample].Record)
}

// withMessageText is the preview's message check before a message is
// read.
const withMessageText = "with a message"

// addSampleMessage adds to r the contact's newest message the sync has
// read from ActiveDEMAND, or an example message when there is none, and
// says which. It runs off the UI goroutine.
func (s *mappingScreen) addSampleMessage(ctx context.Context, r mapping.Record, contactID string) string {
	msg, ok, err := s.ed.MappingSampleMessage(ctx, contactID)
	if err == nil && ok {
		maps.Copy(r, msg.Record)
		return msg.Label
	}
	mapping.AddMessage(r, activedemand.Message{Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound,
		SenderName: r[activedemand.FieldFirstName], SenderPhone: r[activedemand.FieldPhone], SenderAddress: r[activedemand.FieldEmail],
		Subject: "Example message", Body: "Hello, is the offer still open?", SentAt: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		activedemand.Conversation{Subject: "Example conversation"})
	if err != nil {
		return "an example (this contact's messages could not be read: " + err.Error() + ")"
	}
	return "an example (Parley has read none of this contact's messages yet)"
}

func (s *mappingScreen) showProblems() {
	var whole []string
	for _, p := range s.problems {
		if p.Link == 0 {
			whole = append(whole, "⚠ "+p.Error())
		}
	}
	s.wholeProblems.SetText(strings.Join(whole, "\n"))
	s.wholeProblems.Hidden = len(whole) == 0
	s.wholeProblems.Refresh()
	s.linkList.Refresh()
	s.ghlList.Refresh()
	s.showPartProblems()
}

// showPartProblems puts the selected link's problems under the part each
// names.
func (s *mappingScreen) showPartProblems() {
	if s.partLabels == nil {
		return
	}
	texts := map[string][]string{}
	for _, p := range s.problems {
		if p.Link != s.selected+1 {
			continue
		}
		part := p.Part
		if _, ok := s.partLabels[part]; !ok {
			part = "transform"
		}
		msg := "⚠ " + p.Message
		if p.Fix != "" {
			msg += ": " + p.Fix
		}
		texts[part] = append(texts[part], msg)
	}
	for part, l := range s.partLabels {
		l.SetText(strings.Join(texts[part], "\n"))
		l.Hidden = len(texts[part]) == 0
	}
	// A label shown or hidden changes the form's rows' heights.
	s.editor.Refresh()
	for _, o := range s.editor.Objects {
		o.Refresh()
	}
}

func (s *mappingScreen) showPreview() {
	s.previewRows.RemoveAll()
	if s.preview == nil {
		s.previewRows.Add(widget.NewLabel("Pick a sample contact to see what the mapping sends."))
		s.previewInput.SetText("")
		return
	}
	for _, r := range s.preview.Result.Links {
		var text string
		l := widget.NewLabel("")
		switch {
		case r.Error != "":
			text = fmt.Sprintf("%d. %s: %s", r.Link, r.GHL, r.Error)
			l.Importance = widget.DangerImportance
		case r.Empty:
			text = fmt.Sprintf("%d. %s: no value, nothing sent", r.Link, r.GHL)
			l.Importance = widget.LowImportance
		default:
			text = fmt.Sprintf("%d. %s: %q → %q", r.Link, r.GHL, r.Before, r.After)
		}
		l.SetText(text)
		// Wrapped, not cut: the values are what the preview is for.
		l.Wrapping = fyne.TextWrapWord
		s.previewRows.Add(l)
	}
	b, err := json.MarshalIndent(s.preview.Result.Input, "", "  ")
	if err != nil {
		b = []byte(err.Error())
	}
	s.previewInput.SetText(string(b))
}

func (s *mappingScreen) selectLink(i int) {
	s.selected = i
	s.buildEditor()
	if i >= 0 {
		s.tabs.Select(s.editorTab)
	}
	s.showLinkFields()
	s.updateButtons()
}

// addLink adds a link from the AD field and to the HighLevel field picked
// in the side lists, or else the first unmapped ones, and selects it.
func (s *mappingScreen) addLink() {
	if !s.loaded {
		return
	}
	l := mapping.Link{AD: s.pickAD(), GHL: s.pickGHL(), Transform: mapping.Transform{Name: mapping.Trim}}
	s.insert(l)
}

func (s *mappingScreen) addCustom() {
	id := strings.TrimSpace(s.customID.Text)
	if id == "" || !s.loaded {
		s.status.SetText("Type the custom field's id from HighLevel (Settings, Custom Fields), then Link to it.")
		return
	}
	s.insert(mapping.Link{AD: s.pickAD(), GHL: mapping.CustomPrefix + id, Transform: mapping.Transform{Name: mapping.Trim}})
	s.customID.SetText("")
}

func (s *mappingScreen) insert(l mapping.Link) {
	s.links = append(s.links, l)
	s.edited()
	s.linkList.Select(len(s.links) - 1)
	s.linkList.ScrollToBottom()
}

func (s *mappingScreen) pickAD() string {
	if s.adSel >= 0 && s.adSel < len(s.adRows) && s.adRows[s.adSel].heading == "" {
		return s.adRows[s.adSel].field.Key
	}
	for _, r := range s.adRows {
		if r.heading == "" && r.field.Type != mapping.Secret && r.field.Group != mapping.GroupMessage &&
			!slices.ContainsFunc(s.links, func(l mapping.Link) bool { return l.AD == r.field.Key }) {
			return r.field.Key
		}
	}
	return mapping.NoADField
}

func (s *mappingScreen) pickGHL() string {
	if s.ghlSel >= 0 && s.ghlSel < len(s.ghlRows) && s.ghlRows[s.ghlSel].heading == "" {
		return s.ghlRows[s.ghlSel].field.Key
	}
	for _, f := range s.cat.GHL {
		if !slices.ContainsFunc(s.links, func(l mapping.Link) bool { return l.GHL == f.Key }) {
			return f.Key
		}
	}
	return ""
}

// deleteSelected removes the selected link; Undo puts it back.
func (s *mappingScreen) deleteSelected() {
	i := s.selected
	if i < 0 || i >= len(s.links) {
		return
	}
	s.removed = append(s.removed, removedLink{at: i, link: s.links[i]})
	s.links = slices.Delete(s.links, i, i+1)
	s.linkList.UnselectAll()
	s.selectLink(-1)
	s.status.SetText("Deleted " + s.removed[len(s.removed)-1].link.String() + ". Undo (Ctrl+Z) puts it back.")
	s.edited()
}

// undo puts the last deleted link back where it was.
func (s *mappingScreen) undo() {
	if len(s.removed) == 0 {
		return
	}
	r := s.removed[len(s.removed)-1]
	s.removed = s.removed[:len(s.removed)-1]
	at := min(r.at, len(s.links))
	s.links = slices.Insert(s.links, at, r.link)
	s.status.SetText("Restored " + r.link.String() + ".")
	s.edited()
	s.linkList.Select(at)
}

// askSave asks for the note of the new version, then saves; then, if
// set, runs once the version is saved.
func (s *mappingScreen) askSave(then func()) {
	if !s.canSave() {
		if s.loaded {
			s.status.SetText("The mapping has problems (marked ⚠); fix them before saving.")
		}
		return
	}
	s.noteEntry = widget.NewEntry()
	s.noteEntry.SetPlaceHolder("what changed, e.g. map lead source")
	s.noteEntry.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("write a note saying what changed")
		}
		return nil
	}
	links := slices.Clone(s.links)
	d := dialog.NewForm("Save the field mapping", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Note", s.noteEntry)}, func(ok bool) {
		if ok {
			s.save(links, strings.TrimSpace(s.noteEntry.Text), then)
		}
	}, s.win)
	d.Resize(fyne.NewSize(480, 0))
	s.saveDialog = d
	d.Show()
	s.win.Canvas().Focus(s.noteEntry)
}

func (s *mappingScreen) save(links []mapping.Link, note string, then func()) {
	s.status.SetText("Saving…")
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		v, err := s.ed.SaveMapping(ctx, links, note)
		return func() {
			if err != nil {
				s.status.SetText("The mapping was not saved: " + err.Error())
				return
			}
			s.base, s.saved = v, links
			s.dropRevertUndo()
			s.markUnsaved()
			s.status.SetText(fmt.Sprintf("Saved as version %d; the sync uses it from its next job.", v))
			s.loadVersions()
			if then != nil {
				then()
			}
		}
	})
}

// fieldListKeys are the keys of a side's field list: the arrow towards the
// middle moves to the links, Insert adds a link.
func (s *mappingScreen) fieldListKeys(toLinks fyne.KeyName) func(*fyne.KeyEvent) bool {
	return func(e *fyne.KeyEvent) bool {
		switch e.Name {
		case toLinks:
			s.win.Canvas().Focus(s.linkList)
		case fyne.KeyInsert:
			s.addLink()
		default:
			return false
		}
		return true
	}
}
