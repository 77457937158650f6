package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
)

// exportFile is one of the parser's test exports.
func exportFile(name string) string {
	return filepath.Join("..", "sync", "activedemand", "testdata", name)
}

// newImportConsole is a console with the real engine importer over a
// temporary store.
func newImportConsole(t *testing.T, opts engine.ImporterOptions, wrap func(*engine.Importer) ExportImporter) (*Console, uiLoop, *store.Store) {
	t.Helper()
	s := newTestStore(t)
	var imp ExportImporter = engine.NewImporter(s, opts)
	if wrap != nil {
		imp = wrap(engine.NewImporter(s, opts))
	}
	c, loop := newTestConsole(t, Deps{History: s, Importer: imp})
	return c, loop, s
}

// overlayTexts returns the text of every label and button in the topmost
// dialog.
func overlayTexts(c *Console) []string {
	top := c.Window().Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	var texts []string
	for _, o := range test.LaidOutObjects(top) {
		switch w := o.(type) {
		case *widget.Label:
			texts = append(texts, w.Text)
		case *widget.Button:
			texts = append(texts, w.Text)
		}
	}
	return texts
}

func containsText(texts []string, substr string) bool {
	return slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, substr) })
}

// listLines renders every line of a list, as the list would.
func listLines(l *widget.List) []string {
	var lines []string
	item := l.CreateItem()
	for i := range l.Length() {
		l.UpdateItem(i, item)
		lines = append(lines, item.(*widget.Label).Text)
	}
	return lines
}

// waitPreview starts the flow on paths and waits for its preview.
func waitPreview(t *testing.T, c *Console, loop uiLoop, paths ...string) {
	t.Helper()
	f := c.importer
	f.preview = nil
	f.startImport(paths)
	loop.runUntil(t, "the preview", func() bool { return f.preview != nil })
}

func waitResult(t *testing.T, c *Console, loop uiLoop) {
	t.Helper()
	loop.runUntil(t, "the import result", func() bool { return c.importer.result != nil })
}

func TestImportPreviewShowsCountsAndRejectedRows(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		// summary are parts of the preview's summary; rejected the start
		// of every rejected row listed.
		summary  []string
		rejected []string
	}{
		{
			name: "a contacts export with bad rows", files: []string{"contacts-bad.csv"},
			summary: []string{"contacts-bad.csv: 2 contacts and 0 messages."},
			rejected: []string{"contacts-bad.csv:3: ", "contacts-bad.csv:4: email_address", "contacts-bad.csv:5: ", "contacts-bad.csv:6: ",
				"contacts-bad.csv:7: duplicate", "contacts-bad.csv:9: "},
		},
		{
			// Together, activity rows that name a contact only by id find
			// it in the contacts export: nothing is rejected.
			name: "contacts and activity together", files: []string{"contacts.csv", "activity.csv"},
			summary: []string{"contacts.csv and activity.csv: 5 contacts and 6 messages in 4 conversations.",
				"1 contact is only named in the activity", "1 timeline entry (notes, form submissions) is not mirrored."},
		},
		{
			name: "an activity export alone", files: []string{"activity.csv"},
			summary: []string{"activity.csv: 0 contacts and 5 messages", "Add the contacts export too"},
			// Line 8, not 6: a message body before it spans three lines.
			rejected: []string{"activity.csv:8: contact_id 4100003 is not in any contacts export", "activity.csv:10: contact_id 4100002"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, loop, s := newImportConsole(t, engine.ImporterOptions{}, nil)
			var paths []string
			for _, f := range tt.files {
				paths = append(paths, exportFile(f))
			}
			waitPreview(t, c, loop, paths...)
			f := c.importer
			for _, want := range tt.summary {
				if !strings.Contains(f.summary.Text, want) {
					t.Errorf("summary %q lacks %q", f.summary.Text, want)
				}
			}
			texts := overlayTexts(c)
			if !slices.Contains(texts, f.summary.Text) {
				t.Errorf("the summary is not on display: %q", texts)
			}
			var tabs []string
			for _, it := range f.tabs.Items {
				tabs = append(tabs, it.Text)
			}
			if !slices.Equal(tabs, tt.files) {
				t.Errorf("tabs %q, want one per file %q", tabs, tt.files)
			}
			// The first file's rows are shown in its table.
			if !containsText(texts, "The first ") {
				t.Errorf("no description of the first rows: %q", texts)
			}
			var lines []string
			if f.rejected != nil {
				lines = listLines(f.rejected)
				if !containsText(texts, "will not be imported:") {
					t.Errorf("the rejected rows have no heading: %q", texts)
				}
			}
			if len(lines) != len(tt.rejected) {
				t.Fatalf("rejected rows listed: %q, want %d starting %q", lines, len(tt.rejected), tt.rejected)
			}
			for i, want := range tt.rejected {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("rejected row %d = %q, want it to start %q", i, lines[i], want)
				}
			}
			if f.importButton.Disabled() {
				t.Error("Import is disabled though there is something to import")
			}
			// A preview queues nothing.
			if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != 0 {
				t.Errorf("the preview queued %v", counts)
			}
		})
	}
}

