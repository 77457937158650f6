package media_test

import (
	"testing"

	"parley/sync/internal/media"
)

func TestCheck(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	key := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n")
	for _, tt := range []struct {
		name string
		head []byte
		ok   bool
	}{
		{"photo.png", png, true},
		{"PHOTO.PNG", png, true},
		{"notes.txt", []byte("call back after 5pm\n"), true},
		{"id_rsa", key, false},    // no extension HighLevel takes
		{"photo.jpg", key, false}, // the name lies
		{"config.json", []byte("{}"), false},
	} {
		if err := media.Check(tt.name, tt.head); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
