package engine

// A recorded call's media: once a call message is recorded in HighLevel,
// its recording and transcription are fetched from HighLevel into the data
// folder, indexed in the store and put on the contact's timeline (a
// HighLevel note, an ActiveDEMAND history entry), and the transcript is
// handed to the routing rules. It is one outbox job per call, queued by the
// job that recorded the call, and every step looks before it writes, so a
// retried job redoes only what did not happen:
//
//   - a file is skipped when the media index has it and the file on disk
//     still has the indexed sha256;
//   - the note and the ActiveDEMAND entry carry a marker naming the call,
//     and a retried job looks for it before writing;
//   - the routing job is a follow-up, queued by key in the transaction that
//     completes this one.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
	"parley/sync/transcript"
)

// JobFetchCallMedia fetches a recorded call's recording and transcript into
// the data folder and puts the transcript on the contact's timeline; its
// payload is a CallMediaJob. The job that records a call queues it.
const JobFetchCallMedia = "media.call"

// Operations of the call media flow, besides store.OpMediaFetch.
const (
	// OpNoteCreate puts a call's transcript on the HighLevel contact as a
	// note.
	OpNoteCreate store.Operation = "contact.note"
	// OpADHistoryCreate puts a call's transcript on the ActiveDEMAND
	// contact's history.
	OpADHistoryCreate store.Operation = "ad.history"
)

// callMediaMaxAttempts bounds how long a call's media is waited for: with
// the engine's backoff (30 s doubling to an hour) about five hours, far
// longer than HighLevel takes to transcribe a call.
const callMediaMaxAttempts = 12

// maxRecordingBytes stops a recording download that would fill the disk:
// four hours of HighLevel's 8 kHz 16-bit audio is about 230 MB.
const maxRecordingBytes = 1 << 30

// adHistoryType is the ActiveDEMAND history type of a call transcript.
const adHistoryType = "call_transcript"

func init() { jobWorkers[JobFetchCallMedia] = (*Engine).fetchCallMedia }

// CallMediaJob is the payload of a JobFetchCallMedia item: the recorded
// call, with ids on both sides for the timeline.
type CallMediaJob struct {
	// V is JobVersion.
	V            int    `json:"v"`
	ADMessageID  string `json:"ad_message_id"`
	ADContactID  string `json:"ad_contact_id"`
	GHLContactID string `json:"ghl_contact_id"`
	// GHLMessageID is the recorded call, whose recording and
	// transcription HighLevel serves.
	GHLMessageID string `json:"ghl_message_id"`
	// Channel is the AD channel (call); Direction inbound or outbound.
	Channel   string    `json:"channel"`
	Direction string    `json:"direction"`
	At        time.Time `json:"at"`
}

// Key fetches each call's media once.
func (j CallMediaJob) Key() string { return "media:call:" + j.GHLMessageID }

// DecodeCallMediaJob reads a JobFetchCallMedia payload.
func DecodeCallMediaJob(payload []byte) (CallMediaJob, error) {
	var j CallMediaJob
	if err := decodeJob(JobFetchCallMedia, payload, &j, func() int { return j.V }); err != nil {
		return CallMediaJob{}, err
	}
	if j.GHLMessageID == "" || j.GHLContactID == "" || j.ADMessageID == "" {
		return CallMediaJob{}, fmt.Errorf("decode %s: %w: ad_message_id, ghl_message_id and ghl_contact_id are required", JobFetchCallMedia, ErrJobPayload)
	}
	return j, nil
}

// unrecordedCalls are the call statuses HighLevel has nothing to record or
// transcribe for.
var unrecordedCalls = map[string]bool{"no-answer": true, "busy": true, "failed": true, "canceled": true, "cancelled": true, "pending": true}

