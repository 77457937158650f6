package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/demobiz"
	"parley/sync/internal/sandboxkit"
)

const uploadRoute = "POST /conversations/messages/upload"

// adMessage adds a message with a demo attachment to the AD sandbox and
// returns its job as the poller would queue it.
func (m *mediaRig) adMessage(t *testing.T, channel activedemand.Channel, attachment string) engine.MessageJob {
	t.Helper()
	msg, err := m.as.AddMessage(adtest.NewMessage{ContactID: activedemand.ID(m.contact.ContactID), Channel: channel,
		Direction: activedemand.Outbound, Body: "See attached.", Subject: "Your quote", At: t0, Attachment: attachment})
	if err != nil {
		t.Fatal(err)
	}
	var conv activedemand.Conversation
	for _, cv := range m.as.Conversations() {
		if cv.ID == msg.ConversationID {
			conv = cv
		}
	}
	ct := activedemand.Contact{ID: activedemand.ID(m.contact.ContactID), FirstName: "Cal", LastName: "Lee", Email: m.contact.Email, Phone: m.contact.Phone}
	j, err := engine.APIMessageJob(msg, conv, ct)
	if err != nil {
		t.Fatal(err)
	}
	var mj engine.MessageJob
	if err := json.Unmarshal(j.Payload, &mj); err != nil {
		t.Fatal(err)
	}
	return mj
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// recorded is the GHL message the id map links an AD message to.
func (m *mediaRig) recorded(t *testing.T, adID string) ghltest.Message {
	t.Helper()
	got, ok := m.gs.Message(m.ghlID(store.KindMessage, adID))
	if !ok {
		t.Fatalf("message %s is not in GHL", adID)
	}
	return got
}

// fetch downloads a URL the sandbox serves.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, res.StatusCode, err)
	}
	return b
}

// TestAttachmentsEndToEnd: an email from ActiveDEMAND with a PDF, and an
// imported SMS whose photo came with the export, are recorded with their
// files uploaded to HighLevel: the record names the uploads' URLs, the
// uploads hold the same bytes, and history has one row per upload.
func TestAttachmentsEndToEnd(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	mail := m.adMessage(t, "email", "quote.pdf")
	if len(mail.Media) != 1 {
		t.Fatalf("the AD message has media %+v, want quote.pdf", mail.Media)
	}
	photo, err := demobiz.AttachmentBytes("site-photo.png")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "site-photo.png")
	if err := os.WriteFile(file, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	sms := messageJob("imp-m1", m.contact, "sms", "inbound", "Here is the site", t0.Add(time.Minute))
	sms.Source = engine.SourceImport
	sms.Media = []engine.MediaJob{{URL: "files/site-photo.png", Name: "site-photo.png", ContentType: "image/png", File: file}}
	m.queue(m.contact, mail, sms)
	m.run(m.engine(), m.idle)

	pdf, err := demobiz.AttachmentBytes("quote.pdf")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{mail.MessageID: pdf, sms.MessageID: photo}
	uploads := m.gs.Uploads()
	if len(uploads) != 2 {
		t.Fatalf("%d uploads, want 2: %+v", len(uploads), uploads)
	}
	for id, body := range want {
		got := m.recorded(t, id)
		if len(got.Attachments) != 1 {
			t.Fatalf("message %s has attachments %v, want one", id, got.Attachments)
		}
		if b := fetch(t, got.Attachments[0]); sha(b) != sha(body) {
			t.Errorf("message %s's attachment is not the file ActiveDEMAND had", id)
		}
		n := 0
		for _, u := range uploads {
			if u.URL == got.Attachments[0] && u.SHA256 == sha(body) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("message %s's attachment is not one of the uploads", id)
		}
	}
	rows := m.rows(store.OpMediaUpload)
	if got := outcomes(rows); got[store.OutcomeOK] != 2 || len(got) != 1 {
		t.Errorf("upload rows %+v, want 2 ok", rows)
	}
	for _, h := range rows {
		if !strings.HasPrefix(h.RemoteID, m.gs.URL()) || h.HTTPStatus != http.StatusOK {
			t.Errorf("upload row %+v, want the file's URL and status 200", h)
		}
	}
	if n := len(m.rows(store.OpInboundRecord)); n != 2 {
		t.Errorf("%d record rows, want 2", n)
	}
	if tr := m.gs.Traffic(); tr.Deliveries != 0 || tr.Records != 2 {
		t.Errorf("traffic %+v, want 2 records, no delivery", tr)
	}
}

