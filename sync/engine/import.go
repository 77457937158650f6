package engine

// Import of ActiveDEMAND export files: the way in that needs no AD API. An
// export is parsed by activedemand.Import and ends as the same outbox items
// the AD poller queues for what it reads over HTTP, so the workers mirror
// both the same way. The outbox's keys make an import idempotent: importing
// a file again, an export that overlaps an earlier one, or the rest of an
// import that was cancelled part-way never queues anything twice.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/dustin/go-humanize/english"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/internal/media"
	"parley/sync/mapping"
)

// ExportCounts is what export files hold. It is the parser's type, named
// here too because the console's interface to the engine speaks of it.
type ExportCounts = activedemand.ExportCounts

// ImportPreview is what the console shows of one file before an import: its
// kind, its columns and first rows, and what it holds on its own (Check
// gives the counts of several files read together).
type ImportPreview struct {
	// File is the base name, Path the path as given.
	File, Path string
	Kind       activedemand.ExportKind
	// Separator names a CSV's separator ("comma", "semicolon", "tab");
	// empty for JSON.
	Separator string
	// Columns are the CSV header or the keys of the first JSON elements;
	// Rows are the first rows (PreviewRows at most), aligned with Columns.
	Columns []string
	Rows    [][]string
	// Size is the file's length in bytes.
	Size int64
	ExportCounts
}

// ImportPhase is the stage an import is in.
type ImportPhase string

// Import phases, in order.
const (
	// PhaseReading: the files are parsed; Done and Total are bytes.
	PhaseReading ImportPhase = "reading"
	// PhaseQueueing: outbox items are written; Done and Total are items.
	PhaseQueueing ImportPhase = "queueing"
)

// ImportProgress reports how far an import is.
type ImportProgress struct {
	Phase ImportPhase
	// File is the file being read (PhaseReading).
	File string
	// Done of Total bytes (reading) or items (queueing). Total is 0 while
	// unknown.
	Done, Total int64
	// Rejected counts rows rejected so far.
	Rejected int
}

// readingShare is the part of a single progress bar given to reading:
// queueing writes to the database and takes the longer part.
const readingShare = 0.4

// Fraction is the whole import's progress from 0 to 1, for one
// determinate progress bar across both phases.
func (p ImportProgress) Fraction() float64 {
	f := 0.0
	if p.Total > 0 {
		f = min(float64(p.Done)/float64(p.Total), 1)
	}
	if p.Phase == PhaseQueueing {
		if p.Total == 0 {
			f = 1 // nothing to queue
		}
		return readingShare + (1-readingShare)*f
	}
	return readingShare * f
}

// ImportResult says what an import did.
type ImportResult struct {
	// Files are the base names of the files imported.
	Files []string
	// ExportCounts are what the files held, read together.
	ExportCounts
	// ContactsQueued and MessagesQueued are new outbox items.
	ContactsQueued, MessagesQueued int
	// AlreadyQueued counts contacts and messages an earlier import (or the
	// poller) had queued already, so nothing was added for them.
	AlreadyQueued int
	// FieldsLeftOut counts the contacts some fields were left out of:
	// the ones ActiveDEMAND types as passwords, or, when FieldListUnread,
	// the custom fields the field mapping does not send (passwords could
	// not be told apart).
	FieldsLeftOut   int
	FieldListUnread bool
	// Took is how long the import ran.
	Took time.Duration
}

// FieldsLeftOutText says which fields were left out of how many contacts
// and, when it matters, what brings them: "" when none were.
func (r ImportResult) FieldsLeftOutText() string {
	if r.FieldsLeftOut == 0 {
		return ""
	}
	if r.FieldListUnread {
		return fmt.Sprintf("custom fields the field mapping does not send left out of %s: ActiveDEMAND's field list could not be read "+
			"to tell passwords apart; map them (or connect ActiveDEMAND) and import the same files again to bring them", Count(r.FieldsLeftOut, "contact", ""))
	}
	return fmt.Sprintf("password fields of %s left out (Parley never copies or stores them)", Count(r.FieldsLeftOut, "contact", ""))
}

// Summary is the one-line account of the import kept in the history, e.g.
// "contacts.csv, activity.csv: 48 contacts, 120 messages queued, 3 already
// queued, 2 rows rejected".
func (r ImportResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, %s queued, %s already queued, %s rejected",
		strings.Join(r.Files, ", "), Count(r.ContactsQueued, "contact", ""), Count(r.MessagesQueued, "message", ""),
		humanize.Comma(int64(r.AlreadyQueued)), Count(r.Rejected, "row", ""))
	if r.Timeline > 0 {
		fmt.Fprintf(&b, ", %s not mirrored", Count(r.Timeline, "timeline entry", "timeline entries"))
	}
	if t := r.FieldsLeftOutText(); t != "" {
		b.WriteString(", " + t)
	}
	return b.String()
}

