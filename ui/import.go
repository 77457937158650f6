package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dustin/go-humanize"

	"parley/sync/activedemand"
	"parley/sync/engine"
)

const (
	importTitle = "Import ActiveDEMAND Export"
	// importUnavailable says why the import is disabled.
	importUnavailable = "Importing is unavailable: this window was opened without Parley's sync engine."
	// importDirKey remembers the folder of the last file picked: exports
	// tend to land in the same Downloads folder every time.
	importDirKey = "import.lastDir"
	// The preview fits a few columns of rows and the rejected list.
	previewWidth, previewHeight = 820, 600
)

// importFlow is the console's import of an ActiveDEMAND export: pick one or
// more files, preview them, import them with a progress bar and a Cancel
// button, and say what happened. The engine does the work; this only talks
// to it through ExportImporter.
//
// Its fields are touched on the UI goroutine only. Previews and imports run
// in goroutines owned by bg, which hand their results back through do;
// stop cancels them and waits.
type importFlow struct {
	win         fyne.Window
	imp         ExportImporter
	do          func(func())
	prefs       fyne.Preferences
	showHistory func()

	bg sync.WaitGroup
	// life ends with the window (stop): every preview and import runs
	// under it, so none outlives the window, even one the user walked
	// away from. cancel stops the preview or import running now, if any.
	life    context.Context
	endLife context.CancelFunc
	cancel  context.CancelFunc
	// generation drops the result of a preview the user walked away from.
	generation int

	// paths are the files chosen for the next import; shown are those of
	// the preview on display (paths falls back to them when a file added
	// later cannot be read).
	paths, shown []string
	previews     map[string]engine.ImportPreview
	counts       engine.ExportCounts

	// The dialog on display and the widgets tests look at.
	busy          *dialog.CustomDialog
	preview       *dialog.CustomDialog
	summary       *widget.Label
	tabs          *container.AppTabs
	rejected      *widget.List
	rejectedRows  []activedemand.RowError
	attachments   *widget.List
	importButton  *widget.Button
	addButton     *widget.Button
	running       *dialog.CustomDialog
	bar           *widget.ProgressBar
	phase         *widget.Label
	cancelButton  *widget.Button
	result        *dialog.CustomDialog
	resultText    *widget.Label
	problem       *dialog.CustomDialog
	problemText   *widget.Label
	lastResult    engine.ImportResult
	lastImportErr error
}

func newImportFlow(win fyne.Window, imp ExportImporter, do func(func()), prefs fyne.Preferences, showHistory func()) *importFlow {
	life, endLife := context.WithCancel(context.Background())
	return &importFlow{win: win, imp: imp, do: do, prefs: prefs, showHistory: showHistory, previews: map[string]engine.ImportPreview{},
		life: life, endLife: endLife}
}

// available reports whether there is an engine to import with.
func (f *importFlow) available() bool { return f.imp != nil }

// stop ends the flow with its window: it cancels every preview and import
// still running and waits for their goroutines. Batches already written
// stay queued.
func (f *importFlow) stop() {
	f.endLife()
	f.bg.Wait()
}

// open starts the flow: the menu item, Ctrl+I and the Connections button.
func (f *importFlow) open() {
	if !f.available() {
		f.showProblem("Import unavailable", importUnavailable)
		return
	}
	f.paths, f.shown = nil, nil
	f.previews = map[string]engine.ImportPreview{} // a file may have changed since the last time
	f.pickFile()
}

// pickFile asks for one more export file; the files chosen so far stay.
func (f *importFlow) pickFile() {
	chosen := slices.Clone(f.paths)
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			f.showProblem("Cannot open the file", err.Error()+"\n\nPick the file again, or copy it into your Documents folder first.")
			return
		}
		if r == nil { // the user closed the dialog
			if len(chosen) > 0 {
				f.showPreview()
			}
			return
		}
		u := r.URI()
		_ = r.Close() // only the path is needed: the engine reads the file itself
		if u.Scheme() != "file" {
			f.showProblem("Cannot import from here", "Parley imports files on this computer only. Download the export first, then pick the downloaded file.")
			return
		}
		f.prefs.SetString(importDirKey, filepath.Dir(u.Path()))
		f.startImport(append(chosen, u.Path()))
	}, f.win)
	d.SetTitleText("Choose an ActiveDEMAND export (CSV or JSON)")
	d.SetConfirmText("Preview")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".json"}))
	if dir := f.prefs.String(importDirKey); dir != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(previewWidth, previewHeight-60))
	d.Show()
}

