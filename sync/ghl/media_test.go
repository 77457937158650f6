package ghl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
	"parley/sync/internal/demobiz"
)

// TestRecordingToFile: a seeded call's recording streamed into a file is
// the WAV the sandbox serves, and as long as its transcript needs.
func TestRecordingToFile(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	var call ghltest.Message
	for _, conv := range srv.Conversations() {
		for _, m := range srv.Messages(conv.ID) {
			if m.HasRecording() && call.ID == "" {
				call = m
			}
		}
	}
	if call.ID == "" {
		t.Fatal("the seeded sandbox has no call with a recording")
	}
	path := filepath.Join(t.TempDir(), "call.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.DownloadRecording(ctxT(t), call.ID, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("DownloadRecording: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := demobiz.RenderWAV(&want, call.Call()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || rec.Bytes != int64(len(got)) || rec.Bytes != demobiz.WAVSize(call.Call()) {
		t.Fatalf("file has %d bytes (reported %d), want the sandbox's %d-byte WAV", len(got), rec.Bytes, want.Len())
	}
	if rec.ContentType != "audio/x-wav" {
		t.Errorf("content type %q, want audio/x-wav", rec.ContentType)
	}
	// The WAV's length, from its header, covers the transcript.
	if string(got[0:4]) != "RIFF" || string(got[8:12]) != "WAVE" {
		t.Fatal("not a WAV file")
	}
	rate := binary.LittleEndian.Uint32(got[24:28])
	bytesPerSample := binary.LittleEndian.Uint16(got[32:34])
	dataLen := binary.LittleEndian.Uint32(got[40:44])
	length := time.Duration(dataLen/uint32(bytesPerSample)) * time.Second / time.Duration(rate)
	sentences, err := c.GetTranscription(ctxT(t), call.ID)
	if err != nil {
		t.Fatalf("GetTranscription: %v", err)
	}
	if len(sentences) == 0 {
		t.Fatal("no transcript")
	}
	last := sentences[len(sentences)-1]
	if last.End > length || length > call.Call().Duration+time.Second/time.Duration(rate) {
		t.Errorf("recording %v long, last sentence ends at %v, call lasted %v", length, last.End, call.Call().Duration)
	}
}

// TestRecordingMissing: a message without a recording is ErrNotFound, and
// nothing is written.
func TestRecordingMissing(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	var text ghltest.Message
	for _, conv := range srv.Conversations() {
		for _, m := range srv.Messages(conv.ID) {
			if !m.HasRecording() {
				text = m
			}
		}
	}
	var buf bytes.Buffer
	_, err := c.DownloadRecording(ctxT(t), text.ID, &buf)
	if !errors.Is(err, ErrNotFound) || buf.Len() != 0 {
		t.Fatalf("err = %v, %d bytes written; want ErrNotFound and nothing written", err, buf.Len())
	}
}

// TestRecordingIsStreamed: a long recording goes from the sandbox through
// the client to the writer without either side holding it whole. The
// process allocates a small fraction of the file's size on the way.
func TestRecordingIsStreamed(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	conv := srv.Conversations()[0]
	long := &demobiz.Call{Duration: 30 * time.Minute, Status: "completed", Sentences: []demobiz.Sentence{
		{Speaker: "agent", Text: "This call is long.", Start: time.Second, End: 3 * time.Second},
	}}
	m := srv.AddCall(conv.ID, "inbound", long, time.Now().Add(-time.Hour))
	size := demobiz.WAVSize(long) // 28.8 MB

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec, err := c.DownloadRecording(ctxT(t), m.ID, io.Discard)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Bytes != size {
		t.Fatalf("got %d bytes, want %d", rec.Bytes, size)
	}
	if allocated := int64(after.TotalAlloc - before.TotalAlloc); allocated > size/4 {
		t.Errorf("downloading a %d-byte recording allocated %d bytes: something holds it whole", size, allocated)
	}
}

// TestRecordedCallHasMedia: a call recorded through either record route
// gets a recording and a transcription, as HighLevel's telephony gives the
// calls it hears; a call nobody answered gets neither.
func TestRecordedCallHasMedia(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	ctx := ctxT(t)
	in, err := c.RecordMessage(ctx, RecordRequest{Type: ChannelCall, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: f.provider, AltID: "ad-call-in", Direction: Inbound, Call: &CallData{From: "+19025550199", Status: CallCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RecordCall(ctx, CallRecord{ConversationID: f.conv.ID, ConversationProviderID: f.provider, AltID: "ad-call-out",
		Call: CallData{To: "+19025550199", From: "+19025550100", Status: CallVoicemail}})
	if err != nil {
		t.Fatal(err)
	}
	missed, err := c.RecordCall(ctx, CallRecord{ConversationID: f.conv.ID, ConversationProviderID: f.provider, AltID: "ad-call-missed",
		Call: CallData{To: "+19025550199", From: "+19025550100", Status: CallNoAnswer}})
	if err != nil {
		t.Fatal(err)
	}
	for alt, id := range map[string]string{"ad-call-in": in.MessageID, "ad-call-out": out.MessageID} {
		var buf bytes.Buffer
		rec, err := c.DownloadRecording(ctx, id, &buf)
		if err != nil || rec.Bytes < 44 || !bytes.HasPrefix(buf.Bytes(), []byte("RIFF")) {
			t.Errorf("%s: recording %+v, %v; want a WAV file", alt, rec, err)
		}
		sentences, err := c.GetTranscription(ctx, id)
		if err != nil {
			t.Fatalf("%s: transcription: %v", alt, err)
		}
		var lines []string
		for _, s := range sentences {
			lines = append(lines, s.Text)
		}
		if got, want := strings.Join(lines, "\n"), ghltest.RecordedTranscript(alt); got != want {
			t.Errorf("%s: transcription %q, want %q", alt, got, want)
		}
		if last := sentences[len(sentences)-1]; time.Duration(rec.Bytes-44)/2*time.Second/demobiz.SampleRate < last.End {
			t.Errorf("%s: the recording ends before the transcript's last sentence (%s)", alt, last.End)
		}
	}
	var buf bytes.Buffer
	if _, err := c.DownloadRecording(ctx, missed.MessageID, &buf); !errors.Is(err, ErrNotFound) {
		t.Errorf("recording of an unanswered call: %v, want ErrNotFound", err)
	}
	if _, err := c.GetTranscription(ctx, missed.MessageID); !errors.Is(err, ErrNotFound) {
		t.Errorf("transcription of an unanswered call: %v, want ErrNotFound", err)
	}
}