// Count writes n things with thousands separators and the plural that
// fits: "1 contact", "12,400 contacts". plural may be empty for a regular
// one. The console words its counts with it too, so they read the same
// everywhere.
func Count(n int, singular, plural string) string {
	return humanize.Comma(int64(n)) + " " + english.PluralWord(n, singular, plural)
}

// ImportFileError is an export file that cannot be imported at all (not a
// row of it): unreadable, empty, or not an ActiveDEMAND export.
type ImportFileError struct {
	// File is the file's base name.
	File string
	// Problem says what is wrong and what to do, for the user.
	Problem string
	// Err is the underlying error.
	Err error
}

// Error reads "file: problem".
func (e *ImportFileError) Error() string {
	if e.File == "" {
		return e.Problem
	}
	return e.File + ": " + e.Problem
}

// Unwrap returns the underlying error.
func (e *ImportFileError) Unwrap() error { return e.Err }

// exportHint is what to do about a file that is not an export Parley reads.
const exportHint = "Export contacts or activity from ActiveDEMAND as CSV or JSON: a CSV's first line is a header with columns " +
	"like first_name, email_address (contacts) or contact_email, type, date (activity)."

// fileError turns what stopped activedemand.Import on a file into an
// ImportFileError that says what to do; cancellation passes through.
func fileError(err error, files []string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	file := ""
	// The parser's errors read "activedemand: import <file>: <problem>".
	for _, f := range files {
		if rest, ok := strings.CutPrefix(msg, "activedemand: import "+f+": "); ok {
			file, msg = f, rest
			break
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg = "the file is not there any more; pick it again"
	case errors.Is(err, fs.ErrPermission):
		msg = "Parley is not allowed to read this file; check its permissions or copy it somewhere you own"
	case msg == "the file is empty":
		msg = "the file is empty; pick the export file ActiveDEMAND produced. " + exportHint
	default:
		msg += ". " + exportHint
	}
	return &ImportFileError{File: file, Problem: msg, Err: err}
}

// ImporterOptions tunes an Importer. The zero value is ready to use.
type ImporterOptions struct {
	// Location is the time zone of export dates written without one
	// (AD exports often have none); nil means UTC.
	Location *time.Location
	// BatchSize is how many outbox items one transaction writes; 0 means
	// DefaultImportBatch. Cancelling an import keeps whole batches.
	BatchSize int
	// PreviewRows is how many rows a preview shows; 0 means 20.
	PreviewRows int
	// spillRun is how many outbox items an import holds in memory before
	// it sorts them on disk; 0 means defaultSpillRun. Tests set it small.
	spillRun int
	// Fields reads ActiveDEMAND's contact field list, so that fields it
	// types as passwords are left out of what is queued (an export does
	// not say which columns hold them). Without it, or when it cannot be
	// read, the custom fields the saved field mapping does not send are
	// left out (the admin chose to send the others) and the result says so.
	Fields ContactFieldLister
	// DefaultRegion is the country (ISO 3166 code) of phone numbers
	// written without a country code; empty means "US". Phones are
	// queued in E.164 either way.
	DefaultRegion string
}

// DefaultImportBatch is the default number of outbox items per transaction:
// large enough that commits are a small part of the time, small enough that
// a cancel takes effect within a fraction of a second.
const DefaultImportBatch = 1000

// Importer imports ActiveDEMAND export files into the store's outbox. It is
// safe for concurrent use.
type Importer struct {
	store *store.Store
	opts  ImporterOptions
}

// NewImporter returns an importer that queues into s.
func NewImporter(s *store.Store, opts ImporterOptions) *Importer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultImportBatch
	}
	if opts.PreviewRows <= 0 {
		opts.PreviewRows = 20
	}
	return &Importer{store: s, opts: opts}
}

// Preview reads one export file and returns its kind, first rows and counts,
// without queueing anything.
func (im *Importer) Preview(ctx context.Context, path string) (ImportPreview, error) {
	src := activedemand.FileSource(path)
	var dirs []string
	if abs, err := filepath.Abs(path); err == nil {
		dirs = []string{filepath.Dir(abs)}
	}
	att := newAttachmentCheck(dirs)
	defer att.close()
	p, err := activedemand.PreviewImport(ctx, src, im.opts.PreviewRows, activedemand.ImportOptions{Location: im.opts.Location, DefaultRegion: im.opts.DefaultRegion}, att.handler())
	if err != nil {
		return ImportPreview{File: src.Name, Path: path}, fmt.Errorf("preview %s: %w", src.Name, fileError(err, []string{src.Name}))
	}
	out := ImportPreview{
		File: src.Name, Path: path, Kind: p.Kind, Columns: p.Columns, Rows: p.Rows, Size: src.Size,
		ExportCounts: att.counts(p.Report),
	}
	if p.Kind != activedemand.KindJSON {
		out.Separator = separatorName(p.Separator)
	}
	return out, nil
}

