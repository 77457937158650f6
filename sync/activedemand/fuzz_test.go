package activedemand

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decoderSeeds cover arrays vs objects, missing fields, wrong types,
// ids as numbers and text, and invalid UTF-8.
var decoderSeeds = []string{
	`[]`, `null`, `{}`, `[{}]`, `"x"`, `42`, `[1, "a", null]`, `{"error": "nope"}`,
	`[{"id": 1}]`, `{"id": "1"}`, `[{"id": 1.0}]`, `[{"id": 1e3}]`, `[{"id": -5}]`, `[{"id": 99999999999999999999}]`, `[{"id": {"a": 1}}]`, `[{"id": [1]}]`,
	`[{"id": 1, "first_name": "A", "emails.email_address": "a@x.io", "phones.phone_number": ["+1", "+2"], "custom_7": 3, "x": {"y": 1}}]`,
	`[{"id": 2, "emails": [{"email_address": "b@x.io"}, "c@x.io", 5], "phones": {"phone_number": "1"}}]`,
	"[{\"id\": 3, \"first_name\": \"\xff\xfe\", \"last_name\": \"\xc3\"}]",
	`[{"id": 1, "direction": "in", "channel": "sms", "sent_at": "2025-01-01", "attachments": [{"url": "u", "size": 1}], "call": {"duration": 3}}]`,
	`[{"id": 1, "direction": "sideways", "call": []}]`, `[{"id": 1, "direction": "out", "media": "x"}]`,
	`[{"id": 1, "updated_at": 1e300}]`, `[{"id": 1, "updated_at": "2025-13-45"}]`, `[{"key": "custom_1", "label": "C", "type": "text", "custom": "yes"}]`,
	`[{"key": 5, "custom": 2}]`, `{"data": [{"id": 1}], "next": {"a": 1}}`, `[{"id": 1, "history_type": "note", "occurred_at": 1700000000000}]`,
}

func allValidUTF8(v any) bool {
	ok := true
	var walk func(reflect.Value)
	walk = func(rv reflect.Value) {
		switch rv.Kind() {
		case reflect.String:
			if !utf8.ValidString(rv.String()) {
				ok = false
			}
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(rv.Elem())
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					walk(rv.Field(i))
				}
			}
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				return // raw JSON
			}
			for i := range rv.Len() {
				walk(rv.Index(i))
			}
		case reflect.Map:
			for _, k := range rv.MapKeys() {
				walk(k)
				walk(rv.MapIndex(k))
			}
		}
	}
	walk(reflect.ValueOf(v))
	return ok
}

// checkDecoded is what every decoder promises: no panic, a DecodeError
// naming the call on failure, valid UTF-8 and safe ids on success.
func checkDecoded[T any](t *testing.T, op string, items []T, err error, id func(T) ID) {
	t.Helper()
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) || de.Op != op || !strings.Contains(err.Error(), op) {
			t.Fatalf("error is not a DecodeError for %q: %v", op, err)
		}
		return
	}
	if !allValidUTF8(items) {
		t.Fatalf("invalid UTF-8 in %+v", items)
	}
	for _, it := range items {
		if s := string(id(it)); strings.ContainsAny(s, "/?#") || !utf8.ValidString(s) {
			t.Fatalf("unsafe id %q", s)
		}
	}
}

func addSeeds(f *testing.F) {
	for _, s := range decoderSeeds {
		f.Add([]byte(s))
	}
}

func FuzzDecodeContacts(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodeItems("list contacts", body, "", decodeContact)
		checkDecoded(t, "list contacts", items, err, func(c Contact) ID { return c.ID })
		for _, c := range items {
			if (c.Email == "") != (len(c.Emails) == 0) || (c.Phone == "") != (len(c.Phones) == 0) {
				t.Fatalf("Email/Emails disagree: %+v", c)
			}
		}
	})
}

func FuzzDecodeContactFields(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodeItems("list contact fields", body, "", decodeContactField)
		checkDecoded(t, "list contact fields", items, err, func(c ContactField) ID { return "" })
		for _, cf := range items {
			if cf.Key == "" || (IsCustomField(cf.Key) && !cf.Custom) {
				t.Fatalf("field %+v", cf)
			}
		}
	})
}

func FuzzDecodeNamed(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		lists, _, err := decodeItems("list forms", body, "", func(fl *fields) Form { id, name := decodeNamed(fl); return Form{id, name} })
		checkDecoded(t, "list forms", lists, err, func(x Form) ID { return x.ID })
		ff, _, err := decodeItems("list form fields", body, "", decodeFormField)
		checkDecoded(t, "list form fields", ff, err, func(x FormField) ID { return "" })
	})
}

func FuzzDecodeConversations(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, wrap := range []string{"", "data"} {
			items, _, err := decodeItems("list changed conversations", body, wrap, decodeConversation)
			checkDecoded(t, "list changed conversations", items, err, func(c Conversation) ID { return c.ID })
			for _, c := range items {
				if c.ID == "" || c.Status == "" {
					t.Fatalf("conversation %+v", c)
				}
			}
		}
	})
}

