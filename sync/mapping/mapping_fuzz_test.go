package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"parley/sync/activedemand"
)

// secretFor is the password in FuzzUserMapping's sample, which must never
// reach what is sent to HighLevel. It is a hash of the input, so that no
// input can hold it, as constant or template text, and send it itself.
func secretFor(data []byte, value string) string {
	h := sha256.Sum256(append(slices.Clone(data), value...))
	return "pw-" + hex.EncodeToString(h[:12])
}

// FuzzUserMapping takes a mapping as the editor could send it (any JSON
// for the links) through what saving and the engine do with it: stored
// and read back, validated against the catalog, compiled and applied to a
// sample. Nothing may panic, and the promises of the package doc hold:
//   - a password never reaches HighLevel, valid mapping or not;
//   - every link ends in exactly one of: applied, empty, or an error;
//   - a mapping Validate accepts fails at Apply only on values, never on
//     its own links;
//   - once a field it reads is deleted in ActiveDEMAND, only the links
//     that read it fail (ErrFieldGone), and the rest of the contact is
//     still sent unchanged.
func FuzzUserMapping(f *testing.F) {
	seed := func(links []Link) {
		b, err := json.Marshal(links)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "Value 1")
	}
	seed(Default(catalog().AD))
	seed([]Link{
		{AD: "emails.email_address", GHL: "email", Transform: Transform{Name: Lower}},
		{AD: "custom_2", GHL: "city", Transform: Transform{Name: Upper}},
		{AD: "custom_4", GHL: "customFields.lead_source", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]any{"Value 1": "web"}, "missing": "keep"}}},
		{AD: NoADField, GHL: "source", Transform: Transform{Name: Template, Params: map[string]any{"text": "{{first_name}} via {{custom_2}}"}}},
		{AD: "custom_6", GHL: "customFields.birthday", Transform: Transform{Name: DateConv, Params: map[string]any{"layouts": []any{"01/02/2006"}}}},
		{AD: "custom_3", GHL: "tags"},
	})
	seed([]Link{{AD: "custom_5", GHL: "customFields.pw"}, {AD: "", GHL: "website", Transform: Transform{Name: Template, Params: map[string]any{"text": "{{custom_5}}"}}}})
	seed([]Link{{AD: "phones.phone_number", GHL: "phone", Transform: Transform{Name: E164, Params: map[string]any{"region": "CA"}}}, {AD: "custom_9", GHL: "city"}})
	f.Add([]byte(`[{"ad":"first_name","ghl":"firstName","transform":{"name":"date","params":{"zone":"Mars/Base","layouts":[1,null]}}}]`), "2026-01-02")
	f.Add([]byte(`[{"ad":"custom_2","ghl":"customFields.a b"},{"ad":"custom_2","ghl":"customFields.a b"}]`), "")
	f.Add([]byte(`[{"transform":{"name":"constant","params":{"value":"{{custom_5}}"}}}]`), "x")

	full := catalog()
	// custom_2 deleted in ActiveDEMAND since the mapping was saved.
	gone := NewCatalog(slices.DeleteFunc(slices.Clone(adDefs), func(d activedemand.ContactField) bool { return d.Key == "custom_2" }), nil)
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		var typed []Link
		if json.Unmarshal(data, &typed) != nil || len(typed) > 50 {
			return
		}
		// Saved and loaded, as the editor's mapping reaches the engine.
		links := FromStore(ToStore(typed))
		if again := FromStore(ToStore(links)); !reflect.DeepEqual(again, links) {
			t.Fatalf("a stored mapping changes when stored again:\n%+v\n%+v", links, again)
		}
		sample := Record{}
		for _, fd := range full.AD {
			sample[fd.Key] = value
		}
		secret := secretFor(data, value)
		sample["custom_5"] = secret

		problems := Validate(links, full, Options{})
		for _, p := range problems {
			if p.Message == "" || p.Link < 0 || p.Link > len(links) {
				t.Fatalf("problem %+v: no message, or no such link", p)
			}
		}
		m := Compile(links, Options{})
		res := m.Apply(sample, full.Check)
		if len(res.Links) != len(links) {
			t.Fatalf("%d link results for %d links", len(res.Links), len(links))
		}
		sent, err := json.Marshal(res.Input)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(sent), secret) {
			t.Fatalf("the password reached HighLevel: %s", sent)
		}
		for i, lr := range res.Links {
			outcomes := 0
			for _, b := range []bool{lr.Err != nil, lr.Empty, lr.After != ""} {
				if b {
					outcomes++
				}
			}
			if outcomes != 1 {
				t.Fatalf("link %d ended %+v: want exactly one of applied, empty or an error", i+1, lr)
			}
			if len(problems) == 0 && lr.Err != nil && !lr.Err.Value {
				t.Fatalf("a mapping Validate accepted fails on link %d itself: %v", i+1, lr.Err)
			}
		}
		if len(problems) > 0 {
			return
		}

		after := m.Apply(sample, gone.Check)
		for i, lr := range after.Links {
			readsGone := slices.Contains(m.Reads(i+1), "custom_2")
			switch {
			case readsGone && !errors.Is(lr.Err, ErrFieldGone):
				t.Fatalf("link %d reads the deleted custom_2 but ended %+v", i+1, lr)
			case !readsGone && !reflect.DeepEqual(lr, res.Links[i]):
				t.Fatalf("link %d does not read custom_2 but changed when it was deleted:\n%+v\n%+v", i+1, res.Links[i], lr)
			}
		}
	})
}
