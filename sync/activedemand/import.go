package activedemand

// Import from an ActiveDEMAND export file: the way in that needs no API
// access. CSV (a contacts export and an activity export) and JSON (an
// object with "contacts" and "activity" arrays) become the same Contact,
// Conversation, Message and HistoryEntry values the API gives, and an
// ImportedData serves them through the Conversations interface.
//
// Files are read as streams, row by row; what was imported is held in
// memory. Every rejected row is reported with its file and line.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"parley/sync/internal/phone"
)

// ImportSource is one export file.
type ImportSource struct {
	// Name is used in errors and the report, e.g. "contacts.csv".
	Name string
	// Open returns the content; it is called once per import.
	Open func() (io.ReadCloser, error)
	// Size is the content length when known (for progress), else 0.
	Size int64
}

// FileSource returns the source for a file on disk, named by its base name.
func FileSource(path string) ImportSource {
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	return ImportSource{
		Name: filepath.Base(path),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
		Size: size,
	}
}

// BytesSource returns a source over content already in memory.
func BytesSource(name string, content []byte) ImportSource {
	return ImportSource{
		Name: name,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		Size: int64(len(content)),
	}
}

// ImportKind is what an export file holds.
type ImportKind string

// Export kinds.
const (
	KindContactsCSV ImportKind = "contacts CSV"
	KindActivityCSV ImportKind = "activity CSV"
	KindJSON        ImportKind = "JSON"
)

// ImportOptions tunes an import.
type ImportOptions struct {
	// Progress, when set, is called every few hundred rows and when a
	// file is done, on the importing goroutine.
	Progress func(ImportProgress)
	// Location is the time zone of dates written without one; default UTC.
	Location *time.Location
	// MediaDir, when set, is where files named by relative attachment or
	// recording paths in the export are found (an export unzipped with
	// its files). Without it, DownloadMedia on imported data fails with
	// ErrMediaUnavailable.
	MediaDir string
	// DefaultRegion is the country (ISO 3166 code, e.g. "US", "GB") of
	// phone numbers written without a country code; empty means "US".
	DefaultRegion string
}

// ImportProgress reports how far an import is.
type ImportProgress struct {
	File string
	// Bytes read so far of Size (0 when the size is unknown).
	Bytes, Size int64
	// Rows read so far in this file, and how many were rejected.
	Rows, Rejected int
	// Done is true on the last report for a file.
	Done bool
}

// RowError is a rejected row.
type RowError struct {
	File string
	// Line is where the row starts in the file (1-based).
	Line   int
	Reason string
}

// Error reads "file line N: reason".
func (e RowError) Error() string {
	return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Reason)
}

// maxKeptErrors bounds ImportReport.Errors; Rejected counts them all.
const maxKeptErrors = 1000

// ImportReport says what an import did.
type ImportReport struct {
	// Contacts imported from contact rows; StubContacts created for
	// activity rows whose contact was not in any contacts export.
	Contacts, StubContacts           int
	Conversations, Messages, History int
	// Rejected counts rejected rows; Errors lists them (the first 1000).
	Rejected int
	Errors   []RowError
	// Blank counts empty rows skipped.
	Blank int
	// Notes are things worth knowing that rejected nothing, such as
	// columns that were not used.
	Notes []string
}

// String summarises the report with the rejected rows listed.
func (r ImportReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %d contacts", r.Contacts)
	if r.StubContacts > 0 {
		fmt.Fprintf(&b, " (+%d from activity only)", r.StubContacts)
	}
	fmt.Fprintf(&b, ", %d messages in %d conversations, %d history entries; %d rows rejected", r.Messages, r.Conversations, r.History, r.Rejected)
	if r.Blank > 0 {
		fmt.Fprintf(&b, ", %d blank rows skipped", r.Blank)
	}
	for _, e := range r.Errors {
		b.WriteString("\n  " + e.Error())
	}
	if r.Rejected > len(r.Errors) {
		fmt.Fprintf(&b, "\n  ... and %d more", r.Rejected-len(r.Errors))
	}
	for _, n := range r.Notes {
		b.WriteString("\n  note: " + n)
	}
	return b.String()
}

// ImportPreview is what a UI shows before importing: the file's kind, its
// columns, its first rows and the counts a full import would give.
type ImportPreview struct {
	File string
	Kind ImportKind
	// Separator is the CSV separator found (',', ';' or '\t').
	Separator rune
	// Columns are the CSV header, or the keys of the first JSON elements.
	Columns []string
	// Rows are the first rows, aligned with Columns.
	Rows [][]string
	// Report has the counts for the whole file.
	Report ImportReport
}

// Origin is where a row of an export starts.
type Origin struct {
	// File is the file's base name; Line is 1-based.
	File string
	Line int
}

// ImportHandler receives what an import reads while it reads it. The
// import itself keeps only what links rows together (an index of the
// contacts, the ids of messages seen), never the rows, so an export of any
// size is read in memory that does not grow with its messages. Every
// contacts export and the contacts of JSON exports are read first, then
// the activity, so a message always comes after its contact. Nil funcs
// are not called.
type ImportHandler struct {
	// Contact receives a contact of a contacts row, or with fromActivity
	// one made from the first activity row naming a contact no contacts
	// export has.
	Contact func(at Origin, c Contact, fromActivity bool) error
	// Message receives a message with its conversation (as read so far:
	// Subject is the first subject seen) and its contact, in file order.
	Message func(at Origin, m Message, cv Conversation, c Contact) error
	// History receives a timeline entry (a note, a form submission).
	History func(at Origin, h HistoryEntry) error
}

// RejectRow makes a handler's error reject the row it was given, with
// reason, instead of stopping the import: a row the handler cannot take
// (a job that cannot be encoded, an attachment that may not leave the
// computer) is one rejected row, like any other.
func RejectRow(reason string) error { return &rowRejection{reason: reason} }

type rowRejection struct{ reason string }

func (r *rowRejection) Error() string { return r.reason }

// Stream reads export files and hands what they hold to h as it goes.
// Rows that cannot be imported are rejected and listed in the report; the
// error is for what stops an import (an unreadable file, a file of unknown
// kind, an error of h, ctx). A source may be opened twice: a JSON export
// holds contacts and activity, read in the two passes.
func Stream(ctx context.Context, opts ImportOptions, h ImportHandler, sources ...ImportSource) (ImportReport, error) {
	im := newImporter(opts, h)
	err := im.run(ctx, sources, nil)
	return im.report, err
}