func FuzzDecodeMessages(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodeItems("list messages", body, "", decodeMessage)
		checkDecoded(t, "list messages", items, err, func(m Message) ID { return m.ID })
		for _, m := range items {
			if m.ID == "" || (m.Direction != Inbound && m.Direction != Outbound) {
				t.Fatalf("message %+v", m)
			}
			if m.Call != nil && m.Call.Duration < 0 {
				t.Fatalf("negative call %+v", m.Call)
			}
			for _, md := range m.Media {
				if md.URL == "" {
					t.Fatalf("media without URL %+v", m)
				}
			}
		}
	})
}

func FuzzDecodeHistory(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodeItems("list history", body, "", decodeHistory)
		checkDecoded(t, "list history", items, err, func(h HistoryEntry) ID { return h.ID })
		id, err := firstID("create history entry", body)
		if err == nil && (id == "" || strings.ContainsAny(string(id), "/?#")) {
			t.Fatalf("firstID = %q", id)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"id": "e1", "type": "message.created", "data": {"contact_id": 5, "message_id": "9", "status": "read"}}`))
	f.Add([]byte(`{"id": 1, "event": "contact.updated", "contact_id": "x", "occurred_at": "bad"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error is not a DecodeError: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" || !allValidUTF8(ev) {
			t.Fatalf("event %+v", ev)
		}
		// What parses re-encodes and parses to the same event.
		b, err := EncodeEvent(ev)
		if err != nil {
			return // data that is not an object cannot be re-encoded
		}
		again, err := ParseEvent(b)
		if err != nil || again.ID != ev.ID || again.Type != ev.Type || again.ContactID != ev.ContactID || again.MessageID != ev.MessageID {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", ev, b, again, err)
		}
	})
}

func FuzzParseRoutes(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "routes-override.toml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("[routes.\"messages.list\"]\npath = \"x/{conversation_id}.json\"\n[routes.\"messages.list\".paging]\nscheme = \"offset\"\npage_param = \"o\"\nsize_param = \"l\"\n"))
	f.Add([]byte("[webhook]\nsignature_header = \"\"\n"))
	f.Add([]byte("[routes.x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRoutes("fuzz.toml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// Whatever loads is a valid table the sandbox can compile.
		if err := r.Validate(); err != nil {
			t.Fatalf("loaded table does not validate: %v", err)
		}
		_ = r.Render()
	})
}

var csvSeeds = []string{
	"first_name,last_name,email_address,phone_number\nA,B,a@example.com,+19025550000\n",
	"\uFEFFid;first_name;email_address\r\n1;\"A;B\";a@example.com\r\n2;\"multi\r\nline\";b@example.com\r\n",
	"contact_email,type,channel,direction,date,body,duration\na@example.com,SMS Received,sms,inbound,2025-01-01 10:00,hi,\nb@example.com,Call,call,out,2025-01-01T10:00:00Z,,1:02\n",
	"contact_id\ttype\tdate\n5\tnote\t2025-01-01\n",
	"email\n\"unterminated\n", "a,b\n\xff,\xfe\n", "first_name,email_address\nA,a@example.com,extra\n", ",,\n,,\n",
}

func FuzzImportCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		checkImport(t, "fuzz.csv", content)
	})
}

func FuzzImportJSON(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "export.json")); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"contacts": null}`, `{"contacts": [1, {"id": {}}], "activity": "x"}`, `{"activity": [{"contact_id": 1, "date": "2025-01-01", "type": "note"}]}`,
		`{"contacts": [{"emails.email_address": "a@b.co"}], "other": {"a": [1]}}`, "{\"contacts\": [{\"first_name\": \"\xff\", \"email\": \"a@b.co\"}]}", `{"contacts": [`, `{"contacts": {}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		checkImport(t, "fuzz.json", content)
	})
}

// checkImport imports content and checks the import's promises: every row
// is accounted for, rejections have lines inside the file, and what was
// imported is valid UTF-8 and readable through the interface.
func checkImport(t *testing.T, name string, content []byte) {
	t.Helper()
	ctx := context.Background()
	data, rep, err := Import(ctx, ImportOptions{}, BytesSource(name, content))
	if err != nil {
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("fatal error does not name the file: %v", err)
		}
		return
	}
	lines := bytes.Count(content, []byte{'\n'}) + 1
	for _, e := range rep.Errors {
		if e.File != name || e.Line < 1 || e.Line > lines || e.Reason == "" {
			t.Fatalf("bad row error %+v (file has %d lines)", e, lines)
		}
	}
	if rep.Rejected < len(rep.Errors) {
		t.Fatalf("report %+v", rep)
	}
	if len(data.Contacts()) != rep.Contacts+rep.ContactsFromActivity || !allValidUTF8(data.Contacts()) {
		t.Fatalf("contacts %d, report %+v", len(data.Contacts()), rep)
	}
	msgs := 0
	for c, err := range AllChangedConversations(ctx, data, "") {
		if err != nil {
			t.Fatal(err)
		}
		for m, err := range AllMessages(ctx, data, c.ID) {
			if err != nil {
				t.Fatal(err)
			}
			if m.ContactID != c.ContactID || !allValidUTF8(m) {
				t.Fatalf("message %+v in %+v", m, c)
			}
			msgs++
		}
	}
	if msgs != rep.Messages {
		t.Fatalf("%d messages readable, report says %d", msgs, rep.Messages)
	}
}
