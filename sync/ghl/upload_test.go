package ghl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parley/sync/internal/demobiz"
)

const routeUploadKey = "POST /conversations/messages/upload"

// samples are small real files of every type HighLevel accepts.
func samples(t *testing.T) map[string][]byte {
	t.Helper()
	get := func(name string) []byte {
		b, err := demobiz.AttachmentBytes(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	zip := append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), make([]byte, 40)...)
	return map[string][]byte{
		"photo.png":   get("site-photo.png"),
		"plan.jpg":    get("floor-plan.jpg"),
		"plan.jpeg":   get("floor-plan.jpg"),
		"quote.pdf":   get("quote.pdf"),
		"note.wav":    get("voice-note.wav"),
		"notes.txt":   []byte("Call back Thursday about the deck.\n"),
		"files.zip":   zip,
		"report.docx": zip,
		"old.doc":     append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...),
		"song.mp3":    append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...),
		"raw.mp3":     append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 100)...),
		"clip.mp4":    append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), make([]byte, 100)...),
		"clip.mpeg":   append([]byte{0, 0, 1, 0xBA, 0x44}, make([]byte, 100)...),
		"pack.rar":    append([]byte("Rar!\x1A\x07\x00"), make([]byte, 100)...),
	}
}

func TestCheckUpload(t *testing.T) {
	for name, content := range samples(t) {
		if err := checkUpload(name, content); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
	png := samples(t)["photo.png"]
	cases := []struct {
		name      string
		content   []byte
		byContent bool
		detected  string
	}{
		{"setup.exe", []byte("MZ\x90\x00"), false, ""},
		{"noextension", []byte("hello"), false, ""},
		{"image.gif", []byte("GIF89a"), false, ""},
		{"quote.pdf", png, true, "image/png"},
		{"notes.txt", png, true, "image/png"},
		{"photo.png", []byte("%PDF-1.4 fake"), true, "application/pdf"},
		{"song.mp3", []byte("just text"), true, "text/plain"},
		{"PHOTO.PNG", []byte("not a png"), true, "text/plain"},
	}
	for _, tc := range cases {
		err := checkUpload(tc.name, tc.content)
		var ume *UnsupportedMediaError
		if !errors.As(err, &ume) || !errors.Is(err, ErrUnsupportedMedia) {
			t.Errorf("%s: err = %v, want UnsupportedMediaError", tc.name, err)
			continue
		}
		if ume.ByContent != tc.byContent || (tc.byContent && ume.Detected != tc.detected) {
			t.Errorf("%s: %+v, want byContent=%v detected %q", tc.name, ume, tc.byContent, tc.detected)
		}
		want := "decided by extension"
		if tc.byContent {
			want = "decided by content"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q does not say %q", tc.name, err, want)
		}
	}
}

// failReader fails the test if anything reads it.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("the upload read a body it should have refused by size")
	return 0, io.EOF
}

// TestUploadRefusedBeforeSending: oversize and refused types never reach
// HighLevel.
func TestUploadRefusedBeforeSending(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	big := make([]byte, MaxUploadSize+1)
	copy(big, "%PDF-1.4\n")
	dir := t.TempDir()
	bigPath := filepath.Join(dir, "big.pdf")
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	exePath := filepath.Join(dir, "tool.exe")
	if err := os.WriteFile(exePath, []byte("MZ"), 0o600); err != nil {
		t.Fatal(err)
	}
	req := func(name string, body io.Reader, size int64) UploadRequest {
		return UploadRequest{ConversationID: f.conv.ID, ContactID: f.conv.ContactID, FileName: name, Body: body, Size: size}
	}
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"seekable over limit", func() error {
			_, err := c.UploadAttachment(ctxT(t), req("big.pdf", bytes.NewReader(big), 0))
			return err
		}, ErrTooLarge},
		{"stream over limit", func() error {
			_, err := c.UploadAttachment(ctxT(t), req("big.pdf", io.MultiReader(bytes.NewReader(big)), 0))
			return err
		}, ErrTooLarge},
		{"declared size over limit, not read", func() error {
			_, err := c.UploadAttachment(ctxT(t), req("big.pdf", failReader{t}, MaxUploadSize+1))
			return err
		}, ErrTooLarge},
		{"file over limit", func() error { _, err := c.UploadFile(ctxT(t), f.conv.ID, f.conv.ContactID, bigPath); return err }, ErrTooLarge},
		{"refused extension", func() error { _, err := c.UploadFile(ctxT(t), f.conv.ID, f.conv.ContactID, exePath); return err }, ErrUnsupportedMedia},
		{"content not what the name says", func() error {
			_, err := c.UploadAttachment(ctxT(t), req("quote.pdf", bytes.NewReader(samples(t)["photo.png"]), 0))
			return err
		}, ErrUnsupportedMedia},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "nothing was sent") {
				t.Errorf("%q does not say nothing was sent", err)
			}
			var tle *TooLargeError
			if errors.As(err, &tle) && (tle.Limit != MaxUploadSize || tle.Size <= MaxUploadSize) {
				t.Errorf("TooLargeError %+v", tle)
			}
		})
	}
	if n := srv.Calls(routeUploadKey); n != 0 {
		t.Errorf("%d upload requests reached HighLevel, want 0", n)
	}
}