// Import reads export files and returns their data, held in memory, and a
// report. Stream reads them without holding them.
func Import(ctx context.Context, opts ImportOptions, sources ...ImportSource) (*ImportedData, ImportReport, error) {
	c := newCollector(opts.MediaDir)
	rep, err := Stream(ctx, opts, c.handler(), sources...)
	if err != nil {
		return nil, rep, err
	}
	return c.done(), rep, nil
}

// PreviewImport reads one file fully (streaming, keeping nothing) and
// returns its first n rows and the counts an import would give.
// h, when not zero, is handed what the file holds as Stream would.
func PreviewImport(ctx context.Context, src ImportSource, n int, opts ImportOptions, h ImportHandler) (ImportPreview, error) {
	im := newImporter(opts, h)
	pv := &ImportPreview{File: src.Name}
	err := im.run(ctx, []ImportSource{src}, &previewSink{p: pv, n: n})
	pv.Report = im.report
	return *pv, err
}

type previewSink struct {
	p *ImportPreview
	n int
}

func (s *previewSink) row(cols []string, vals []string) {
	if len(s.p.Rows) >= s.n {
		return
	}
	if s.p.Columns == nil {
		s.p.Columns = slices.Clone(cols)
	}
	row := make([]string, len(s.p.Columns))
	if len(cols) == len(s.p.Columns) && len(cols) > 0 && &cols[0] == &s.p.Columns[0] {
		copy(row, vals) // a CSV row: already in the header's order
	} else {
		// A JSON element: its keys, indexed once per row rather than
		// looked up per cell (a lookup per cell made 100,000 columns
		// take minutes).
		at := make(map[string]int, len(cols))
		for j, c := range cols {
			at[c] = j
		}
		for i, c := range s.p.Columns {
			if j, ok := at[c]; ok && j < len(vals) {
				row[i] = vals[j]
			}
		}
	}
	s.p.Rows = append(s.p.Rows, row)
}

// activity is one validated activity row, linked to its contact at the end.
type activity struct {
	file string
	line int

	id                                   string
	contactID, email, phone              string
	first, last                          string
	typ                                  string
	message                              bool
	channel                              Channel
	direction                            Direction
	at                                   time.Time
	subject, body, status                string
	duration                             time.Duration
	recordingURL, transcription          string
	media                                *MediaRef
	senderName, senderEmail, senderPhone string
}

type importer struct {
	opts   ImportOptions
	h      ImportHandler
	report ImportReport
	// err is the first error of h, which stops the import.
	err error

	// contacts hold what links activity to a contact and names it in a
	// message, not the whole contact (h got that).
	contacts []Contact
	origin   []origin
	byID     map[ID]int
	byEmail  map[string]int
	byPhone  map[string]int
	// Messages and timeline entries seen, by a 64-bit hash of their id:
	// the ids of a million messages would be tens of megabytes more, and
	// a collision (about 1 in 10^7 for a million ids) would only reject a
	// row as a duplicate.
	seed     maphash.Seed
	msgSeen  map[uint64]origin
	histSeen map[uint64]origin
	convs    map[ID]*Conversation
	files    []string

	rowNotes     map[string]*rowNote
	rowNoteOrder []string

	// per-file state
	file     string
	fileIx   int
	rows     int
	rejected int
}

// origin is an Origin in 8 bytes: index into importer.files and line.
type origin struct{ file, line uint32 }

func (im *importer) where(o origin) string {
	return fmt.Sprintf("%s line %d", im.files[o.file], o.line)
}

func newImporter(opts ImportOptions, h ImportHandler) *importer {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = phone.DefaultRegion
	}
	return &importer{opts: opts, h: h, rowNotes: map[string]*rowNote{}, byID: map[ID]int{}, byEmail: map[string]int{}, byPhone: map[string]int{},
		seed: maphash.MakeSeed(), msgSeen: map[uint64]origin{}, histSeen: map[uint64]origin{}, convs: map[ID]*Conversation{}}
}

// The two passes over the files: contacts, then activity.
const (
	passContacts = iota
	passActivity
)

func (im *importer) run(ctx context.Context, sources []ImportSource, pv *previewSink) error {
	for _, pass := range []int{passContacts, passActivity} {
		for i, src := range sources {
			if len(im.files) <= i {
				im.files = append(im.files, src.Name)
			}
			im.fileIx = i
			if err := im.readSource(ctx, src, pass, pv); err != nil {
				return err
			}
		}
	}
	im.report.Conversations = len(im.convs)
	im.flushRowNotes()
	return nil
}

// handled turns an error of the handler into a rejected row or the error
// that stops the import; it reports whether the row went through.
func (im *importer) handled(line int, err error) bool {
	if err == nil {
		return true
	}
	var rr *rowRejection
	if errors.As(err, &rr) {
		im.reject(line, "%s", rr.reason)
	} else if im.err == nil {
		im.err = fmt.Errorf("activedemand: import %s line %d: %w", im.file, line, err)
	}
	return false
}

