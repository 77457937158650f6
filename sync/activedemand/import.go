package activedemand

// Import from an ActiveDEMAND export file: the way in that needs no API
// access. CSV (a contacts export and an activity export) and JSON (an
// object with "contacts" and "activity" arrays) become the same Contact,
// Conversation, Message and HistoryEntry values the API gives, and an
// ImportedData serves them through the Conversations interface.
//
// Files are read as streams, row by row, and Stream hands each contact and
// message on as it is read, keeping only an index of the contacts; Import
// holds the result in memory for small exports and tests. Every rejected
// row is reported with its file and line. This file has the types and the
// passes over the files; import_csv.go, import_json.go and import_rows.go
// read and check the rows, imported.go serves an import held in memory.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"parley/sync/internal/phone"
)

// ImportSource is one export file.
type ImportSource struct {
	// Name is used in errors and the report, e.g. "contacts.csv".
	Name string
	// Open returns the content; it is called once or twice per import
	// (a JSON export is read once for its contacts, once for its activity).
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
		Open: func() (io.ReadCloser, error) { return os.Open(path) }, // #nosec G304 -- the export file the user picked to import
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

// ExportKind is what an export file holds, as a user would name it.
type ExportKind string

// Export kinds.
const (
	KindContactsCSV ExportKind = "contacts CSV"
	KindActivityCSV ExportKind = "activity CSV"
	KindJSON        ExportKind = "JSON"
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

// RowError is a row of an export that was not imported, and why.
type RowError struct {
	// File is the file's base name; Line is where the row starts (1-based).
	File   string
	Line   int
	Reason string
}

// Error reads "file:line: reason", the form editors and terminals jump to.
func (e RowError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// maxKeptErrors bounds ExportCounts.Errors; Rejected counts them all.
const maxKeptErrors = 1000

// ExportCounts is what export files hold, as the parser read them.
type ExportCounts struct {
	// Contacts are contacts from contact rows; ContactsFromActivity are
	// contacts that activity rows name but no contacts export among the
	// files has, made from the rows (email, phone, name). They are not
	// queued on their own: the messages carry them.
	Contacts, ContactsFromActivity int
	Conversations, Messages        int
	// Timeline counts AD timeline entries (notes, form submissions): read
	// but not mirrored, since the sync mirrors conversations.
	Timeline int
	// Blank counts empty rows skipped; Rejected rows that cannot be
	// imported, of which Errors lists the first 1000.
	Blank, Rejected int
	Errors          []RowError
	// Notes are things worth knowing that rejected nothing, such as
	// columns that are not used; a note about many rows is one note.
	Notes []string
	// Attachments are the files on this computer an import would upload
	// to HighLevel (the first 1000; AttachmentFiles counts them all), so
	// that the admin sees what would leave the computer before it does.
	// The parser does not read attachments: the engine, which would
	// upload them, fills these.
	Attachments     []Attachment
	AttachmentFiles int
}

// Attachment is a file an import would upload.
type Attachment struct {
	// Path is absolute; Size is in bytes.
	Path string
	Size int64
}

// String summarises the report with the rejected rows listed.
func (r ExportCounts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %d contacts", r.Contacts)
	if r.ContactsFromActivity > 0 {
		fmt.Fprintf(&b, " (+%d from activity only)", r.ContactsFromActivity)
	}
	fmt.Fprintf(&b, ", %d messages in %d conversations, %d history entries; %d rows rejected", r.Messages, r.Conversations, r.Timeline, r.Rejected)
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
	Kind ExportKind
	// Separator is the CSV separator found (',', ';' or '\t').
	Separator rune
	// Columns are the CSV header, or the keys of the first JSON elements.
	Columns []string
	// Rows are the first rows, aligned with Columns.
	Rows [][]string
	// Report has the counts for the whole file.
	Report ExportCounts
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
func Stream(ctx context.Context, opts ImportOptions, h ImportHandler, sources ...ImportSource) (ExportCounts, error) {
	im := newImporter(opts, h)
	err := im.run(ctx, sources, nil)
	return im.report, err
}

// Import reads export files and returns their data, held in memory, and a
// report. Stream reads them without holding them.
func Import(ctx context.Context, opts ImportOptions, sources ...ImportSource) (*ImportedData, ExportCounts, error) {
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
	report ExportCounts
	// err is the first error of h, which stops the import.
	err error

	// contacts hold what names a contact in a message (id, names, email,
	// phone), packed in one string each, not the whole contact (h got
	// that); the indexes find them by a hash of id, email or phone. A
	// contact costs about 100 bytes, however many columns its row had.
	// byPhone is nil until an activity row looks a contact up by phone
	// (see indexPhones).
	contacts packedContacts
	origin   []origin
	byID     map[uint64]int32
	byEmail  map[uint64]int32
	byPhone  map[uint64]int32
	// Messages and timeline entries seen, by a 64-bit hash of their id:
	// the ids of a million messages would be tens of megabytes more, and
	// a collision (about 1 in 10^7 for a million ids) would only reject a
	// row as a duplicate.
	seed     maphash.Seed
	msgSeen  *seenSet
	histSeen *seenSet
	// convs holds each conversation's subject (the first seen).
	convs map[ID]string
	files []string

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

// seenSet holds hashed ids with where each was first seen, for the
// duplicate's message: a million messages' set was the biggest thing an
// import of them held (32 MB in a map, whose slots are padded to 16 bytes
// and kept at most 7/8 full), and the collector lets the heap grow to
// twice what is live. Here an entry takes 12 bytes: the keys sorted in one
// slice, their origins packed in 32 bits (4 for the file, 28 for the line)
// in another; new entries wait in a small map and are merged in by the
// batch. The rare origin that does not fit (a 17th file, a line past 268
// million) is kept whole in wide.
type seenSet struct {
	recent map[uint64]origin
	keys   []uint64 // sorted
	where  []uint32 // packed origins, by keys' index; wideOrigin: see wide
	wide   map[uint64]origin
}

const (
	seenFileBits = 4
	seenLineBits = 32 - seenFileBits
	// wideOrigin marks an origin kept in wide; no packed origin equals it.
	wideOrigin = 1<<32 - 1
	// seenBatch is how many new entries wait before a merge: a merge
	// moves the whole sorted slice, so fewer merges, against a map of
	// this many entries.
	seenBatch = 1 << 14
)

func newSeenSet() *seenSet {
	return &seenSet{recent: map[uint64]origin{}, wide: map[uint64]origin{}}
}

func (s *seenSet) get(key uint64) (origin, bool) {
	if o, ok := s.recent[key]; ok {
		return o, true
	}
	i, ok := slices.BinarySearch(s.keys, key)
	if !ok {
		return origin{}, false
	}
	if p := s.where[i]; p != wideOrigin {
		return origin{file: p >> seenLineBits, line: p & (1<<seenLineBits - 1)}, true
	}
	o, ok := s.wide[key]
	return o, ok
}

// put adds key, which get did not find.
func (s *seenSet) put(key uint64, o origin) {
	s.recent[key] = o
	if len(s.recent) >= seenBatch {
		s.merge()
	}
}

// merge moves the recent entries into the sorted slices, from the back so
// that nothing but the slices' growth is copied.
func (s *seenSet) merge() {
	batch := slices.Sorted(maps.Keys(s.recent))
	n, m := len(s.keys), len(batch)
	s.keys = slices.Grow(s.keys, m)[:n+m]
	s.where = slices.Grow(s.where, m)[:n+m]
	i, j := n-1, m-1
	for k := n + m - 1; j >= 0; k-- {
		if i >= 0 && s.keys[i] > batch[j] {
			s.keys[k], s.where[k] = s.keys[i], s.where[i]
			i--
			continue
		}
		key, o := batch[j], s.recent[batch[j]]
		s.keys[k], s.where[k] = key, wideOrigin
		if o.file < 1<<seenFileBits && o.line < 1<<seenLineBits && o.file<<seenLineBits|o.line != wideOrigin {
			s.where[k] = o.file<<seenLineBits | o.line
		} else {
			s.wide[key] = o
		}
		j--
	}
	clear(s.recent)
}

func (im *importer) where(o origin) string {
	return fmt.Sprintf("%s line %d", im.files[o.file], o.line)
}

// hash is the index key of an id, email or phone: 64 bits, so a
// collision among a few million contacts (about 1 in 10^6) is as unlikely
// as a typo in the export, and would only link a row to the wrong contact.
func (im *importer) hash(s string) uint64 { return maphash.String(im.seed, s) }

// contact unpacks contact i, one allocation (the copy of its record) for
// every message linked to it.
func (im *importer) contact(i int32) Contact {
	var f [5]string
	rest := im.contacts.get(i)
	for k := range len(f) - 1 {
		f[k], rest, _ = strings.Cut(rest, "\x00")
	}
	f[len(f)-1] = rest
	return Contact{ID: ID(f[0]), FirstName: f[1], LastName: f[2], Email: f[3], Phone: f[4]}
}

// packedContacts holds the contacts' packed strings end to end in chunks
// of bytes: a string each cost a header, an allocation rounded up to its
// size class and a pointer for the garbage collector to follow, about a
// fifth more memory at a million contacts. Packing also copies, which
// matters: a CSV value shares the memory of its whole row.
type packedContacts struct {
	chunks [][]byte
	// at locates each record: chunk<<32 | offset. A record is its length
	// (a uvarint) and its bytes.
	at []uint64
}

// packChunk is the size of a chunk; a longer record gets one of its own.
const packChunk = 1 << 20

func (p *packedContacts) len() int { return len(p.at) }

// add appends a record made of fields joined by NUL.
func (p *packedContacts) add(fields ...string) {
	n := len(fields) - 1
	for _, f := range fields {
		n += len(f)
	}
	need := binary.MaxVarintLen64 + n
	if len(p.chunks) == 0 || cap(p.chunks[len(p.chunks)-1])-len(p.chunks[len(p.chunks)-1]) < need {
		p.chunks = append(p.chunks, make([]byte, 0, max(packChunk, need)))
	}
	last := len(p.chunks) - 1
	b := p.chunks[last]
	p.at = append(p.at, uint64(last)<<32|uint64(len(b))) // #nosec G115 -- last and len(b) are non-negative; len(b) < packChunk (2^20) in a shared chunk and 0 in a chunk of its own, so it fits 32 bits
	b = binary.AppendUvarint(b, uint64(n))               // #nosec G115 -- n is a sum of lengths, non-negative
	for i, f := range fields {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, f...)
	}
	p.chunks[last] = b
}

// get returns record i.
func (p *packedContacts) get(i int32) string {
	at := p.at[i]
	b := p.chunks[at>>32][uint32(at):] // #nosec G115 -- the low 32 bits are the offset add stored there
	n, k := binary.Uvarint(b)
	return string(b[k : k+int(n)]) // #nosec G115 -- n is the int length add wrote
}

func newImporter(opts ImportOptions, h ImportHandler) *importer {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = phone.DefaultRegion
	}
	return &importer{opts: opts, h: h, rowNotes: map[string]*rowNote{}, byID: map[uint64]int32{}, byEmail: map[uint64]int32{},
		seed: maphash.MakeSeed(), msgSeen: newSeenSet(), histSeen: newSeenSet(), convs: map[ID]string{}}
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