// TestUploadStreams: accepted files arrive byte for byte, from a file, a
// seeker positioned mid-stream, and a plain reader; the largest accepted
// size passes.
func TestUploadStreams(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	dir := t.TempDir()
	limit := bytes.Repeat([]byte("0123456789abcdef\n"), MaxUploadSize/17+1)[:MaxUploadSize]
	limitPath := filepath.Join(dir, "log.txt")
	if err := os.WriteFile(limitPath, limit, 0o600); err != nil {
		t.Fatal(err)
	}
	pdf := samples(t)["quote.pdf"]
	prefixed := append([]byte("SKIPME"), pdf...)
	seeker := bytes.NewReader(prefixed)
	if _, err := seeker.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	wav := samples(t)["note.wav"]
	type upload struct {
		name string
		want []byte
		run  func() (UploadResult, error)
	}
	uploads := []upload{
		{"log.txt", limit, func() (UploadResult, error) { return c.UploadFile(ctxT(t), f.conv.ID, f.conv.ContactID, limitPath) }},
		{"quote.pdf", pdf, func() (UploadResult, error) {
			return c.UploadAttachment(ctxT(t), UploadRequest{ConversationID: f.conv.ID, ContactID: f.conv.ContactID, FileName: "quote.pdf", Body: seeker})
		}},
		{"note.wav", wav, func() (UploadResult, error) {
			return c.UploadAttachment(ctxT(t), UploadRequest{ConversationID: f.conv.ID, ContactID: f.conv.ContactID, FileName: "note.wav", Body: io.MultiReader(bytes.NewReader(wav))})
		}},
	}
	for i, u := range uploads {
		res, err := u.run()
		if err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
		got := srv.Uploads()
		if len(got) != i+1 {
			t.Fatalf("sandbox has %d uploads, want %d", len(got), i+1)
		}
		sum := sha256.Sum256(u.want)
		if got[i].Name != u.name || got[i].Size != int64(len(u.want)) || got[i].SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("upload %d = %+v, want %s with %d bytes", i, got[i], u.name, len(u.want))
		}
		// The URL serves the same bytes back.
		resp, err := http.Get(res.URL())
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(back, u.want) {
			t.Errorf("%s served back %d bytes, want the %d uploaded", u.name, len(back), len(u.want))
		}
	}
}

// TestUploadServerRefusals: 413 and 415 answers map to the same sentinels
// as the client's own checks.
func TestUploadServerRefusals(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   error
	}{{413, ErrTooLarge}, {415, ErrUnsupportedMedia}} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = fmt.Fprintf(w, `{"status":%d,"message":"Failed to upload the files"}`, tc.status)
		}))
		c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UploadAttachment(ctxT(t), UploadRequest{ConversationID: "c", ContactID: "k", FileName: "a.txt", Body: strings.NewReader("hi")})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "Failed to upload the files") {
			t.Errorf("%d: %v, want %v with HighLevel's message", tc.status, err, tc.want)
		}
		hs.Close()
	}
}
