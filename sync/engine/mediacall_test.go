package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
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
	"parley/sync/internal/sandboxkit"
	"parley/sync/transcript"
)

const (
	recordingRoute     = "GET /conversations/messages/{messageId}/locations/{locationId}/recording"
	transcriptionRoute = "GET /conversations/locations/{locationId}/messages/{messageId}/transcription"
	noteRoute          = "POST /contacts/{contactId}/notes"
)

// mediaRig is a rig with a data folder and the ActiveDEMAND sandbox, and
// one contact known on both sides of it.
type mediaRig struct {
	*rig
	as      *adtest.Server
	ad      *activedemand.Client
	dataDir string
	contact engine.ContactJob
}

func newMediaRig(t *testing.T, o rigOptions) *mediaRig {
	t.Helper()
	r := newRig(t, o)
	as := adtest.NewTestServer(t, adtest.Options{})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	c, err := as.AddContact(adtest.NewContact{FirstName: "Cal", LastName: "Lee", Email: "cal@example.com", Phone: "+19025550142"})
	if err != nil {
		t.Fatal(err)
	}
	m := &mediaRig{rig: r, as: as, ad: ad, dataDir: t.TempDir(),
		contact: contactJob(string(c.ID), "Cal", "Lee", "cal@example.com", "+19025550142")}
	r.cfg.AD, r.cfg.DataDir = ad, m.dataDir
	return m
}

func callJob(id string, c engine.ContactJob, direction, status string, at time.Time) engine.MessageJob {
	m := messageJob(id, c, "call", direction, "", at)
	m.SenderPhone = "+19025550100"
	m.Call = &engine.CallJob{DurationMS: 30_000, Status: status}
	return m
}

// idle reports whether every job is done or dead, except the routing jobs,
// whose worker is not this package's concern here.
func (r *rig) idle() bool {
	for _, it := range r.items() {
		if it.Kind == engine.JobRouteTranscript {
			continue
		}
		if it.State == store.OutboxPending || it.State == store.OutboxInFlight {
			return false
		}
	}
	return true
}