func (im *importer) reject(line int, format string, args ...any) {
	im.rejected++
	im.report.Rejected++
	if len(im.report.Errors) < maxKeptErrors {
		im.report.Errors = append(im.report.Errors, RowError{File: im.file, Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

func (im *importer) note(format string, args ...any) {
	im.report.Notes = append(im.report.Notes, fmt.Sprintf(format, args...))
}

// rowNote is a note about one row. The same note about many rows is kept
// once with a count: 200,000 contacts with two email addresses each make
// one line, not 200,000.
func (im *importer) rowNote(line int, text string) {
	if n, ok := im.rowNotes[text]; ok {
		n.count++
		return
	}
	im.rowNotes[text] = &rowNote{first: fmt.Sprintf("%s line %d", im.file, line), count: 1}
	im.rowNoteOrder = append(im.rowNoteOrder, text)
}

type rowNote struct {
	first string
	count int
}

// flushRowNotes adds the row notes to the report, each once.
func (im *importer) flushRowNotes() {
	for _, text := range im.rowNoteOrder {
		n := im.rowNotes[text]
		if n.count == 1 {
			im.note("%s: %s", n.first, text)
		} else {
			im.note("%d rows: %s (the first at %s)", n.count, text, n.first)
		}
	}
	im.rowNotes, im.rowNoteOrder = map[string]*rowNote{}, nil
}

// countingReader counts bytes for progress reports.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

const progressEvery = 500

func (im *importer) readSource(ctx context.Context, src ImportSource, pass int, pv *previewSink) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("activedemand: import %s: %w", src.Name, err)
	}
	if src.Open == nil {
		return fmt.Errorf("activedemand: import %s: no content", src.Name)
	}
	rc, err := src.Open()
	if err != nil {
		return fmt.Errorf("activedemand: import %s: %w", src.Name, err)
	}
	defer rc.Close()
	im.file, im.rows, im.rejected = src.Name, 0, 0
	cr := &countingReader{r: rc}
	progress := func(done bool) {
		if im.opts.Progress != nil {
			im.opts.Progress(ImportProgress{File: src.Name, Bytes: cr.n, Size: src.Size, Rows: im.rows, Rejected: im.rejected, Done: done})
		}
	}
	tick := func() error {
		im.rows++
		if im.err != nil {
			return im.err
		}
		if im.rows%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("activedemand: import %s: %w", src.Name, err)
			}
			progress(false)
		}
		return nil
	}
	br := bufio.NewReaderSize(cr, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, err := firstNonSpace(br)
	if err != nil {
		if pass == passActivity {
			return nil // said in the first pass
		}
		return fmt.Errorf("activedemand: import %s: %w", src.Name, err)
	}
	var mine bool
	if first == '{' || first == '[' {
		if pv != nil {
			pv.p.Kind = KindJSON
		}
		err = im.readJSON(br, pass, tick, pv)
		mine = pass == passActivity // a JSON file's progress is its second reading
	} else {
		mine, err = im.readCSV(br, pass, tick, pv)
	}
	if err == nil {
		err = im.err
	}
	if err != nil {
		return err
	}
	if mine {
		progress(true)
	}
	return nil
}

// firstNonSpace peeks at the first byte that is not white space.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for n := 1; n <= 4096; n *= 2 {
		b, err := br.Peek(n)
		for _, c := range b {
			if !unicode.IsSpace(rune(c)) {
				return c, nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("the file is empty")
			}
			return 0, err
		}
	}
	return 0, errors.New("the file starts with over 4 KiB of white space")
}

// sniffSeparator picks ',', ';' or tab by counting them outside quotes in
// the header line.
func sniffSeparator(br *bufio.Reader) rune {
	var b []byte
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		p, err := br.Peek(n)
		b = p
		if bytes.IndexByte(p, '\n') >= 0 || err != nil || n == br.Size() {
			break
		}
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best, sep := 0, ','
	for _, c := range []byte{',', ';', '\t'} {
		if counts[c] > best {
			best, sep = counts[c], rune(c)
		}
	}
	return sep
}

// normColumn turns a header or JSON key into snake_case: "Email Address"
// and "email-address" become email_address.
func normColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF")))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

var contactColumns = map[string]string{
	"id": "id", "contact_id": "id",
	"first_name": "first_name", "firstname": "first_name",
	"last_name": "last_name", "lastname": "last_name",
	"email_address": "email", "email": "email", "emails.email_address": "email", "e_mail": "email",
	"phone_number": "phone", "phone": "phone", "phones.phone_number": "phone", "mobile": "phone",
	"created_at": "created_at", "updated_at": "updated_at",
}

var activityColumns = map[string]string{
	"id": "id", "activity_id": "id", "message_id": "id", "history_id": "id",
	"contact_id":    "contact_id",
	"contact_email": "email", "email": "email", "email_address": "email", "contact_email_address": "email", "emails.email_address": "email",
	"contact_phone": "phone", "phone": "phone", "phone_number": "phone", "phones.phone_number": "phone",
	"first_name": "first_name", "contact_first_name": "first_name",
	"last_name": "last_name", "contact_last_name": "last_name",
	"type": "type", "activity_type": "type", "history_type": "type",
	"channel": "channel", "direction": "direction",
	"date": "date", "occurred_at": "date", "created_at": "date", "sent_at": "date", "timestamp": "date", "date_time": "date", "datetime": "date",
	"subject": "subject", "body": "body", "description": "body", "content": "body", "message": "body", "text": "body",
	"status": "status", "duration": "duration", "duration_seconds": "duration",
	"recording_url": "recording_url", "transcription": "transcription", "transcript": "transcription",
	"attachment_url": "attachment_url", "media_url": "attachment_url", "attachment_name": "attachment_name", "attachment_type": "attachment_type",
	"sender_name": "sender_name", "sender_email": "sender_email", "sender_phone": "sender_phone",
}

// isActivityHeader tells an activity export from a contacts export.
func isActivityHeader(cols []string) bool {
	for _, c := range cols {
		switch c {
		case "type", "activity_type", "history_type", "channel", "direction":
			return true
		}
	}
	return false
}

