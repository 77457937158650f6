package demobiz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"reflect"
	"testing"
	"time"
)

var ref = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

func TestSeedIsDeterministic(t *testing.T) {
	a, b := Seed(7, ref), Seed(7, ref)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two different businesses")
	}
	if reflect.DeepEqual(a.Contacts, Seed(8, ref).Contacts) {
		t.Error("different seeds gave the same contacts")
	}
}

func TestSeedShape(t *testing.T) {
	b := Seed(1, ref)
	if len(b.Contacts) < 24 || len(b.Conversations) < 24 {
		t.Fatalf("demo too small: %d contacts, %d conversations", len(b.Contacts), len(b.Conversations))
	}
	emails, phones := map[string]bool{}, map[string]bool{}
	for _, c := range b.Contacts {
		if emails[c.Email] || phones[c.Phone] {
			t.Errorf("contact %s repeats an email or phone", c.Key)
		}
		emails[c.Email], phones[c.Phone] = true, true
	}
	channels := map[Channel]int{}
	var mirrored, fresh, recordings int
	for _, v := range b.Conversations {
		channels[v.Channel]++
		c, ok := b.ContactByKey(v.ContactKey)
		if !ok {
			t.Fatalf("conversation %s has unknown contact %s", v.Key, v.ContactKey)
		}
		if v.Mirrored && !c.InGHL {
			t.Errorf("conversation %s is mirrored but its contact is not in HighLevel", v.Key)
		}
		if v.Mirrored {
			mirrored++
		} else {
			fresh++
		}
		if len(v.Messages) == 0 {
			t.Errorf("conversation %s has no messages", v.Key)
		}
		for i, m := range v.Messages {
			if m.At.After(ref) || m.At.Before(ref.Add(-31*24*time.Hour)) {
				t.Errorf("message %s at %v, outside the last 30 days", m.Key, m.At)
			}
			if i > 0 && m.At.Before(v.Messages[i-1].At) {
				t.Errorf("message %s is older than the one before it", m.Key)
			}
			if m.Call == nil {
				continue
			}
			if m.Call.Status == "completed" {
				recordings++
			}
			for _, s := range m.Call.Sentences {
				if s.Start < 0 || s.End <= s.Start || s.End > m.Call.Duration {
					t.Errorf("message %s: sentence %q at %v-%v does not fit a %v call", m.Key, s.Text, s.Start, s.End, m.Call.Duration)
				}
			}
		}
	}
	for _, ch := range []Channel{ChannelSMS, ChannelEmail, ChannelCall, ChannelChat} {
		if channels[ch] == 0 {
			t.Errorf("no %s conversation", ch)
		}
	}
	if mirrored == 0 || fresh == 0 || recordings == 0 {
		t.Errorf("mirrored %d, new %d, recorded calls %d: the demo needs each", mirrored, fresh, recordings)
	}
}

func TestRenderWAV(t *testing.T) {
	c := &Call{Duration: 3 * time.Second, Sentences: []Sentence{
		{Speaker: "agent", Text: "hello there", Start: time.Second, End: 2 * time.Second},
	}}
	var b bytes.Buffer
	if err := RenderWAV(&b, c); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if int64(len(data)) != WAVSize(c) {
		t.Fatalf("wrote %d bytes, WAVSize says %d", len(data), WAVSize(c))
	}
	if string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" || string(data[36:40]) != "data" {
		t.Fatal("not a RIFF/WAVE header")
	}
	if got := binary.LittleEndian.Uint32(data[24:]); got != SampleRate {
		t.Fatalf("sample rate %d", got)
	}
	loudness := func(from, to time.Duration) int {
		peak := 0
		for i := samplesFor(from); i < samplesFor(to); i++ {
			v := int(int16(binary.LittleEndian.Uint16(data[44+2*i:])))
			peak = max(peak, v, -v)
		}
		return peak
	}
	if loudness(0, time.Second) != 0 || loudness(2*time.Second, 3*time.Second) != 0 {
		t.Error("sound outside the sentence")
	}
	if loudness(time.Second, 2*time.Second) < 5000 {
		t.Error("the sentence is silent")
	}
}

func TestAttachmentsDecode(t *testing.T) {
	for name, typ := range Attachments {
		data, err := AttachmentBytes(name)
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "image/png", "image/jpeg":
			if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case "application/pdf":
			if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
				t.Errorf("%s is not a PDF", name)
			}
		case "audio/wav":
			if string(data[:4]) != "RIFF" {
				t.Errorf("%s is not a WAV", name)
			}
		}
	}
	if _, err := AttachmentBytes("nope.exe"); err == nil {
		t.Error("unknown attachment gave no error")
	}
}

// headerOnly keeps the first 44 bytes written and then fails, so a test can
// read a WAV header without rendering the samples.
type headerOnly struct{ b []byte }

func (h *headerOnly) Write(p []byte) (int, error) {
	h.b = append(h.b, p[:min(len(p), 44-len(h.b))]...)
	if len(h.b) == 44 {
		return 0, errors.New("enough")
	}
	return len(p), nil
}

// A WAV file's sizes are 32-bit: a call too long for them must be refused,
// not written with a size that wrapped around.
func TestRenderWAVRefusesACallTooLongForTheFormat(t *testing.T) {
	c := &Call{Duration: 75 * time.Hour}
	var h headerOnly
	err := RenderWAV(&h, c)
	if len(h.b) == 44 {
		if got := binary.LittleEndian.Uint32(h.b[40:]); int64(got) != WAVSize(c)-44 {
			t.Fatalf("data size %d in the header, want %d", got, WAVSize(c)-44)
		}
	}
	if err == nil || len(h.b) != 0 {
		t.Fatalf("err %v after %d bytes, want an error before anything is written", err, len(h.b))
	}
}