// startImport previews paths: each new file on its own (kind, columns,
// first rows) and all of them together (counts, rejected rows), off the UI
// goroutine, then shows the preview. The file dialog calls it; tests call it
// directly.
func (f *importFlow) startImport(paths []string) {
	f.paths = nil
	for _, p := range paths {
		if !slices.Contains(f.paths, p) { // the same file picked twice is one file
			f.paths = append(f.paths, p)
		}
	}
	var todo []string
	for _, p := range f.paths {
		if _, ok := f.previews[p]; !ok {
			todo = append(todo, p)
		}
	}
	ctx, cancel := context.WithCancel(f.life)
	f.cancel = cancel
	f.generation++
	gen := f.generation
	all := slices.Clone(f.paths)

	spinner := widget.NewProgressBarInfinite()
	text := widget.NewLabel("Reading " + fileNames(all) + "…")
	text.Wrapping = fyne.TextWrapWord
	f.busy = dialog.NewCustomWithoutButtons(importTitle, container.NewVBox(text, spinner), f.win)
	f.busy.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", func() {
		cancel()
		f.generation++ // its result no longer matters
		f.busy.Hide()
		f.backToShown()
	})})
	f.busy.Resize(fyne.NewSize(420, 0))
	f.busy.Show()

	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		defer cancel()
		previews := map[string]engine.ImportPreview{}
		var counts engine.ExportCounts
		var err error
		for _, p := range todo {
			var pv engine.ImportPreview
			if pv, err = f.imp.Preview(ctx, p); err != nil {
				break
			}
			previews[p] = pv
		}
		// Files read together link up (activity rows find their contacts
		// in the contacts export), so several files need a combined count.
		if err == nil && len(all) > 1 {
			counts, err = f.imp.Check(ctx, all)
		}
		f.do(func() {
			if gen != f.generation {
				return
			}
			f.busy.Hide()
			if err != nil {
				f.showFileProblem(err)
				return
			}
			for p, pv := range previews {
				f.previews[p] = pv
			}
			if len(all) == 1 {
				counts = f.previews[all[0]].ExportCounts
			}
			f.counts = counts
			f.showPreview()
		})
	}()
}

// backToShown returns to the preview on display before a file was added,
// if there was one.
func (f *importFlow) backToShown() {
	f.paths = slices.Clone(f.shown)
	if len(f.paths) > 0 {
		f.showPreview()
	}
}

func (f *importFlow) showFileProblem(err error) {
	title, msg := "Cannot import this file", err.Error()
	var fe *engine.ImportFileError
	if errors.As(err, &fe) {
		title, msg = "Cannot import "+fe.File, capitalize(fe.Problem)
	}
	f.showProblem(title, msg)
	f.problem.SetOnClosed(f.backToShown)
}

func (f *importFlow) showProblem(title, msg string) {
	f.problemText = widget.NewLabel(msg)
	f.problemText.Wrapping = fyne.TextWrapWord
	f.problem = dialog.NewCustom(title, "OK", container.NewGridWrap(fyne.NewSize(480, 150), container.NewVScroll(f.problemText)), f.win)
	f.problem.SetIcon(theme.WarningIcon())
	f.problem.Show()
}