func TestImportAddingAnUnreadableFileKeepsTheFirst(t *testing.T) {
	c, loop, _ := newImportConsole(t, engine.ImporterOptions{}, nil)
	waitPreview(t, c, loop, exportFile("contacts.csv"))
	f := c.importer

	notExport := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(notExport, []byte("order,total\n1,20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.preview.Hide() // as "Add another file…" does
	f.problem = nil
	f.startImport([]string{exportFile("contacts.csv"), notExport})
	loop.runUntil(t, "the problem dialog", func() bool { return f.problem != nil })
	if want := "neither a contacts nor an activity export"; !strings.Contains(f.problemText.Text, want) ||
		!strings.Contains(f.problemText.Text, "first_name, email_address") || !containsText(overlayTexts(c), "Cannot import orders.csv") {
		t.Errorf("problem says %q; want what is wrong and what to do", f.problemText.Text)
	}
	f.preview = nil
	f.problem.Hide()
	if f.preview == nil || !slices.Equal(f.paths, []string{exportFile("contacts.csv")}) {
		t.Fatalf("after the problem: paths %v, preview shown %v; want back to contacts.csv", f.paths, f.preview != nil)
	}
	if !strings.Contains(f.summary.Text, "contacts.csv: 5 contacts") {
		t.Errorf("summary %q", f.summary.Text)
	}
}

func TestImportRunsToTheEndAndSaysWhatHappened(t *testing.T) {
	c, loop, s := newImportConsole(t, engine.ImporterOptions{BatchSize: 3}, nil)
	f := c.importer
	files := []string{exportFile("contacts.csv"), exportFile("activity.csv")}
	waitPreview(t, c, loop, files...)

	var fractions []float64
	test.Tap(f.importButton)
	if f.bar == nil || f.cancelButton == nil || !containsText(overlayTexts(c), "Cancel") {
		t.Fatal("no progress dialog with a Cancel button")
	}
	loop.runUntil(t, "the import result", func() bool {
		fractions = append(fractions, f.bar.Value)
		return f.result != nil
	})
	if f.bar.Value != 1 {
		t.Errorf("the progress bar ended at %v", f.bar.Value)
	}
	if !slices.IsSorted(fractions) {
		t.Errorf("the progress bar went backwards: %v", fractions)
	}
	for _, want := range []string{"Queued 5 contacts and 6 messages.", "The sync sends them to HighLevel when it runs.", "1 timeline entry"} {
		if !strings.Contains(f.resultText.Text, want) {
			t.Errorf("result %q lacks %q", f.resultText.Text, want)
		}
	}
	if !containsText(overlayTexts(c), "Import finished") {
		t.Errorf("result dialog: %q", overlayTexts(c))
	}
	if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != 11 {
		t.Errorf("outbox %v, want 11 pending", counts)
	}

	// Show in History: the new entry is there.
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Show in History" {
			test.Tap(b)
		}
	}
	if c.Current() != "History" {
		t.Fatalf("Show in History shows %q", c.Current())
	}
	loop.runUntil(t, "the import in the history", func() bool {
		return len(c.history.rows) > 0 && c.history.rows[0].Operation == store.OpImport
	})
	if e := c.history.rows[0]; e.Outcome != store.OutcomeOK || !strings.Contains(e.Error, "5 contacts, 6 messages queued") {
		t.Errorf("history entry %+v", e)
	}

	// The same files again queue nothing, and say so.
	f.result.Hide()
	f.result = nil
	waitPreview(t, c, loop, files...)
	test.Tap(f.importButton)
	waitResult(t, c, loop)
	if !strings.Contains(f.resultText.Text, "Queued 0 contacts and 0 messages.") ||
		!strings.Contains(f.resultText.Text, "11 contacts and messages were already queued by an earlier import and skipped.") {
		t.Errorf("second import says %q", f.resultText.Text)
	}
}