// queueCallMedia makes the call message mj, recorded as ghlMsgID, lead to
// fetching its media. Without a data folder nothing is fetched, which the
// message's history says once.
func (e *Engine) queueCallMedia(j *job, mj MessageJob, ghlContact, ghlMsgID string) {
	if mj.Channel != string(activedemand.Channel("call")) || (mj.Call != nil && unrecordedCalls[mj.Call.Status]) {
		return
	}
	if e.cfg.DataDir == "" {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpMediaFetch, System: store.SystemGHL,
			LocalID: mj.MessageID, RemoteID: ghlMsgID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
			Error: "the call's recording and transcript are not fetched: no data folder is configured; set one to keep calls in Parley"})
		return
	}
	cj := CallMediaJob{V: JobVersion, ADMessageID: mj.MessageID, ADContactID: mj.Contact.ID, GHLContactID: ghlContact,
		GHLMessageID: ghlMsgID, Channel: mj.Channel, Direction: mj.Direction, At: mj.SentAt}
	b, _ := json.Marshal(cj)
	j.follow = append(j.follow, store.OutboxJob{Kind: JobFetchCallMedia, Key: cj.Key(), Payload: b, MaxAttempts: callMediaMaxAttempts})
}

// errNotReady is matched by the error of a recording or transcript that
// HighLevel does not have yet: the job is tried again later.
var errNotReady = errors.New("not ready in HighLevel yet")

// fetchCallMedia is a JobFetchCallMedia.
func (e *Engine) fetchCallMedia(ctx context.Context, j *job) error {
	cj, err := DecodeCallMediaJob(j.item.Payload)
	if err != nil {
		return err
	}
	if e.cfg.DataDir == "" {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpMediaFetch, System: store.SystemGHL,
			LocalID: cj.ADMessageID, RemoteID: cj.GHLMessageID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
			Error: "the call's recording and transcript are not fetched: no data folder is configured any more"})
		return nil
	}
	if !e.off(ctx, j, SwitchFetchRecording, cj.ADMessageID, cj.GHLMessageID) {
		if err := e.fetchRecording(ctx, j, cj); err != nil {
			return e.notReadyYet(ctx, j, cj, err)
		}
	}
	if e.off(ctx, j, SwitchFetchTranscript, cj.ADMessageID, cj.GHLMessageID) {
		return nil
	}
	sentences, err := e.fetchTranscript(ctx, j, cj)
	if err != nil {
		return e.notReadyYet(ctx, j, cj, err)
	}
	if !e.off(ctx, j, SwitchTimeline, cj.ADMessageID, cj.GHLMessageID) {
		if err := e.noteTranscript(ctx, j, cj, sentences); err != nil {
			return err
		}
		if err := e.historyOnAD(ctx, j, cj, sentences); err != nil {
			return err
		}
	}
	rj := RouteJob{ADContactID: cj.ADContactID, GHLContactID: cj.GHLContactID, ADMessageID: cj.ADMessageID,
		GHLMessageID: cj.GHLMessageID, Channel: cj.Channel, Direction: cj.Direction, At: cj.At}
	j.then(JobRouteTranscript, rj.Key(), rj.Payload())
	return nil
}

// notReadyYet turns a fetch's failure into what the job does next: a file
// HighLevel does not have yet is tried again later, until the last attempt,
// which gives up with a row and an alert saying so.
func (e *Engine) notReadyYet(ctx context.Context, j *job, cj CallMediaJob, err error) error {
	if !errors.Is(err, errNotReady) {
		return err
	}
	if j.item.MaxAttempts > 0 && j.item.Attempts >= j.item.MaxAttempts {
		msg := fmt.Sprintf("call %s (HighLevel message %s): %v after %d tries since the call was recorded; HighLevel may never have recorded or transcribed it. If it shows in HighLevel now, replay the job from the dead letters",
			cj.ADMessageID, cj.GHLMessageID, err, j.item.Attempts)
		if _, aerr := e.st.RaiseAlert(ctx, store.Alert{Severity: store.SeverityWarning, Source: alertSource,
			Message: "A call's recording or transcript never became available in HighLevel",
			Hint:    "Check the call in HighLevel; replay its media job from the dead letters once HighLevel has it. " + msg}); aerr != nil {
			e.log.Error("sync engine: could not raise an alert", "err", aerr)
		}
		return fmt.Errorf("%w: %s", errPermanent, msg)
	}
	// errNotReady does not wrap ghl.ErrNotFound, so the job is retried
	// with the engine's backoff rather than given up.
	return err
}

