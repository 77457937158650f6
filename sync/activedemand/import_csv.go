package activedemand

// Reading CSV exports: the separator, the header and its column names, and
// rows capped in size.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

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
	// The row's values by position, and for activity rows by key: both
	// reused from row to row, as is the record (nothing keeps them).
	r.ReuseRecord = true
	vals := make([]string, len(header))
	var byKey map[string]string
	var cc *contactCols
	if activityFile {
		byKey = make(map[string]string, len(header))
	} else {
		cc = indexContactCols(canon)
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
		for i, v := range rec {
			vals[i] = ""
			if canon[i] != "" {
				vals[i] = strings.TrimSpace(strings.ToValidUTF8(v, "\uFFFD"))
			}
		}
		if activityFile {
			clear(byKey)
			for i, k := range canon {
				if k != "" {
					byKey[k] = vals[i]
				}
			}
			im.activityRow(line, byKey)
		} else {
			im.contactRow(line, cc, vals)
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
