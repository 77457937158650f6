package mapping

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// Every standard HighLevel field the catalog offers is a property of the
// spec's UpsertContactDto, and string-typed there: a field that is not
// would be refused by HighLevel (and by the sandbox) on every contact.
func TestGHLFieldsAreInTheUpsertSpec(t *testing.T) {
	b, err := os.ReadFile("../ghl/ghltest/openapi/apps/contacts.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	props := spec.Components.Schemas["UpsertContactDto"].Properties
	if len(props) == 0 {
		t.Fatal("UpsertContactDto not found in the spec")
	}
	for _, f := range GHLFields() {
		p, ok := props[f.Key]
		want := "string"
		if f.Type == List {
			want = "array"
		}
		if !ok || p.Type != want {
			t.Errorf("GHL field %s: spec property %+v (found %v); want type %s", f.Key, p, ok, want)
		}
		if setter(f.Key) == nil {
			t.Errorf("GHL field %s has no setter", f.Key)
		}
	}
	// The spec defect that keeps dateOfBirth out of the catalog: if the
	// spec types it as a string one day, it can come in.
	if p := props["dateOfBirth"]; p.Type != "object" {
		t.Errorf("dateOfBirth is now typed %q in the spec; add it to the catalog as a date field", p.Type)
	}
	if _, ok := props["customFields"]; !ok || !strings.HasPrefix(CustomPrefix, "customFields") {
		t.Error("customFields is not in UpsertContactDto")
	}
}

func TestCatalogFromAD(t *testing.T) {
	cat := catalog()
	for key, want := range map[string]Type{"custom_4": Choice, "custom_5": Secret, "custom_6": Date, "emails.email_address": Email, MsgSentAt: Date} {
		if f, ok := cat.ADField(key); !ok || f.Type != want {
			t.Errorf("AD %s = %+v, %v; want type %s", key, f, ok, want)
		}
	}
	if _, ok := cat.ADField("custom_99"); ok {
		t.Error("custom_99 found in a checked catalog")
	}
	if f, ok := cat.GHLField("customFields.abc_123"); !ok || f.Type != Text {
		t.Errorf("customFields.abc_123 = %+v, %v", f, ok)
	}
	if len(cat.Transforms) != len(specs) || len(cat.Requirements) != 1 {
		t.Errorf("catalog transforms %d, requirements %v", len(cat.Transforms), cat.Requirements)
	}
}