// TestAttachmentNotUploadedTwice kills the engine after HighLevel
// answered an upload and before its job completed. The next process
// uploads again only what no completed job uploaded: the attachment is
// uploaded once and the message carries it once.
func TestAttachmentNotUploadedTwice(t *testing.T) {
	var (
		mu     sync.Mutex
		kill   context.CancelFunc
		killed bool
	)
	m := newMediaRig(t, rigOptions{transport: func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(req)
			mu.Lock()
			first := !killed && req.URL.Path == "/conversations/messages/inbound"
			if first {
				// The record after the upload: the upload's job has
				// completed, the record's has not.
				killed = true
				kill()
			}
			mu.Unlock()
			if first {
				<-req.Context().Done()
				return nil, req.Context().Err()
			}
			return res, err
		})
	}})
	mail := m.adMessage(t, "email", "quote.pdf")
	m.queue(m.contact, mail)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mu.Lock()
	kill = cancel
	mu.Unlock()
	if err := m.engine(func(c *engine.Config) { c.Drain = -1 }).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !killed {
		t.Fatal("the engine was not killed at the record")
	}
	m.clock.advance(3 * time.Minute)
	m.run(m.engine(), m.idle)
	if n := len(m.gs.Uploads()); n != 1 {
		t.Errorf("%d uploads, want 1", n)
	}
	if n := m.byAltID()[mail.MessageID]; n != 1 {
		t.Errorf("the message is recorded %d times, want once", n)
	}
	if got := m.recorded(t, mail.MessageID); len(got.Attachments) != 1 || got.Attachments[0] != m.gs.Uploads()[0].URL {
		t.Errorf("the message carries %v, want the one upload", got.Attachments)
	}
}

// TestAttachmentUploadAnswerLost: HighLevel stores the upload and the
// connection drops before its answer, so its URL is unknowable. The job
// uploads again, once; the message carries the file exactly once, and
// history says an unused copy may be left in HighLevel.
func TestAttachmentUploadAnswerLost(t *testing.T) {
	m := newMediaRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: uploadRoute, Kind: sandboxkit.FaultDropAfter}}}})
	mail := m.adMessage(t, "email", "quote.pdf")
	m.queue(m.contact, mail)
	m.run(m.engine(func(c *engine.Config) { c.RetryBase, c.RetryCap = time.Millisecond, 5*time.Millisecond }), m.idle)
	uploads := m.gs.Uploads()
	if len(uploads) != 2 {
		t.Fatalf("%d uploads, want the lost one and one more", len(uploads))
	}
	got := m.recorded(t, mail.MessageID)
	if m.byAltID()[mail.MessageID] != 1 || len(got.Attachments) != 1 || got.Attachments[0] != uploads[1].URL {
		t.Errorf("message recorded %d times with %v; want once, with the second upload", m.byAltID()[mail.MessageID], got.Attachments)
	}
	rows := m.rows(store.OpMediaUpload) // newest first
	if len(rows) != 2 || rows[1].Outcome != store.OutcomeRetrying || rows[0].Outcome != store.OutcomeOK || !strings.Contains(rows[0].Error, "unused copy") {
		t.Errorf("upload rows %+v; want a retrying row, then an ok one naming the unused copy", rows)
	}
}