func separatorName(r rune) string {
	switch r {
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	}
	return fmt.Sprintf("%q", r)
}

// Check reads export files together, as Import would, and returns what they
// hold and the rows that would be rejected, without queueing anything. A
// contacts export and an activity export link up only when read together,
// so this, not the sum of each file's Preview, is what an import of both
// gives.
func (im *Importer) Check(ctx context.Context, paths []string) (ExportCounts, error) {
	sources, names, dirs, err := im.sources(paths)
	if err != nil {
		return ExportCounts{}, fmt.Errorf("check: %w", err)
	}
	att := newAttachmentCheck(dirs)
	defer att.close()
	rep, err := activedemand.Stream(ctx, activedemand.ImportOptions{Location: im.opts.Location, DefaultRegion: im.opts.DefaultRegion}, att.handler(), sources...)
	if err != nil {
		return att.counts(rep), fmt.Errorf("check: %w", fileError(err, names))
	}
	return att.counts(rep), nil
}

// mappedFields are the ActiveDEMAND fields the saved field mapping reads.
func mappedFields(ctx context.Context, st *store.Store) (map[string]bool, error) {
	_, saved, err := st.CurrentMappings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the field mapping: %w", err)
	}
	links := mapping.FromStore(saved)
	compiled := mapping.Compile(links, mapping.Options{})
	reads := map[string]bool{}
	for i := range links {
		for _, k := range compiled.Reads(i + 1) {
			reads[k] = true
		}
	}
	return reads, nil
}

// maxListedAttachments bounds ExportCounts.Attachments; AttachmentFiles
// counts them all.
const maxListedAttachments = 1000

// attachmentCheck runs a preview's messages through the media finder, as
// an import would, so that the preview lists every file on this computer
// the import would send to HighLevel and rejects the rows it would reject.
type attachmentCheck struct {
	media *mediaFinder
	seen  map[string]bool
	list  []activedemand.Attachment
	n     int
}

func newAttachmentCheck(dirs []string) *attachmentCheck {
	return &attachmentCheck{media: newMediaFinder(dirs), seen: map[string]bool{}}
}

func (a *attachmentCheck) close() { a.media.close() }

func (a *attachmentCheck) handler() activedemand.ImportHandler {
	return activedemand.ImportHandler{
		Message: func(_ activedemand.Origin, m activedemand.Message, cv activedemand.Conversation, c activedemand.Contact) error {
			mj, err := newMessageJob(SourceImport, m, cv, c, a.media.find)
			if err != nil {
				return err
			}
			files := make([]activedemand.Attachment, 0, len(mj.Media)+1)
			for _, md := range mj.Media {
				if md.File != "" {
					files = append(files, activedemand.Attachment{Path: md.File, Size: md.Size})
				}
			}
			if mj.Call != nil && mj.Call.RecordingFile != "" {
				_, size, _ := a.media.find(mj.Call.RecordingURL)
				files = append(files, activedemand.Attachment{Path: mj.Call.RecordingFile, Size: size})
			}
			for _, f := range files {
				if a.seen[f.Path] {
					continue
				}
				a.seen[f.Path] = true
				a.n++
				if len(a.list) < maxListedAttachments {
					a.list = append(a.list, f)
				}
			}
			return nil
		},
	}
}

func (a *attachmentCheck) counts(r activedemand.ExportCounts) ExportCounts {
	c := r
	c.Attachments, c.AttachmentFiles = a.list, a.n
	return c
}

// sources opens paths as import sources, each file once.
func (im *Importer) sources(paths []string) (sources []activedemand.ImportSource, names, dirs []string, err error) {
	seen := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if seen[abs] {
			continue // the same file picked twice is read once
		}
		seen[abs] = true
		src := activedemand.FileSource(abs)
		sources = append(sources, src)
		names = append(names, src.Name)
		dirs = append(dirs, filepath.Dir(abs))
	}
	if len(sources) == 0 {
		return nil, nil, nil, errors.New("no files given")
	}
	return sources, names, dirs, nil
}

// Import parses the export files together (a contacts export and an activity
// export link up by contact id, email or phone) and queues one
// JobMirrorContact per contact, then one JobMirrorMessage per message, oldest
// first, so the workers create contacts before their messages and mirror
// conversations in order. Contacts and messages already in the outbox are
// counted in AlreadyQueued, not queued again.
//
// progress, when set, is called on the importing goroutine. One history
// entry (store.OpImport) records every import, failed ones included. When ctx
// is cancelled, the batches written so far stay queued and the result counts
// them; importing the same files again queues the rest.
func (im *Importer) Import(ctx context.Context, paths []string, progress func(ImportProgress)) (ImportResult, error) {
	start := time.Now()
	if progress == nil {
		progress = func(ImportProgress) {}
	}
	var res ImportResult
	sources, names, dirs, err := im.sources(paths)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	res.Files = names
	var total int64
	for _, src := range sources {
		total += src.Size
	}

	finish := func(err error) (ImportResult, error) {
		res.Took = time.Since(start)
		if herr := im.record(ctx, res, err); herr != nil {
			err = errors.Join(err, herr)
		}
		return res, err
	}

	// Reading: the parser hands over contacts and messages as it reads
	// them; they become outbox items at once and wait, in order, in two
	// spill sorters (on disk past a run), so nothing holds the export.
	contacts, messages := newSpillSorter(im.opts.spillRun), newSpillSorter(im.opts.spillRun)
	defer contacts.close()
	defer messages.close()
	media := newMediaFinder(dirs)
	defer media.close()
	mapped, err := mappedFields(ctx, im.store)
	if err != nil {
		return finish(fmt.Errorf("import: %w", err))
	}
	scrub, fieldsErr := passwordScrub(ctx, im.opts.Fields, mapped)
	if ctx.Err() != nil {
		return finish(ctx.Err())
	}
	res.FieldListUnread = fieldsErr != nil
	h := activedemand.ImportHandler{
		Contact: func(_ activedemand.Origin, c activedemand.Contact, fromActivity bool) error {
			// Counted here, where each contact comes once (a set of the
			// ids would grow with the export); the messages carry a copy
			// of their contact, scrubbed the same way.
			if scrub(&c) {
				res.FieldsLeftOut++
			}
			if fromActivity {
				return nil // the messages carry them
			}
			cj := newContactJob(SourceImport, c)
			j, err := outboxJob(JobMirrorContact, cj.Key(), cj)
			if err != nil {
				return activedemand.RejectRow(fmt.Sprintf("the contact cannot be queued: %v", err))
			}
			return contacts.add(0, j) // file order
		},
		Message: func(_ activedemand.Origin, m activedemand.Message, cv activedemand.Conversation, c activedemand.Contact) error {
			scrub(&c)
			mj, err := newMessageJob(SourceImport, m, cv, c, media.find)
			if err != nil {
				return err
			}
			j, err := outboxJob(JobMirrorMessage, mj.Key(), mj)
			if err != nil {
				return activedemand.RejectRow(fmt.Sprintf("the message cannot be queued: %v", err))
			}
			return messages.add(mj.SentAt.UnixNano(), j)
		},
	}
	var doneBytes int64
	var doneRejected int
	progress(ImportProgress{Phase: PhaseReading, File: res.Files[0], Total: total})
	rep, err := activedemand.Stream(ctx, activedemand.ImportOptions{
		Location:      im.opts.Location,
		DefaultRegion: im.opts.DefaultRegion,
		Progress: func(p activedemand.ImportProgress) {
			progress(ImportProgress{Phase: PhaseReading, File: p.File, Done: doneBytes + p.Bytes, Total: total, Rejected: doneRejected + p.Rejected})
			if p.Done {
				doneBytes += p.Size
				doneRejected += p.Rejected
			}
		},
	}, h, sources...)
	res.ExportCounts = rep
	if err != nil {
		return finish(fmt.Errorf("import: %w", fileError(err, res.Files)))
	}

	// Queueing: whole batches, each its own transaction, contacts first,
	// then messages oldest first.
	queued := int64(0)
	all := int64(contacts.len() + messages.len())
	progress(ImportProgress{Phase: PhaseQueueing, Total: all, Rejected: res.Rejected})
	batch := make([]store.OutboxJob, 0, im.opts.BatchSize)
	var created *int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := im.store.EnqueueBatch(ctx, batch)
		if err != nil {
			return err
		}
		*created += n
		res.AlreadyQueued += len(batch) - n
		queued += int64(len(batch))
		clear(batch)
		batch = batch[:0]
		progress(ImportProgress{Phase: PhaseQueueing, Done: queued, Total: all, Rejected: res.Rejected})
		return nil
	}
	add := func(j store.OutboxJob) error {
		batch = append(batch, j)
		if len(batch) == im.opts.BatchSize {
			return flush()
		}
		return nil
	}
	for _, part := range []struct {
		jobs    *spillSorter
		created *int
	}{{contacts, &res.ContactsQueued}, {messages, &res.MessagesQueued}} {
		created = part.created
		if err := part.jobs.each(add); err != nil {
			return finish(fmt.Errorf("import: %w", err))
		}
		if err := flush(); err != nil {
			return finish(fmt.Errorf("import: %w", err))
		}
	}
	return finish(nil)
}

