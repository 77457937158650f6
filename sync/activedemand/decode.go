package activedemand

// ActiveDEMAND's JSON is loosely typed: ids come as numbers or strings,
// lists sometimes as a single object, fields go missing. The readers here
// accept every reasonable spelling and turn anything else into a
// DecodeError that names the call, the item and the field. encoding/json
// already replaces invalid UTF-8 with U+FFFD, so bad bytes never fail a
// decode.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ID is an ActiveDEMAND record id. AD sends numbers; some replies send
// strings; both become this decimal text.
type ID string

// String returns the id text.
func (id ID) String() string { return string(id) }

type object = map[string]any

// parseJSON decodes one JSON value, numbers kept exact.
func parseJSON(op string, body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &DecodeError{Op: op, Index: -1, Problem: "the reply is empty, want JSON"}
		}
		return nil, &DecodeError{Op: op, Index: -1, Problem: "the reply is not JSON: " + err.Error() + " (starts " + quoteStart(body) + ")"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Op: op, Index: -1, Problem: "the reply has data after the JSON value"}
	}
	return v, nil
}

func quoteStart(b []byte) string {
	const n = 60
	if len(b) > n {
		b = b[:n]
	}
	return strconv.Quote(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// listItems turns a reply into its items: a JSON array of objects, a single
// object (one item), null (none), or, with itemsField, an object holding
// the list in that field.
func listItems(op string, v any, itemsField string) ([]object, error) {
	if itemsField != "" {
		obj, ok := v.(object)
		if !ok {
			return nil, &DecodeError{Op: op, Index: -1, Problem: fmt.Sprintf("want an object with the list in field %q, got %s", itemsField, kindOf(v))}
		}
		inner, present := obj[itemsField]
		if !present {
			if err := replyError(op, obj); err != nil {
				return nil, err
			}
			return nil, &DecodeError{Op: op, Index: -1, Field: itemsField, Problem: "missing; the route table says the list is in this field (paging.items_field)"}
		}
		v = inner
	}
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]object, 0, len(t))
		for i, e := range t {
			o, ok := e.(object)
			if !ok {
				return nil, &DecodeError{Op: op, Index: i, Problem: "want an object, got " + kindOf(e)}
			}
			out = append(out, o)
		}
		return out, nil
	case object:
		if err := replyError(op, t); err != nil {
			return nil, err
		}
		return []object{t}, nil
	default:
		return nil, &DecodeError{Op: op, Index: -1, Problem: "want a list or an object, got " + kindOf(v)}
	}
}