// TestAttachmentsThatCannotBeAttached: a file gone from its URL (404), one
// ActiveDEMAND says is 2 GB, and one that streams past HighLevel's limit
// each get a failed row saying it was not attached; the message is still
// recorded, with the one file that could be, and nobody is alerted.
func TestAttachmentsThatCannotBeAttached(t *testing.T) {
	var served int64
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for range 1600 { // 105 MB, no Content-Length
			n, err := w.Write(chunk)
			served += int64(n)
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(big.Close)
	m := newMediaRig(t, rigOptions{})
	mail := m.adMessage(t, "email", "quote.pdf")
	good := mail.Media[0]
	mail.Media = []engine.MediaJob{
		{URL: strings.Replace(good.URL, "quote.pdf", "gone.pdf", 1), Name: "gone.pdf", ContentType: "application/pdf"},
		{URL: good.URL, Name: "huge.pdf", ContentType: "application/pdf", Size: 2 << 30},
		{URL: big.URL + "/stream.pdf", Name: "stream.pdf", ContentType: "application/pdf"},
		good,
	}
	m.queue(m.contact, mail)
	m.run(m.engine(), m.idle)

	got := m.recorded(t, mail.MessageID)
	if len(got.Attachments) != 1 || len(m.gs.Uploads()) != 1 || got.Attachments[0] != m.gs.Uploads()[0].URL {
		t.Fatalf("message has %v after %d uploads; want quote.pdf only", got.Attachments, len(m.gs.Uploads()))
	}
	if served > 50<<20 {
		t.Errorf("%d bytes of the oversized stream were read, want it stopped near HighLevel's limit", served)
	}
	failed := map[string]string{}
	for _, h := range m.rows(store.OpMediaUpload) {
		if h.Outcome == store.OutcomeFailed {
			for _, n := range []string{"gone.pdf", "huge.pdf", "stream.pdf"} {
				if strings.HasPrefix(h.Error, n+" was not attached to message "+mail.MessageID) {
					failed[n] = h.Error
				}
			}
		}
	}
	if len(failed) != 3 {
		t.Fatalf("failed upload rows for %v, want gone.pdf, huge.pdf and stream.pdf", failed)
	}
	for n, text := range failed {
		if !strings.Contains(text, "recorded without it") {
			t.Errorf("%s: %q does not say the message is recorded without it", n, text)
		}
	}
	if !strings.Contains(failed["gone.pdf"], "404") && !strings.Contains(failed["gone.pdf"], "not found") {
		t.Errorf("gone.pdf: %q does not say it is not found", failed["gone.pdf"])
	}
	if !strings.Contains(failed["huge.pdf"], "2147.5 MB") {
		t.Errorf("huge.pdf: %q does not give its size", failed["huge.pdf"])
	}
	rec := m.rows(store.OpInboundRecord)
	if len(rec) != 1 || rec[0].Outcome != store.OutcomeOK || !strings.Contains(rec[0].Error, "1 of 4 attachments") {
		t.Errorf("record rows %+v, want one ok row saying 1 of 4 attachments", rec)
	}
	if alerts, _ := m.st.RecentAlerts(context.Background(), 10); len(alerts) != 0 {
		t.Errorf("alerts %+v; nobody can act on a missing file", alerts)
	}
	if it := m.item(engine.MessageKey(mail.MessageID) + "+attachments"); it.State != store.OutboxDone {
		t.Errorf("record job %s", it.State)
	}
}

// TestMirrorDemoBusinessWithMedia mirrors the whole demo business with a
// data folder and ActiveDEMAND connected: still no delivery and every
// message recorded once, every attachment uploaded once and carried by its
// message, and every answered call's recording and transcript fetched and
// noted once.
func TestMirrorDemoBusinessWithMedia(t *testing.T) {
	t.Parallel() // the demo business under the race detector is CPU work that can overlap with the tests that wait
	as := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: t0})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{ghl: ghltest.Options{SeedTime: t0}})
	r.cfg.AD, r.cfg.DataDir = ad, t.TempDir()
	ids := queueFromAD(t, r.st, ad)
	r.run(r.engine(), r.idle)

	if tr := r.gs.Traffic(); tr.Deliveries != 0 || tr.Records != len(ids) {
		t.Errorf("traffic %+v, want %d records and no delivery", tr, len(ids))
	}
	byAlt := r.byAltID()
	attachments, calls := 0, 0
	for _, id := range ids {
		if byAlt[id] != 1 {
			t.Errorf("AD message %s recorded %d times", id, byAlt[id])
		}
		msg, _ := as.Message(activedemand.ID(id))
		got, _ := r.gs.Message(r.ghlID(store.KindMessage, id))
		if len(got.Attachments) != len(msg.Media) {
			t.Errorf("message %s carries %d attachments, AD has %d", id, len(got.Attachments), len(msg.Media))
		}
		attachments += len(msg.Media)
		if got.HasRecording() {
			calls++
			files, err := r.st.MediaForMessage(context.Background(), got.ID)
			if err != nil || len(files) != 2 {
				t.Errorf("call %s: media index %+v, %v", id, files, err)
			}
		}
	}
	if attachments == 0 || calls == 0 {
		t.Fatalf("the demo business has %d attachments and %d answered calls; the test needs both", attachments, calls)
	}
	if n := len(r.gs.Uploads()); n != attachments {
		t.Errorf("%d uploads for %d attachments", n, attachments)
	}
	notes := 0
	for _, c := range r.gs.Contacts() {
		notes += len(r.gs.Notes(c.ID))
	}
	if notes != calls || len(r.itemsOf(engine.JobRouteTranscript)) != calls {
		t.Errorf("%d notes and %d routing jobs for %d answered calls", notes, len(r.itemsOf(engine.JobRouteTranscript)), calls)
	}
	for _, it := range r.items() {
		if it.State == store.OutboxDead {
			t.Errorf("dead job %s: %s", it.Key, it.LastError)
		}
	}
	t.Logf("%d messages, %d attachments, %d answered calls", len(ids), attachments, calls)
}

