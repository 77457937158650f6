package engine

import "testing"

// TestAttachmentName: the name an attachment is uploaded under, which
// HighLevel judges by its extension.
func TestAttachmentName(t *testing.T) {
	cases := []struct {
		md   MediaJob
		want string
	}{
		{MediaJob{Name: "quote.pdf", URL: "https://ad.example/media/files/1/x.bin"}, "quote.pdf"},
		{MediaJob{Name: "../../etc/passwd.txt"}, "passwd.txt"},
		{MediaJob{File: "/tmp/export/site photo.png"}, "site photo.png"},
		{MediaJob{URL: "https://ad.example/media/files/1/plan.jpg?sig=abc"}, "plan.jpg"},
		{MediaJob{URL: "https://ad.example/media/files/1/download", ContentType: "application/pdf; charset=binary"}, "download.pdf"},
		{MediaJob{Name: "scan", ContentType: "image/jpeg"}, "scan.jpg"},
		{MediaJob{URL: "https://ad.example/", ContentType: "text/plain"}, "attachment.txt"},
		{MediaJob{Name: "blob", ContentType: "application/x-unknown"}, "blob"},
	}
	for _, tc := range cases {
		if got := attachmentName(tc.md); got != tc.want {
			t.Errorf("attachmentName(%+v) = %q, want %q", tc.md, got, tc.want)
		}
	}
}
