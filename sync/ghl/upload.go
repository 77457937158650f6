package ghl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"parley/sync/internal/media"
)

// sendTypes is the Content-Type the file part is sent with.
var sendTypes = map[string]string{
	"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "mpeg": "video/mpeg",
	"zip": "application/zip", "rar": "application/vnd.rar", "pdf": "application/pdf", "doc": "application/msword",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "txt": "text/plain",
	"mp3": "audio/mpeg", "wav": "audio/wav",
}

// checkUpload decides, before anything is sent, whether HighLevel accepts
// a file: first by the name's extension, then by the sniffed content. The
// rules are the ones the export import applies to attachments.
func checkUpload(name string, head []byte) error {
	var refused *media.RefusedError
	if err := media.Check(name, head); errors.As(err, &refused) {
		return &UnsupportedMediaError{Name: name, Ext: refused.Ext, Detected: refused.Detected, ByContent: refused.ByContent}
	} else if err != nil {
		return err
	}
	return nil
}

// UploadRequest is a file to upload as a message attachment.
type UploadRequest struct {
	ConversationID string
	ContactID      string
	// FileName names the file; its extension must be one HighLevel
	// accepts (JPG JPEG PNG MP4 MPEG ZIP RAR PDF DOC DOCX TXT MP3 WAV) and
	// match the content.
	FileName string
	// Body is the content. An io.ReadSeeker (such as *os.File) is streamed
	// from its current position and its size found by seeking; any other
	// reader is read into memory up to MaxUploadSize (the only copy).
	Body io.Reader
	// Size, if known (> 0), lets an over-size file be refused without
	// reading it.
	Size int64
}

// UploadAttachment uploads a file (multipart, part "fileAttachment") and
// returns its URL for DeliverMessage or RecordMessage attachments. Files
// over MaxUploadSize (ErrTooLarge) or of a type HighLevel refuses
// (ErrUnsupportedMedia) are refused before anything is sent. It is never
// retried once the request may have reached HighLevel (ErrOutcomeUnknown).
func (c *Client) UploadAttachment(ctx context.Context, req UploadRequest) (UploadResult, error) {
	const op = "ghl: upload attachment"
	if err := needIDs(op, "conversation id", req.ConversationID, "contact id", req.ContactID, "file name", req.FileName); err != nil {
		return UploadResult{}, err
	}
	if req.Body == nil {
		return UploadResult{}, fmt.Errorf("%s: %s: no content", op, req.FileName)
	}
	name := filepath.Base(req.FileName)
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if !media.Accepted(ext) {
		return UploadResult{}, &UnsupportedMediaError{Name: name, Ext: ext}
	}
	if req.Size > MaxUploadSize {
		return UploadResult{}, &TooLargeError{Name: name, Size: req.Size, Limit: MaxUploadSize}
	}

	body, size, err := seekableBody(req.Body)
	if err != nil {
		return UploadResult{}, fmt.Errorf("%s: %s: reading the file: %w", op, name, err)
	}
	if size > MaxUploadSize {
		return UploadResult{}, &TooLargeError{Name: name, Size: size, Limit: MaxUploadSize}
	}
	start, err := body.Seek(0, io.SeekCurrent)
	if err != nil {
		return UploadResult{}, fmt.Errorf("%s: %s: %w", op, name, err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return UploadResult{}, fmt.Errorf("%s: %s: reading the file: %w", op, name, err)
	}
	if err := checkUpload(name, head[:n]); err != nil {
		return UploadResult{}, err
	}

	prefix, trailer, contentType, err := multipartFrame(map[string]string{
		"conversationId": req.ConversationID, "contactId": req.ContactID, "locationId": c.location,
	}, name, sendTypes[ext])
	if err != nil {
		return UploadResult{}, fmt.Errorf("%s: %w", op, err)
	}
	var out UploadResult
	err = c.do(ctx, &request{
		op: op, rt: routeUpload, path: routeUpload.path, class: unsafe, contentType: contentType,
		open: func() (io.Reader, int64, error) {
			// Every attempt starts from the file's beginning; only one
			// that provably did not reach HighLevel is ever made again.
			if _, err := body.Seek(start, io.SeekStart); err != nil {
				return nil, 0, fmt.Errorf("%s: rewinding the file: %w", name, err)
			}
			r := io.MultiReader(bytes.NewReader(prefix), io.LimitReader(body, size), bytes.NewReader(trailer))
			return r, int64(len(prefix)) + size + int64(len(trailer)), nil
		},
		decode: func(b []byte) (err error) { out, err = decodeUpload(b); return err },
	})
	return out, err
}

// UploadFile uploads the file at path; see UploadAttachment.
func (c *Client) UploadFile(ctx context.Context, conversationID, contactID, path string) (UploadResult, error) {
	f, err := os.Open(path) // #nosec G304 -- the caller's attachment file, which it chose to send
	if err != nil {
		return UploadResult{}, fmt.Errorf("ghl: upload attachment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return UploadResult{}, fmt.Errorf("ghl: upload attachment: %w", err)
	}
	return c.UploadAttachment(ctx, UploadRequest{
		ConversationID: conversationID, ContactID: contactID, FileName: filepath.Base(path), Body: f, Size: st.Size(),
	})
}

// seekableBody returns r as a seeker with the size from its current
// position: seekers as they are, other readers read into memory, at most
// MaxUploadSize+1 bytes (enough to know a file is too large).
func seekableBody(r io.Reader) (io.ReadSeeker, int64, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if cur, err := rs.Seek(0, io.SeekCurrent); err == nil {
			end, err := rs.Seek(0, io.SeekEnd)
			if err != nil {
				return nil, 0, err
			}
			if _, err := rs.Seek(cur, io.SeekStart); err != nil {
				return nil, 0, err
			}
			return rs, end - cur, nil
		}
		// Not really seekable (a pipe): read it like any reader.
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, MaxUploadSize+1))
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(buf.Bytes()), n, nil
}

// multipartFrame builds the multipart body around the file: the fields and
// the file part's header before it, the closing boundary after, so the file
// itself is streamed and the length is known in advance.
func multipartFrame(fields map[string]string, fileName, fileType string) (prefix, trailer []byte, contentType string, err error) {
	var head, tail bytes.Buffer
	sw := &switchWriter{w: &head}
	mw := multipart.NewWriter(sw)
	for _, k := range []string{"conversationId", "contactId", "locationId"} {
		if err := mw.WriteField(k, fields[k]); err != nil {
			return nil, nil, "", err
		}
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fileAttachment"; filename="%s"`, quoteEscaper.Replace(fileName)))
	h.Set("Content-Type", fileType)
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	sw.w = &tail
	if err := mw.Close(); err != nil {
		return nil, nil, "", err
	}
	return head.Bytes(), tail.Bytes(), mw.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

// switchWriter lets multipartFrame send the writer's output to the prefix
// and then to the trailer.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }
