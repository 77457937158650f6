package engine_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/internal/sandboxkit"
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