// readCSV reads a CSV export in its pass (contacts files in the first,
// activity files in the second) and reports whether this was its pass.
func (im *importer) readCSV(br *bufio.Reader, pass int, tick func() error, pv *previewSink) (bool, error) {
	sep := sniffSeparator(br)
	lim := &rowLimiter{r: br, max: maxRowBytes}
	r := csv.NewReader(lim)
	r.Comma = sep
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return false, fmt.Errorf("activedemand: import %s: cannot read the header row: %w", im.file, err)
	}
	cols := make([]string, len(header))
	raw := make([]string, len(header))
	for i, h := range header {
		raw[i] = strings.TrimSpace(strings.ToValidUTF8(h, "\uFFFD"))
		cols[i] = normColumn(raw[i])
	}
	activityFile := isActivityHeader(cols)
	aliases := contactColumns
	if activityFile {
		aliases = activityColumns
	}
	canon := make([]string, len(cols))
	seen := map[string]string{}
	var unused []string
	for i, c := range cols {
		k, ok := aliases[c]
		switch {
		case ok:
		case !activityFile && c != "":
			k = c // other contact fields, custom_N included
		default:
			if c != "" {
				unused = append(unused, raw[i])
			}
			continue
		}
		if prev, dup := seen[k]; dup {
			return false, fmt.Errorf("activedemand: import %s: columns %q and %q both give %s; remove one", im.file, prev, raw[i], k)
		}
		seen[k] = raw[i]
		canon[i] = k
	}
	if !activityFile && seen["email"] == "" && seen["phone"] == "" && seen["id"] == "" {
		return false, fmt.Errorf("activedemand: import %s: the header (%s) has no email_address, phone_number or id column, so this is neither a contacts nor an activity export", im.file, strings.Join(raw, ", "))
	}
	if activityFile && seen["date"] == "" {
		return false, fmt.Errorf("activedemand: import %s: the activity export has no date column; the header is %s", im.file, strings.Join(raw, ", "))
	}
	if activityFile != (pass == passActivity) {
		return false, nil
	}
	if len(unused) > 0 {
		im.note("%s: columns not used: %s", im.file, strings.Join(unused, ", "))
	}
	if pv != nil {
		pv.p.Kind = KindContactsCSV
		if activityFile {
			pv.p.Kind = KindActivityCSV
		}
		pv.p.Separator = sep
		pv.p.Columns = raw
	}
	nextLine := 2 // where the row after the last one read starts, near enough
	for {
		lim.n = 0
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if terr := tick(); terr != nil {
			return true, terr
		}
		if errors.Is(err, errRowTooLong) {
			im.reject(nextLine, "the row is longer than %d MiB (a quote that is never closed?); the rest of the file was not read", maxRowBytes>>20)
			return true, nil
		}
		if len(rec) > 0 {
			l, _ := r.FieldPos(len(rec) - 1)
			nextLine = l + strings.Count(rec[len(rec)-1], "\n") + 1
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				im.reject(perr.StartLine, "%s", perr.Err.Error())
				continue
			}
			return false, fmt.Errorf("activedemand: import %s: %w", im.file, err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			im.report.Blank++
			continue
		}
		if pv != nil {
			pv.row(raw, rec)
		}
		if len(rec) != len(header) {
			im.reject(line, "the row has %d fields, the header has %d (a %q inside an unquoted value?)", len(rec), len(header), sep)
			continue
		}
		vals := make(map[string]string, len(rec))
		for i, v := range rec {
			if canon[i] != "" {
				vals[canon[i]] = strings.TrimSpace(strings.ToValidUTF8(v, "\uFFFD"))
			}
		}
		if activityFile {
			im.activityRow(line, vals)
		} else {
			im.contactRow(line, vals)
		}
	}
}

// maxRowBytes caps a CSV row and a JSON element. A quote that is never
// closed makes the rest of the file one field; without a cap the parser
// would hold all of it. Real rows are a few KB; an email body with HTML
// rarely tops a few hundred.
const maxRowBytes = 4 << 20

var errRowTooLong = errors.New("row too long")

// rowLimiter fails a read once the row being read passes max bytes; the
// reader resets n before each row.
type rowLimiter struct {
	r      io.Reader
	n, max int
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errRowTooLong
	}
	if len(p) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// contactRow imports one CSV contact row (keys already canonical).
func (im *importer) contactRow(line int, vals map[string]string) {
	c := Contact{ID: ID(vals["id"]), FirstName: vals["first_name"], LastName: vals["last_name"], Email: vals["email"], Phone: vals["phone"]}
	for _, k := range []string{"created_at", "updated_at"} {
		if vals[k] == "" {
			continue
		}
		t, err := parseTimeIn(vals[k], im.opts.Location)
		if err == nil {
			err = plausibleDate(t)
		}
		if err != nil {
			im.reject(line, "%s: %v", k, err)
			return
		}
		if k == "created_at" {
			c.CreatedAt = t
		} else {
			c.UpdatedAt = t
		}
	}
	for k, v := range vals {
		if _, known := contactColumnCanon[k]; known || v == "" {
			continue
		}
		if IsCustomField(k) {
			if c.Custom == nil {
				c.Custom = map[string]string{}
			}
			c.Custom[k] = v
		} else {
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			c.Fields[k] = v
		}
	}
	im.addContact(line, c, false)
}

// contactColumnCanon are the canonical contact keys handled explicitly.
var contactColumnCanon = map[string]bool{"id": true, "first_name": true, "last_name": true, "email": true, "phone": true, "created_at": true, "updated_at": true}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n,;<>") && strings.Contains(s[at:], ".")
}

// checkAddress rejects the row when its email or phone (named by their
// columns) is not one, and returns the phone in E.164.
func (im *importer) checkAddress(line int, emailCol, email, phoneCol, number string) (string, bool) {
	if email != "" && !validEmail(email) {
		im.reject(line, "%s %q is not an email address", emailCol, truncate(email, 60))
		return "", false
	}
	if number == "" {
		return "", true
	}
	// A number that is not one rejects the row rather than travelling on
	// as written: the sync finds HighLevel contacts by phone, and HighLevel
	// refuses what is not E.164, so it would fail later, one job at a
	// time, far from the file and line that can be fixed.
	p, err := phone.Normalize(number, im.opts.DefaultRegion)
	if err != nil {
		im.reject(line, "%s %q is not a phone number (%s numbers may omit the country code)", phoneCol, truncate(number, 40), im.opts.DefaultRegion)
		return "", false
	}
	return p, true
}

// Dates an export can plausibly hold. No conversation in an ActiveDEMAND
// account predates 1990 (the platform and the SMS it mirrors are far
// younger), and a date more than a year ahead is a typo or a unit mix-up
// (milliseconds read as seconds), not a scheduled message: a year of slack
// covers clocks and time zones. Outside the range, a date would either be
// queued and then fail every worker (0001-01-01 is the zero time, which a
// job may not have) or not encode at all (years past 9999).
var earliestDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

func latestDate() time.Time { return time.Now().AddDate(1, 0, 0) }

// plausibleDate rejects a date outside earliestDate .. a year from now.
func plausibleDate(t time.Time) error {
	if latest := latestDate(); t.Before(earliestDate) || t.After(latest) {
		return fmt.Errorf("%s is outside %s .. %s, the dates an export can hold; correct it in the export or remove the row",
			t.Format(time.RFC3339), earliestDate.Format(time.DateOnly), latest.Format(time.DateOnly))
	}
	return nil
}

// controlChar finds a control character (a NUL included) in s: a name or an
// address with one is damaged, and would reach HighLevel as such. Tabs and
// line breaks are white space a quoted CSV value may hold, not damage; an
// email address with one is refused by validEmail.
func controlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return r, true
		}
	}
	return 0, false
}