// pausingImporter is the engine's importer; its first import stops once it
// has queued `after` items until it is cancelled: a cancel that lands
// part-way, every time.
type pausingImporter struct {
	*engine.Importer
	after   int64
	reached chan struct{}
	once    sync.Once
}

func (p *pausingImporter) Import(ctx context.Context, paths []string, progress func(engine.ImportProgress)) (engine.ImportResult, error) {
	return p.Importer.Import(ctx, paths, func(pr engine.ImportProgress) {
		progress(pr)
		if pr.Phase == engine.PhaseQueueing && pr.Done >= p.after {
			p.once.Do(func() {
				close(p.reached)
				<-ctx.Done()
			})
		}
	})
}

func TestImportCancelPartWay(t *testing.T) {
	const contacts, messages, batch = 40, 3000, 100
	dir := t.TempDir()
	var cb, ab strings.Builder
	cb.WriteString("id,first_name,email_address\n")
	for i := range contacts {
		fmt.Fprintf(&cb, "%d,P%d,p%d@example.com\n", 100+i, i, i)
	}
	ab.WriteString("id,contact_id,channel,direction,date,body\n")
	for i := range messages {
		fmt.Fprintf(&ab, "m%d,%d,sms,inbound,2025-01-01T00:%02d:%02dZ,Hello %d\n", i, 100+i%contacts, i/60%60, i%60, i)
	}
	cp, ap := filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "activity.csv")
	for p, body := range map[string]string{cp: cb.String(), ap: ab.String()} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reached := make(chan struct{})
	c, loop, s := newImportConsole(t, engine.ImporterOptions{BatchSize: batch}, func(im *engine.Importer) ExportImporter {
		return &pausingImporter{Importer: im, after: contacts + batch, reached: reached}
	})
	f := c.importer
	waitPreview(t, c, loop, cp, ap)
	test.Tap(f.importButton)
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the import never reached its first batch of messages")
	}
	test.Tap(f.cancelButton)
	if !f.cancelButton.Disabled() || f.cancelButton.Text != "Cancelling…" {
		t.Errorf("Cancel button after the tap: %q disabled=%v", f.cancelButton.Text, f.cancelButton.Disabled())
	}
	waitResult(t, c, loop)
	if !containsText(overlayTexts(c), "Import cancelled") ||
		!strings.Contains(f.resultText.Text, "Stopped after queueing 40 contacts and 100 messages.") ||
		!strings.Contains(f.resultText.Text, "Import the same files again to queue the rest") {
		t.Errorf("after cancelling: %q / %q", overlayTexts(c), f.resultText.Text)
	}
	if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != contacts+batch {
		t.Errorf("outbox after the cancel: %v, want %d pending", counts, contacts+batch)
	}

	// Running it again queues the rest, once.
	f.result.Hide()
	f.result = nil
	waitPreview(t, c, loop, cp, ap)
	test.Tap(f.importButton)
	waitResult(t, c, loop)
	if !strings.Contains(f.resultText.Text, "Queued 0 contacts and 2,900 messages.") || !strings.Contains(f.resultText.Text, "140 contacts and messages were already queued") {
		t.Errorf("second run says %q", f.resultText.Text)
	}
	if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != contacts+messages {
		t.Errorf("outbox after the second run: %v, want %d pending", counts, contacts+messages)
	}
}

