package ghl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Contact notes: where Parley puts a call's transcript on the contact's
// timeline in HighLevel.
var (
	routeListNotes  = route{http.MethodGet, "/contacts/{contactId}/notes", versionContacts, scopeContactRead}
	routeCreateNote = route{http.MethodPost, "/contacts/{contactId}/notes", versionContacts, scopeContactWrite}
)

// Note is a note on a contact.
type Note struct {
	ID        string
	ContactID string
	Body      string
	Title     string
	UserID    string
	DateAdded time.Time
	// Recovered is set by CreateNote when the note was found by its marker
	// after an attempt whose answer was lost, rather than created by the
	// answered attempt.
	Recovered bool
}

// NoteRequest is a note to create (NotesDTO).
type NoteRequest struct {
	ContactID string
	// Body is the note's text; it must contain Marker when Marker is set.
	Body  string
	Title string
	// Marker is a string unique to this note (Parley puts one in every
	// note it writes). It makes the create exactly-once: HighLevel does not
	// de-duplicate notes, so after an uncertain outcome the client looks
	// for a note holding Marker before posting again. Without it such an
	// outcome is ErrOutcomeUnknown.
	Marker string
}

type wireNote struct {
	ID        string   `json:"id"`
	Body      string   `json:"body"`
	UserID    string   `json:"userId"`
	DateAdded flexTime `json:"dateAdded"`
	ContactID string   `json:"contactId"`
	Title     string   `json:"title"`
}

func (w wireNote) note() Note {
	return Note{ID: w.ID, ContactID: w.ContactID, Body: w.Body, Title: w.Title, UserID: w.UserID, DateAdded: time.Time(w.DateAdded)}
}

// decodeNote reads GetCreateUpdateNoteSuccessfulResponseDto: {"note": {...}}.
func decodeNote(data []byte) (Note, error) {
	var w struct {
		Note *wireNote `json:"note"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return Note{}, err
	}
	if w.Note == nil || w.Note.ID == "" {
		return Note{}, &fieldError{field: "note.id", err: errors.New("missing")}
	}
	return w.Note.note(), nil
}

// decodeNotes reads GetNotesListSuccessfulResponseDto: {"notes": [...]}.
func decodeNotes(data []byte) ([]Note, error) {
	var w struct {
		Notes []wireNote `json:"notes"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return nil, err
	}
	out := make([]Note, len(w.Notes))
	for i, n := range w.Notes {
		out[i] = n.note()
	}
	return out, nil
}

// ListNotes reads a contact's notes (GET /contacts/{contactId}/notes; the
// route is not paged).
func (c *Client) ListNotes(ctx context.Context, contactID string) ([]Note, error) {
	const op = "ghl: list notes"
	if err := needIDs(op, "contact id", contactID); err != nil {
		return nil, err
	}
	var out []Note
	err := c.getJSON(ctx, op, routeListNotes, fill(routeListNotes.path, contactID), nil,
		func(b []byte) (err error) { out, err = decodeNotes(b); return err })
	return out, err
}

// FindNote looks for the contact's note whose body contains marker.
func (c *Client) FindNote(ctx context.Context, contactID, marker string) (Note, bool, error) {
	const op = "ghl: find note"
	if err := needIDs(op, "contact id", contactID, "marker", marker); err != nil {
		return Note{}, false, err
	}
	notes, err := c.ListNotes(ctx, contactID)
	if err != nil {
		return Note{}, false, fmt.Errorf("%s: %w", op, err)
	}
	for _, n := range notes {
		if strings.Contains(n.Body, marker) {
			return n, true, nil
		}
	}
	return Note{}, false, nil
}

// CreateNote adds a note to a contact (POST /contacts/{contactId}/notes).
// With a Marker it is exactly-once like RecordMessage: after an uncertain
// outcome it looks for the marker among the contact's notes and returns
// that note (Note.Recovered) instead of posting again.
func (c *Client) CreateNote(ctx context.Context, req NoteRequest) (Note, error) {
	const op = "ghl: create note"
	if err := needIDs(op, "contact id", req.ContactID, "note body", req.Body); err != nil {
		return Note{}, err
	}
	if req.Marker != "" && !strings.Contains(req.Body, req.Marker) {
		return Note{}, fmt.Errorf("%s: the body does not contain its marker %q, so a lost answer could not be told from a note never made", op, req.Marker)
	}
	b, err := jsonBody(op, struct {
		Body  string `json:"body"`
		Title string `json:"title,omitempty"`
	}{req.Body, req.Title})
	if err != nil {
		return Note{}, err
	}
	var out Note
	rq := &request{
		op: op, rt: routeCreateNote, path: fill(routeCreateNote.path, req.ContactID), class: unsafe, body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeNote(b); return err },
	}
	if req.Marker != "" {
		rq.class = record
		rq.recover = func(ctx context.Context) (bool, error) {
			n, found, err := c.FindNote(ctx, req.ContactID, req.Marker)
			if err != nil || !found {
				return false, err
			}
			n.Recovered = true
			out = n
			return true, nil
		}
	}
	err = c.do(ctx, rq)
	return out, err
}
