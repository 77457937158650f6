// Package media decides whether a file is one HighLevel takes as a message
// attachment: by its name's extension and by its content, since a name is
// easily wrong (a private key renamed photo.jpg is still a key).
package media

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
)

// accepted maps each extension HighLevel's upload route documents
// (apps/conversations.json, POST /conversations/messages/upload) to the
// media types its content may sniff as.
var accepted = map[string][]string{
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

// SniffLen is how much of a file's start Check needs.
const SniffLen = 512

// Sniff names the media type of content's first bytes, adding the
// signatures net/http does not know (Word 97 documents, MPEG program
// streams, MP3 without an ID3 tag) to http.DetectContentType.
func Sniff(head []byte) string {
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

// Accepted reports whether HighLevel takes files with the extension ext
// (without the dot, any case), judged by the name alone.
func Accepted(ext string) bool {
	_, ok := accepted[strings.ToLower(ext)]
	return ok
}

// RefusedError says why HighLevel would not take a file.
type RefusedError struct {
	// Name is the file's base name and Ext its extension, lower case.
	Name, Ext string
	// Detected is the media type its content sniffed as.
	Detected string
	// ByContent is true when the extension is one HighLevel takes but the
	// content is not what the extension says.
	ByContent bool
}

func (e *RefusedError) Error() string {
	if e.ByContent {
		return fmt.Sprintf("%s is named .%s but its content is %s", e.Name, e.Ext, e.Detected)
	}
	return fmt.Sprintf("HighLevel takes only jpg, png, mp4, mpeg, mp3, wav, pdf, doc, docx, txt, zip and rar attachments, not %q", e.Name)
}

// Check returns nil when HighLevel takes a file called name whose content
// starts with head (SniffLen bytes, or all of a shorter file), and else a
// *RefusedError saying which test failed.
func Check(name string, head []byte) error {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	got := Sniff(head)
	want, ok := accepted[ext]
	if !ok {
		return &RefusedError{Name: filepath.Base(name), Ext: ext, Detected: got}
	}
	for _, w := range want {
		if got == w {
			return nil
		}
	}
	return &RefusedError{Name: filepath.Base(name), Ext: ext, Detected: got, ByContent: true}
}
