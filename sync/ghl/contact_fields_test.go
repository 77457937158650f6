package ghl

import (
	"slices"
	"testing"

	"parley/sync/ghl/ghltest"
)

// The field mapping fills custom fields and standard fields beyond names,
// email and phone; the upsert body must carry them in the spec's shape
// (the sandbox validates it) and the sandbox must keep them.
func TestUpsertContactSendsMappedFields(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	in := ContactInput{
		Email: "grace@example.com", CompanyName: "Pine & Co", City: "Halifax",
		CustomFields: []CustomFieldValue{{ID: "lead_source", Value: "Trade show"}, {ID: "tier", Value: "gold"}},
	}
	ct, _, err := c.UpsertContact(ctxT(t), in)
	if err != nil {
		t.Fatalf("UpsertContact: %v", err)
	}
	if rej := srv.Rejections(); len(rej) > 0 {
		t.Fatalf("the spec validator rejected the upsert: %+v", rej)
	}
	i := slices.IndexFunc(srv.Contacts(), func(x ghltest.Contact) bool { return x.ID == ct.ID })
	if i < 0 {
		t.Fatalf("contact %s not in the sandbox", ct.ID)
	}
	got := srv.Contacts()[i]
	want := []ghltest.CustomFieldValue{{ID: "lead_source", Value: "Trade show"}, {ID: "tier", Value: "gold"}}
	if got.CompanyName != "Pine & Co" || got.City != "Halifax" || !slices.Equal(got.CustomFields, want) {
		t.Errorf("sandbox contact = %+v; want company, city and custom fields %v", got, want)
	}

	// A later upsert changes one custom field and keeps the other.
	if _, _, err := c.UpsertContact(ctxT(t), ContactInput{Email: "grace@example.com", CustomFields: []CustomFieldValue{{ID: "tier", Value: "silver"}}}); err != nil {
		t.Fatalf("UpsertContact again: %v", err)
	}
	got = srv.Contacts()[i]
	want = []ghltest.CustomFieldValue{{ID: "lead_source", Value: "Trade show"}, {ID: "tier", Value: "silver"}}
	if !slices.Equal(got.CustomFields, want) {
		t.Errorf("custom fields after the second upsert = %v; want %v", got.CustomFields, want)
	}
}
