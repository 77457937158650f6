package engine

// Attachments: a message's files are uploaded to HighLevel before the
// message is recorded, because a record names its attachments by URL and
// cannot gain one later.
//
// An upload is not idempotent and HighLevel offers no way to find a file
// uploaded earlier, so each upload is its own outbox job, and its URL is
// handed on in the payload of the next job (the next attachment, or the
// record once all are uploaded), which is queued in the transaction that
// completes the upload (job.then). A job retried after a worker died, a
// record that failed, a restart: none of them uploads an attachment whose
// job completed. The one case left is an upload whose answer is lost (the
// connection dropped after HighLevel stored the file): its job cannot know
// the URL and uploads again, once, leaving HighLevel an unused copy; the
// message still carries the file exactly once.
//
// A file that cannot be attached (gone at its URL, too large, of a type
// HighLevel refuses) is a failed history row saying so, and the message is
// recorded without it. So is a file whose upload still fails at its last
// attempt: an attachment never holds back its message for good.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// Outbox item kinds of the attachment flow; both take an UploadJob.
const (
	// JobUploadMedia uploads one attachment of a message.
	JobUploadMedia = "media.upload"
	// JobRecordAttached records a message whose attachments are uploaded,
	// with their URLs.
	JobRecordAttached = "mirror.attached"
)

func init() {
	jobWorkers[JobUploadMedia] = (*Engine).uploadMedia
	jobWorkers[JobRecordAttached] = (*Engine).recordAttached
}

// UploadJob is the payload of JobUploadMedia and JobRecordAttached items:
// the message, where it goes in HighLevel, and how far its attachments
// have got.
type UploadJob struct {
	// V is JobVersion.
	V       int        `json:"v"`
	Message MessageJob `json:"message"`
	// GHLContactID and GHLConversationID are the message's contact and
	// conversation in HighLevel.
	GHLContactID      string `json:"ghl_contact_id"`
	GHLConversationID string `json:"ghl_conversation_id"`
	// Index is the attachment (of Message.Media) a JobUploadMedia
	// uploads; len(Message.Media) for the record.
	Index int `json:"index"`
	// URLs are the uploaded attachments' URLs so far, in order.
	URLs []string `json:"urls,omitempty"`
	// NotAttached says, per attachment that could not be attached, which
	// and why.
	NotAttached []string `json:"not_attached,omitempty"`
}

// Key is the job's outbox key: one per attachment, one for the record.
func (u UploadJob) Key() string {
	if u.Index >= len(u.Message.Media) {
		return MessageKey(u.Message.MessageID) + "+attachments"
	}
	return "media:upload:" + u.Message.MessageID + "#" + strconv.Itoa(u.Index)
}

// DecodeUploadJob reads a JobUploadMedia or JobRecordAttached payload.
func DecodeUploadJob(kind string, payload []byte) (UploadJob, error) {
	var u UploadJob
	if err := decodeJob(kind, payload, &u, func() int { return u.V }); err != nil {
		return UploadJob{}, err
	}
	switch {
	case u.Message.MessageID == "" || u.GHLContactID == "" || u.GHLConversationID == "":
		return UploadJob{}, fmt.Errorf("decode %s: %w: message.message_id, ghl_contact_id and ghl_conversation_id are required", kind, ErrJobPayload)
	case u.Index < 0 || u.Index > len(u.Message.Media) || (kind == JobUploadMedia && u.Index == len(u.Message.Media)):
		return UploadJob{}, fmt.Errorf("decode %s: %w: index %d does not name one of the message's %d attachments", kind, ErrJobPayload, u.Index, len(u.Message.Media))
	}
	return u, nil
}

// next queues the work after this step: the next attachment's upload, or
// the record.
func (u UploadJob) next(j *job) {
	u.V = JobVersion
	u.Index++
	kind := JobUploadMedia
	if u.Index >= len(u.Message.Media) {
		kind = JobRecordAttached
	}
	b, _ := json.Marshal(u)
	j.then(kind, u.Key(), b)
}

// startUploads makes the message job mj lead to uploading its first
// attachment.
func (e *Engine) startUploads(j *job, mj MessageJob, contactID, convID string) {
	u := UploadJob{Message: mj, GHLContactID: contactID, GHLConversationID: convID, Index: -1}
	u.next(j)
}