// mediaPath is where a call's file of kind goes, relative to the data
// folder: media/<GHL contact>/<GHL message>.<ext>.
func mediaPath(cj CallMediaJob, ext string) (string, error) {
	for _, id := range []string{cj.GHLContactID, cj.GHLMessageID} {
		if id == "." || id == ".." || strings.ContainsAny(id, `/\:`) || !filepath.IsLocal(id) {
			return "", fmt.Errorf("%w: HighLevel id %q cannot name a file in the data folder", errPermanent, id)
		}
	}
	return path.Join("media", cj.GHLContactID, cj.GHLMessageID+ext), nil
}

// indexed returns the media index's row of kind for the call when the file
// it names is still there with the indexed sha256.
func (e *Engine) indexed(ctx context.Context, cj CallMediaJob, kind store.MediaKind) (store.MediaFile, bool, error) {
	files, err := e.st.MediaForMessage(ctx, cj.GHLMessageID)
	if err != nil {
		return store.MediaFile{}, false, err
	}
	for _, f := range files {
		if f.Kind != kind {
			continue
		}
		sum, _, err := fileSHA256(filepath.Join(e.cfg.DataDir, filepath.FromSlash(f.Path)))
		return f, err == nil && sum == f.SHA256, nil
	}
	return store.MediaFile{}, false, nil
}

func fileSHA256(name string) (string, int64, error) {
	f, err := os.Open(name) // #nosec G304 -- a media file under the data folder; only its hash leaves this function, compared with the index's
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// skipFetch adds the row of a file that is already fetched.
func (e *Engine) skipFetch(j *job, cj CallMediaJob, f store.MediaFile) {
	j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpMediaFetch, System: store.SystemGHL,
		LocalID: cj.ADMessageID, RemoteID: cj.GHLMessageID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
		Error: fmt.Sprintf("%s already fetched to %s (sha256 %s matches); not fetched again", f.Kind, f.Path, f.SHA256[:12])})
}

// fetchRecording downloads the call's recording into the data folder and
// indexes it, unless it is there already.
func (e *Engine) fetchRecording(ctx context.Context, j *job, cj CallMediaJob) error {
	if f, ok, err := e.indexed(ctx, cj, store.MediaRecording); err != nil || ok {
		if ok {
			e.skipFetch(j, cj, f)
		}
		return err
	}
	var rec ghl.Recording
	var saved savedFile
	_, err := e.call(ctx, j, store.OpMediaFetch, http.MethodGet, cj.ADMessageID, true, func(ctx context.Context) (string, error) {
		var err error
		// The extension follows the content type, known only once the
		// answer starts: the file is named when it is complete.
		saved, err = e.saveAtomic(cj, func(w io.Writer) (string, error) {
			rec, err = e.ghl.DownloadRecording(ctx, cj.GHLMessageID, &capWriter{w: w, left: maxRecordingBytes})
			return recordingExt(rec.ContentType), err
		})
		return cj.GHLMessageID, err
	})
	if ctx.Err() != nil {
		// Stopped before the call's row was written.
		return ctx.Err()
	}
	row := &j.history[len(j.history)-1]
	if errors.Is(err, ghl.ErrNotFound) {
		row.Error = fmt.Sprintf("the call's recording is %v (404); trying again later: %s", errNotReady, row.Error)
		return fmt.Errorf("recording of call %s: %w", cj.ADMessageID, errNotReady)
	}
	if err != nil {
		return fmt.Errorf("fetch the recording of call %s: %w", cj.ADMessageID, err)
	}
	if err := e.index(ctx, cj, store.MediaRecording, saved, rec.ContentType); err != nil {
		row.Outcome, row.Error = store.OutcomeFailed, fmt.Sprintf("the recording is saved as %s but could not be indexed: %v", saved.rel, err)
		return err
	}
	row.Error = fmt.Sprintf("recording: %s, %d bytes, sha256 %s", saved.rel, saved.size, saved.sum[:12])
	return nil
}