// addContact validates and stores a contact, rejecting duplicates.
// It reports whether the contact was added.
func (im *importer) addContact(line int, c Contact, fromActivity bool) bool {
	c.Email = strings.TrimSpace(c.Email)
	for _, f := range []struct{ name, v string }{{"first_name", c.FirstName}, {"last_name", c.LastName}, {"email_address", c.Email}} {
		if r, bad := controlChar(f.v); bad {
			im.reject(line, "%s contains the control character %U; remove it from the export", f.name, r)
			return false
		}
	}
	for _, t := range []time.Time{c.CreatedAt, c.UpdatedAt} {
		if !t.IsZero() {
			if err := plausibleDate(t); err != nil {
				im.reject(line, "date: %v", err)
				return false
			}
		}
	}
	var ok bool
	if c.Phone, ok = im.checkAddress(line, "email_address", c.Email, "phone_number", c.Phone); !ok {
		return false
	}
	if c.Email == "" && c.Phone == "" && c.ID == "" {
		im.reject(line, "no email_address, phone_number or id: a contact needs one of them")
		return false
	}
	if strings.ContainsAny(string(c.ID), "/?#") {
		im.reject(line, "id %q contains / ? or #", truncate(string(c.ID), 40))
		return false
	}
	email := strings.ToLower(c.Email)
	if c.ID != "" {
		if i, dup := im.byID[c.ID]; dup {
			im.reject(line, "duplicate of %s (same id %s)", im.where(im.origin[i]), c.ID)
			return false
		}
	}
	if i, dup := im.byEmail[email]; dup && email != "" {
		im.reject(line, "duplicate of %s (same email address)", im.where(im.origin[i]))
		return false
	}
	if c.ID == "" {
		c.ID = ID("imp-" + shortHash(email, c.Phone))
	}
	c.Emails, c.Phones = nonEmpty(c.Email), nonEmpty(c.Phone)
	if im.h.Contact != nil && !im.handled(line, im.h.Contact(Origin{File: im.file, Line: line}, c, fromActivity)) {
		return false
	}
	// Keep what links activity to the contact and names it in a message,
	// copied: a CSV value shares the memory of its whole row.
	slim := Contact{ID: ID(strings.Clone(string(c.ID))), FirstName: strings.Clone(c.FirstName), LastName: strings.Clone(c.LastName),
		Email: strings.Clone(c.Email), Phone: strings.Clone(c.Phone)}
	i := len(im.contacts)
	im.contacts = append(im.contacts, slim)
	im.origin = append(im.origin, origin{file: uint32(im.fileIx), line: uint32(line)})
	im.byID[slim.ID] = i
	if email != "" {
		im.byEmail[strings.ToLower(slim.Email)] = i
	}
	if slim.Phone != "" {
		if _, taken := im.byPhone[slim.Phone]; !taken {
			im.byPhone[slim.Phone] = i
		}
	}
	im.report.Contacts++
	return true
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// channelFromType reads a channel and a direction out of an activity type
// such as "SMS Received" or "email_sent".
func channelFromType(t string) (Channel, Direction) {
	t = strings.ToLower(t)
	var ch Channel
	switch {
	case strings.Contains(t, "sms") || strings.Contains(t, "text"):
		ch = ChannelSMS
	case strings.Contains(t, "email") || strings.Contains(t, "e-mail") || strings.Contains(t, "mail"):
		ch = ChannelEmail
	case strings.Contains(t, "call") || strings.Contains(t, "phone") || strings.Contains(t, "voicemail"):
		ch = ChannelCall
	case strings.Contains(t, "chat"):
		ch = ChannelChat
	}
	var dir Direction
	switch {
	case strings.Contains(t, "received") || strings.Contains(t, "inbound") || strings.Contains(t, "incoming") || strings.Contains(t, "repl"):
		dir = Inbound
	case strings.Contains(t, "sent") || strings.Contains(t, "outbound") || strings.Contains(t, "outgoing"):
		dir = Outbound
	}
	return ch, dir
}

// parseDuration reads seconds ("95", "95.5") or a clock ("1:35", "0:01:35").
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e7 {
		return time.Duration(f * float64(time.Second)), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) == 2 || len(parts) == 3 {
		var total int64
		for _, p := range parts {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil || n < 0 || n >= 1e6 {
				return 0, fmt.Errorf("duration %q is not seconds or h:mm:ss", truncate(s, 20))
			}
			total = total*60 + n
		}
		return time.Duration(total) * time.Second, nil
	}
	return 0, fmt.Errorf("duration %q is not seconds or h:mm:ss", truncate(s, 20))
}

// activityRow validates one activity row (keys already canonical).
func (im *importer) activityRow(line int, v map[string]string) {
	a := activity{
		file: im.file, line: line, id: v["id"],
		contactID: v["contact_id"], email: v["email"], phone: v["phone"], first: v["first_name"], last: v["last_name"],
		typ: v["type"], subject: v["subject"], body: v["body"], status: strings.ToLower(v["status"]),
		recordingURL: v["recording_url"], transcription: v["transcription"],
		senderName: v["sender_name"], senderEmail: v["sender_email"], senderPhone: v["sender_phone"],
	}
	if a.contactID == "" && a.email == "" && a.phone == "" {
		im.reject(line, "no contact: give contact_id, contact_email or contact_phone")
		return
	}
	for _, f := range []struct{ name, v string }{{"first_name", a.first}, {"last_name", a.last}, {"contact_email", a.email},
		{"sender_name", a.senderName}, {"sender_email", a.senderEmail}} {
		if r, bad := controlChar(f.v); bad {
			im.reject(line, "%s contains the control character %U; remove it from the export", f.name, r)
			return
		}
	}
	var ok bool
	if a.phone, ok = im.checkAddress(line, "contact_email", a.email, "contact_phone", a.phone); !ok {
		return
	}
	if strings.ContainsAny(a.contactID+a.id, "/?#") {
		im.reject(line, "an id contains / ? or #")
		return
	}
	if v["date"] == "" {
		im.reject(line, "date is empty")
		return
	}
	at, err := parseTimeIn(v["date"], im.opts.Location)
	if err == nil {
		err = plausibleDate(at)
	}
	if err != nil {
		im.reject(line, "date: %v", err)
		return
	}
	a.at = at
	tch, tdir := channelFromType(a.typ)
	if c := strings.ToLower(v["channel"]); c != "" {
		switch c {
		case "text":
			c = "sms"
		case "phone":
			c = "call"
		}
		a.channel = Channel(c)
		if !a.channel.Valid() {
			im.reject(line, "channel %q is not sms, email, call or chat", truncate(v["channel"], 20))
			return
		}
	} else {
		a.channel = tch
	}
	a.message = a.channel != ""
	if !a.message {
		if a.typ == "" {
			im.reject(line, "neither channel nor type is set: a message needs a channel, a history entry a type")
			return
		}
		im.link(a)
		return
	}
	if d := v["direction"]; d != "" {
		dir, ok := normDirection(d)
		if !ok {
			im.reject(line, "direction %q is not inbound or outbound", truncate(d, 20))
			return
		}
		a.direction = dir
	} else if tdir != "" {
		a.direction = tdir
	} else {
		im.reject(line, "direction is empty: use inbound or outbound")
		return
	}
	if a.duration, err = parseDuration(v["duration"]); err != nil {
		im.reject(line, "%v", err)
		return
	}
	if u := v["attachment_url"]; u != "" {
		name := v["attachment_name"]
		if name == "" {
			name = filepath.Base(strings.SplitN(u, "?", 2)[0])
		}
		a.media = &MediaRef{URL: u, Name: name, ContentType: v["attachment_type"]}
	}
	if (a.channel == ChannelSMS || a.channel == ChannelChat) && a.body == "" && a.media == nil {
		im.reject(line, "the %s message has no body and no attachment", a.channel)
		return
	}
	im.link(a)
}

