package ghltest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/sync/internal/demobiz"
)

// allowedUploadExts are the file types the upload endpoint's description
// lists: JPG JPEG PNG MP4 MPEG ZIP RAR PDF DOC DOCX TXT MP3 WAV.
func allowedUploadExts() []string {
	return []string{"jpg", "jpeg", "png", "mp4", "mpeg", "zip", "rar", "pdf", "doc", "docx", "txt", "mp3", "wav"}
}

// hUpload is POST /conversations/messages/upload: multipart with one
// `fileAttachment` part per file (ERRATA 6). Files of a type the endpoint
// does not list get 415, files over 5 MB 413; the answer maps each file name
// to a URL the sandbox serves the same bytes from.
func (s *Server) hUpload(c *reqCtx) {
	_, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		badRequest(c, "the body must be multipart/form-data")
		return
	}
	type file struct {
		name, contentType string
		data              []byte
	}
	var files []file
	fields := map[string]string{}
	var urls []string
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			badRequest(c, "the multipart body is malformed: "+err.Error())
			return
		}
		data, err := io.ReadAll(part)
		if err != nil {
			badRequest(c, "the multipart body is malformed: "+err.Error())
			return
		}
		switch name := part.FormName(); name {
		case "fileAttachment":
			files = append(files, file{name: part.FileName(), contentType: part.Header.Get("Content-Type"), data: data})
		case "attachmentUrls":
			urls = append(urls, string(data))
		default:
			fields[name] = string(data)
		}
	}
	if otherLocation(c, fields["locationId"]) {
		return
	}
	for _, f := range files {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(f.name)), ".")
		if !slices.Contains(allowedUploadExts(), ext) {
			writeJSON(c.w, http.StatusUnsupportedMediaType, uploadError(http.StatusUnsupportedMediaType,
				fmt.Sprintf("File type %q of %s is not supported. Allowed types: JPG, JPEG, PNG, MP4, MPEG, ZIP, RAR, PDF, DOC, DOCX, TXT, MP3, WAV.", ext, f.name)))
			return
		}
		if len(f.data) > maxUploadFile {
			writeJSON(c.w, http.StatusRequestEntityTooLarge, uploadError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("%s is %d bytes; files can be at most 5 MB.", f.name, len(f.data))))
			return
		}
	}
	base := baseURL(c.r)
	uploaded := map[string]string{}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convs[fields["conversationId"]]
	if cv == nil {
		badRequest(c, "Conversation not found")
		return
	}
	if otherLocation(c, cv.LocationID) {
		return
	}
	if cv.ContactID != fields["contactId"] {
		badRequest(c, "contactId is not the contact of this conversation")
		return
	}
	for _, f := range files {
		ct := f.contentType
		if ct == "" || ct == "application/octet-stream" {
			if byExt := mime.TypeByExtension(path.Ext(f.name)); byExt != "" {
				ct = byExt
			} else if ct == "" {
				ct = http.DetectContentType(f.data)
			}
		}
		p := filesPrefix + s.st.newID() + "/" + url.PathEscape(f.name)
		s.st.files[p] = &storedFile{name: f.name, contentType: ct, data: f.data}
		sum := sha256.Sum256(f.data)
		s.st.uploads = append(s.st.uploads, Upload{Name: f.name, ContentType: ct, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:]), URL: base + p})
		uploaded[f.name] = base + p
	}
	for _, u := range urls {
		// Attachment URLs are re-hosted by the live API; the sandbox keeps
		// them as they are.
		uploaded[path.Base(u)] = u
	}
	writeJSON(c.w, http.StatusOK, struct {
		UploadedFiles map[string]string `json:"uploadedFiles"`
	}{uploaded})
}

// serveFile serves uploads and demo attachments, like the storage bucket the
// live API's file URLs point to: no token needed.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	s.calls.Record(r.Method+" "+filesPrefix+"{fileId}/{name}", r, nil)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody(http.StatusMethodNotAllowed, "Files can only be downloaded."))
		return
	}
	s.mu.Lock()
	f := s.st.files[r.URL.EscapedPath()]
	if f == nil {
		f = s.st.files[r.URL.Path]
	}
	var name, ct string
	var data []byte
	var demo bool
	if f != nil {
		name, ct, data, demo = f.name, f.contentType, f.data, f.demo
	}
	s.mu.Unlock()
	if f == nil {
		writeJSON(w, http.StatusNotFound, errorBody(http.StatusNotFound, "File not found"))
		return
	}
	if demo {
		b, err := demobiz.AttachmentBytes(name)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errorBody(http.StatusInternalServerError, "Internal server error"))
			return
		}
		data = b
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// callOf finds a message with a call for the media endpoints, checking the
// path's location; it answers the failure itself when it returns nil.
func (s *Server) callOf(c *reqCtx) (*demobiz.Call, string) {
	if otherLocation(c, c.pathParams["locationId"]) {
		return nil, ""
	}
	s.mu.Lock()
	m, fail := s.lookupMessageLocked(c, c.pathParams["messageId"])
	var call *demobiz.Call
	var id string
	if m != nil {
		call, id = m.call, m.ID
	}
	s.mu.Unlock()
	if m == nil {
		fail()
		return nil, ""
	}
	return call, id
}