// uploadMedia is a JobUploadMedia.
func (e *Engine) uploadMedia(ctx context.Context, j *job) error {
	u, err := DecodeUploadJob(JobUploadMedia, j.item.Payload)
	if err != nil {
		return err
	}
	md := u.Message.Media[u.Index]
	name := attachmentName(md)
	if e.off(ctx, j, SwitchUploadMedia, u.Message.MessageID, "") {
		u.NotAttached = append(u.NotAttached, name+" was not uploaded: uploading media is switched off in Automations")
		u.next(j)
		return nil
	}
	link, err := e.uploadOne(ctx, j, u, md, name)
	if ctx.Err() != nil {
		// Stopped, maybe before the upload's row was written: the job is
		// taken again after its lease.
		return ctx.Err()
	}
	switch {
	case err == nil:
		u.URLs = append(u.URLs, link)
		if j.retried() && strings.Contains(j.item.LastError, "outcome unknown") {
			j.history[len(j.history)-1].Error = "uploaded again: the earlier attempt's answer was lost, so its URL is unknown; if that upload reached HighLevel, it left an unused copy there"
		}
	case cannotAttach(err), j.item.MaxAttempts > 0 && j.item.Attempts >= j.item.MaxAttempts && !pauses(err):
		why := fmt.Sprintf("%s was not attached to message %s: %v", name, u.Message.MessageID, err)
		row := &j.history[len(j.history)-1]
		row.Error = why + "; the message is recorded without it"
		u.NotAttached = append(u.NotAttached, why)
	default:
		return err
	}
	u.next(j)
	return nil
}

// pauses reports failures that pause the sync until a person acts (the
// job is handed back, not given up).
func pauses(err error) bool {
	c, _ := classify(err)
	return c == pause
}

// cannotAttach reports failures that another attempt would repeat.
func cannotAttach(err error) bool {
	return errors.Is(err, errPermanent) || errors.Is(err, errMediaTooLarge) ||
		errors.Is(err, ghl.ErrTooLarge) || errors.Is(err, ghl.ErrUnsupportedMedia) ||
		errors.Is(err, ghl.ErrValidation) || errors.Is(err, ghl.ErrNotFound) ||
		errors.Is(err, activedemand.ErrNotFound) || errors.Is(err, activedemand.ErrMediaTooLarge) ||
		errors.Is(err, activedemand.ErrMediaBlocked) || errors.Is(err, activedemand.ErrMediaUnavailable) ||
		errors.Is(err, os.ErrNotExist)
}

// attachmentName is the file name an attachment is uploaded under.
// HighLevel judges a file by its extension first, so a name without one
// gets the extension of the type ActiveDEMAND declared.
func attachmentName(md MediaJob) string {
	name := "attachment"
	if n := strings.TrimSpace(md.Name); n != "" {
		name = filepath.Base(filepath.FromSlash(n))
	} else if md.File != "" {
		name = filepath.Base(md.File)
	} else if u, err := url.Parse(md.URL); err == nil && path.Base(u.Path) != "." && path.Base(u.Path) != "/" {
		name = path.Base(u.Path)
	}
	if path.Ext(name) == "" {
		ct, _, _ := strings.Cut(strings.ToLower(md.ContentType), ";")
		name += typeExts[strings.TrimSpace(ct)]
	}
	return name
}

// typeExts are the extensions of the media types HighLevel accepts.
var typeExts = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4", "video/mpeg": ".mpeg", "application/zip": ".zip",
	"application/vnd.rar": ".rar", "application/x-rar-compressed": ".rar", "application/pdf": ".pdf",
	"application/msword": ".doc", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
	"text/plain": ".txt", "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav",
}

// uploadOne uploads one attachment and returns its URL, adding one history
// row: the upload's, or the failure that stopped it before.
func (e *Engine) uploadOne(ctx context.Context, j *job, u UploadJob, md MediaJob, name string) (string, error) {
	msgID := u.Message.MessageID
	// A size ActiveDEMAND declares is believed before anything is read.
	if md.Size > ghl.MaxUploadSize {
		err := &ghl.TooLargeError{Name: name, Size: md.Size, Limit: ghl.MaxUploadSize}
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpMediaUpload, System: store.SystemGHL,
			LocalID: msgID, Outcome: store.OutcomeFailed, Attempts: j.item.Attempts, Error: err.Error()})
		return "", err
	}
	file, size, cleanup, err := e.attachmentFile(ctx, u.Message.Source, md, name)
	defer cleanup()
	if err != nil {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpMediaUpload, System: store.SystemAD,
			LocalID: msgID, Outcome: store.OutcomeFailed, Attempts: j.item.Attempts, Error: err.Error()})
		return "", err
	}
	return e.call(ctx, j, store.OpMediaUpload, http.MethodPost, msgID, true, func(ctx context.Context) (string, error) {
		res, err := e.ghl.UploadAttachment(ctx, ghl.UploadRequest{ConversationID: u.GHLConversationID, ContactID: u.GHLContactID,
			FileName: name, Body: file, Size: size})
		link := res.URLs[name]
		if link == "" {
			link = res.URL()
		}
		return link, err
	})
}

