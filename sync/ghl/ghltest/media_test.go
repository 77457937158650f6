package ghltest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/sync/internal/demobiz"
)

func TestUpload(t *testing.T) {
	srv, c := seeded(t, Options{})
	conv := srv.Conversations()[0]
	fields := map[string]string{"conversationId": conv.ID, "contactId": conv.ContactID, "locationId": srv.LocationID()}
	pdf, err := demobiz.AttachmentBytes("quote.pdf")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{'x'}, maxUploadFile+1)
	huge := bytes.Repeat([]byte{'y'}, maxUploadBody+1)

	cases := []struct {
		name   string
		files  map[string][]byte
		status int
	}{
		{"pdf", map[string][]byte{"quote.pdf": pdf}, 200},
		{"text and image", map[string][]byte{"notes.TXT": []byte("call back Tuesday"), "photo.png": {0x89, 'P', 'N', 'G'}}, 200},
		{"exactly 5 MB", map[string][]byte{"scan.pdf": big[:maxUploadFile]}, 200},
		{"executable", map[string][]byte{"setup.exe": []byte("MZ")}, 415},
		{"no extension", map[string][]byte{"README": []byte("hi")}, 415},
		{"over 5 MB", map[string][]byte{"scan.pdf": big}, 413},
		{"over the request cap", map[string][]byte{"scan.pdf": huge}, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Uploads())
			r := c.do("POST", "/conversations/messages/upload", newMultipart(t, fields, tc.files), nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				var e struct {
					Status  int    `json:"status"`
					Message string `json:"message"`
				}
				r.decode(t, &e)
				if e.Status != tc.status || e.Message == "" {
					t.Errorf("error body %s", r.body)
				}
				if len(srv.Uploads()) != before {
					t.Error("a refused file was stored")
				}
				return
			}
			var a struct {
				UploadedFiles map[string]string `json:"uploadedFiles"`
			}
			r.decode(t, &a)
			if len(a.UploadedFiles) != len(tc.files) {
				t.Fatalf("uploaded %v", a.UploadedFiles)
			}
			for name, data := range tc.files {
				u := a.UploadedFiles[name]
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(got, data) {
					t.Errorf("%s served back as %d with %d bytes, want %d", name, resp.StatusCode, len(got), len(data))
				}
				sum := sha256.Sum256(data)
				found := false
				for _, up := range srv.Uploads() {
					found = found || up.URL == u && up.Name == name && up.Size == int64(len(data)) && up.SHA256 == hex.EncodeToString(sum[:])
				}
				if !found {
					t.Errorf("%s not in Uploads(): %+v", name, srv.Uploads())
				}
			}
		})
	}
	if len(srv.Rejections()) != 0 {
		t.Errorf("size and type refusals were recorded as spec rejections: %+v", srv.Rejections())
	}
	// Uploaded URLs can then be sent as attachments.
	u := srv.Uploads()[0].URL
	var sent struct {
		MessageID string `json:"messageId"`
	}
	c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "SMS", "contactId": conv.ContactID, "attachments": []string{u}}).decode(t, &sent)
	if m, _ := srv.Message(sent.MessageID); len(m.Attachments) != 1 || m.Attachments[0] != u {
		t.Errorf("attachments %v", m.Attachments)
	}
	c.mustDo(400, "POST", "/conversations/messages/upload", newMultipart(t, map[string]string{"conversationId": "nope", "contactId": conv.ContactID, "locationId": srv.LocationID()}, map[string][]byte{"a.txt": []byte("a")}))
}

func TestSeededAttachmentsAreServed(t *testing.T) {
	srv, _ := seeded(t, Options{})
	_, m := firstWith(t, srv, func(m Message) bool { return len(m.Attachments) > 0 })
	name := m.Attachments[0][strings.LastIndex(m.Attachments[0], "/")+1:]
	want, err := demobiz.AttachmentBytes(name)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(m.Attachments[0])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("Content-Type") != demobiz.Attachments[name] {
		t.Errorf("%s: %d %s, %d bytes", m.Attachments[0], resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	if r, _ := http.Get(srv.URL() + filesPrefix + "nope/x.pdf"); r.StatusCode != 404 {
		t.Errorf("unknown file: %d", r.StatusCode)
	}
}

type sentence struct {
	MediaChannel  int     `json:"mediaChannel"`
	SentenceIndex int     `json:"sentenceIndex"`
	StartTime     int64   `json:"startTime"`
	EndTime       int64   `json:"endTime"`
	Transcript    string  `json:"transcript"`
	Confidence    float64 `json:"confidence"`
}

func TestRecordingAndTranscript(t *testing.T) {
	srv, c := seeded(t, Options{})
	loc := srv.LocationID()
	_, m := firstWith(t, srv, func(m Message) bool { return m.HasRecording() && len(m.Call().Sentences) > 2 })

	r := c.mustDo(200, "GET", "/conversations/messages/"+m.ID+"/locations/"+loc+"/recording", nil)
	if r.header.Get("Content-Type") != "audio/x-wav" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("headers %v", r.header)
	}
	if n, _ := strconv.ParseInt(r.header.Get("Content-Length"), 10, 64); n != demobiz.WAVSize(m.Call()) || int64(len(r.body)) != n {
		t.Fatalf("Content-Length %s, body %d, want %d", r.header.Get("Content-Length"), len(r.body), demobiz.WAVSize(m.Call()))
	}
	wav := r.body
	if string(wav[0:4]) != "RIFF" || string(wav[8:12]) != "WAVE" || string(wav[12:16]) != "fmt " || string(wav[36:40]) != "data" ||
		binary.LittleEndian.Uint16(wav[20:]) != 1 || binary.LittleEndian.Uint32(wav[24:]) != demobiz.SampleRate ||
		int(binary.LittleEndian.Uint32(wav[40:])) != len(wav)-44 || int(binary.LittleEndian.Uint32(wav[4:])) != len(wav)-8 {
		t.Fatal("not a valid PCM WAV")
	}
	audio := time.Duration(len(wav)-44) * time.Second / (2 * demobiz.SampleRate)

	var sentences []sentence
	c.mustDo(200, "GET", "/conversations/locations/"+loc+"/messages/"+m.ID+"/transcription", nil).decode(t, &sentences)
	if len(sentences) != len(m.Call().Sentences) {
		t.Fatalf("%d sentences, want %d", len(sentences), len(m.Call().Sentences))
	}
	for i, s := range sentences {
		want := m.Call().Sentences[i]
		if s.SentenceIndex != i || s.StartTime != want.Start.Milliseconds() || s.EndTime != want.End.Milliseconds() ||
			s.Transcript != want.Text || s.Confidence != want.Confidence || s.MediaChannel != mediaChannel(want.Speaker) {
			t.Errorf("sentence %d: %+v, want %+v", i, s, want)
		}
	}
	last := time.Duration(sentences[len(sentences)-1].EndTime) * time.Millisecond
	if audio < last || audio-last > 2*time.Second {
		t.Errorf("recording is %v long, last sentence ends at %v", audio, last)
	}
	// There is sound where the first sentence is, and silence before it.
	sample := func(at time.Duration) int16 {
		i := 44 + 2*int(at*demobiz.SampleRate/time.Second)
		return int16(binary.LittleEndian.Uint16(wav[i:]))
	}
	loud := false
	first := m.Call().Sentences[0]
	for at := first.Start; at < first.End; at += time.Millisecond {
		loud = loud || sample(at) > 1000 || sample(at) < -1000
	}
	if !loud || sample(first.Start/2) != 0 {
		t.Error("the sound is not where the transcript says")
	}

	txt := c.mustDo(200, "GET", "/conversations/locations/"+loc+"/messages/"+m.ID+"/transcription/download", nil)
	lines := strings.Split(strings.TrimSpace(string(txt.body)), "\n")
	if len(lines) != len(sentences) || !strings.Contains(lines[0], first.Text) || !strings.HasPrefix(lines[0], "[00:00:") ||
		!strings.HasPrefix(txt.header.Get("Content-Type"), "text/plain") {
		t.Errorf("download:\n%s", txt.body)
	}

	// Messages without a recording.
	_, sms := firstWith(t, srv, func(m Message) bool { return m.MessageType == "TYPE_SMS" })
	c.mustDo(404, "GET", "/conversations/messages/"+sms.ID+"/locations/"+loc+"/recording", nil)
	c.mustDo(404, "GET", "/conversations/locations/"+loc+"/messages/"+sms.ID+"/transcription", nil)
	c.mustDo(404, "GET", "/conversations/messages/nosuchmessage/locations/"+loc+"/recording", nil)

	// AddCall arranges a call with its own recording.
	call := &demobiz.Call{Duration: 3 * time.Second, Status: "completed", Sentences: []demobiz.Sentence{
		{Speaker: "customer", Text: "It's me again.", Start: 500 * time.Millisecond, End: 1800 * time.Millisecond, Confidence: 0.9},
	}}
	conv := srv.Conversations()[0]
	added := srv.AddCall(conv.ID, "inbound", call, time.Now())
	if !added.HasRecording() || added.Meta.CallDuration != "3" {
		t.Fatalf("AddCall: %+v", added)
	}
	r = c.mustDo(200, "GET", "/conversations/messages/"+added.ID+"/locations/"+loc+"/recording", nil)
	if int64(len(r.body)) != demobiz.WAVSize(call) {
		t.Errorf("added call recording %d bytes", len(r.body))
	}
	c.mustDo(200, "GET", "/conversations/locations/"+loc+"/messages/"+added.ID+"/transcription", nil).decode(t, &sentences)
	if len(sentences) != 1 || sentences[0].MediaChannel != 2 || sentences[0].EndTime != 1800 {
		t.Errorf("added call transcript %+v", sentences)
	}
	if srv.AddCall("nosuchconversation", "inbound", call, time.Now()).ID != "" {
		t.Error("AddCall to a missing conversation returned a message")
	}
}
