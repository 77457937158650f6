package ui

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/mapping"
)

// mappingRig is a real engine whose field lists and sample contacts come
// from the ActiveDEMAND sandbox over loopback, with one contact that has
// custom fields (Company, City, Lead Source and a password).
type mappingRig struct {
	st *store.Store
	e  *engine.Engine
}

func newMappingRig(t *testing.T) *mappingRig {
	t.Helper()
	as := adtest.NewTestServer(t, adtest.Options{})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.AddContact(adtest.NewContact{FirstName: "Grace", LastName: "Hopper", Email: "Grace.Hopper@Example.com", Phone: "(902) 555-0199",
		Custom: map[string]string{"custom_1": "Pine & Co", "custom_2": "Halifax", "custom_4": "Trade show", "custom_5": "hunter2"}}); err != nil {
		t.Fatal(err)
	}
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	gc, err := ghl.New(ghl.Config{BaseURL: gs.URL(), LocationID: gs.LocationID(), PrivateToken: ghl.Secret(gs.PrivateToken()),
		HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}, RateLimit: ghl.RateLimit{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	r := &mappingRig{st: newTestStore(t)}
	if r.e, err = engine.New(engine.Config{Store: r.st, GHL: gc, ProviderID: gs.ConversationProviderID(), ADFields: ad}); err != nil {
		t.Fatal(err)
	}
	return r
}

// openMapping shows the Mapping screen once its first check has landed.
func openMapping(t *testing.T, r *mappingRig, size fyne.Size) (*Console, *mappingScreen, uiLoop) {
	t.Helper()
	c, loop := newTestConsole(t, Deps{Mapping: r.e, Location: time.UTC})
	c.Window().Resize(size)
	c.Show(mappingTitle)
	s := screenOf(t, c)
	s.delay = 10 * time.Millisecond
	loop.runUntil(t, "the mapping to load and be checked", func() bool { return s.loaded && s.checked && s.preview != nil })
	return c, s, loop
}

// screenOf finds the Mapping screen on display through its lists. It
// walks the renderers Fyne has, unlike test.LaidOutObjects, which makes
// new ones and so leaves a list drawing into a scroller nobody shows.
func screenOf(t *testing.T, c *Console) *mappingScreen {
	t.Helper()
	var find func(o fyne.CanvasObject) *mappingScreen
	find = func(o fyne.CanvasObject) *mappingScreen {
		var kids []fyne.CanvasObject
		switch x := o.(type) {
		case *keyList:
			return x.screen
		case *fyne.Container:
			kids = x.Objects
		case fyne.Widget:
			kids = test.WidgetRenderer(x).Objects()
		}
		for _, k := range kids {
			if s := find(k); s != nil {
				return s
			}
		}
		return nil
	}
	s := find(c.Window().Canvas().Content())
	if s == nil {
		t.Fatal("the Mapping screen is not on display")
	}
	return s
}

// settle waits for the check of the latest edit.
func settle(t *testing.T, s *mappingScreen, loop uiLoop) {
	t.Helper()
	loop.runUntil(t, "the mapping check", func() bool { return s.checked })
}

func labelWith(labels []string, substr string) bool {
	return slices.ContainsFunc(labels, func(l string) bool { return strings.Contains(l, substr) })
}

func shortcut(c *Console, s fyne.Shortcut) {
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(s)
}

// overlayButton taps the button of the open dialog whose text is text.
func tapOverlayButton(t *testing.T, c *Console, text string) {
	t.Helper()
	top := c.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog is open to tap %q in", text)
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("the dialog has no button %q", text)
}

func TestMappingShowsTheDefaultMapping(t *testing.T) {
	r := newMappingRig(t)
	c, s, _ := openMapping(t, r, fyne.NewSize(1280, 960))
	labels := visibleLabels(c)
	for _, want := range []string{
		"1. first_name → firstName", "trim",
		"3. " + activedemand.FieldEmail + " → email", "lower",
		"4. " + activedemand.FieldPhone + " → phone", "e164",
		"5. (none) → source", `constant "ActiveDEMAND"`,
		"custom_1 → companyName", // by its label, Company
		"No mapping was saved yet: this is the default one.",
		"Email · required", "email · email  ·  ← " + activedemand.FieldEmail,
	} {
		if !labelWith(labels, want) {
			t.Errorf("no label with %q in %q", want, labels)
		}
	}
	// Unmapped AD fields are listed, and marked so; the password is
	// listed too, never mapped.
	s.adList.ScrollTo(slices.IndexFunc(s.adRows, func(f fieldRow) bool { return f.field.Key == "custom_5" }))
	rows := fieldRows(s.adList)
	if rows["Lead Source"] != "custom_4 · choice  ·  unmapped" || rows["Tags"] != "custom_3 · text  ·  unmapped" {
		t.Errorf("unmapped fields are not marked: %q", rows)
	}
	if !strings.Contains(rows["Portal Password"], "never sent") {
		t.Errorf("the password field is not marked as never sent: %q", rows)
	}
	if len(s.problems) != 0 {
		t.Errorf("the default mapping has problems: %v", s.problems)
	}
	if s.saveBtn.Disabled() {
		t.Error("Save is disabled for a mapping without problems")
	}
}

// fieldRows is what a field list shows: each field's name with the line
// under it, its key, type and mark.
func fieldRows(l *keyList) map[string]string {
	out := map[string]string{}
	for _, o := range test.LaidOutObjects(l) {
		if row, ok := o.(*fyne.Container); ok && row.Visible() {
			if _, lines := row.Layout.(tightLines); lines {
				out[row.Objects[0].(*widget.Label).Text] = row.Objects[1].(*widget.Label).Text
			}
		}
	}
	return out
}

// A required HighLevel field is flagged until one of its rule's fields
// is mapped; removing both email and phone shows the problem of the whole
// mapping and disables Save.
func TestMappingFlagsRequiredFieldsUntilMapped(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	if labelWith(visibleLabels(c), "required: not mapped") {
		t.Fatal("email is flagged though the default maps it")
	}
	for range 2 {
		i := slices.IndexFunc(s.links, func(l mapping.Link) bool { return l.GHL == "email" || l.GHL == "phone" })
		s.linkList.Select(i)
		s.deleteSelected()
	}
	settle(t, s, loop)
	labels := visibleLabels(c)
	if !labelWith(labels, "required: not mapped") || !labelWith(labels, "HighLevel's email or phone is not mapped") {
		t.Errorf("no flag on the required fields in %q", labels)
	}
	if !s.saveBtn.Disabled() {
		t.Error("Save is enabled for a mapping without email or phone")
	}
}

// A link whose transform cannot read its field shows its problem on the
// link and under the part it names, and Save is disabled until it is
// fixed.
func TestMappingShowsAProblemInline(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	shortcut(c, mappingAddShortcut)
	i := len(s.links) - 1
	if s.selected != i {
		t.Fatalf("the new link is not selected: selected %d of %d", s.selected, len(s.links))
	}
	// A date conversion of a picklist value, made in the link's form: the
	// transform is at fault.
	optionSelect(t, s.editor, "custom_4 · Lead Source").SetSelected("custom_4 · Lead Source")
	ghlField := selectEntryIn(t, s.editor)
	ghlField.SetText("customFields.seen")
	selectIn(t, s.editor, mapping.Trim).SetSelected(mapping.DateConv)
	settle(t, s, loop)
	if l := s.links[i]; l.AD != "custom_4" || l.GHL != "customFields.seen" || l.Transform.Name != mapping.DateConv {
		t.Fatalf("the form made %v", l)
	}
	if !s.saveBtn.Disabled() {
		t.Error("Save is enabled while a link has a problem")
	}
	row := "⚠ the date transform does not read a choice field"
	if !labelWith(visibleLabels(c), row) {
		t.Errorf("the link's row does not show %q: %q", row, visibleLabels(c))
	}
	part := s.partLabels["transform"]
	if part.Hidden || !strings.Contains(part.Text, "does not read a choice field") || part.Importance != widget.DangerImportance {
		t.Errorf("the transform's problem label = %q (hidden %v); want the problem, highlighted", part.Text, part.Hidden)
	}
	if !s.partLabels["ad"].Hidden || !s.partLabels["ghl"].Hidden {
		t.Error("a problem of the transform is shown under the fields too")
	}
	// Ctrl+S does nothing but say why.
	shortcut(c, mappingSaveShortcut)
	if c.Window().Canvas().Overlays().Top() != nil {
		t.Error("Ctrl+S opened the save dialog for a mapping with problems")
	}
	selectIn(t, s.editor, mapping.DateConv).SetSelected(mapping.Trim)
	settle(t, s, loop)
	if s.saveBtn.Disabled() || !s.partLabels["transform"].Hidden {
		t.Errorf("fixing the link leaves Save disabled (%v) or the problem shown (%q)", s.saveBtn.Disabled(), s.partLabels["transform"].Text)
	}
}

// Adding a link with a lookup transform through the form: its entries
// table fills the parameter and the preview shows the value it maps to.
func TestMappingLookupLinkPreviews(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	// Pick Lead Source on the left, then add a link from it.
	s.adList.Select(slices.IndexFunc(s.adRows, func(f fieldRow) bool { return f.field.Key == "custom_4" }))
	test.Type(s.customID, "lead_source")
	test.Tap(buttonIn(t, s.win.Canvas().Content(), "Link to it"))
	i := len(s.links) - 1
	if l := s.links[i]; l.AD != "custom_4" || l.GHL != "customFields.lead_source" {
		t.Fatalf("new link = %v; want custom_4 → customFields.lead_source", l)
	}
	// The transform select, then the entries table, as a person does.
	trSel := selectIn(t, s.editor, mapping.Trim)
	trSel.SetSelected(mapping.Lookup)
	test.Tap(buttonIn(t, s.editor, "Add entry"))
	entries := entriesIn(s.editor, "ActiveDEMAND value")
	tos := entriesIn(s.editor, "HighLevel value")
	if len(entries) != 1 || len(tos) != 1 {
		t.Fatalf("the entries table has %d/%d entries; want one row", len(entries), len(tos))
	}
	test.Type(entries[0], "trade show")
	test.Type(tos[0], "event")
	settle(t, s, loop)
	if len(s.problems) != 0 {
		t.Fatalf("problems: %v", s.problems)
	}
	want := map[string]string{"trade show": "event"}
	if got, _ := s.links[i].Transform.Params["entries"].(map[string]string); !maps.Equal(got, want) {
		t.Errorf("entries = %v; want %v", got, want)
	}
	s.tabs.SelectIndex(1)
	labels := visibleLabels(c)
	if !labelWith(labels, `customFields.lead_source: "Trade show" → "event"`) {
		t.Errorf("the preview lacks the mapped value: %q", labels)
	}
	if !strings.Contains(s.previewInput.Text, `"field_value": "event"`) || !strings.Contains(s.previewInput.Text, `"email": "grace.hopper@example.com"`) {
		t.Errorf("the contact input previewed = %s", s.previewInput.Text)
	}
	if strings.Contains(s.previewInput.Text, "hunter2") || labelWith(labels, "hunter2") {
		t.Error("the preview shows the sample's password")
	}
}

func buttonIn(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func selectIn(t *testing.T, o fyne.CanvasObject, selected string) *widget.Select {
	t.Helper()
	for _, x := range test.LaidOutObjects(o) {
		if sel, ok := x.(*widget.Select); ok && sel.Selected == selected {
			return sel
		}
	}
	t.Fatalf("no select showing %q", selected)
	return nil
}

// optionSelect is the select offering option.
func optionSelect(t *testing.T, o fyne.CanvasObject, option string) *widget.Select {
	t.Helper()
	for _, x := range test.LaidOutObjects(o) {
		if sel, ok := x.(*widget.Select); ok && slices.Contains(sel.Options, option) {
			return sel
		}
	}
	t.Fatalf("no select offers %q", option)
	return nil
}

func selectEntryIn(t *testing.T, o fyne.CanvasObject) *fwdSelectEntry {
	t.Helper()
	for _, x := range test.LaidOutObjects(o) {
		if e, ok := x.(*fwdSelectEntry); ok {
			return e
		}
	}
	t.Fatal("no select entry")
	return nil
}

func entriesIn(o fyne.CanvasObject, placeholder string) []*fwdEntry {
	var out []*fwdEntry
	for _, x := range test.LaidOutObjects(o) {
		if e, ok := x.(*fwdEntry); ok && e.PlaceHolder == placeholder {
			out = append(out, e)
		}
	}
	return out
}

// Save asks for a note and makes version 1, then 2 with the diff; revert
// to 1 makes version 3 equal to 1.
func TestMappingSaveAndRevert(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	saveWithNote := func(note string, want int) {
		t.Helper()
		shortcut(c, mappingSaveShortcut)
		if s.noteEntry == nil || c.Window().Canvas().Overlays().Top() == nil {
			t.Fatal("Ctrl+S opened no dialog")
		}
		test.Type(s.noteEntry, note)
		tapOverlayButton(t, c, "Save")
		loop.runUntil(t, "the new version in the list", func() bool { return len(s.versions) > 0 && s.versions[0].Version == want })
		s.noteEntry = nil
	}
	saveWithNote("the default as it is", 1)
	v1 := slices.Clone(s.links)

	s.links = append(s.links, mapping.Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: mapping.Transform{Name: mapping.Lookup,
		Params: map[string]any{"entries": map[string]string{"Trade show": "event"}, "default": "other"}}})
	s.edited()
	settle(t, s, loop)
	saveWithNote("map lead source", 2)

	s.tabs.SelectIndex(2)
	labels := visibleLabels(c)
	for _, want := range []string{"Version 2 · ", " by " + store.CurrentUser() + " · map lead source · 8 fields", "+ custom_4 → lookup (1 entries) → customFields.lead_source",
		"Version 1 · ", "the first saved version"} {
		if !labelWith(labels, want) {
			t.Errorf("the version list lacks %q: %q", want, labels)
		}
	}

	// Revert to version 1 through its button and the confirmation.
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
	tapOverlayButton(t, c, "Revert")
	loop.runUntil(t, "version 3", func() bool { return len(s.versions) == 3 && s.versions[0].Version == 3 })
	got, err := r.e.MappingAt(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, v1, sameLink) || !slices.EqualFunc(s.links, v1, sameLink) {
		t.Errorf("version 3 = %v, editor %v; want version 1 %v", got, s.links, v1)
	}
	if !strings.Contains(s.versions[0].changes, "− custom_4 → lookup") || s.versions[0].Note != "revert to version 1" {
		t.Errorf("version 3 row = %q, %q", s.versions[0].Note, s.versions[0].changes)
	}
}

// Delete removes the selected link from the keyboard, Ctrl+Z puts it back
// where it was; Ctrl+N and Insert add links; the arrow keys move between
// the columns.
func TestMappingKeyboard(t *testing.T) {
	r := newMappingRig(t)
	c, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	before := slices.Clone(s.links)
	canvas := c.Window().Canvas()

	canvas.Focus(s.linkList)
	s.linkList.Select(1) // lastName
	s.linkList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if len(s.links) != len(before)-1 || slices.ContainsFunc(s.links, func(l mapping.Link) bool { return l.GHL == "lastName" }) {
		t.Fatalf("Delete left %v", s.links)
	}
	if s.undoBtn.Disabled() {
		t.Error("Undo is disabled after a delete")
	}
	shortcut(c, mappingUndoShortcut)
	if !slices.EqualFunc(s.links, before, sameLink) {
		t.Fatalf("Ctrl+Z gave %v; want %v", s.links, before)
	}
	settle(t, s, loop)

	shortcut(c, mappingAddShortcut)
	s.linkList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyInsert})
	if len(s.links) != len(before)+2 {
		t.Errorf("Ctrl+N and Insert made %d links; want %d", len(s.links), len(before)+2)
	}

	s.linkList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	if canvas.Focused() != s.adList {
		t.Errorf("Left from the links focused %T; want the ActiveDEMAND list", canvas.Focused())
	}
	s.adList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	s.linkList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if canvas.Focused() != s.ghlList {
		t.Errorf("Right twice focused %T; want the HighLevel list", canvas.Focused())
	}
	// Tab walks the focusable widgets in order; from the left column it
	// reaches the links.
	canvas.Focus(s.adList)
	canvas.FocusNext()
	if canvas.Focused() != s.linkList {
		t.Errorf("Tab from the ActiveDEMAND list focused %T; want the links", canvas.Focused())
	}

	// The screen's shortcuts do nothing on another screen.
	c.Show("History")
	n := len(s.links)
	shortcut(c, mappingAddShortcut)
	if len(s.links) != n {
		t.Error("Ctrl+N added a link while another screen was shown")
	}
}

