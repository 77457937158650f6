package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// MediaKind is the kind of a downloaded media file.
type MediaKind string

// Kinds of media files.
const (
	MediaRecording  MediaKind = "recording"
	MediaTranscript MediaKind = "transcript"
)

func (k MediaKind) valid() bool { return k == MediaRecording || k == MediaTranscript }

// MediaFile indexes a recording or transcript stored under the data directory.
type MediaFile struct {
	// ID is assigned by AddMedia and kept when a file is re-fetched.
	ID int64
	// MessageID is the GHL message the file belongs to.
	MessageID string
	// ContactID is the GHL contact, so a contact's media can be listed.
	ContactID string
	// Kind is recording or transcript; one of each per message.
	Kind MediaKind
	// Path is relative to the data directory, slash-separated, so the
	// directory can be moved or restored on another machine.
	Path string
	// SHA256 is the lower-case hex digest of the content, to detect
	// truncated or tampered files.
	SHA256 string
	// Size is the file size in bytes.
	Size int64
	// ContentType is the MIME type the server reported.
	ContentType string
	// FetchedAt zero means "now" when adding.
	FetchedAt time.Time
	// CallAt is when the call the file belongs to took place; zero when
	// unknown (files indexed before Parley kept it).
	CallAt time.Time
}

func (f MediaFile) validate() error {
	switch {
	case strings.TrimSpace(f.MessageID) == "":
		return invalidf("message id is empty")
	case !f.Kind.valid():
		return invalidf("unknown media kind %q", f.Kind)
	case f.Path == "" || strings.Contains(f.Path, `\`) || !filepath.IsLocal(filepath.FromSlash(f.Path)):
		return invalidf("path %q must be relative to the data directory, slash-separated and stay inside it", f.Path)
	case !isSHA256Hex(f.SHA256):
		return invalidf("sha256 %q is not 64 lower-case hex digits", f.SHA256)
	case f.Size < 0:
		return invalidf("negative size %d", f.Size)
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// AddMedia records a downloaded file and returns its id. A message has at
// most one file per kind: fetching it again replaces the entry (same id), so
// the index always points at the latest download.
func (s *Store) AddMedia(ctx context.Context, f MediaFile) (int64, error) {
	if err := f.validate(); err != nil {
		return 0, fmt.Errorf("add media: %w", err)
	}
	if f.FetchedAt.IsZero() {
		f.FetchedAt = s.now()
	}
	var id int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO media (message_id, contact_id, kind, path, sha256, size, content_type, fetched_at, call_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id, kind) DO UPDATE SET contact_id = excluded.contact_id, path = excluded.path,
			sha256 = excluded.sha256, size = excluded.size, content_type = excluded.content_type, fetched_at = excluded.fetched_at,
			call_at = excluded.call_at
		RETURNING id`,
		f.MessageID, f.ContactID, string(f.Kind), f.Path, f.SHA256, f.Size, f.ContentType, toMillis(f.FetchedAt), toMillis(f.CallAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add %s for message %q: %w", f.Kind, f.MessageID, err)
	}
	return id, nil
}

// MediaForMessage returns the files of one message, recording before transcript.
func (s *Store) MediaForMessage(ctx context.Context, messageID string) ([]MediaFile, error) {
	if strings.TrimSpace(messageID) == "" {
		return nil, fmt.Errorf("list media: %w", invalidf("message id is empty"))
	}
	m, err := s.queryMedia(ctx, `WHERE message_id = ? ORDER BY kind, id`, messageID)
	if err != nil {
		return nil, fmt.Errorf("list media for message %q: %w", messageID, err)
	}
	return m, nil
}

// MediaForContact returns all files of a contact, newest first.
func (s *Store) MediaForContact(ctx context.Context, contactID string) ([]MediaFile, error) {
	if strings.TrimSpace(contactID) == "" {
		return nil, fmt.Errorf("list media: %w", invalidf("contact id is empty"))
	}
	m, err := s.queryMedia(ctx, `WHERE contact_id = ? ORDER BY fetched_at DESC, id DESC`, contactID)
	if err != nil {
		return nil, fmt.Errorf("list media for contact %q: %w", contactID, err)
	}
	return m, nil
}

func (s *Store) queryMedia(ctx context.Context, where string, args ...any) ([]MediaFile, error) {
	return queryAll(ctx, s.r, func(rows rowScanner) (MediaFile, error) {
		var f MediaFile
		var kind string
		var at, callAt int64
		err := rows.Scan(&f.ID, &f.MessageID, &f.ContactID, &kind, &f.Path, &f.SHA256, &f.Size, &f.ContentType, &at, &callAt)
		f.Kind, f.FetchedAt, f.CallAt = MediaKind(kind), fromMillis(at), fromMillis(callAt)
		return f, err
	}, `SELECT id, message_id, contact_id, kind, path, sha256, size, content_type, fetched_at, call_at FROM media `+where, args...)
}