// readJSON reads {"contacts": [...], "activity": [...]} element by element.
// Contacts are read in the first pass, activity in the second; each pass
// skips the other's elements, and the first says what is wrong with the
// file's shape.
func (im *importer) readJSON(r io.Reader, pass int, tick func() error, pv *previewSink) error {
	lt := &lineTracker{r: r, line: 1}
	dec := json.NewDecoder(lt)
	dec.UseNumber()
	// fatal reports a syntax error and stops reading the file. A
	// SyntaxError from Decode counts from the start of the value being
	// decoded (base); one from Token counts from the start of the input.
	fatal := func(err error, base int64) error {
		if pass == passActivity {
			return nil // said in the first pass
		}
		var se *json.SyntaxError
		line := lt.lineAt(dec.InputOffset())
		if errors.As(err, &se) {
			line = lt.lineAt(base + se.Offset - 1)
		}
		im.reject(line, "%v; the rest of the file was not read", err)
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return fatal(err, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("activedemand: import %s: want a JSON object with \"contacts\" and \"activity\" arrays", im.file)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fatal(err, 0)
		}
		key, _ := kt.(string)
		var isContacts bool
		switch normColumn(key) {
		case "contacts":
			isContacts = true
		case "activity", "activities", "history", "histories":
		default:
			var skip json.RawMessage
			base := dec.InputOffset()
			if err := dec.Decode(&skip); err != nil {
				return fatal(err, base)
			}
			if pass == passContacts {
				im.note("%s: key %q not used", im.file, key)
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return fatal(err, 0)
		}
		if tok == nil {
			continue
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			if pass == passContacts {
				im.reject(lt.lineAt(dec.InputOffset()), "%q must be an array; it was skipped", key)
			}
			if _, isDelim := tok.(json.Delim); isDelim {
				return fatal(fmt.Errorf("%q is an object", key), 0)
			}
			continue
		}
		for dec.More() {
			base := dec.InputOffset()
			line := lt.startLine(base)
			if isContacts != (pass == passContacts) {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return fatal(err, base)
				}
				continue
			}
			var el any
			if err := dec.Decode(&el); err != nil {
				return fatal(err, base)
			}
			if err := tick(); err != nil {
				return err
			}
			obj, ok := el.(object)
			if !ok {
				im.reject(line, "%s element is %s, want an object", key, kindOf(el))
				continue
			}
			if pv != nil {
				cols, vals := flatPreview(obj)
				pv.row(cols, vals)
			}
			if isContacts {
				f := newFields("import "+im.file, -1, obj)
				c := decodeContact(f)
				if f.err != nil {
					de := f.err.(*DecodeError)
					im.reject(line, "field %q: %s", de.Field, de.Problem)
					continue
				}
				if len(c.Emails) > 1 || len(c.Phones) > 1 {
					im.rowNote(line, "only the first email address and phone number are imported")
				}
				im.addContact(line, c, false)
				continue
			}
			vals := map[string]string{}
			bad := false
			for k, v := range obj {
				canon, used := activityColumns[normColumn(k)]
				if !used {
					continue
				}
				s, err := asText(v)
				if err != nil {
					im.reject(line, "field %q: %v", k, err)
					bad = true
					break
				}
				vals[canon] = strings.TrimSpace(s)
			}
			if !bad {
				im.activityRow(line, vals)
			}
		}
		if _, err := dec.Token(); err != nil {
			return fatal(err, 0)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fatal(err, 0)
	}
	return nil
}

func flatPreview(obj object) ([]string, []string) {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range obj {
			if !yield(k) {
				return
			}
		}
	})
	vals := make([]string, len(keys))
	for i, k := range keys {
		if s, err := asText(obj[k]); err == nil {
			vals[i] = s
		} else {
			b, _ := json.Marshal(obj[k])
			vals[i] = string(b)
		}
	}
	return keys, vals
}

// lineTracker remembers the bytes the JSON decoder has read but not yet
// consumed, so a decoder offset can be turned into a line number without
// keeping the whole file.
type lineTracker struct {
	r        io.Reader
	buf      []byte
	bufStart int64
	line     int
}