// The editor as a person sees it at the console's first size, with a bad
// link selected: its problem in the list and under its transform; and at
// a laptop's size with the preview. See golden_test.go for how to renew
// the pictures. Fyne's software painter, which draws them, clips an
// entry's text to the entry's own scroller and not to the link form's as
// well, so an entry scrolled out of the form (its placeholder, "region")
// is drawn below the window's content; the desktop driver clips both.
func TestMappingLooks(t *testing.T) {
	for _, tc := range []struct {
		file string
		size fyne.Size
		tab  int
	}{
		{"console/mapping_editor.png", fyne.NewSize(startWidth, startHeight), 0},
		{"console/mapping_preview_1366.png", fyne.NewSize(1366, 768), 1},
	} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(tc.file, "console/"), ".png"), func(t *testing.T) {
			r := newMappingRig(t)
			a := test.NewTempApp(t)
			test.ApplyTheme(t, variantTheme{theme.DefaultTheme(), theme.VariantLight})
			loop := newUILoop()
			c := NewConsole(a, Deps{History: r.st, Mapping: r.e, Location: time.UTC, Do: loop.post})
			t.Cleanup(c.Window().Close)
			c.Window().Resize(tc.size)
			c.Window().Show()
			c.Show(mappingTitle)
			s := screenOf(t, c)
			s.delay = 10 * time.Millisecond
			loop.runUntil(t, "the mapping to load and be checked", func() bool { return s.loaded && s.checked && s.preview != nil })
			// A phone number's transform on a picklist, to a custom field.
			s.links = append(s.links, mapping.Link{AD: "custom_4", GHL: "customFields.mobile", Transform: mapping.Transform{Name: mapping.E164}})
			s.edited()
			s.linkList.Select(len(s.links) - 1)
			s.tabs.SelectIndex(tc.tab)
			settle(t, s, loop)
			loop.idleFor(50 * time.Millisecond)
			assertLooks(t, tc.file, c.Window().Canvas().Capture())
		})
	}
}