func TestImportFailureSaysWhatToDo(t *testing.T) {
	c, loop, _ := newImportConsole(t, engine.ImporterOptions{}, nil)
	f := c.importer
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte("email_address\na@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitPreview(t, c, loop, path)
	// The file goes away between the preview and the import.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	test.Tap(f.importButton)
	waitResult(t, c, loop)
	if !containsText(overlayTexts(c), "Cannot import contacts.csv") || !strings.Contains(f.resultText.Text, "pick it again") {
		t.Errorf("failure says %q / %q", overlayTexts(c), f.resultText.Text)
	}
}

func TestImportEntryPoints(t *testing.T) {
	c, _, _ := newImportConsole(t, engine.ImporterOptions{}, nil)
	dir := t.TempDir()
	c.app.Preferences().SetString(importDirKey, dir)
	fileDialogShown := func() bool {
		return containsText(overlayTexts(c), "Choose an ActiveDEMAND export (CSV or JSON)")
	}
	closeOverlays := func() {
		for c.Window().Canvas().Overlays().Top() != nil {
			c.Window().Canvas().Overlays().Remove(c.Window().Canvas().Overlays().Top())
		}
	}

	// Ctrl+I.
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(importShortcut)
	if !fileDialogShown() {
		t.Fatalf("Ctrl+I shows %q", overlayTexts(c))
	}
	closeOverlays()

	// File > Import ActiveDEMAND Export…
	file := c.Window().MainMenu().Items[0]
	item := file.Items[0]
	if file.Label != "File" || item.Label != "Import ActiveDEMAND Export…" || item.Shortcut != importShortcut || item.Disabled {
		t.Fatalf("File menu item = %+v", item)
	}
	item.Action()
	if !fileDialogShown() {
		t.Fatalf("the menu item shows %q", overlayTexts(c))
	}
	closeOverlays()

	// The button on the Connections screen's ActiveDEMAND card.
	c.Show("Connections")
	var button *widget.Button
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Import export file…" {
			button = b
		}
	}
	if button == nil || button.Disabled() {
		t.Fatalf("Connections has no enabled import button (%v)", button)
	}
	test.Tap(button)
	if !fileDialogShown() {
		t.Fatalf("the Connections button shows %q", overlayTexts(c))
	}
	closeOverlays()
}

func TestImportWithoutAnImporterIsDisabled(t *testing.T) {
	c, _ := newTestConsole(t, Deps{})
	item := c.Window().MainMenu().Items[0].Items[0]
	if !item.Disabled {
		t.Error("File > Import is enabled without an importer")
	}
	c.Show("Connections")
	var button *widget.Button
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Import export file…" {
			button = b
		}
	}
	if button == nil || !button.Disabled() {
		t.Fatalf("the Connections import button is not disabled: %v", button)
	}
	if !slices.Contains(visibleLabels(c), importUnavailable) {
		t.Errorf("nothing says why the import is disabled: %q", visibleLabels(c))
	}
	// The shortcut explains instead of doing nothing.
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(importShortcut)
	if !containsText(overlayTexts(c), importUnavailable) {
		t.Errorf("Ctrl+I without an importer shows %q", overlayTexts(c))
	}
}

