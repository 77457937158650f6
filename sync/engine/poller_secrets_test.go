package engine_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/internal/sandboxkit"
	"parley/sync/mapping"
)

// storeHolds reports whether any file of st's database (the main file,
// the WAL, the shared memory) holds b.
func storeHolds(t *testing.T, dir string, b string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue // the sync's holder locks: empty files named by random ids
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(b)) {
			return true
		}
	}
	return false
}

// TestPollerNeverStoresPasswordFields: an ActiveDEMAND password field
// (custom_5, typed "password" in the field list) is left out of the
// contact job the poller stores, while the other custom fields are kept
// for the mapping. When the field list cannot be read, passwords cannot be
// told apart: every custom field is left out until a later poll can read
// it, which queues the contact again with them.
func TestPollerNeverStoresPasswordFields(t *testing.T) {
	const password, company = "hunter2-portal-secret", "Acme Harbour Supplies"
	ctx := context.Background()
	as := adtest.NewTestServer(t, adtest.Options{})
	c, err := as.AddContact(adtest.NewContact{FirstName: "Pat", LastName: "Word", Email: "pat@example.com",
		Custom: map[string]string{"custom_5": password, "custom_1": company}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := as.AddMessage(adtest.NewMessage{ContactID: c.ID, Channel: "sms", Direction: activedemand.Inbound, Body: "hi", At: t0})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("field list readable", func(t *testing.T) {
		st := newStore(t)
		if _, err := newPoller(t, st, as).Poll(ctx); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(st.Path())
		if storeHolds(t, dir, password) {
			t.Error("the password field's value is in the database")
		}
		if !storeHolds(t, dir, company) {
			t.Error("the other custom fields were dropped too")
		}
	})

	t.Run("field list unreadable", func(t *testing.T) {
		st := newStore(t)
		if err := as.InjectFault(sandboxkit.Fault{Route: activedemand.RouteContactFields, Kind: sandboxkit.FaultStatus,
			Status: http.StatusForbidden, Times: -1}); err != nil {
			t.Fatal(err)
		}
		p := newPoller(t, st, as)
		if _, err := p.Poll(ctx); err != nil {
			t.Fatalf("an unreadable field list stopped the poll: %v", err)
		}
		dir := filepath.Dir(st.Path())
		if storeHolds(t, dir, password) || storeHolds(t, dir, company) {
			t.Error("custom fields were stored without knowing which are passwords")
		}
		as.ClearFaults()
		// A later message makes the next poll read the conversation again.
		if _, err := as.AddMessage(adtest.NewMessage{ConversationID: first.ConversationID, ContactID: c.ID, Channel: "sms",
			Direction: activedemand.Inbound, Body: "again", At: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		res, err := p.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Queued == 0 || !storeHolds(t, dir, company) || storeHolds(t, dir, password) {
			t.Errorf("after the field list came back: queued %d, company stored %v, password stored %v; want the contact again with its company only",
				res.Queued, storeHolds(t, dir, company), storeHolds(t, dir, password))
		}
	})
}

// TestImportNeverStoresPasswordFields is the poller's rule for export
// files, whose columns say nothing of their types: with ActiveDEMAND's
// field list (read over HTTP from the sandbox, where custom_5 is typed
// "password") the password column is left out and the rest kept; without
// the list (no account, or its read failing) the custom fields the saved
// mapping does not send are left out, and the result says so and what
// brings them.
func TestImportNeverStoresPasswordFields(t *testing.T) {
	const password, company = "hunter2-export-secret", "Acme Export Supplies"
	dir := t.TempDir()
	path := filepath.Join(dir, "contacts.csv")
	body := "id,first_name,last_name,email_address,custom_1,custom_5\n" +
		"1,Pat,Word,pat@example.com," + company + "," + password + "\n" +
		"2,Kim,Lo,kim@example.com,Other Co,\n" +
		"3,Ray,Ng,ray@example.com,,\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	as := adtest.NewTestServer(t, adtest.Options{})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("field list readable", func(t *testing.T) {
		st := newStore(t)
		res, err := engine.NewImporter(st, engine.ImporterOptions{Fields: ad}).Import(t.Context(), []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		db := filepath.Dir(st.Path())
		if storeHolds(t, db, password) {
			t.Error("the password column's value is in the database")
		}
		if !storeHolds(t, db, company) {
			t.Error("the other custom fields were left out too")
		}
		if res.ContactsQueued != 3 || res.FieldsLeftOut != 1 || res.FieldListUnread {
			t.Errorf("queued %d contacts, fields left out of %d (list unread %v); want 3, 1, false", res.ContactsQueued, res.FieldsLeftOut, res.FieldListUnread)
		}
		if s := res.Summary(); !strings.Contains(s, "password fields of 1 contact left out") {
			t.Errorf("summary %q does not say a password was left out", s)
		}
	})

	unread := func(t *testing.T, fields engine.ContactFieldLister, mapCompany bool) {
		st := newStore(t)
		leftOut, what := 2, "custom fields the field mapping does not send left out of 2 contacts"
		if mapCompany {
			links := []mapping.Link{{AD: "custom_1", GHL: "companyName", Transform: mapping.Transform{Name: mapping.Copy}}}
			if _, err := st.SaveMappings(t.Context(), mapping.ToStore(links), "company only"); err != nil {
				t.Fatal(err)
			}
			leftOut, what = 1, "custom fields the field mapping does not send left out of 1 contact"
		}
		res, err := engine.NewImporter(st, engine.ImporterOptions{Fields: fields}).Import(t.Context(), []string{path}, nil)
		if err != nil {
			t.Fatalf("an unreadable field list stopped the import: %v", err)
		}
		db := filepath.Dir(st.Path())
		if storeHolds(t, db, password) {
			t.Error("a custom field the mapping does not send was stored without knowing whether it is a password")
		}
		if storeHolds(t, db, company) != mapCompany {
			t.Errorf("the company (mapped: %v) stored: %v", mapCompany, !mapCompany)
		}
		if res.ContactsQueued != 3 || res.FieldsLeftOut != leftOut || !res.FieldListUnread {
			t.Errorf("queued %d contacts, fields left out of %d (list unread %v); want 3, %d, true", res.ContactsQueued, res.FieldsLeftOut, res.FieldListUnread, leftOut)
		}
		if s := res.Summary(); !strings.Contains(s, what) || !strings.Contains(s, "import the same files again") {
			t.Errorf("summary %q does not say what was left out and what brings it", s)
		}
	}
	t.Run("no account", func(t *testing.T) { unread(t, nil, false) })
	t.Run("no account, the company mapped", func(t *testing.T) { unread(t, nil, true) })
	t.Run("field list unreadable", func(t *testing.T) {
		if err := as.InjectFault(sandboxkit.Fault{Route: activedemand.RouteContactFields, Kind: sandboxkit.FaultStatus,
			Status: http.StatusForbidden, Times: -1}); err != nil {
			t.Fatal(err)
		}
		defer as.ClearFaults()
		unread(t, ad, false)
	})
}