// TestMappingPreviewUsesARealMessage: with "with a message" ticked, the
// preview adds the sample contact's newest message the sync has read from
// ActiveDEMAND and says which; a contact with none gets an example, said
// to be one.
func TestMappingPreviewUsesARealMessage(t *testing.T) {
	r := newMappingRig(t)
	_, s, loop := openMapping(t, r, fyne.NewSize(1280, 960))
	s.withMessage.SetChecked(true)
	settle(t, s, loop)
	if !strings.Contains(s.withMessage.Text, "an example (Parley has read none of this contact's messages yet)") {
		t.Fatalf("before any message the check says %q", s.withMessage.Text)
	}

	contactID := s.samples[s.sample].ContactID
	job, err := engine.APIMessageJob(activedemand.Message{ID: "ad-m-1", ConversationID: "ad-cv-1", ContactID: activedemand.ID(contactID),
		Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "Do you deliver to Halifax?", SentAt: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)},
		activedemand.Conversation{ID: "ad-cv-1", ContactID: activedemand.ID(contactID)}, activedemand.Contact{ID: activedemand.ID(contactID), FirstName: "Grace"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.EnqueueBatch(context.Background(), []store.OutboxJob{job}); err != nil {
		t.Fatal(err)
	}
	s.withMessage.SetChecked(false)
	s.withMessage.SetChecked(true)
	settle(t, s, loop)
	loop.runUntil(t, "the real message", func() bool { return strings.Contains(s.withMessage.Text, "with a message: SMS in, 3 Nov 2026") })
}
