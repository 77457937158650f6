package engine_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
	"parley/sync/mapping"
)

// mappingRig is a rig whose engine reads ActiveDEMAND's field list from
// the AD sandbox, with one contact there that has custom fields.
type mappingRig struct {
	*rig
	as      *adtest.Server
	ad      *activedemand.Client
	contact activedemand.Contact
	e       *engine.Engine
}

func newMappingRig(t *testing.T) *mappingRig {
	t.Helper()
	as := adtest.NewTestServer(t, adtest.Options{})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	added, err := as.AddContact(adtest.NewContact{FirstName: "Grace", LastName: "Hopper", Email: "Grace.Hopper@Example.com", Phone: "(902) 555-0199",
		Custom: map[string]string{"custom_1": "Pine & Co", "custom_2": "Halifax", "custom_4": "Trade show", "custom_5": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	m := &mappingRig{rig: newRig(t, rigOptions{}), as: as, ad: ad}
	// Read back over HTTP, as the poller does.
	for c, err := range ad.AllContacts(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == added.ID {
			m.contact = c
		}
	}
	if m.contact.ID == "" {
		t.Fatalf("contact %s not listed by the AD sandbox", added.ID)
	}
	m.e = m.engine(func(c *engine.Config) { c.ADFields = ad })
	return m
}

func (m *mappingRig) mirror() ghltest.Contact {
	m.t.Helper()
	j, err := engine.APIContactJob(m.contact)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.st.EnqueueBatch(context.Background(), []store.OutboxJob{j}); err != nil {
		m.t.Fatal(err)
	}
	m.run(m.e, nil)
	id := m.ghlID(store.KindContact, string(m.contact.ID))
	for _, c := range m.gs.Contacts() {
		if c.ID == id {
			return c
		}
	}
	m.t.Fatalf("GHL contact %s (linked to AD %s) not in the sandbox; outbox %v", id, m.contact.ID, m.items())
	return ghltest.Contact{}
}

var leadSource = mapping.Link{AD: "custom_4", GHL: "customFields.lead_source", Transform: mapping.Transform{Name: mapping.Lookup,
	Params: map[string]any{"entries": map[string]string{"Trade show": "event", "Website": "web"}, "default": "other"}}}

// A custom mapping saved through the engine reaches HighLevel: an AD custom
// field into a custom field through a lookup, company into companyName.
func TestMirrorContactThroughSavedMapping(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	cat, err := m.e.MappingCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := append(mapping.Default(cat.AD), leadSource,
		mapping.Link{GHL: "name", Transform: mapping.Transform{Name: mapping.Template, Params: map[string]any{"text": "{{first_name}} {{last_name}} ({{custom_1}})"}}})
	v, err := m.e.SaveMapping(ctx, links, "map lead source")
	if err != nil || v != 1 {
		t.Fatalf("SaveMapping = %d, %v", v, err)
	}
	got := m.mirror()
	want := []ghltest.CustomFieldValue{{ID: "lead_source", Value: "event"}}
	if got.CompanyName != "Pine & Co" || got.City != "Halifax" || !slices.Equal(got.CustomFields, want) ||
		got.Email != "grace.hopper@example.com" || got.Phone != "+19025550199" || got.FirstName != "Grace" || got.Source != "ActiveDEMAND" {
		t.Errorf("GHL contact = %+v; want the mapped values (company, city, lead_source event, lower-case email, E.164 phone)", got)
	}
	if rej := m.gs.Rejections(); len(rej) > 0 {
		t.Errorf("the GHL sandbox rejected requests: %+v", rej)
	}
}

// With nothing saved, the default mapping applies, built from AD's field
// list: Company and City by their labels, never the password.
func TestMirrorContactDefaultMapping(t *testing.T) {
	m := newMappingRig(t)
	st, err := m.e.CurrentMapping(context.Background())
	if err != nil || !st.Default || st.Version != 0 {
		t.Fatalf("CurrentMapping = %+v, %v; want the default", st, err)
	}
	got := m.mirror()
	if got.CompanyName != "Pine & Co" || got.City != "Halifax" || got.Email != "grace.hopper@example.com" || len(got.CustomFields) != 0 {
		t.Errorf("GHL contact = %+v; want the default mapping's values", got)
	}
}

// A mapping saved when AD had a field that was deleted since: the contact
// still mirrors, and history says which link to fix.
func TestMirrorContactWithDeletedADField(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	cat, err := m.e.MappingCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := append(mapping.Default(cat.AD), leadSource, mapping.Link{AD: "custom_7", GHL: "customFields.old_score"})
	// Saved straight to the store: SaveMapping would refuse custom_7 now.
	if _, err := m.st.SaveMappings(ctx, mapping.ToStore(links), "before custom_7 was deleted"); err != nil {
		t.Fatal(err)
	}
	got := m.mirror()
	if got.CompanyName != "Pine & Co" || !slices.Equal(got.CustomFields, []ghltest.CustomFieldValue{{ID: "lead_source", Value: "event"}}) {
		t.Errorf("GHL contact = %+v; want the rest of the mapping applied", got)
	}
	var rows []store.HistoryEntry
	for _, h := range m.history() {
		if h.Operation == engine.OpContactMap {
			rows = append(rows, h)
		}
	}
	want := "mapping link 9 (custom_7 → customFields.old_score): AD field custom_7 no longer exists; fix it in Mapping"
	if len(rows) != 1 || rows[0].Outcome != store.OutcomeSkipped || rows[0].LocalID != string(m.contact.ID) || rows[0].Error != want {
		t.Errorf("mapping history rows = %+v; want one skipped row %q", rows, want)
	}
	if c := m.item(mustKey(t, m.contact)); c.State != store.OutboxDone {
		t.Errorf("contact job = %s; want done", c.State)
	}
}

func mustKey(t *testing.T, c activedemand.Contact) string {
	j, err := engine.APIContactJob(c)
	if err != nil {
		t.Fatal(err)
	}
	return j.Key
}

// The console's mapping API: catalog from AD, validation pointing at the
// link, versions, revert, preview.
func TestMappingAPI(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	cat, err := m.e.MappingCatalog(ctx)
	if err != nil || !cat.ADChecked {
		t.Fatalf("MappingCatalog = %+v, %v", cat, err)
	}
	src, ok := cat.ADField("custom_4")
	if !ok || src.Label != "Lead Source" || src.Type != mapping.Choice {
		t.Errorf("AD custom_4 = %+v, %v; want the Lead Source picklist", src, ok)
	}
	if pw, _ := cat.ADField("custom_5"); pw.Type != mapping.Secret {
		t.Errorf("AD custom_5 = %+v; want a secret", pw)
	}
	if f, ok := cat.GHLField("email"); !ok || !f.Required {
		t.Errorf("GHL email = %+v, %v; want required", f, ok)
	}

	bad := append(mapping.Default(cat.AD), mapping.Link{AD: "custom_5", GHL: "customFields.pw"})
	_, err = m.e.SaveMapping(ctx, bad, "leak the password")
	var ps mapping.Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Link != len(bad) || !strings.Contains(err.Error(), "never copies passwords") {
		t.Fatalf("SaveMapping(password) = %v; want one problem on link %d", err, len(bad))
	}
	if vs, _ := m.e.MappingVersions(ctx); len(vs) != 0 {
		t.Errorf("a refused mapping was saved: %+v", vs)
	}

	v1, err := m.e.SaveMapping(ctx, mapping.Default(cat.AD), "default")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := m.e.SaveMapping(ctx, append(mapping.Default(cat.AD), leadSource), "lead source")
	if err != nil {
		t.Fatal(err)
	}
	v3, err := m.e.RevertMapping(ctx, v1)
	if err != nil || v3 != v2+1 {
		t.Fatalf("RevertMapping(%d) = %d, %v", v1, v3, err)
	}
	vs, err := m.e.MappingVersions(ctx)
	if err != nil || len(vs) != 3 || vs[0].Version != v3 || !strings.Contains(vs[0].Note, "version 1") {
		t.Errorf("MappingVersions = %+v, %v", vs, err)
	}
	cur, err := m.e.CurrentMapping(ctx)
	if err != nil || cur.Default || cur.Version != v3 || len(cur.Links) != len(mapping.Default(cat.AD)) {
		t.Errorf("CurrentMapping after revert = %+v, %v", cur, err)
	}
	if _, err := m.e.RevertMapping(ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevertMapping(99) = %v; want not found", err)
	}

	sample := mapping.ContactRecord(m.contact)
	mapping.AddMessage(sample, activedemand.Message{Channel: activedemand.ChannelSMS, Subject: "Quote", SentAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, activedemand.Conversation{Subject: "Quote request"})
	p, err := m.e.PreviewMapping(ctx, append(mapping.Default(cat.AD), leadSource,
		mapping.Link{AD: mapping.MsgChannel, GHL: "tags"}, mapping.Link{AD: "custom_9", GHL: "state"}), sample)
	if err != nil {
		t.Fatal(err)
	}
	in := p.Result.Input
	if in.Email != "grace.hopper@example.com" || in.CompanyName != "Pine & Co" || !slices.Equal(in.Tags, []string{"sms"}) ||
		len(in.CustomFields) != 1 || in.CustomFields[0].Value != "event" {
		t.Errorf("preview input = %+v", in)
	}
	if len(p.Problems) != 1 || p.Problems[0].AD != "custom_9" || p.Result.Links[len(p.Result.Links)-1].Error == "" {
		t.Errorf("preview problems = %+v, last link %+v; want custom_9 flagged", p.Problems, p.Result.Links[len(p.Result.Links)-1])
	}
	for _, l := range p.Result.Links {
		if strings.Contains(l.Before+l.After, "hunter2") {
			t.Errorf("the preview shows the password: %+v", l)
		}
	}
}

// A contact first met through one of its messages is created through the
// mapping too, which can read the message's fields.
func TestMessageJobCreatesContactThroughMapping(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	links := []mapping.Link{
		{AD: "first_name", GHL: "firstName"},
		{AD: "emails.email_address", GHL: "email", Transform: mapping.Transform{Name: mapping.Lower}},
		{AD: mapping.MsgChannel, GHL: "customFields.first_channel", Transform: mapping.Transform{Name: mapping.Upper}},
	}
	if _, err := m.e.SaveMapping(ctx, links, "first channel"); err != nil {
		t.Fatal(err)
	}
	cv := activedemand.Conversation{ID: "c1", ContactID: m.contact.ID, Channel: activedemand.ChannelSMS}
	msg := activedemand.Message{ID: "m1", ConversationID: "c1", ContactID: m.contact.ID, Channel: activedemand.ChannelSMS,
		Direction: activedemand.Inbound, Body: "Hello", SentAt: time.Now().Add(-time.Hour).UTC().Truncate(time.Second), Status: activedemand.MessageStatus("received")}
	j, err := engine.APIMessageJob(msg, cv, m.contact)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.st.EnqueueBatch(ctx, []store.OutboxJob{j}); err != nil {
		t.Fatal(err)
	}
	m.run(m.e, nil)
	id := m.ghlID(store.KindContact, string(m.contact.ID))
	i := slices.IndexFunc(m.gs.Contacts(), func(c ghltest.Contact) bool { return c.ID == id })
	if i < 0 {
		t.Fatalf("no GHL contact linked; outbox %v", m.items())
	}
	got := m.gs.Contacts()[i]
	if got.FirstName != "Grace" || got.Email != "grace.hopper@example.com" || !slices.Equal(got.CustomFields, []ghltest.CustomFieldValue{{ID: "first_channel", Value: "SMS"}}) {
		t.Errorf("GHL contact = %+v; want it made through the mapping with the message's channel", got)
	}
}

// The editor previews on contacts picked from ActiveDEMAND, through the
// engine; passwords are not in the samples it gets.
func TestMappingSamples(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	samples, err := m.e.MappingSamples(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(samples, func(s engine.MappingSample) bool { return s.ContactID == string(m.contact.ID) })
	if i < 0 {
		t.Fatalf("contact %s not among %d samples", m.contact.ID, len(samples))
	}
	s := samples[i]
	if s.Label != "Grace Hopper <Grace.Hopper@Example.com>" || s.Record["custom_4"] != "Trade show" || s.Record["first_name"] != "Grace" {
		t.Errorf("sample = %+v", s)
	}
	if _, ok := s.Record["custom_5"]; ok {
		t.Errorf("the sample carries the password field: %+v", s.Record)
	}
	if few, err := m.e.MappingSamples(ctx, 1); err != nil || len(few) != 1 {
		t.Errorf("MappingSamples(1) = %d samples, %v", len(few), err)
	}
	noAD := m.engine()
	if _, err := noAD.MappingSamples(ctx, 5); err == nil || !strings.Contains(err.Error(), "connect ActiveDEMAND") {
		t.Errorf("MappingSamples without AD = %v; want a message saying to connect it", err)
	}
}

// A mapping saved while the engine runs applies to the next contact job:
// the compiled mapping is keyed by version.
func TestSavedMappingAppliesToLaterJobs(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	if got := m.mirror(); len(got.CustomFields) != 0 {
		t.Fatalf("default mapping sent custom fields: %+v", got)
	}
	cat, err := m.e.MappingCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.e.SaveMapping(ctx, append(mapping.Default(cat.AD), leadSource), "lead source"); err != nil {
		t.Fatal(err)
	}
	m.contact.Custom["custom_4"] = "Website" // a change in AD queues the contact again
	got := m.mirror()
	if !slices.Equal(got.CustomFields, []ghltest.CustomFieldValue{{ID: "lead_source", Value: "web"}}) {
		t.Errorf("GHL contact after the new mapping = %+v; want lead_source web", got)
	}
}

// TestMappingSampleMessage: the preview's message is the contact's newest
// one the sync has read from ActiveDEMAND, found in the outbox without a
// call; a contact with none says so.
func TestMappingSampleMessage(t *testing.T) {
	m := newMappingRig(t)
	ctx := context.Background()
	if _, ok, err := m.e.MappingSampleMessage(ctx, string(m.contact.ID)); err != nil || ok {
		t.Fatalf("before any message: ok %v, err %v; want none", ok, err)
	}
	first, err := m.as.AddMessage(adtest.NewMessage{ContactID: m.contact.ID, Channel: "sms", Direction: activedemand.Inbound,
		Body: "Is the offer still open?", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.as.AddMessage(adtest.NewMessage{ConversationID: first.ConversationID, ContactID: m.contact.ID, Channel: "sms",
		Direction: activedemand.Outbound, Body: "Yes, until Friday.", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	queueFromAD(t, m.st, m.ad)
	calls := m.as.CallCounts()
	msg, ok, err := m.e.MappingSampleMessage(ctx, string(m.contact.ID))
	if err != nil || !ok {
		t.Fatalf("MappingSampleMessage = ok %v, err %v", ok, err)
	}
	if msg.Record[mapping.MsgBody] != "Yes, until Friday." || msg.Record[mapping.MsgDirection] != "outbound" || !strings.HasPrefix(msg.Label, "SMS out, ") {
		t.Errorf("sample message %+v, want the newer, outbound one", msg)
	}
	if _, ok := msg.Record["first_name"]; ok {
		t.Errorf("the message's record carries contact fields: %+v", msg.Record)
	}
	if !maps.Equal(calls, m.as.CallCounts()) {
		t.Error("reading the sample message called ActiveDEMAND")
	}
}