func (r *rig) itemsOf(kind string) []store.OutboxItem {
	var out []store.OutboxItem
	for _, it := range r.items() {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

func (r *rig) rows(op store.Operation) []store.HistoryEntry {
	var out []store.HistoryEntry
	for _, h := range r.history() {
		if h.Operation == op {
			out = append(out, h)
		}
	}
	return out
}

func outcomes(rows []store.HistoryEntry) map[store.Outcome]int {
	n := map[store.Outcome]int{}
	for _, h := range rows {
		n[h.Outcome]++
	}
	return n
}

// TestCallMediaEndToEnd records an inbound and an outbound call and one
// nobody answered: the two that were answered have their recording and
// transcript in the data folder (owner-only, the indexed sha256), on the
// HighLevel contact as a note and on the ActiveDEMAND contact as a
// history entry, and are handed to the routing rules once each; the
// unanswered one leads to nothing.
func TestCallMediaEndToEnd(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	in := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	out := callJob("ad-call-2", m.contact, "outbound", "voicemail", t0.Add(time.Hour))
	missed := callJob("ad-call-3", m.contact, "outbound", "no-answer", t0.Add(2*time.Hour))
	m.queue(m.contact, in, out, missed)
	m.run(m.engine(), m.idle)

	ghlContact := m.ghlID(store.KindContact, m.contact.ContactID)
	for _, call := range []engine.MessageJob{in, out} {
		ghlMsg := m.ghlID(store.KindMessage, call.MessageID)
		files, err := m.st.MediaForMessage(context.Background(), ghlMsg)
		if err != nil || len(files) != 2 {
			t.Fatalf("%s: media index = %+v, %v; want a recording and a transcript", call.MessageID, files, err)
		}
		for _, f := range files {
			if f.ContactID != ghlContact || !strings.HasPrefix(f.Path, "media/"+ghlContact+"/"+ghlMsg+".") {
				t.Errorf("%s: index row %+v, want it under media/<contact>/<message>", call.MessageID, f)
			}
			name := filepath.Join(m.dataDir, filepath.FromSlash(f.Path))
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
				t.Errorf("%s: %s does not have its indexed sha256 and size", call.MessageID, f.Path)
			}
			if st, _ := os.Stat(name); st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", call.MessageID, f.Path, st.Mode().Perm())
			}
			switch f.Kind {
			case store.MediaRecording:
				if !strings.HasSuffix(f.Path, ".wav") || string(b[:4]) != "RIFF" {
					t.Errorf("%s: recording %s is not a WAV file", call.MessageID, f.Path)
				}
			case store.MediaTranscript:
				sentences, err := transcript.Decode(strings.NewReader(string(b)))
				if err != nil || f.ContentType != transcript.ContentType || transcript.Text(sentences) != ghltest.RecordedTranscript(call.MessageID) {
					t.Errorf("%s: transcript %s (%s) = %q, %v; want %q", call.MessageID, f.Path, f.ContentType, transcript.Text(sentences), err, ghltest.RecordedTranscript(call.MessageID))
				}
			}
		}
	}

	notes := m.gs.Notes(ghlContact)
	if len(notes) != 2 {
		t.Fatalf("%d notes on the GHL contact, want one per answered call: %+v", len(notes), notes)
	}
	for _, n := range notes {
		if !strings.Contains(n.Body, "[parley:call:") || !strings.Contains(n.Body, "/recording") {
			t.Errorf("note %q lacks its marker or the recording's link", n.Body)
		}
	}
	adHist := m.as.History(activedemand.ID(m.contact.ContactID))
	if len(adHist) != 2 {
		t.Fatalf("%d history entries on the AD contact, want 2: %+v", len(adHist), adHist)
	}
	for _, call := range []engine.MessageJob{in, out} {
		marker := "[parley:call:" + m.ghlID(store.KindMessage, call.MessageID) + "]"
		var note, entry int
		for _, n := range notes {
			if strings.Contains(n.Body, marker) && strings.Contains(n.Body, ghltest.RecordedTranscript(call.MessageID)) {
				note++
			}
		}
		for _, h := range adHist {
			if strings.Contains(h.Body, marker) && strings.Contains(h.Body, ghltest.RecordedTranscript(call.MessageID)) && h.At.Equal(call.SentAt) {
				entry++
			}
		}
		if note != 1 || entry != 1 {
			t.Errorf("%s: %d notes and %d AD entries with its transcript and time, want 1 and 1", call.MessageID, note, entry)
		}
	}

	routes := m.itemsOf(engine.JobRouteTranscript)
	if len(routes) != 2 {
		t.Fatalf("%d routing jobs, want 2", len(routes))
	}
	for _, call := range []engine.MessageJob{in, out} {
		ghlMsg := m.ghlID(store.KindMessage, call.MessageID)
		it, err := m.st.OutboxItemByID(context.Background(), m.item(engine.RouteJob{GHLMessageID: ghlMsg}.Key()).ID)
		if err != nil {
			t.Fatal(err)
		}
		rj, err := engine.DecodeRouteJob(it.Payload)
		if err != nil || rj.ADMessageID != call.MessageID || rj.GHLContactID != ghlContact || rj.ADContactID != m.contact.ContactID ||
			rj.Direction != call.Direction || rj.Channel != "call" || !rj.At.Equal(call.SentAt) {
			t.Errorf("routing job %+v, %v", rj, err)
		}
	}
	if n := len(m.itemsOf(engine.JobFetchCallMedia)); n != 2 {
		t.Errorf("%d media jobs, want 2 (none for the unanswered call)", n)
	}
	if got := outcomes(m.rows(store.OpMediaFetch)); got[store.OutcomeOK] != 4 || len(got) != 1 {
		t.Errorf("media.fetch rows: %v, want 4 ok", got)
	}
	if got := outcomes(m.rows(engine.OpNoteCreate)); got[store.OutcomeOK] != 2 || len(got) != 1 {
		t.Errorf("note rows: %v, want 2 ok", got)
	}
	if got := outcomes(m.rows(engine.OpADHistoryCreate)); got[store.OutcomeOK] != 2 || len(got) != 1 {
		t.Errorf("AD history rows: %v, want 2 ok", got)
	}
	if n := m.gs.Calls(recordingRoute) + m.gs.Calls(transcriptionRoute); n != 4 {
		t.Errorf("%d media requests, want 4", n)
	}
	m.noSecrets()
}

