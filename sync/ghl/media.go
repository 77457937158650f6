package ghl

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Recording describes a downloaded call recording.
type Recording struct {
	// Bytes is how many bytes were written.
	Bytes int64
	// ContentType is the answer's media type (the live API sends
	// audio/x-wav; the spec names none, ERRATA 7).
	ContentType string
	// FileName is the name from Content-Disposition, if any.
	FileName string
}

// DownloadRecording streams a call's recording into w as it arrives; it is
// never held whole in memory. A download that fails after bytes reached w
// is not retried (w would get them twice); the caller should discard w's
// content and call again.
func (c *Client) DownloadRecording(ctx context.Context, messageID string, w io.Writer) (Recording, error) {
	const op = "ghl: download recording"
	if err := needIDs(op, "message id", messageID); err != nil {
		return Recording{}, err
	}
	var out Recording
	rt := routeRecording
	err := c.do(ctx, &request{
		op: op, rt: rt, path: fill(rt.path, messageID, c.location), class: idempotent,
		stream: func(h http.Header, r io.Reader) error {
			out = Recording{ContentType: h.Get("Content-Type")}
			if _, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
				out.FileName = params["filename"]
			}
			n, err := io.Copy(w, r)
			out.Bytes = n
			return err
		},
	})
	return out, err
}

// GetTranscription reads a call's transcription: its sentences with their
// offsets into the recording.
func (c *Client) GetTranscription(ctx context.Context, messageID string) ([]TranscriptSentence, error) {
	const op = "ghl: get transcription"
	if err := needIDs(op, "message id", messageID); err != nil {
		return nil, err
	}
	var out []TranscriptSentence
	err := c.getJSON(ctx, op, routeTranscription, fill(routeTranscription.path, c.location, messageID), nil,
		func(b []byte) (err error) { out, err = decodeTranscription(b); return err })
	return out, err
}

// DownloadTranscription reads a call's transcription as plain text.
func (c *Client) DownloadTranscription(ctx context.Context, messageID string) (string, error) {
	const op = "ghl: download transcription"
	if err := needIDs(op, "message id", messageID); err != nil {
		return "", err
	}
	var out string
	err := c.getJSON(ctx, op, routeTranscriptionDownload, fill(routeTranscriptionDownload.path, c.location, messageID), nil,
		func(b []byte) error { out = string(b); return nil })
	return out, err
}

// RecordingURL is the address HighLevel serves a call's recording at, to
// name it in a note or a log; fetching it needs the location's token.
func (c *Client) RecordingURL(messageID string) string {
	return strings.TrimSuffix(c.base, "/") + fill(routeRecording.path, messageID, c.location)
}
