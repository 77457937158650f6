package ghltest

import (
	"strings"
	"testing"
)

// TestNoteEndpoints: notes are created and listed as the contacts spec
// says (every answer is validated against it), newest first; a missing
// body and a missing contact are refused.
func TestNoteEndpoints(t *testing.T) {
	srv, c := seeded(t, Options{})
	ct := srv.Contacts()[0]
	path := "/contacts/" + ct.ID + "/notes"
	var created struct {
		Note struct {
			ID, Body, ContactID, DateAdded string
		} `json:"note"`
	}
	c.mustDo(201, "POST", path, map[string]any{"body": "first", "title": "Call"}).decode(t, &created)
	if created.Note.ID == "" || created.Note.Body != "first" || created.Note.ContactID != ct.ID || created.Note.DateAdded == "" {
		t.Errorf("created note %+v", created.Note)
	}
	c.mustDo(201, "POST", path, map[string]any{"body": "second"})
	var list struct {
		Notes []struct{ ID, Body string } `json:"notes"`
	}
	c.mustDo(200, "GET", path, nil).decode(t, &list)
	if len(list.Notes) != 2 || list.Notes[0].Body != "second" || list.Notes[1].ID != created.Note.ID {
		t.Errorf("notes %+v, want the second then the first", list.Notes)
	}
	srv.ExpectRejections()
	if r := c.do("POST", path, map[string]any{"title": "no body"}, nil); r.status != 422 {
		t.Errorf("a note without a body: %d %s", r.status, r.body)
	}
	c.mustDo(404, "GET", "/contacts/nobody/notes", nil)
	if got := srv.Notes(ct.ID); len(got) != 2 || !strings.HasPrefix(got[0].Body, "first") {
		t.Errorf("Notes() = %+v, want two, oldest first", got)
	}
}