// TestCallMediaNeverFetchedTwice kills the engine after the recording and
// transcript are stored but before the job completes (the note's request
// never answers). The next process finds both in the media index with
// their sha256 and fetches neither again; the note and the AD entry are
// made once.
func TestCallMediaNeverFetchedTwice(t *testing.T) {
	var (
		mu   sync.Mutex
		kill context.CancelFunc
		once sync.Once
	)
	m := newMediaRig(t, rigOptions{transport: func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(req)
			if err == nil && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/notes") {
				once.Do(func() {
					mu.Lock()
					kill()
					mu.Unlock()
					<-req.Context().Done()
				})
			}
			return res, err
		})
	}})
	call := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	m.queue(m.contact, call)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mu.Lock()
	kill = cancel
	mu.Unlock()
	if err := m.engine(func(c *engine.Config) { c.Drain = -1 }).Run(ctx); err != nil {
		t.Fatal(err)
	}
	ghlMsg := m.ghlID(store.KindMessage, call.MessageID)
	if it := m.item(engine.CallMediaJob{GHLMessageID: ghlMsg}.Key()); it.State != store.OutboxInFlight {
		t.Fatalf("killed media job is %s, want in flight", it.State)
	}

	// A new process, after the lease.
	m.clock.advance(3 * time.Minute)
	m.run(m.engine(), m.idle)
	if n := m.gs.Calls(recordingRoute); n != 1 {
		t.Errorf("the recording was fetched %d times, want once", n)
	}
	if n := m.gs.Calls(transcriptionRoute); n != 1 {
		t.Errorf("the transcript was fetched %d times, want once", n)
	}
	if n := len(m.gs.Notes(m.ghlID(store.KindContact, m.contact.ContactID))); n != 1 {
		t.Errorf("%d notes, want 1", n)
	}
	if n := len(m.as.History(activedemand.ID(m.contact.ContactID))); n != 1 {
		t.Errorf("%d AD entries, want 1", n)
	}
	if n := len(m.itemsOf(engine.JobRouteTranscript)); n != 1 {
		t.Errorf("%d routing jobs, want 1", n)
	}
	skipped := 0
	for _, h := range m.rows(store.OpMediaFetch) {
		if h.Outcome == store.OutcomeSkipped && strings.Contains(h.Error, "not fetched again") {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("%d skipped fetch rows, want 2 (recording and transcript): %+v", skipped, m.rows(store.OpMediaFetch))
	}
	notes := m.rows(engine.OpNoteCreate)
	if len(notes) != 1 || notes[0].Outcome != store.OutcomeSkipped || !strings.Contains(notes[0].Error, "marker") {
		t.Errorf("note rows %+v, want one: found by its marker", notes)
	}
}

// TestCallMediaNoteAnswerLost: HighLevel makes the note and the connection
// drops before the answer; the note is found by its marker, not made
// twice, and the job completes at its first attempt.
func TestCallMediaNoteAnswerLost(t *testing.T) {
	m := newMediaRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: noteRoute, Kind: sandboxkit.FaultDropAfter}}}})
	call := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	m.queue(m.contact, call)
	m.run(m.engine(), m.idle)
	if n := len(m.gs.Notes(m.ghlID(store.KindContact, m.contact.ContactID))); n != 1 || m.gs.Calls(noteRoute) != 1 {
		t.Errorf("%d notes after %d creates, want 1 after 1", n, m.gs.Calls(noteRoute))
	}
	if it := m.item(engine.CallMediaJob{GHLMessageID: m.ghlID(store.KindMessage, call.MessageID)}.Key()); it.State != store.OutboxDone || it.Attempts != 1 {
		t.Errorf("media job %s after %d attempts, want done after 1", it.State, it.Attempts)
	}
}

