package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/routing"
	"parley/sync/transcript"
)

func openAutomations(t *testing.T, d Deps, tab string) (*Console, uiLoop) {
	t.Helper()
	c, loop := newTestConsole(t, d)
	c.Show("Automations")
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if tabs, ok := o.(*container.AppTabs); ok {
			i := slices.IndexFunc(tabs.Items, func(it *container.TabItem) bool { return it.Text == tab })
			if i < 0 {
				t.Fatalf("no tab %q", tab)
			}
			tabs.SelectIndex(i)
			loop.idleFor(20 * time.Millisecond)
			return c, loop
		}
	}
	t.Fatal("the Automations screen has no tabs")
	return nil, nil
}

func autoCheck(c *Console, text string) *widget.Check {
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if ch, ok := o.(*widget.Check); ok && o.Visible() && ch.Text == text {
			return ch
		}
	}
	return nil
}

// overlayButton is the button of the top dialog whose text is text.
func overlayButton(t *testing.T, c *Console, text string) *widget.Button {
	t.Helper()
	top := c.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog shown, looking for %q", text)
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("the dialog has no %q button", text)
	return nil
}

func switchOn(t *testing.T, st *store.Store, s engine.Switch) bool {
	t.Helper()
	on, err := st.AutomationEnabled(context.Background(), string(s))
	if err != nil {
		t.Fatal(err)
	}
	return on
}

// TestAutomationSwitchesStoreAndMirrorAsks switches an action off from
// the catalog, and tries Mirror: it goes off only after the dialog saying
// what that stops is confirmed.
func TestAutomationSwitchesStoreAndMirrorAsks(t *testing.T) {
	st := newTestStore(t)
	c, loop := openAutomations(t, Deps{History: st, Automations: st}, "Actions")
	transcripts := autoCheck(c, "Fetch transcript")
	if transcripts == nil || !transcripts.Checked {
		t.Fatalf("Fetch transcript switch %+v, want shown and on", transcripts)
	}
	test.Tap(transcripts)
	loop.runUntil(t, "the switch to be stored", func() bool { return !switchOn(t, st, engine.SwitchFetchTranscript) })
	waitForLabel(t, c, loop, "Fetch transcript is off")

	mirror := autoCheck(c, "Mirror")
	test.Tap(mirror)
	overlayButton(t, c, "Keep Mirror on").OnTapped()
	loop.idleFor(50 * time.Millisecond)
	if !mirror.Checked || !switchOn(t, st, engine.SwitchMirror) {
		t.Fatal("Mirror went off though the dialog was cancelled")
	}
	test.Tap(mirror)
	overlayButton(t, c, "Switch off").OnTapped()
	loop.runUntil(t, "Mirror to be stored off", func() bool { return !switchOn(t, st, engine.SwitchMirror) })
	waitForLabel(t, c, loop, "Mirror is off")

	// Undo puts the last change back.
	test.Tap(syncButton(c, "Undo"))
	loop.runUntil(t, "Mirror back on", func() bool { return switchOn(t, st, engine.SwitchMirror) })
}

// applyTemplate taps a template's Apply button and confirms the dialog,
// returning the dialog's text.
func applyTemplate(t *testing.T, c *Console, loop uiLoop, name string) string {
	t.Helper()
	test.Tap(syncButton(c, "Apply "+name))
	loop.runUntil(t, "the template's dialog", func() bool { return c.Window().Canvas().Overlays().Top() != nil })
	var text []string
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Overlays().Top()) {
		if l, ok := o.(*widget.Label); ok {
			text = append(text, l.Text)
		}
	}
	overlayButton(t, c, "Apply").OnTapped()
	waitForLabel(t, c, loop, name+" is applied")
	return strings.Join(text, "\n")
}