func TestProgressRelayKeepsOneUpdateInFlight(t *testing.T) {
	loop := newUILoop()
	var shown []engine.ImportProgress
	r := &progressRelay{do: loop.post, show: func(p engine.ImportProgress) { shown = append(shown, p) }}
	for i := range 100 {
		r.update(engine.ImportProgress{Phase: engine.PhaseQueueing, Done: int64(i + 1), Total: 100})
	}
	if len(loop) != 1 {
		t.Fatalf("%d updates waiting for the UI, want 1", len(loop))
	}
	loop.runUntil(t, "the update", func() bool { return len(shown) == 1 })
	if shown[0].Done != 100 {
		t.Errorf("the UI was shown %+v, want the latest", shown[0])
	}
	r.update(engine.ImportProgress{Phase: engine.PhaseQueueing, Done: 100, Total: 100})
	if len(loop) != 1 {
		t.Error("an update after the last one was shown was not posted")
	}
}

func TestCountsAndSizesInWords(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{plural(1, "row"), "1 row"},
		{plural(0, "row"), "0 rows"},
		{plural(100000, "contact"), "100,000 contacts"},
		{plural(2, "timeline entry", "timeline entries"), "2 timeline entries"},
		{pluralVerb(1234567, "row was", "rows were"), "1,234,567 rows were"},
		{byteSize(999), "999 B"},
		{byteSize(209_715_200), "210 MB"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// blockingImporter previews until its context ends, and counts the
// previews still running.
type blockingImporter struct {
	ExportImporter
	running atomic.Int32
}

func (b *blockingImporter) Preview(ctx context.Context, path string) (engine.ImportPreview, error) {
	b.running.Add(1)
	defer b.running.Add(-1)
	<-ctx.Done()
	return engine.ImportPreview{}, ctx.Err()
}

// A preview the user walked away from (another file picked while it ran)
// still ends with the window, so closing it never waits on a big file.
func TestImportWorkEndsWithTheWindow(t *testing.T) {
	imp := &blockingImporter{}
	c, _ := newTestConsole(t, Deps{Importer: imp})
	f := c.importer
	waitRunning := func(n int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); imp.running.Load() != n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d previews running, want %d", imp.running.Load(), n)
			}
		}
	}
	f.startImport([]string{"a.csv"})
	waitRunning(1)
	f.startImport([]string{"b.csv"})
	waitRunning(2)
	stopped := make(chan struct{})
	go func() {
		f.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatalf("closing the window left %d previews running", imp.running.Load())
	}
}

// The preview lists the files an import would upload, and a note about
// many rows is one line.
func TestImportPreviewListsAttachmentsAndFewNotes(t *testing.T) {
	c, loop, _ := newImportConsole(t, engine.ImporterOptions{}, nil)
	waitPreview(t, c, loop, exportFile("activity.csv"))
	f := c.importer
	if f.attachments == nil {
		t.Fatal("no attachment list")
	}
	lines := listLines(f.attachments)
	if len(lines) != 1 || !strings.Contains(lines[0], "quote.pdf") || !containsText(overlayTexts(c), "1 file on this computer will be uploaded") {
		t.Errorf("attachments listed: %q", lines)
	}

	var b strings.Builder
	b.WriteString(`{"contacts": [`)
	for i := range 300 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": "%d", "emails": [{"email_address": "a%d@example.com"}, {"email_address": "b%d@example.com"}]}`, i+1, i, i)
	}
	b.WriteString(`], "activity": []}`)
	path := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f.preview.Hide()
	waitPreview(t, c, loop, path)
	notes := 0
	for _, text := range overlayTexts(c) {
		if strings.HasPrefix(text, "Note:") {
			notes++
		}
	}
	if notes != 1 || !containsText(overlayTexts(c), "300 rows: only the first email address") {
		t.Errorf("%d notes shown: %q", notes, overlayTexts(c))
	}
}