// showPreview shows what importing the chosen files would queue.
func (f *importFlow) showPreview() {
	f.shown = slices.Clone(f.paths)
	n := f.counts

	f.summary = widget.NewLabel(previewSummary(f.paths, f.previews, n))
	f.summary.Wrapping = fyne.TextWrapWord

	f.tabs = container.NewAppTabs()
	for _, p := range f.paths {
		pv := f.previews[p]
		f.tabs.Append(container.NewTabItem(pv.File, fileView(pv)))
	}

	bottom := container.NewVBox()
	if n.Rejected > 0 {
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s will not be imported:", plural(n.Rejected, "row")), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		f.rejectedRows = n.Errors
		f.rejected = rowErrorList(n.Errors, n.Rejected)
		bottom.Add(head)
		bottom.Add(container.NewGridWrap(fyne.NewSize(previewWidth-40, 110), f.rejected))
	} else {
		f.rejected, f.rejectedRows = nil, nil
	}
	if n.AttachmentFiles > 0 {
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s on this computer will be uploaded to HighLevel:", plural(n.AttachmentFiles, "file")),
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		f.attachments = attachmentList(n.Attachments, n.AttachmentFiles)
		bottom.Add(head)
		bottom.Add(container.NewGridWrap(fyne.NewSize(previewWidth-40, 80), f.attachments))
	} else {
		f.attachments = nil
	}
	// The parser already counts a note repeated over many rows once; the
	// cap keeps many different notes from pushing the buttons off screen.
	for i, note := range n.Notes {
		if i == maxNotesShown {
			bottom.Add(lowLabel(fmt.Sprintf("… and %s", plural(len(n.Notes)-maxNotesShown, "more note"))))
			break
		}
		bottom.Add(lowLabel("Note: " + note))
	}

	content := container.NewBorder(f.summary, bottom, nil, nil, f.tabs)
	f.preview = dialog.NewCustomWithoutButtons(importTitle, content, f.win)
	f.importButton = widget.NewButtonWithIcon("Import", theme.DownloadIcon(), func() {
		f.preview.Hide()
		f.runImport()
	})
	f.importButton.Importance = widget.HighImportance
	if n.Contacts == 0 && n.Messages == 0 {
		f.importButton.Disable() // every row was rejected: nothing to queue
	}
	f.addButton = widget.NewButtonWithIcon("Add another file…", theme.ContentAddIcon(), func() {
		f.preview.Hide()
		f.pickFile()
	})
	f.preview.SetButtons([]fyne.CanvasObject{
		widget.NewButton("Cancel", func() { f.preview.Hide(); f.paths, f.shown = nil, nil }),
		f.addButton, f.importButton,
	})
	f.preview.Resize(fyne.NewSize(previewWidth, previewHeight))
	f.preview.Show()
}

// maxNotesShown is how many notes a preview shows.
const maxNotesShown = 5

func lowLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

// attachmentList lists the files an import would upload, with their sizes.
func attachmentList(files []activedemand.Attachment, total int) *widget.List {
	lines := make([]string, 0, len(files)+1)
	for _, a := range files {
		lines = append(lines, fmt.Sprintf("%s (%s)", a.Path, byteSize(a.Size)))
	}
	if total > len(files) {
		lines = append(lines, fmt.Sprintf("… and %s more", plural(total-len(files), "file")))
	}
	return widget.NewList(
		func() int { return len(lines) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(lines[id]) },
	)
}

// previewSummary says what the files hold and what importing them does.
func previewSummary(paths []string, previews map[string]engine.ImportPreview, n engine.ExportCounts) string {
	var b strings.Builder
	names := make([]string, len(paths))
	hasContacts := false
	for i, p := range paths {
		names[i] = previews[p].File
		hasContacts = hasContacts || previews[p].Kind == activedemand.KindContactsCSV || previews[p].Kind == activedemand.KindJSON
	}
	fmt.Fprintf(&b, "%s: %s and %s", joinNames(names), plural(n.Contacts, "contact"), plural(n.Messages, "message"))
	if n.Messages > 0 {
		fmt.Fprintf(&b, " in %s", plural(n.Conversations, "conversation"))
	}
	b.WriteString(".")
	if n.ContactsFromActivity > 0 {
		fmt.Fprintf(&b, " %s only named in the activity, not in a contacts export: HighLevel gets the name, email and phone the activity gives.",
			pluralVerb(n.ContactsFromActivity, "contact is", "contacts are"))
		if !hasContacts {
			b.WriteString(" Add the contacts export too (Add another file…) to import their details with them.")
		}
	}
	if n.Timeline > 0 {
		fmt.Fprintf(&b, " %s (notes, form submissions) %s not mirrored.", plural(n.Timeline, "timeline entry", "timeline entries"), isAre(n.Timeline))
	}
	b.WriteString("\nImport queues them for the sync, which sends them to HighLevel when it runs. Anything already queued by an earlier import is skipped.")
	return b.String()
}