// TestAutomationCallsArchiveTemplateSkipsSMS applies Calls archive from
// the screen (the dialog says what it changes) and runs a real engine
// over the HighLevel sandbox: the SMS are skipped, none is recorded.
func TestAutomationCallsArchiveTemplateSkipsSMS(t *testing.T) {
	r := newSyncRig(t, 0)
	r.queue(t, 3)
	c, loop := openAutomations(t, Deps{History: r.st, Automations: r.st}, "Templates")
	text := applyTemplate(t, c, loop, engine.TemplateCallsArchive)
	if !strings.Contains(text, "switch Record SMS, email and chat off") {
		t.Errorf("the dialog does not say SMS go off: %q", text)
	}
	r.start(t)
	// A wait, not a measurement: minutes under -race on a busy machine.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n, err := r.st.OutboxCounts(context.Background())
		if err == nil && n[store.OutboxPending]+n[store.OutboxInFlight] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SMS were not settled in time: %v, %v", n, err)
		}
		loop.idleFor(50 * time.Millisecond)
	}
	for _, cv := range r.gs.Conversations() {
		if n := len(r.gs.Messages(cv.ID)); n != 0 {
			t.Errorf("%d messages recorded in %s with Calls archive", n, cv.ID)
		}
	}
	rows, err := r.st.HistoryPage(context.Background(), store.HistoryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, h := range rows {
		if h.Outcome == store.OutcomeSkipped && strings.Contains(h.Error, "switched off in Automations") {
			skipped++
		}
	}
	if skipped != 3 {
		t.Errorf("%d skipped rows saying Automations, want one per SMS: %+v", skipped, rows)
	}
}

func ruleNames(st *store.Store) []string {
	recs, _ := st.Rules(context.Background())
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	return out
}

// TestAutomationSupportTriageAddsRules applies Support triage from the
// screen: its rules appear in the editor's list, and Undo takes them away.
func TestAutomationSupportTriageAddsRules(t *testing.T) {
	st := newTestStore(t)
	c, loop := openAutomations(t, Deps{History: st, Automations: st}, "Templates")
	text := applyTemplate(t, c, loop, engine.TemplateSupportTriage)
	if !strings.Contains(text, `add the rule "Refunds to billing"`) {
		t.Errorf("the dialog does not list the rules it adds: %q", text)
	}
	if got := ruleNames(st); len(got) != 3 {
		t.Fatalf("rules %v, want the three starter rules", got)
	}
	test.Tap(syncButton(c, "Undo"))
	loop.runUntil(t, "the rules to be removed", func() bool { return len(ruleNames(st)) == 0 })
	waitForLabel(t, c, loop, "is undone")
}

// ruleEntry is the form's entry whose placeholder starts with prefix.
func ruleEntry(t *testing.T, c *Console, prefix string) *widget.Entry {
	t.Helper()
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if e, ok := o.(*widget.Entry); ok && o.Visible() && strings.HasPrefix(e.PlaceHolder, prefix) {
			return e
		}
	}
	t.Fatalf("no entry %q", prefix)
	return nil
}

// TestRuleEditorInvalidRegexInline types a regular expression that does
// not compile: the problem shows under the regex field and Save is off;
// fixing it turns Save on.
func TestRuleEditorInvalidRegexInline(t *testing.T) {
	st := newTestStore(t)
	c, loop := openAutomations(t, Deps{History: st, Automations: st}, "Routing rules")
	test.Tap(syncButton(c, "Add rule"))
	test.Type(ruleEntry(t, c, "e.g. Refunds"), "Orders")
	test.Type(ruleEntry(t, c, "HighLevel tag"), "team-orders")
	test.Type(ruleEntry(t, c, "optional RE2"), "order (")
	save := syncButton(c, "Save")
	if !save.Disabled() {
		t.Error("Save is on for a regex that does not compile")
	}
	if !hasLabel(c, "the regular expression does not compile") {
		t.Errorf("no inline problem for the regex: %q", visibleLabels(c))
	}
	regex := ruleEntry(t, c, "optional RE2")
	regex.SetText(`order #?\d{5}`)
	if save.Disabled() || hasLabel(c, "does not compile") {
		t.Errorf("a valid rule: Save disabled %v, labels %q", save.Disabled(), visibleLabels(c))
	}
	test.Tap(save)
	loop.runUntil(t, "the rule to be saved", func() bool { return slices.Equal(ruleNames(st), []string{"Orders"}) })
}