// TestCallMediaNotReadyYet: HighLevel has no recording for a while after
// the call (404). The job waits and tries again, not failing, and fetches
// it once it is there.
func TestCallMediaNotReadyYet(t *testing.T) {
	m := newMediaRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{
		{Route: recordingRoute, Kind: sandboxkit.FaultStatus, Status: http.StatusNotFound, Body: "No recording found for this message", Times: 2}}}})
	call := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	m.queue(m.contact, call)
	m.run(m.engine(func(c *engine.Config) { c.RetryBase, c.RetryCap = time.Millisecond, 5*time.Millisecond }), m.idle)
	it := m.item(engine.CallMediaJob{GHLMessageID: m.ghlID(store.KindMessage, call.MessageID)}.Key())
	if it.State != store.OutboxDone || it.Attempts != 3 {
		t.Fatalf("media job %s after %d attempts, want done after 3", it.State, it.Attempts)
	}
	rows := m.rows(store.OpMediaFetch)
	if got := outcomes(rows); got[store.OutcomeRetrying] != 2 || got[store.OutcomeOK] != 2 || got[store.OutcomeFailed] != 0 {
		t.Errorf("fetch rows %v, want 2 retrying then 2 ok", got)
	}
	for _, h := range rows {
		if h.Outcome == store.OutcomeRetrying && (!strings.Contains(h.Error, "not ready") || h.HTTPStatus != 404) {
			t.Errorf("retrying row %+v does not say the recording is not ready yet", h)
		}
	}
}

// TestCallMediaNeverReady: a recording that never comes is given up after
// the attempt cap, with a failed row and an alert saying what to do.
func TestCallMediaNeverReady(t *testing.T) {
	m := newMediaRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{
		{Route: recordingRoute, Kind: sandboxkit.FaultStatus, Status: http.StatusNotFound, Times: -1}}}})
	call := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	m.queue(m.contact, call)
	m.run(m.engine(func(c *engine.Config) { c.RetryBase, c.RetryCap = time.Millisecond, 2*time.Millisecond }), m.idle)
	it := m.item(engine.CallMediaJob{GHLMessageID: m.ghlID(store.KindMessage, call.MessageID)}.Key())
	if it.State != store.OutboxDead || it.Attempts != it.MaxAttempts || it.MaxAttempts < 5 {
		t.Fatalf("media job %s after %d of %d attempts, want dead at the cap", it.State, it.Attempts, it.MaxAttempts)
	}
	rows := m.rows(store.OpMediaFetch)
	last := rows[0] // newest first
	if last.Outcome != store.OutcomeFailed || !strings.Contains(last.Error, "never") && !strings.Contains(last.Error, "not ready") {
		t.Errorf("last fetch row %+v, want a failed row saying the recording never came", last)
	}
	alerts, err := m.st.RecentAlerts(context.Background(), 10)
	if err != nil || len(alerts) != 1 || !strings.Contains(alerts[0].Hint, "replay") {
		t.Errorf("alerts = %+v, %v; want one saying to replay the job", alerts, err)
	}
	if n := len(m.gs.Notes(m.ghlID(store.KindContact, m.contact.ContactID))); n != 0 {
		t.Errorf("%d notes without a transcript", n)
	}
}

// TestCallMediaWithoutDataFolder: with no data folder nothing is fetched;
// each call says so once in history, and no media job is queued.
func TestCallMediaWithoutDataFolder(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	m.cfg.DataDir = ""
	m.queue(m.contact, callJob("ad-call-1", m.contact, "inbound", "completed", t0), callJob("ad-call-2", m.contact, "outbound", "completed", t0.Add(time.Minute)))
	e := m.engine()
	m.run(e, m.idle)
	m.run(e, m.idle) // polling again adds nothing
	rows := m.rows(store.OpMediaFetch)
	if len(rows) != 2 || outcomes(rows)[store.OutcomeSkipped] != 2 || !strings.Contains(rows[0].Error, "no data folder") {
		t.Errorf("fetch rows %+v, want one skipped row per call", rows)
	}
	if n := len(m.itemsOf(engine.JobFetchCallMedia)); n != 0 {
		t.Errorf("%d media jobs queued without a data folder", n)
	}
	if n := m.gs.Calls(recordingRoute) + m.gs.Calls(transcriptionRoute); n != 0 {
		t.Errorf("%d media requests", n)
	}
}

// TestCallMediaWithoutCallData: a call ActiveDEMAND gave no call details
// for may still have been recorded, so its media is looked for.
func TestCallMediaWithoutCallData(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	call := callJob("ad-call-1", m.contact, "inbound", "", t0)
	call.Call = nil
	m.queue(m.contact, call)
	m.run(m.engine(), m.idle)
	files, err := m.st.MediaForMessage(context.Background(), m.ghlID(store.KindMessage, call.MessageID))
	if err != nil || len(files) != 2 {
		t.Errorf("media index %+v, %v; want the recording and the transcript", files, err)
	}
}