// TestAttachmentLastAttemptRefusedCredentials: HighLevel refuses the
// credentials at an upload's last attempt. That pauses the sync for a
// person to reconnect; it does not give the attachment up.
func TestAttachmentLastAttemptRefusedCredentials(t *testing.T) {
	m := newMediaRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: uploadRoute, Kind: sandboxkit.FaultStatus, Status: http.StatusUnauthorized}}}})
	mail := m.adMessage(t, "email", "quote.pdf")
	ct := m.gs.AddContact(ghltest.Contact{LocationID: m.gs.LocationID(), Email: m.contact.Email})
	cv := m.gs.AddConversation(ghltest.Conversation{LocationID: m.gs.LocationID(), ContactID: ct.ID})
	u := engine.UploadJob{V: engine.JobVersion, Message: mail, GHLContactID: ct.ID, GHLConversationID: cv.ID}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.st.EnqueueBatch(context.Background(), []store.OutboxJob{{Kind: engine.JobUploadMedia, Key: u.Key(), Payload: b, MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	e := m.engine()
	m.run(e, func() bool { s, _ := e.Snapshot(context.Background()); return s.State == engine.StatePaused })
	if it := m.item(u.Key()); it.State != store.OutboxPending {
		t.Errorf("upload job is %s, want handed back pending", it.State)
	}
	if n := len(m.itemsOf(engine.JobRecordAttached)); n != 0 {
		t.Errorf("the message was queued for recording without its attachment")
	}
	for _, h := range m.rows(store.OpMediaUpload) {
		if strings.Contains(h.Error, "not attached") {
			t.Errorf("upload row %+v gives the attachment up", h)
		}
	}
}