// putTranscript plants a call transcript as the media flow stores it.
func putTranscript(t *testing.T, st *store.Store, dataDir, contactID, messageID string, at time.Time, lines ...string) {
	t.Helper()
	var ss []transcript.Sentence
	for i, l := range lines {
		ss = append(ss, transcript.Sentence{Channel: 1 + i%2, Start: time.Duration(i) * 7 * time.Second, End: time.Duration(i+1) * 7 * time.Second, Text: l, Confidence: 0.9})
	}
	var b bytes.Buffer
	if err := transcript.Encode(&b, ss); err != nil {
		t.Fatal(err)
	}
	rel := "media/" + contactID + "/" + messageID + ".json"
	if err := os.MkdirAll(filepath.Join(dataDir, "media", contactID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, filepath.FromSlash(rel)), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	if _, err := st.AddMedia(context.Background(), store.MediaFile{MessageID: messageID, ContactID: contactID, Kind: store.MediaTranscript,
		Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(b.Len()), ContentType: transcript.ContentType, FetchedAt: at}); err != nil {
		t.Fatal(err)
	}
}

// TestRulePreviewFindsPlantedTranscript tests an unsaved rule against the
// store's transcripts: the planted call's sentence is shown with the
// matched word, the contact and the offset, and nothing is saved.
func TestRulePreviewFindsPlantedTranscript(t *testing.T) {
	st, dir := newTestStore(t), t.TempDir()
	at := time.Date(2026, 11, 20, 15, 4, 0, 0, time.UTC)
	putTranscript(t, st, dir, "ghl-c-7", "ghl-m-7", at, "Hello, Parley Support.", "I want a refund for the last order.")
	putTranscript(t, st, dir, "ghl-c-8", "ghl-m-8", at.Add(time.Hour), "Just checking my delivery date.")
	c, loop := openAutomations(t, Deps{History: st, Automations: st, DataDir: dir, Location: time.UTC,
		RulePreview: &routing.Previewer{Store: st, DataDir: dir}}, "Routing rules")
	test.Tap(syncButton(c, "Add rule"))
	test.Type(ruleEntry(t, c, "e.g. Refunds"), "Refunds")
	test.Type(ruleEntry(t, c, "words, separated"), "refund*")
	test.Type(ruleEntry(t, c, "HighLevel tag"), "team-billing")
	test.Tap(syncButton(c, "Test this rule"))
	waitForLabel(t, c, loop, "It would have matched 1 of the 2 most recent calls")
	waitForLabel(t, c, loop, `ghl-c-7 · call of 20 Nov 2026 15:04 · at 0:07 · "refund" (sentence: I want a »refund« for the last order.)`)
	if n := len(ruleNames(st)); n != 0 {
		t.Errorf("%d rules stored by a test run", n)
	}
}

// TestRuleDeleteAndUndo deletes the middle rule after confirming, and
// Undo brings it back in its place; Move up and Alt+Down reorder.
func TestRuleDeleteAndUndo(t *testing.T) {
	st := newTestStore(t)
	ctx := context.Background()
	for _, n := range []string{"First", "Second", "Third"} {
		if _, err := routing.Save(ctx, st, routing.Rule{Name: n, Enabled: true,
			Conditions: routing.Conditions{Keywords: []string{strings.ToLower(n)}}, Actions: routing.Actions{TeamTag: "team-" + strings.ToLower(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	c, loop := openAutomations(t, Deps{History: st, Automations: st}, "Routing rules")
	list := ruleList(c)
	loop.runUntil(t, "the rules", func() bool { return list.Length() == 3 })
	list.Select(1)
	test.Tap(syncButton(c, "Delete"))
	overlayButton(t, c, "Delete").OnTapped()
	loop.runUntil(t, "the rule to go", func() bool { return slices.Equal(ruleNames(st), []string{"First", "Third"}) })
	waitForLabel(t, c, loop, `Deleted the rule "Second"`)
	test.Tap(syncButton(c, "Undo"))
	loop.runUntil(t, "the rule back in its place", func() bool { return slices.Equal(ruleNames(st), []string{"First", "Second", "Third"}) })

	// Move up puts it first. A reload of the list still in flight from
	// the undo would drop a selection made before it lands: let it land.
	loop.runUntil(t, "the list to reload", func() bool { return list.Length() == 3 })
	loop.idleFor(200 * time.Millisecond)
	list.Select(1)
	test.Tap(syncButton(c, "Move up"))
	loop.runUntil(t, "the new order", func() bool { return slices.Equal(ruleNames(st), []string{"Second", "First", "Third"}) })

	// Alt+Down moves it back down from the keyboard.
	loop.runUntil(t, "the list to reload", func() bool { return list.Length() == 3 })
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(ruleDownShortcut)
	loop.runUntil(t, "the order from the keyboard", func() bool { return slices.Equal(ruleNames(st), []string{"First", "Second", "Third"}) })
}

func ruleList(c *Console) *widget.List {
	// The last list laid out: the first is the navigation.
	var last *widget.List
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if l, ok := o.(*widget.List); ok && o.Visible() {
			last = l
		}
	}
	return last
}