// fetchTranscript reads the call's transcription into the data folder in
// the transcript format and indexes it, unless it is there already; it
// returns the sentences either way.
func (e *Engine) fetchTranscript(ctx context.Context, j *job, cj CallMediaJob) ([]transcript.Sentence, error) {
	if f, ok, err := e.indexed(ctx, cj, store.MediaTranscript); err != nil || ok {
		if !ok {
			return nil, err
		}
		file, err := os.Open(filepath.Join(e.cfg.DataDir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, err
		}
		defer file.Close()
		sentences, err := transcript.Decode(file)
		if err == nil {
			e.skipFetch(j, cj, f)
			return sentences, nil
		}
		// A file that no longer reads is fetched again.
	}
	var sentences []transcript.Sentence
	var saved savedFile
	_, err := e.call(ctx, j, store.OpMediaFetch, http.MethodGet, cj.ADMessageID, true, func(ctx context.Context) (string, error) {
		got, err := e.ghl.GetTranscription(ctx, cj.GHLMessageID)
		if err != nil {
			return cj.GHLMessageID, err
		}
		sentences = make([]transcript.Sentence, len(got))
		for i, s := range got {
			sentences[i] = transcript.Sentence{Channel: s.MediaChannel, Start: s.Start, End: s.End, Text: s.Text, Confidence: s.Confidence}
		}
		saved, err = e.saveAtomic(cj, func(w io.Writer) (string, error) { return ".json", transcript.Encode(w, sentences) })
		return cj.GHLMessageID, err
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	row := &j.history[len(j.history)-1]
	if errors.Is(err, ghl.ErrNotFound) {
		row.Error = fmt.Sprintf("the call's transcript is %v (404); trying again later: %s", errNotReady, row.Error)
		return nil, fmt.Errorf("transcript of call %s: %w", cj.ADMessageID, errNotReady)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the transcript of call %s: %w", cj.ADMessageID, err)
	}
	if err := e.index(ctx, cj, store.MediaTranscript, saved, transcript.ContentType); err != nil {
		row.Outcome, row.Error = store.OutcomeFailed, fmt.Sprintf("the transcript is saved as %s but could not be indexed: %v", saved.rel, err)
		return nil, err
	}
	row.Error = fmt.Sprintf("transcript: %s, %d sentences, sha256 %s", saved.rel, len(sentences), saved.sum[:12])
	return sentences, nil
}

// savedFile is a file saveAtomic put in place.
type savedFile struct {
	rel  string // relative to the data folder, slash-separated
	sum  string
	size int64
}

// saveAtomic writes a file of the call through write (which returns the
// extension) into a temporary file beside its final place and renames it
// there once complete and synced, so the data folder never holds half a
// file under a final name; the file is readable by its owner only.
func (e *Engine) saveAtomic(cj CallMediaJob, write func(io.Writer) (ext string, err error)) (savedFile, error) {
	dirRel, err := mediaPath(cj, "")
	if err != nil {
		return savedFile{}, err
	}
	dir := filepath.Join(e.cfg.DataDir, filepath.FromSlash(path.Dir(dirRel)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return savedFile{}, fmt.Errorf("make the media folder: %w; check that the data folder is writable", err)
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*")
	if err != nil {
		return savedFile{}, fmt.Errorf("write into the media folder: %w; check that the data folder is writable", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()           // #nosec G104 -- cleanup of a file being thrown away after an earlier error
			os.Remove(tmp.Name()) // #nosec G104 -- cleanup after an earlier error, which is the one returned; the file sits in the media folder, not elsewhere
		}
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	ext, err := write(cw)
	if err != nil {
		return savedFile{}, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		return savedFile{}, err
	}
	if err := tmp.Sync(); err != nil {
		return savedFile{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return savedFile{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	rel, err := mediaPath(cj, ext)
	if err != nil {
		return savedFile{}, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(e.cfg.DataDir, filepath.FromSlash(rel))); err != nil {
		return savedFile{}, fmt.Errorf("put %s in place: %w", rel, err)
	}
	keep = true
	return savedFile{rel: rel, sum: hexSum(h), size: cw.n}, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// index records a fetched file in the media index at once, not with the
// job's completion: the file is on disk now, and a retry must find it
// rather than fetch it again.
func (e *Engine) index(ctx context.Context, cj CallMediaJob, kind store.MediaKind, f savedFile, contentType string) error {
	_, err := e.st.AddMedia(ctx, store.MediaFile{MessageID: cj.GHLMessageID, ContactID: cj.GHLContactID, Kind: kind,
		Path: f.rel, SHA256: f.sum, Size: f.size, ContentType: contentType, FetchedAt: e.now(), CallAt: cj.At})
	return err
}

// recordingExt is the file extension of a recording's content type.
func recordingExt(contentType string) string {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	switch strings.TrimSpace(ct) {
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	case "audio/ogg":
		return ".ogg"
	case "audio/mp4", "audio/m4a", "audio/x-m4a":
		return ".m4a"
	case "audio/webm":
		return ".webm"
	}
	// HighLevel sends audio/x-wav (ERRATA 7).
	return ".wav"
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errMediaTooLarge stops a download past its limit.
var errMediaTooLarge = errors.New("the file is larger than Parley keeps")

// capWriter passes at most left bytes to w, then fails with
// errMediaTooLarge, which stops the download.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		n, _ := c.w.Write(p[:c.left])
		c.left -= int64(n)
		return n, errMediaTooLarge
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	return n, err
}

// callMarker names the call in the note and the ActiveDEMAND entry made
// for it, so that a retried job finds them instead of writing them again.
func callMarker(cj CallMediaJob) string { return "[parley:call:" + cj.GHLMessageID + "]" }

// timelineText is the transcript as the note and the ActiveDEMAND entry
// show it: when, which call, where to hear it, what was said.
func (e *Engine) timelineText(cj CallMediaJob, sentences []transcript.Sentence) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Call transcript (%s call, %s)\n", cj.Direction, cj.At.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Call: HighLevel message %s, ActiveDEMAND message %s\n", cj.GHLMessageID, cj.ADMessageID)
	fmt.Fprintf(&b, "Recording: %s\n", e.ghl.RecordingURL(cj.GHLMessageID))
	b.WriteString("\n")
	b.WriteString(transcript.Text(sentences))
	b.WriteString("\n\n")
	b.WriteString(callMarker(cj))
	return b.String()
}

// noteTranscript puts the transcript on the HighLevel contact as a note,
// once: a retried job looks for the note's marker first.
func (e *Engine) noteTranscript(ctx context.Context, j *job, cj CallMediaJob, sentences []transcript.Sentence) error {
	marker := callMarker(cj)
	if j.retried() {
		n, found, err := e.ghl.FindNote(ctx, cj.GHLContactID, marker)
		if err != nil {
			return fmt.Errorf("look for the transcript note of call %s on HighLevel contact %s: %w", cj.ADMessageID, cj.GHLContactID, err)
		}
		if found {
			j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: OpNoteCreate, System: store.SystemGHL,
				LocalID: cj.ADMessageID, RemoteID: n.ID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
				Error: "the transcript note was made by an earlier attempt; found by its marker"})
			return nil
		}
	}
	_, err := e.call(ctx, j, OpNoteCreate, http.MethodPost, cj.ADMessageID, true, func(ctx context.Context) (string, error) {
		n, err := e.ghl.CreateNote(ctx, ghl.NoteRequest{ContactID: cj.GHLContactID, Title: "Call transcript",
			Body: e.timelineText(cj, sentences), Marker: marker})
		return n.ID, err
	})
	if errors.Is(err, ghl.ErrNotFound) {
		row := &j.history[len(j.history)-1]
		row.Error = fmt.Sprintf("the transcript was not put on HighLevel contact %s, which is gone; the transcript stays in Parley: %s", cj.GHLContactID, row.Error)
		return nil
	}
	return err
}

// historyOnAD puts the transcript on the ActiveDEMAND contact's history
// when the route table has a history route, once: a retried job looks for
// its marker first. Failures ActiveDEMAND will repeat (the contact is gone,
// a read-only import) and the last attempt's are rows, not a dead job: the
// transcript is still routed.
func (e *Engine) historyOnAD(ctx context.Context, j *job, cj CallMediaJob, sentences []transcript.Sentence) error {
	row := store.HistoryEntry{At: e.now(), Operation: OpADHistoryCreate, System: store.SystemAD, LocalID: cj.ADMessageID,
		Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts}
	switch {
	case e.cfg.AD == nil:
		row.Error = "not put on the ActiveDEMAND contact: ActiveDEMAND is not connected"
	case !hasHistoryRoute(e.cfg.AD):
		row.Error = "not put on the ActiveDEMAND contact: the route table has no " + activedemand.RouteHistoryCreate + " route"
	case strings.HasPrefix(cj.ADContactID, "imp-") || cj.ADContactID == "":
		row.Error = "not put on the ActiveDEMAND contact: the contact is known only from an export file, without an ActiveDEMAND id"
	}
	if row.Error != "" {
		j.history = append(j.history, row)
		return nil
	}
	marker := callMarker(cj)
	start := time.Now()
	if j.retried() {
		for h, err := range activedemand.AllHistory(ctx, e.cfg.AD, activedemand.ID(cj.ADContactID)) {
			if err != nil {
				return e.adFailed(j, row, start, fmt.Errorf("look for the transcript entry of call %s on ActiveDEMAND contact %s: %w", cj.ADMessageID, cj.ADContactID, err))
			}
			if strings.Contains(h.Body, marker) {
				row.RemoteID, row.Latency = string(h.ID), time.Since(start)
				row.Error = "the transcript entry was made by an earlier attempt; found by its marker"
				j.history = append(j.history, row)
				return nil
			}
		}
	}
	id, err := e.cfg.AD.AddHistory(ctx, activedemand.NewHistoryEntry{ContactID: activedemand.ID(cj.ADContactID), Type: adHistoryType,
		Subject: "Call transcript", Body: e.timelineText(cj, sentences), At: cj.At})
	if err != nil {
		return e.adFailed(j, row, start, fmt.Errorf("put the transcript of call %s on ActiveDEMAND contact %s: %w", cj.ADMessageID, cj.ADContactID, err))
	}
	row.Outcome, row.RemoteID, row.Latency = store.OutcomeOK, string(id), time.Since(start)
	j.history = append(j.history, row)
	return nil
}

// adFailed adds the failed row of an ActiveDEMAND call and says whether
// the job is tried again (the returned error) or goes on without it.
func (e *Engine) adFailed(j *job, row store.HistoryEntry, start time.Time, err error) error {
	row.Outcome, row.Latency, row.Error = store.OutcomeFailed, time.Since(start), err.Error()
	final := errors.Is(err, activedemand.ErrNotFound) || errors.Is(err, activedemand.ErrReadOnly) ||
		(j.item.MaxAttempts > 0 && j.item.Attempts >= j.item.MaxAttempts)
	if final {
		row.Error += "; the transcript stays in Parley and in HighLevel"
		j.history = append(j.history, row)
		return nil
	}
	j.history = append(j.history, row)
	return err
}

// hasHistoryRoute reports whether ActiveDEMAND, as the engine reads it, can
// create history entries: a client whose route table has the route, or
// any other implementation (a test double) that offers AddHistory.
func hasHistoryRoute(ad activedemand.Conversations) bool {
	r, ok := ad.(interface{ Routes() activedemand.Routes })
	if !ok {
		return true
	}
	_, ok = r.Routes().Route(activedemand.RouteHistoryCreate)
	return ok
}
