package activedemand

// Reading JSON exports element by element, with line numbers for errors.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

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
			if err := skipValue(dec, lt); err != nil {
				return fatal(err, 0)
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

// skipValue skips the next value token by token, letting the line
// tracker drop what was read: an unused key may hold more than the row cap
// allows one element, and is not read into memory at all.
func skipValue(dec *json.Decoder, lt *lineTracker) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		lt.advance(dec.InputOffset())
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
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