// attachmentFile opens an attachment's content: the file an import found
// beside its export, or a download from ActiveDEMAND into a temporary file
// that cleanup removes. Downloads stop past HighLevel's upload limit.
func (e *Engine) attachmentFile(ctx context.Context, src JobSource, md MediaJob, name string) (f *os.File, size int64, cleanup func(), err error) {
	cleanup = func() {}
	if md.File != "" {
		f, err := os.Open(md.File)
		if err != nil {
			return nil, 0, cleanup, fmt.Errorf("open %s, which came with the import: %w; import the export again with its files", md.File, err)
		}
		cleanup = func() { f.Close() } // #nosec G104 -- read-only file: a failed close loses nothing
		st, err := f.Stat()
		if err != nil {
			return nil, 0, cleanup, err
		}
		return f, st.Size(), cleanup, nil
	}
	u, perr := url.Parse(md.URL)
	switch {
	case strings.TrimSpace(md.URL) == "":
		return nil, 0, cleanup, fmt.Errorf("%w: ActiveDEMAND gave %s no URL", errPermanent, name)
	case perr != nil:
		return nil, 0, cleanup, fmt.Errorf("%w: %s is at %q, which is not a URL Parley can download", errPermanent, name, md.URL)
	case src == SourceImport && !u.IsAbs():
		return nil, 0, cleanup, fmt.Errorf("%w: %s (%s) was not beside the export file when it was imported; import the export again with its files", errPermanent, name, md.URL)
	case e.cfg.AD == nil:
		return nil, 0, cleanup, fmt.Errorf("%w: ActiveDEMAND is not connected, so %s cannot be downloaded; connect ActiveDEMAND, then replay the job", errPermanent, name)
	}
	tmp, err := os.CreateTemp("", "parley-attachment-*")
	if err != nil {
		return nil, 0, cleanup, fmt.Errorf("make a temporary file for %s: %w", name, err)
	}
	cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) } // #nosec G104 -- deferred cleanup with no one to tell; the file is private (0600) in the temp folder
	start := time.Now()
	n, err := e.cfg.AD.DownloadMedia(ctx, md.URL, &capWriter{w: tmp, left: ghl.MaxUploadSize})
	if errors.Is(err, errMediaTooLarge) {
		return nil, 0, cleanup, fmt.Errorf("download %s from ActiveDEMAND: %w: more than HighLevel's limit of %d bytes after %d bytes", name, errMediaTooLarge, ghl.MaxUploadSize, n)
	}
	if err != nil {
		return nil, 0, cleanup, fmt.Errorf("download %s from ActiveDEMAND (after %s): %w", name, time.Since(start).Round(time.Millisecond), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, 0, cleanup, err
	}
	return tmp, n, cleanup, nil
}

// recordAttached is a JobRecordAttached: the message with every
// attachment that could be uploaded.
func (e *Engine) recordAttached(ctx context.Context, j *job) error {
	u, err := DecodeUploadJob(JobRecordAttached, j.item.Payload)
	if err != nil {
		return err
	}
	mj := u.Message
	if j.retried() {
		m, found, err := e.ghl.FindMessageByAltID(ctx, u.GHLConversationID, mj.MessageID)
		if err != nil {
			return fmt.Errorf("look for message %s in HighLevel conversation %s: %w", mj.MessageID, u.GHLConversationID, err)
		}
		if found {
			j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpInboundRecord, System: store.SystemGHL,
				LocalID: mj.MessageID, RemoteID: m.ID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
				Error: "already recorded by an earlier attempt; found by its altId"})
			j.link(store.KindMessage, mj.MessageID, m.ID)
			e.queueCallMedia(j, mj, u.GHLContactID, m.ID)
			return e.mirrorStatus(ctx, j, mj, m.ID)
		}
	}
	id, err := e.record(ctx, j, mj, u.GHLContactID, u.GHLConversationID, u.URLs)
	if err != nil {
		return err
	}
	if len(u.NotAttached) > 0 {
		row := &j.history[len(j.history)-1]
		row.Error = fmt.Sprintf("recorded with %d of %d attachments; %s", len(u.URLs), len(mj.Media), strings.Join(u.NotAttached, "; "))
	}
	j.link(store.KindMessage, mj.MessageID, id)
	e.queueCallMedia(j, mj, u.GHLContactID, id)
	return e.mirrorStatus(ctx, j, mj, id)
}