// replyError recognises {"error": "..."} sent with a success status.
func replyError(op string, o object) error {
	if _, hasID := o["id"]; hasID {
		return nil
	}
	for _, k := range []string{"error", "errors", "message"} {
		if msg, ok := o[k].(string); ok && len(o) <= 3 {
			return &DecodeError{Op: op, Index: -1, Problem: "ActiveDEMAND replied with an error: " + truncate(msg, 200)}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// fields reads one object's fields, remembering the first problem so a
// decoder can read everything and check once.
type fields struct {
	op    string
	index int
	obj   object
	err   error
	// parent and prefix are set for a nested object, whose problems are
	// reported on the parent as prefix.field.
	parent *fields
	prefix string
}

func newFields(op string, index int, obj object) *fields {
	return &fields{op: op, index: index, obj: obj}
}

// nested reads an object inside f.
func (f *fields) nested(prefix string, obj object) *fields {
	return &fields{op: f.op, index: f.index, obj: obj, parent: f, prefix: prefix}
}

func (f *fields) fail(field, problem string) {
	if f.err != nil {
		return
	}
	f.err = &DecodeError{Op: f.op, Index: f.index, Field: field, Problem: problem}
	if f.parent != nil {
		f.parent.fail(f.prefix+"."+field, problem)
	}
}

// lookup returns the first present, non-null key.
func (f *fields) lookup(keys ...string) (string, any, bool) {
	for _, k := range keys {
		if v, ok := f.obj[k]; ok && v != nil {
			return k, v, true
		}
	}
	return "", nil, false
}

// str reads text; numbers and booleans are accepted as their text.
func (f *fields) str(keys ...string) string {
	k, v, ok := f.lookup(keys...)
	if !ok {
		return ""
	}
	s, err := asText(v)
	if err != nil {
		f.fail(k, err.Error())
	}
	return s
}

func asText(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return strconv.FormatBool(t), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("want text, got %s", kindOf(v))
}

// id reads an id given as a number or as text.
func (f *fields) id(keys ...string) ID {
	k, v, ok := f.lookup(keys...)
	if !ok {
		return ""
	}
	id, err := asID(v)
	if err != nil {
		f.fail(k, err.Error())
	}
	return id
}

func asID(v any) (ID, error) {
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return ID(strconv.FormatInt(i, 10)), nil
		}
		fl, err := strconv.ParseFloat(t.String(), 64)
		if err == nil && fl == math.Trunc(fl) && math.Abs(fl) < 1<<53 {
			return ID(strconv.FormatInt(int64(fl), 10)), nil
		}
		return "", fmt.Errorf("want a whole-number id, got %s", t)
	case string:
		s := strings.TrimSpace(t)
		if strings.ContainsAny(s, "/?#") {
			return "", fmt.Errorf("id %q contains / ? or #", truncate(s, 40))
		}
		return ID(s), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("want an id (number or text), got %s", kindOf(v))
}

// numberText finds a number given as a JSON number or as text and returns
// its text; ok is false when it is absent, empty or not a number (the last
// is recorded as a field error).
func (f *fields) numberText(keys ...string) (key, text string, ok bool) {
	k, v, found := f.lookup(keys...)
	if !found {
		return "", "", false
	}
	switch t := v.(type) {
	case json.Number:
		return k, t.String(), true
	case string:
		s := strings.TrimSpace(t)
		return k, s, s != ""
	default:
		f.fail(k, "want a number, got "+kindOf(v))
		return "", "", false
	}
}

// int reads a whole number given as a number or as text.
func (f *fields) int(keys ...string) int64 {
	k, s, ok := f.numberText(keys...)
	if !ok {
		return 0
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	fl, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(fl, 0) || math.IsNaN(fl) || math.Abs(fl) > 1<<62 {
		f.fail(k, fmt.Sprintf("want a number, got %q", truncate(s, 40)))
		return 0
	}
	return int64(fl)
}

// float reads a number given as a number or as text.
func (f *fields) float(keys ...string) float64 {
	k, s, ok := f.numberText(keys...)
	if !ok {
		return 0
	}
	fl, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(fl, 0) || math.IsNaN(fl) {
		f.fail(k, fmt.Sprintf("want a number, got %q", truncate(s, 40)))
		return 0
	}
	return fl
}

// boolean reads true/false given as a JSON boolean, 0/1 or text.
func (f *fields) boolean(keys ...string) bool {
	k, v, ok := f.lookup(keys...)
	if !ok {
		return false
	}
	switch t := v.(type) {
	case bool:
		return t
	case json.Number:
		return t.String() != "0"
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1", "yes", "y", "t":
			return true
		case "false", "0", "no", "n", "f", "":
			return false
		}
		f.fail(k, fmt.Sprintf("want true or false, got %q", truncate(t, 40)))
		return false
	}
	f.fail(k, "want true or false, got "+kindOf(v))
	return false
}

// timeLayouts are the timestamp spellings accepted, most likely first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006-01-02",
	"2006/01/02",
}

// parseTime reads a timestamp: one of timeLayouts (UTC when no zone is
// given) or Unix seconds (milliseconds when the number is that large).
func parseTime(s string) (time.Time, error) { return parseTimeIn(s, time.UTC) }

// parseTimeIn is parseTime with loc for timestamps written without a zone.
func parseTimeIn(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return unixTime(n), nil
	}
	return time.Time{}, fmt.Errorf("want a date and time like 2006-01-02T15:04:05Z, got %q", truncate(s, 40))
}

func unixTime(n int64) time.Time {
	if n > 1e12 || n < -1e12 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// time reads a timestamp given as text or as Unix seconds.
func (f *fields) time(keys ...string) time.Time {
	k, v, ok := f.lookup(keys...)
	if !ok {
		return time.Time{}
	}
	switch t := v.(type) {
	case string:
		tm, err := parseTime(t)
		if err != nil {
			f.fail(k, err.Error())
		}
		return tm
	case json.Number:
		n, err := strconv.ParseInt(t.String(), 10, 64)
		if err != nil {
			fl, ferr := strconv.ParseFloat(t.String(), 64)
			if ferr != nil || math.IsInf(fl, 0) || math.IsNaN(fl) || math.Abs(fl) > 1e15 {
				f.fail(k, "want a timestamp, got "+t.String())
				return time.Time{}
			}
			n = int64(fl)
		}
		return unixTime(n)
	}
	f.fail(k, "want a timestamp, got "+kindOf(v))
	return time.Time{}
}

// object reads a nested object; a missing field is nil.
func (f *fields) object(key string) object {
	v, ok := f.obj[key]
	if !ok || v == nil {
		return nil
	}
	o, isObj := v.(object)
	if !isObj {
		f.fail(key, "want an object, got "+kindOf(v))
	}
	return o
}

// list reads a field that may be a list or a single value.
func (f *fields) list(key string) []any {
	v, ok := f.obj[key]
	if !ok || v == nil {
		return nil
	}
	if l, isList := v.([]any); isList {
		return l
	}
	return []any{v}
}

// multi reads values that AD spells several ways: a flat
// "emails.email_address" key, a plain "email" key, or a nested "emails"
// list of objects (or strings). It returns every non-empty value, flat key
// first.
func (f *fields) multi(flat, plural, sub string, plain ...string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, k := range append([]string{flat}, plain...) {
		for _, v := range f.list(k) {
			s, err := asText(v)
			if err != nil {
				f.fail(k, err.Error())
				continue
			}
			add(s)
		}
	}
	for i, v := range f.list(plural) {
		switch t := v.(type) {
		case object:
			s, err := asText(t[sub])
			if err != nil {
				f.fail(fmt.Sprintf("%s[%d].%s", plural, i, sub), err.Error())
				continue
			}
			add(s)
		default:
			s, err := asText(v)
			if err != nil {
				f.fail(fmt.Sprintf("%s[%d]", plural, i), err.Error())
				continue
			}
			add(s)
		}
	}
	return out
}