func (t *lineTracker) Read(p []byte) (int, error) {
	if len(t.buf) > maxRowBytes {
		return 0, fmt.Errorf("an element is longer than %d MiB", maxRowBytes>>20)
	}
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// advance drops the bytes before off, counting their newlines.
func (t *lineTracker) advance(off int64) {
	i := int(min(max(off-t.bufStart, 0), int64(len(t.buf))))
	t.line += bytes.Count(t.buf[:i], []byte{'\n'})
	t.buf = append(t.buf[:0], t.buf[i:]...)
	t.bufStart += int64(i)
}

// lineAt is the line of byte offset off.
func (t *lineTracker) lineAt(off int64) int {
	t.advance(off)
	return t.line
}

// startLine is the line where the next value after off begins (skipping
// white space and a comma).
func (t *lineTracker) startLine(off int64) int {
	t.advance(off)
	line := t.line
	for _, b := range t.buf {
		switch b {
		case '\n':
			line++
		case ' ', '\t', '\r', ',':
		default:
			return line
		}
	}
	return line
}

// contactKey names the row's contact by what the row itself says, so that
// ids made from it do not depend on which other files are imported with it:
// resolved through a contacts export, the same row's contact would get that
// export's id, and an id made from that would change between imports.
func (a activity) contactKey() string {
	switch {
	case a.contactID != "":
		return "id:" + a.contactID
	case a.email != "":
		return "email:" + strings.ToLower(a.email)
	default:
		return "phone:" + a.phone
	}
}

// link finds or makes an activity row's contact and hands the row on as a
// message or a timeline entry.
func (im *importer) link(a activity) {
	ci, ok := im.findContact(a)
	if !ok {
		return
	}
	c := im.contacts[ci]
	at := Origin{File: a.file, Line: a.line}
	here := origin{file: uint32(im.fileIx), line: uint32(a.line)}
	if !a.message {
		id := ID(a.id)
		if id == "" {
			id = ID("imp-" + shortHash(a.contactKey(), a.typ, a.at.Format(time.RFC3339Nano), a.subject, a.body))
		}
		key := maphash.String(im.seed, string(id))
		if o, dup := im.histSeen[key]; dup {
			im.reject(a.line, "duplicate of %s", im.where(o))
			return
		}
		if im.h.History != nil && !im.handled(a.line, im.h.History(at, HistoryEntry{ID: id, ContactID: c.ID, Type: a.typ, Subject: a.subject, Body: a.body, At: a.at})) {
			return
		}
		im.histSeen[key] = here
		im.report.History++
		return
	}
	convID := ID("imp-" + shortHash(string(c.ID), string(a.channel)))
	id := ID(a.id)
	if id == "" {
		id = ID("imp-" + shortHash(a.contactKey(), string(a.channel), string(a.direction), a.at.Format(time.RFC3339Nano), a.subject, a.body))
	}
	key := maphash.String(im.seed, string(id))
	if o, dup := im.msgSeen[key]; dup {
		im.reject(a.line, "duplicate of %s", im.where(o))
		return
	}
	m := Message{ID: id, ConversationID: convID, ContactID: c.ID, Channel: a.channel, Direction: a.direction,
		Subject: a.subject, Body: a.body, SentAt: a.at, Status: MessageStatus(a.status)}
	if a.direction == Inbound {
		m.SenderName, m.SenderAddress, m.SenderPhone = c.Name(), c.Email, c.Phone
		if m.Status == "" {
			m.Status = MessageReceived
		}
	} else {
		m.SenderName, m.SenderAddress, m.SenderPhone = a.senderName, a.senderEmail, a.senderPhone
		if m.Status == "" {
			m.Status = MessageSent
		}
	}
	if a.media != nil {
		m.Media = []MediaRef{*a.media}
	}
	if a.channel == ChannelCall || a.duration > 0 || a.recordingURL != "" {
		m.Call = &CallData{Duration: a.duration, Status: a.status, RecordingURL: a.recordingURL, Transcription: a.transcription}
	}
	cv, ok := im.convs[convID]
	if !ok {
		cv = &Conversation{ID: convID, ContactID: c.ID, Channel: a.channel, Status: StatusOpen}
	}
	if cv.Subject == "" && a.subject != "" {
		cv.Subject = strings.Clone(a.subject)
	}
	if im.h.Message != nil && !im.handled(a.line, im.h.Message(at, m, *cv, c)) {
		return
	}
	im.convs[convID] = cv
	im.msgSeen[key] = here
	im.report.Messages++
}

// findContact finds an activity row's contact by id, email or phone, and
// creates a stub contact from the row when it has an email or phone.
func (im *importer) findContact(a activity) (int, bool) {
	if a.contactID != "" {
		if i, ok := im.byID[ID(a.contactID)]; ok {
			return i, true
		}
	}
	if a.email != "" {
		if i, ok := im.byEmail[strings.ToLower(a.email)]; ok {
			return i, true
		}
	}
	if a.phone != "" {
		if i, ok := im.byPhone[a.phone]; ok {
			return i, true
		}
	}
	if a.email == "" && a.phone == "" {
		im.reject(a.line, "contact_id %s is not in any contacts export and the row has no contact_email or contact_phone to create it from", a.contactID)
		return 0, false
	}
	c := Contact{ID: ID(a.contactID), FirstName: a.first, LastName: a.last, Email: a.email, Phone: a.phone}
	before := len(im.contacts)
	if !im.addContact(a.line, c, true) {
		return 0, false
	}
	im.report.Contacts--
	im.report.StubContacts++
	return before, true
}

// ImportedData is an imported export, served through the Conversations
// interface. It is read-only: writes fail with ErrReadOnly. It is safe for
// concurrent reads.
type ImportedData struct {
	contacts  []Contact
	contactIx map[ID]int
	convs     []Conversation
	messages  map[ID][]Message
	history   map[ID][]HistoryEntry
	mediaDir  string
}

var _ Conversations = (*ImportedData)(nil)

// collector builds an ImportedData from what Stream hands it.
type collector struct {
	d      *ImportedData
	convIx map[ID]int
}

func newCollector(mediaDir string) *collector {
	return &collector{d: &ImportedData{messages: map[ID][]Message{}, history: map[ID][]HistoryEntry{}, contactIx: map[ID]int{}, mediaDir: mediaDir},
		convIx: map[ID]int{}}
}

func (c *collector) handler() ImportHandler {
	d := c.d
	return ImportHandler{
		Contact: func(_ Origin, ct Contact, _ bool) error {
			d.contactIx[ct.ID] = len(d.contacts)
			d.contacts = append(d.contacts, ct)
			return nil
		},
		History: func(_ Origin, h HistoryEntry) error {
			d.history[h.ContactID] = append(d.history[h.ContactID], h)
			return nil
		},
		Message: func(_ Origin, m Message, cv Conversation, _ Contact) error {
			i, ok := c.convIx[cv.ID]
			if !ok {
				i = len(d.convs)
				c.convIx[cv.ID] = i
				d.convs = append(d.convs, cv)
			}
			if m.SentAt.After(d.convs[i].UpdatedAt) {
				d.convs[i].UpdatedAt = m.SentAt
			}
			if d.convs[i].Subject == "" {
				d.convs[i].Subject = cv.Subject
			}
			d.messages[cv.ID] = append(d.messages[cv.ID], m)
			return nil
		},
	}
}

// done orders what was collected: messages and history oldest first,
// conversations by their last message.
func (c *collector) done() *ImportedData {
	d := c.d
	for id := range d.messages {
		sort.SliceStable(d.messages[id], func(i, j int) bool { return d.messages[id][i].SentAt.Before(d.messages[id][j].SentAt) })
	}
	for id := range d.history {
		sort.SliceStable(d.history[id], func(i, j int) bool { return d.history[id][i].At.Before(d.history[id][j].At) })
	}
	sort.SliceStable(d.convs, func(i, j int) bool {
		if !d.convs[i].UpdatedAt.Equal(d.convs[j].UpdatedAt) {
			return d.convs[i].UpdatedAt.Before(d.convs[j].UpdatedAt)
		}
		return d.convs[i].ID < d.convs[j].ID
	})
	return d
}

const importPageSize = 500

// Contacts returns every imported contact, stubs included.
func (d *ImportedData) Contacts() []Contact { return slices.Clone(d.contacts) }

// Contact finds a contact by id.
func (d *ImportedData) Contact(id ID) (Contact, bool) {
	i, ok := d.contactIx[id]
	if !ok {
		return Contact{}, false
	}
	return d.contacts[i], true
}

func slicePage[T any](op string, all []T, tok PageToken) (Page[T], error) {
	var off int64
	if tok != "" {
		s, ok := strings.CutPrefix(string(tok), "o:")
		n, err := strconv.ParseInt(s, 10, 64)
		if !ok || err != nil || n < 0 || n > int64(len(all)) {
			return Page[T]{}, fmt.Errorf("activedemand: %s: page token %q is not from this import", op, tok)
		}
		off = n
	}
	end := min(off+importPageSize, int64(len(all)))
	p := Page[T]{Items: slices.Clone(all[off:end])}
	if end < int64(len(all)) {
		p.Next = PageToken("o:" + strconv.FormatInt(end, 10))
	}
	return p, nil
}

// ChangedConversations lists imported conversations updated at or after since.
func (d *ImportedData) ChangedConversations(ctx context.Context, since Cursor, page PageToken) (Page[Conversation], Cursor, error) {
	const op = "list changed conversations"
	if err := ctx.Err(); err != nil {
		return Page[Conversation]{}, since, err
	}
	t, err := since.Time()
	if err != nil {
		return Page[Conversation]{}, since, fmt.Errorf("activedemand: %s: cursor: %w", op, err)
	}
	start := sort.Search(len(d.convs), func(i int) bool { return !d.convs[i].UpdatedAt.Before(t) })
	p, err := slicePage(op, d.convs[start:], page)
	if err != nil {
		return p, since, err
	}
	cur := since
	if n := len(p.Items); n > 0 && p.Items[n-1].UpdatedAt.After(t) {
		cur = CursorAt(p.Items[n-1].UpdatedAt)
	}
	return p, cur, nil
}

// Messages lists an imported conversation's messages, oldest first.
func (d *ImportedData) Messages(ctx context.Context, conversationID ID, page PageToken) (Page[Message], error) {
	if err := ctx.Err(); err != nil {
		return Page[Message]{}, err
	}
	msgs, ok := d.messages[conversationID]
	if !ok {
		return Page[Message]{}, fmt.Errorf("activedemand: list messages: conversation %s: %w", conversationID, ErrNotFound)
	}
	return slicePage("list messages", msgs, page)
}

// History lists an imported contact's history entries, oldest first.
func (d *ImportedData) History(ctx context.Context, contactID ID, page PageToken) (Page[HistoryEntry], error) {
	if err := ctx.Err(); err != nil {
		return Page[HistoryEntry]{}, err
	}
	if _, ok := d.contactIx[contactID]; !ok {
		return Page[HistoryEntry]{}, fmt.Errorf("activedemand: list history: contact %s: %w", contactID, ErrNotFound)
	}
	return slicePage("list history", d.history[contactID], page)
}

// DownloadMedia streams a file the export included (a relative path under
// ImportOptions.MediaDir); URLs fail with ErrMediaUnavailable.
func (d *ImportedData) DownloadMedia(ctx context.Context, mediaURL string, w io.Writer) (int64, error) {
	const op = "download media"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if d.mediaDir == "" || strings.Contains(mediaURL, "://") || filepath.IsAbs(mediaURL) || mediaURL == "" {
		return 0, fmt.Errorf("activedemand: %s %q: %w; fetch it with API access", op, mediaURL, ErrMediaUnavailable)
	}
	root, err := os.OpenRoot(d.mediaDir)
	if err != nil {
		return 0, fmt.Errorf("activedemand: %s: %w", op, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(mediaURL))
	if err != nil {
		return 0, fmt.Errorf("activedemand: %s %q: %w (%w)", op, mediaURL, ErrMediaUnavailable, err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("activedemand: %s: %w", op, err)
	}
	return n, nil
}

func readOnly(op string) error { return fmt.Errorf("activedemand: %s: %w", op, ErrReadOnly) }

// SetMessageStatus fails: imported data is read-only.
func (d *ImportedData) SetMessageStatus(context.Context, ID, MessageStatus) error {
	return readOnly("report message status")
}

// AddHistory fails: imported data is read-only.
func (d *ImportedData) AddHistory(context.Context, NewHistoryEntry) (ID, error) {
	return "", readOnly("create history entry")
}

// RaiseTask fails: imported data is read-only.
func (d *ImportedData) RaiseTask(context.Context, NewTask) (ID, error) {
	return "", readOnly("raise task")
}

// SubscribeWebhook fails: imported data is read-only.
func (d *ImportedData) SubscribeWebhook(context.Context, string, EventType) (ID, error) {
	return "", readOnly("subscribe webhook")
}

// UnsubscribeWebhook fails: imported data is read-only.
func (d *ImportedData) UnsubscribeWebhook(context.Context, ID) error {
	return readOnly("unsubscribe webhook")
}