// record appends the import's history entry. It runs even when ctx was
// cancelled, so a cancelled import is on record too.
func (im *Importer) record(ctx context.Context, res ImportResult, importErr error) error {
	e := store.HistoryEntry{
		Operation: store.OpImport, System: store.SystemAD, LocalID: strings.Join(res.Files, ", "),
		Outcome: store.OutcomeOK, Attempts: 1, Latency: res.Took, Error: res.Summary(),
	}
	if importErr != nil {
		e.Outcome = store.OutcomeFailed
		switch {
		case errors.Is(importErr, context.Canceled) || errors.Is(importErr, context.DeadlineExceeded):
			e.Error = "cancelled: " + res.Summary() + "; import the same files again to queue the rest"
		default:
			e.Error = importErr.Error()
		}
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := im.store.AppendHistory(hctx, e); err != nil {
		return fmt.Errorf("import: record in history: %w", err)
	}
	return nil
}

// mediaFinder finds the files an export names by relative path, next to
// the export files, so the workers can upload them without the AD API.
// What it finds leaves the computer for HighLevel, so it is careful:
// paths resolve inside each export's folder only (os.Root refuses "..",
// absolute paths and symlinks out), a path through a hidden file or folder
// (.ssh/id_rsa, .env) is refused, and so is a file HighLevel would not take
// as an attachment, judged by name and content.
type mediaFinder struct {
	roots []*os.Root
	dirs  []string
	found map[string]mediaFile
}

type mediaFile struct {
	path string
	size int64
	err  error
}

func newMediaFinder(dirs []string) *mediaFinder {
	f := &mediaFinder{found: map[string]mediaFile{}}
	for _, d := range slices.Compact(slices.Sorted(slices.Values(dirs))) {
		if r, err := os.OpenRoot(d); err == nil {
			f.roots = append(f.roots, r)
			f.dirs = append(f.dirs, d)
		}
	}
	return f
}

func (f *mediaFinder) close() {
	for _, r := range f.roots {
		r.Close() // #nosec G104 -- os.Root opened for reading; a failed close loses nothing
	}
}

// find returns the absolute path and size of the file a relative media
// reference names, or "" when it is a URL or not in the export. The error
// (a RejectRow) refuses a file that must not be uploaded.
func (f *mediaFinder) find(ref string) (string, int64, error) {
	if ref == "" || strings.Contains(ref, "://") || filepath.IsAbs(ref) || strings.HasPrefix(ref, "/") {
		return "", 0, nil
	}
	if m, ok := f.found[ref]; ok {
		return m.path, m.size, m.err
	}
	m := f.lookup(ref)
	f.found[ref] = m
	return m.path, m.size, m.err
}

func (f *mediaFinder) lookup(ref string) mediaFile {
	clean := path.Clean(filepath.ToSlash(ref))
	for _, seg := range strings.Split(clean, "/") {
		if strings.HasPrefix(seg, ".") && seg != "." && seg != ".." {
			return mediaFile{err: activedemand.RejectRow(fmt.Sprintf(
				"attachment %q is a hidden file or in a hidden folder, where keys and settings live; Parley does not upload it", ref))}
		}
	}
	rel := filepath.FromSlash(clean)
	for i, r := range f.roots {
		st, err := r.Stat(rel)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		file, err := r.Open(rel)
		if err != nil {
			return mediaFile{err: activedemand.RejectRow(fmt.Sprintf("attachment %q cannot be read: %v", ref, err))}
		}
		head := make([]byte, media.SniffLen)
		n, _ := io.ReadFull(file, head)
		file.Close() // #nosec G104 -- opened read-only: a failed close loses nothing
		if err := media.Check(rel, head[:n]); err != nil {
			return mediaFile{err: activedemand.RejectRow(fmt.Sprintf("attachment %q is not sent: %v", ref, err))}
		}
		return mediaFile{path: filepath.Join(f.dirs[i], rel), size: st.Size()}
	}
	return mediaFile{}
}
