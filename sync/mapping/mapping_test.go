package mapping

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// adDefs are the field definitions the AD sandbox serves
// (contacts/fields.json).
var adDefs = []activedemand.ContactField{
	{Key: "first_name", Label: "First Name", Type: "text"},
	{Key: "last_name", Label: "Last Name", Type: "text"},
	{Key: "emails.email_address", Label: "Email Address", Type: "email"},
	{Key: "phones.phone_number", Label: "Phone Number", Type: "phone"},
	{Key: "custom_1", Label: "Company", Type: "text", Custom: true},
	{Key: "custom_2", Label: "City", Type: "text", Custom: true},
	{Key: "custom_3", Label: "Tags", Type: "text", Custom: true},
	{Key: "custom_4", Label: "Lead Source", Type: "dropdown", Custom: true},
	{Key: "custom_5", Label: "Portal Password", Type: "password", Custom: true},
	{Key: "custom_6", Label: "Birthday", Type: "date", Custom: true},
}

func catalog() Catalog { return NewCatalog(adDefs, nil) }

func TestValidateMessages(t *testing.T) {
	email := Link{AD: "emails.email_address", GHL: "email", Transform: Transform{Name: Lower}}
	tests := []struct {
		name  string
		links []Link
		want  []string
	}{
		{"unknown AD field", []Link{email, {AD: "custom_7", GHL: "city"}},
			[]string{"link 2 (custom_7 → city): ActiveDEMAND has no field custom_7 (was it deleted or renamed?); pick another field or remove the link"}},
		{"unknown GHL field", []Link{email, {AD: "custom_2", GHL: "town"}},
			[]string{"link 2 (custom_2 → town): HighLevel has no contact field town; pick one from the list, or write customFields.<id> for a custom field"}},
		{"bad custom field id", []Link{email, {AD: "custom_2", GHL: "customFields.my field"}},
			[]string{`link 2 (custom_2 → customFields.my field): "my field" is not a custom field id`}},
		{"date into phone", []Link{email, {AD: "custom_6", GHL: "phone"}},
			[]string{"link 2 (custom_6 → phone): a date value does not fit HighLevel's phone field (phone); read a phone or text field with the e164 transform"}},
		{"date into e164", []Link{email, {AD: "custom_6", GHL: "phone", Transform: Transform{Name: E164}}},
			[]string{"link 2 (custom_6 → phone): the e164 transform does not read a date field; use it on a phone or text field, or pick another transform"}},
		{"email into lookup", []Link{email, {AD: "emails.email_address", GHL: "customFields.x", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"a": "b"}}}}},
			[]string{"link 2 (emails.email_address → customFields.x): the lookup transform does not read an email field; use it on a choice or text or list field"}},
		{"text into phone without e164", []Link{email, {AD: "custom_2", GHL: "phone"}},
			[]string{"link 2 (custom_2 → phone): a text value does not fit HighLevel's phone field"}},
		{"required unmapped", []Link{{AD: "first_name", GHL: "firstName"}},
			[]string{"HighLevel's email or phone is not mapped: HighLevel finds a contact again only by its email or phone; map an ActiveDEMAND email field to email (lower), or a phone field to phone (e164)"}},
		{"mapped twice", []Link{email, {AD: "custom_1", GHL: "companyName"}, {AD: "custom_2", GHL: "companyName"}},
			[]string{"link 3 (custom_2 → companyName): HighLevel field companyName is already filled by link 2; remove one of the two links"}},
		{"bad transform", []Link{email, {AD: "custom_6", GHL: "city", Transform: Transform{Name: DateConv, Params: map[string]any{"zone": "Mars/Base"}}}},
			[]string{`link 2 (custom_6 → city): date: zone "Mars/Base" unknown`}},
		{"lookup without entries", []Link{email, {AD: "custom_4", GHL: "source", Transform: Transform{Name: Lookup}}},
			[]string{"link 2 (custom_4 → source): lookup: no entries"}},
		{"password", []Link{email, {AD: "custom_5", GHL: "customFields.pw"}},
			[]string{"link 2 (custom_5 → customFields.pw): custom_5 is a password field; Parley never copies passwords to HighLevel; remove the link"}},
		{"template names an unknown field", []Link{email, {GHL: "name", Transform: Transform{Name: Template, Params: map[string]any{"text": "{{first_name}} {{middle_name}}"}}}},
			[]string{"link 2 ((none) → name): template: ActiveDEMAND has no field {{middle_name}}"}},
		{"computed transform with a field", []Link{email, {AD: "custom_1", GHL: "source", Transform: Transform{Name: Constant, Params: map[string]any{"value": "x"}}}},
			[]string{"link 2 (custom_1 → source): the constant transform reads no ActiveDEMAND field"}},
		{"valid", append(Default(catalog().AD), Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Trade show": "event"}, "default": "other"}}},
			Link{AD: "custom_6", GHL: "customFields.birthday", Transform: Transform{Name: DateConv}}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := Validate(tt.links, catalog(), Options{})
			if len(ps) != len(tt.want) {
				t.Fatalf("Validate = %v; want %d problems: %q", ps, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if got := ps[i].Error(); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q; want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// When ActiveDEMAND's list cannot be read, custom fields are accepted
// unchecked, and the catalog says why.
func TestCatalogWithoutAD(t *testing.T) {
	cat := NewCatalog(nil, errors.New("ActiveDEMAND did not answer"))
	if cat.ADChecked || !strings.Contains(cat.ADNote, "did not answer") {
		t.Errorf("catalog = %+v; want unchecked with the reason", cat)
	}
	ps := Validate([]Link{{AD: "emails.email_address", GHL: "email"}, {AD: "custom_9", GHL: "city"}}, cat, Options{})
	if len(ps) != 0 {
		t.Errorf("Validate = %v; want custom_9 accepted unchecked", ps)
	}
}

func TestDefaultRoundTripsThroughStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	def := Default(catalog().AD)
	if ps := Validate(def, catalog(), Options{}); len(ps) > 0 {
		t.Fatalf("the default mapping is not valid: %v", ps)
	}
	gotGHL := make([]string, len(def))
	for i, l := range def {
		gotGHL[i] = l.GHL
	}
	if want := []string{"firstName", "lastName", "email", "phone", "source", "companyName", "city"}; !slices.Equal(gotGHL, want) {
		t.Errorf("default fills %v; want %v (tags never, they would replace routing tags)", gotGHL, want)
	}
	// A lookup with a table and a date with a list survive too.
	links := append(def, Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Trade show": "event"}, "missing": "keep"}}},
		Link{AD: "custom_6", GHL: "customFields.birthday", Transform: Transform{Name: DateConv, Params: map[string]any{"layouts": []string{"01/02/2006"}, "zone": "America/Toronto"}}})
	if _, err := st.SaveMappings(ctx, ToStore(links), "default"); err != nil {
		t.Fatal(err)
	}
	_, saved, err := st.CurrentMappings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back := FromStore(saved)
	if !reflect.DeepEqual(back, normalized(links)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, normalized(links))
	}
}

// normalized is links as FromStore reads them: copy named, computed links
// with NoADField, parameters decoded into their kinds.
func normalized(links []Link) []Link {
	out := slices.Clone(links)
	for i := range out {
		if out[i].AD == "" {
			out[i].AD = NoADField
		}
		if out[i].Transform.Name == "" {
			out[i].Transform.Name = Copy
		}
	}
	return out
}

func TestApply(t *testing.T) {
	links := append(Default(catalog().AD),
		Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Trade show": "event"}}}},
		Link{AD: "custom_3", GHL: "tags"},
		Link{AD: "custom_7", GHL: "customFields.gone"},
		Link{AD: "phones.phone_number", GHL: "customFields.raw_phone", Transform: Transform{Name: Trim}},
		Link{AD: MsgSubject, GHL: "customFields.first_subject"},
	)
	m := Compile(links, Options{})
	rec := ContactRecord(activedemand.Contact{FirstName: " Ada ", LastName: "Lovelace", Email: "Ada@Example.com", Phone: "not a phone",
		Custom: map[string]string{"custom_1": "Pine & Co", "custom_3": "vip, west ,vip", "custom_4": "Radio", "custom_7": "x"}})
	res := m.Apply(rec, catalog().Check)
	want := ghl.ContactInput{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Source: "ActiveDEMAND", CompanyName: "Pine & Co",
		Tags: []string{"vip", "west"}, CustomFields: []ghl.CustomFieldValue{{ID: "raw_phone", Value: "not a phone"}}}
	if !reflect.DeepEqual(res.Input, want) {
		t.Errorf("Apply input =\n %+v\nwant\n %+v", res.Input, want)
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.Error())
	}
	wantErrs := []string{
		`mapping link 4 (phones.phone_number → phone): e164: "not a phone" is not a phone number; correct the value in ActiveDEMAND, or the link in Mapping`,
		`mapping link 8 (custom_4 → customFields.lead_source): lookup: value "Radio" has no entry; add it to the table or set a default; correct the value in ActiveDEMAND, or the link in Mapping`,
		`mapping link 10 (custom_7 → customFields.gone): AD field custom_7 no longer exists; fix it in Mapping`,
	}
	if !slices.Equal(errs, wantErrs) {
		t.Errorf("link errors =\n %q\nwant\n %q", errs, wantErrs)
	}
	if !errors.Is(res.Links[9].Err, ErrFieldGone) {
		t.Errorf("link 10's error does not match ErrFieldGone")
	}
	if l := res.Links[6]; !l.Empty || l.After != "" {
		t.Errorf("city (no value) = %+v; want empty", l)
	}
	if l := res.Links[2]; l.Before != "Ada@Example.com" || l.After != "ada@example.com" {
		t.Errorf("email before/after = %+v", l)
	}
	if l := res.Links[11]; !l.Empty {
		t.Errorf("a message field in a contact = %+v; want empty", l)
	}
}

// A stored transform this build cannot read fails its link only.
func TestUnreadableTransformFailsItsLinkOnly(t *testing.T) {
	links := FromStore([]store.FieldMapping{
		{ADField: "emails.email_address", GHLField: "email", Transform: "lower"},
		{ADField: "custom_1", GHLField: "companyName", Transform: `{"v":9,"name":"upper"}`},
	})
	res := Compile(links, Options{}).Apply(Record{"emails.email_address": "A@B.C", "custom_1": "pine"}, nil)
	if res.Input.Email != "a@b.c" || res.Input.CompanyName != "" || len(res.Errors()) != 1 {
		t.Errorf("Apply = %+v, errors %v", res.Input, res.Errors())
	}
}

func TestPreview(t *testing.T) {
	links := []Link{{AD: "emails.email_address", GHL: "email", Transform: Transform{Name: Lower}}, {AD: "custom_9", GHL: "city"}}
	p := PreviewOf(links, catalog(), Options{}, Record{"emails.email_address": "X@Y.Z", "custom_9": "Halifax"})
	if len(p.Problems) != 1 || p.Problems[0].Link != 2 || p.Problems[0].Part != "ad" {
		t.Errorf("preview problems = %+v; want link 2's AD field", p.Problems)
	}
	if p.Result.Input.Email != "x@y.z" || p.Result.Input.City != "" || p.Result.Links[1].Err == nil {
		t.Errorf("preview result = %+v", p.Result)
	}
}

// BenchmarkApply maps one contact through the default mapping plus a
// lookup and a template (9 links). A phone number written the way people
// write it goes through libphonenumber, which is most of the time; one
// already in E.164 takes the phone package's fast path.
func BenchmarkApply(b *testing.B) {
	links := append(Default(catalog().AD),
		Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Trade show": "event"}, "default": "other"}}},
		Link{GHL: "name", Transform: Transform{Name: Template, Params: map[string]any{"text": "{{first_name}} {{last_name}}"}}})
	m := Compile(links, Options{})
	check := catalog().Check
	for _, ph := range []struct{ name, phone string }{{"phone=formatted", "(902) 555-1037"}, {"phone=e164", "+19025551037"}} {
		rec := ContactRecord(activedemand.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "Ada@Example.com", Phone: ph.phone,
			Custom: map[string]string{"custom_1": "Pine & Co", "custom_2": "Halifax", "custom_4": "Trade show"}})
		b.Run(ph.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := m.Apply(rec, check); res.Input.Phone != "+19025551037" {
					b.Fatalf("phone = %q", res.Input.Phone)
				}
			}
		})
	}
}
