package ghl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
)

// allowedUploads maps each extension HighLevel accepts (the upload route's
// documented list) to the media types its content may sniff as.
var allowedUploads = map[string][]string{
	"jpg":  {"image/jpeg"},
	"jpeg": {"image/jpeg"},
	"png":  {"image/png"},
	"mp4":  {"video/mp4", "audio/mp4"},
	"mpeg": {"video/mpeg", "audio/mpeg"},
	"zip":  {"application/zip"},
	"rar":  {"application/x-rar-compressed"},
	"pdf":  {"application/pdf"},
	"doc":  {"application/msword"},
	"docx": {"application/zip"}, // Office Open XML is a zip container
	"txt":  {"text/plain"},
	"mp3":  {"audio/mpeg"},
	"wav":  {"audio/wave"},
}

// sendTypes is the Content-Type the file part is sent with.
var sendTypes = map[string]string{
	"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "mpeg": "video/mpeg",
	"zip": "application/zip", "rar": "application/vnd.rar", "pdf": "application/pdf", "doc": "application/msword",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "txt": "text/plain",
	"mp3": "audio/mpeg", "wav": "audio/wav",
}

// sniff names the media type of content's first bytes, adding the
// signatures net/http does not know (Word 97 documents, MPEG program
// streams, MP3 without an ID3 tag) to http.DetectContentType.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return "application/msword"
	case bytes.HasPrefix(head, []byte{0, 0, 1, 0xBA}), bytes.HasPrefix(head, []byte{0, 0, 1, 0xB3}):
		return "video/mpeg"
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0:
		return "audio/mpeg" // an MPEG audio frame header (layer bits set)
	}
	mt := http.DetectContentType(head)
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return mt
}

// checkUpload decides, before anything is sent, whether HighLevel accepts
// a file: first by the name's extension, then by the sniffed content.
func checkUpload(name string, head []byte) error {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	want, ok := allowedUploads[ext]
	if !ok {
		return &UnsupportedMediaError{Name: name, Ext: ext, Detected: sniff(head)}
	}
	got := sniff(head)
	for _, w := range want {
		if got == w {
			return nil
		}
	}
	return &UnsupportedMediaError{Name: name, Ext: ext, Detected: got, ByContent: true}
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
	if _, ok := allowedUploads[ext]; !ok {
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
	f, err := os.Open(path)
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