// fileView shows one file's kind and first rows.
func fileView(pv engine.ImportPreview) fyne.CanvasObject {
	desc := string(pv.Kind)
	if pv.Separator != "" {
		desc += ", " + pv.Separator + "-separated"
	}
	desc += fmt.Sprintf(", %s, %s. The first %s:", plural(len(pv.Columns), "column"), byteSize(pv.Size), plural(len(pv.Rows), "row"))
	info := widget.NewLabel(desc)
	info.Wrapping = fyne.TextWrapWord

	t := widget.NewTable(
		func() (int, int) { return len(pv.Rows), len(pv.Columns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(pv.Rows) && id.Col < len(pv.Rows[id.Row]) {
				// One line per cell: a quoted newline would hide the next rows.
				o.(*widget.Label).SetText(strings.ReplaceAll(pv.Rows[id.Row][id.Col], "\n", " ⏎ "))
			}
		})
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(pv.Columns) {
			o.(*widget.Label).SetText(pv.Columns[id.Col])
		}
	}
	for i := range pv.Columns {
		t.SetColumnWidth(i, 150)
	}
	return container.NewBorder(info, nil, nil, nil, t)
}

// rowErrorList lists rejected rows as "file:line: reason", scrollable.
func rowErrorList(errs []activedemand.RowError, total int) *widget.List {
	lines := make([]string, 0, len(errs)+1)
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	if total > len(errs) {
		lines = append(lines, fmt.Sprintf("… and %s more", plural(total-len(errs), "row")))
	}
	l := widget.NewList(
		func() int { return len(lines) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			l.Importance = widget.DangerImportance
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(lines[id]) },
	)
	return l
}

// runImport imports the previewed files with a determinate progress bar.
func (f *importFlow) runImport() {
	paths := slices.Clone(f.paths)
	ctx, cancel := context.WithCancel(f.life)
	f.cancel = cancel

	f.bar = widget.NewProgressBar()
	f.phase = widget.NewLabel("Reading " + fileNames(paths) + "…")
	f.phase.Wrapping = fyne.TextWrapWord
	f.running = dialog.NewCustomWithoutButtons("Importing", container.NewVBox(f.phase, f.bar), f.win)
	f.cancelButton = widget.NewButton("Cancel", func() {
		cancel()
		f.cancelButton.Disable()
		f.cancelButton.SetText("Cancelling…")
		f.phase.SetText("Stopping after the batch being written; what is written stays queued…")
	})
	f.running.SetButtons([]fyne.CanvasObject{f.cancelButton})
	f.running.Resize(fyne.NewSize(480, 0))
	f.running.Show()

	relay := &progressRelay{do: f.do, show: f.showProgress}
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		defer cancel()
		res, err := f.imp.Import(ctx, paths, relay.update)
		f.do(func() { f.importDone(res, err) })
	}()
}

func (f *importFlow) showProgress(p engine.ImportProgress) {
	if f.cancelButton.Disabled() {
		f.bar.SetValue(p.Fraction())
		return // keep saying that it is stopping
	}
	switch p.Phase {
	case engine.PhaseReading:
		f.phase.SetText(fmt.Sprintf("Reading %s… (%s of %s)", p.File, byteSize(p.Done), byteSize(p.Total)))
	case engine.PhaseQueueing:
		f.phase.SetText(fmt.Sprintf("Queueing contacts and messages for the sync: %s of %s…", humanize.Comma(p.Done), humanize.Comma(p.Total)))
	}
	f.bar.SetValue(p.Fraction())
}

// progressRelay hands import progress to the UI goroutine, at most one
// update in flight: an import reports far more often than a bar can
// usefully repaint, and a queue of stale updates would trail the import.
type progressRelay struct {
	do   func(func())
	show func(engine.ImportProgress)

	mu      sync.Mutex
	latest  engine.ImportProgress
	pending bool
}

func (r *progressRelay) update(p engine.ImportProgress) {
	r.mu.Lock()
	r.latest = p
	post := !r.pending
	r.pending = true
	r.mu.Unlock()
	if post {
		r.do(func() {
			r.mu.Lock()
			p := r.latest
			r.pending = false
			r.mu.Unlock()
			r.show(p)
		})
	}
}

// importDone says what the import did and what happens next.
func (f *importFlow) importDone(res engine.ImportResult, err error) {
	f.running.Hide()
	f.lastResult, f.lastImportErr = res, err
	f.paths, f.shown = nil, nil
	f.previews = map[string]engine.ImportPreview{} // the files may change before the next import

	var title, text string
	cancelled := errors.Is(err, context.Canceled)
	switch {
	case err == nil:
		title = "Import finished"
		text = fmt.Sprintf("Queued %s and %s. The sync sends them to HighLevel when it runs.",
			plural(res.ContactsQueued, "contact"), plural(res.MessagesQueued, "message"))
		if res.AlreadyQueued > 0 {
			text += fmt.Sprintf("\n%s already queued by an earlier import and skipped.",
				pluralVerb(res.AlreadyQueued, "contact or message was", "contacts and messages were"))
		}
	case cancelled:
		title = "Import cancelled"
		text = fmt.Sprintf("Stopped after queueing %s and %s. Import the same files again to queue the rest: nothing is queued twice.",
			plural(res.ContactsQueued, "contact"), plural(res.MessagesQueued, "message"))
	default:
		var fe *engine.ImportFileError
		if errors.As(err, &fe) {
			title, text = "Cannot import "+fe.File, capitalize(fe.Problem)
		} else {
			title, text = "Import failed", "The import stopped: "+err.Error()+"\nWhat was queued before it stopped stays queued; import the same files again once the problem is fixed."
		}
	}
	if err == nil || cancelled {
		if res.Timeline > 0 {
			text += fmt.Sprintf("\n%s (notes, form submissions) %s not mirrored.", plural(res.Timeline, "timeline entry", "timeline entries"), isAre(res.Timeline))
		}
		if t := res.FieldsLeftOutText(); t != "" {
			text += "\n" + capitalize(t) + "."
		}
		if res.Rejected > 0 {
			text += fmt.Sprintf("\n%s not imported:", pluralVerb(res.Rejected, "row was", "rows were"))
		}
	}
	f.resultText = widget.NewLabel(text)
	f.resultText.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(f.resultText)
	f.rejected, f.rejectedRows = nil, nil
	if (err == nil || cancelled) && res.Rejected > 0 {
		f.rejectedRows = res.Errors
		f.rejected = rowErrorList(res.Errors, res.Rejected)
		content.Add(container.NewGridWrap(fyne.NewSize(previewWidth-80, 150), f.rejected))
	}
	f.result = dialog.NewCustomWithoutButtons(title, content, f.win)
	f.result.SetButtons([]fyne.CanvasObject{
		widget.NewButtonWithIcon("Show in History", theme.HistoryIcon(), func() { f.result.Hide(); f.showHistory() }),
		widget.NewButton("Close", func() { f.result.Hide() }),
	})
	if err != nil && !cancelled {
		f.result.SetIcon(theme.WarningIcon())
	}
	f.result.Resize(fyne.NewSize(previewWidth-40, 0))
	f.result.Show()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func fileNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return joinNames(names)
}

func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// plural is "1 row" or "1,200 rows": the engine's wording, so that counts
// read the same in the console and in the history.
func plural(n int, one string, many ...string) string {
	return engine.Count(n, one, strings.Join(many, ""))
}

// pluralVerb is "1 row was" or "3 rows were".
func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return humanize.Comma(int64(n)) + " " + many
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// byteSize is a size in SI units ("1.2 MB"), as humanize spells them.
func byteSize(n int64) string { return humanize.Bytes(uint64(max(n, 0))) }