// hRecording streams a call's recording as audio/x-wav, rendered while it is
// sent (never held whole).
func (s *Server) hRecording(c *reqCtx) {
	call, id := s.callOf(c)
	if id == "" {
		return
	}
	if call == nil || call.Duration <= 0 {
		notFound(c, "No recording found for this message")
		return
	}
	h := c.w.Header()
	h.Set("Content-Type", "audio/x-wav")
	h.Set("Content-Length", strconv.FormatInt(demobiz.WAVSize(call), 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ".wav"}))
	c.w.WriteHeader(http.StatusOK)
	if err := demobiz.RenderWAV(c.w, call); err != nil {
		// The client went away; nothing more can be sent.
		s.log.Debug("ghltest: recording cut short", "message", id, "err", err)
	}
}

// transcriptSentence is GetMessageTranscriptionResponseDto: one sentence,
// times in milliseconds (ERRATA 13: the endpoint answers a list of them).
type transcriptSentence struct {
	MediaChannel  int     `json:"mediaChannel"`
	SentenceIndex int     `json:"sentenceIndex"`
	StartTime     int64   `json:"startTime"`
	EndTime       int64   `json:"endTime"`
	Transcript    string  `json:"transcript"`
	Confidence    float64 `json:"confidence"`
}

// mediaChannel is the recording channel of a speaker: 1 the business's
// side, 2 the customer's.
func mediaChannel(speaker string) int {
	if speaker == "customer" {
		return 2
	}
	return 1
}

func (s *Server) transcript(c *reqCtx) ([]demobiz.Sentence, string) {
	call, id := s.callOf(c)
	if id == "" {
		return nil, ""
	}
	if call == nil || len(call.Sentences) == 0 {
		notFound(c, "No transcription found for this message")
		return nil, ""
	}
	return call.Sentences, id
}

func (s *Server) hTranscription(c *reqCtx) {
	sentences, id := s.transcript(c)
	if id == "" {
		return
	}
	out := make([]transcriptSentence, len(sentences))
	for i, sn := range sentences {
		out[i] = transcriptSentence{
			MediaChannel:  mediaChannel(sn.Speaker),
			SentenceIndex: i,
			StartTime:     sn.Start.Milliseconds(),
			EndTime:       sn.End.Milliseconds(),
			Transcript:    sn.Text,
			Confidence:    sn.Confidence,
		}
	}
	writeJSON(c.w, http.StatusOK, out)
}

// hTranscriptionDownload answers the transcript as text, one timed line per
// sentence: "[00:00:01.250 - 00:00:03.900] Agent: Hello".
func (s *Server) hTranscriptionDownload(c *reqCtx) {
	sentences, id := s.transcript(c)
	if id == "" {
		return
	}
	var b strings.Builder
	for _, sn := range sentences {
		speaker := "Agent"
		if sn.Speaker == "customer" {
			speaker = "Customer"
		}
		fmt.Fprintf(&b, "[%s - %s] %s: %s\n", clock(sn.Start), clock(sn.End), speaker, sn.Text)
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "transcription-" + id + ".txt"}))
	c.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(c.w, b.String())
}

func clock(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// recordedScripts are what the sandbox "hears" on the calls a client
// records: agent and customer lines alternating, agent first. Which one a
// call gets depends only on its altId, so a test knows the transcript.
var recordedScripts = [][]string{
	{"Thanks for calling Harbourview, how can I help?", "Hi, I'd like a quote for a new deck.", "Happy to help. When could we come and measure?", "Friday afternoon works for me."},
	{"Hello, this is Harbourview returning your call.", "Thanks. The invoice has the wrong address on it.", "Sorry about that, I'll send a corrected one today."},
	{"Good morning, you've reached the service line.", "The bathroom fan you installed is making a noise.", "We'll send a technician tomorrow morning.", "Great, thank you."},
}

// recordedCall gives a call that a client recorded (type Call through
// /messages/inbound or /outbound) a recording and a transcription, as HighLevel
// does once its telephony has processed the call: a call that was answered,
// completed or went to voicemail has both; one that was not answered,
// busy, failed or cancelled has neither. The script comes from the altId
// (else the message id), so the same call always says the same.
func (st *state) recordedCall(m *Message, typ string, data *callData) {
	if typ != "Call" {
		return
	}
	status := ""
	if data != nil {
		status = data.Status
	}
	switch status {
	case "", "completed", "answered", "voicemail":
	default:
		return
	}
	key := m.AltID
	if key == "" {
		key = m.ID
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, key)
	sum := h.Sum64()
	script := recordedScripts[sum%uint64(len(recordedScripts))]
	call := &demobiz.Call{Status: status}
	at := 400 * time.Millisecond
	for i, line := range script {
		length := time.Duration(len(strings.Fields(line))) * 385 * time.Millisecond
		call.Sentences = append(call.Sentences, demobiz.Sentence{
			Speaker: []string{"agent", "customer"}[i%2], Text: line, Start: at, End: at + length,
			Confidence: 0.8 + float64((sum>>uint(i*4))%20)/100,
		})
		at += length + 500*time.Millisecond
	}
	call.Duration = at.Truncate(time.Second) + time.Second
	if call.Status == "" {
		call.Status = "completed"
	}
	m.call = call
	if m.Meta == nil {
		m.Meta = &MessageMeta{}
	}
	m.Meta.CallDuration = itoa(int(call.Duration / time.Second))
}

// RecordedTranscript is the transcription text the sandbox gives a call
// recorded with altID, one sentence a line: what a client that fetched it
// should hold.
func RecordedTranscript(altID string) string {
	h := fnv.New64a()
	_, _ = io.WriteString(h, altID)
	return strings.Join(recordedScripts[h.Sum64()%uint64(len(recordedScripts))], "\n")
}
