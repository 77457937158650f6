package ghltest

import (
	"net/http"
	"slices"
	"time"
)

// Note is a note on a contact (GetNoteSchema).
type Note struct {
	ID        string    `json:"id"`
	Body      string    `json:"body"`
	UserID    string    `json:"userId,omitempty"`
	DateAdded time.Time `json:"dateAdded"`
	ContactID string    `json:"contactId"`
	Title     string    `json:"title,omitempty"`
	Color     string    `json:"color,omitempty"`
	Pinned    bool      `json:"pinned"`
}

// noteView is GetNoteSchema on the wire: the date as the string the spec
// types it as.
type noteView struct {
	ID        string `json:"id"`
	Body      string `json:"body"`
	UserID    string `json:"userId,omitempty"`
	DateAdded string `json:"dateAdded"`
	ContactID string `json:"contactId"`
	Title     string `json:"title,omitempty"`
	Color     string `json:"color,omitempty"`
	Pinned    bool   `json:"pinned"`
}

func (n *Note) view() noteView {
	return noteView{ID: n.ID, Body: n.Body, UserID: n.UserID, DateAdded: isoTime(n.DateAdded), ContactID: n.ContactID,
		Title: n.Title, Color: n.Color, Pinned: n.Pinned}
}

// noteContactLocked finds the path's contact for the notes routes and checks
// its location; it answers the failure itself when it returns false. Callers
// hold s.mu.
func (s *Server) noteContactLocked(c *reqCtx) (string, func(), bool) {
	ct := s.st.contacts[c.pathParams["contactId"]]
	if ct == nil {
		return "", func() { notFound(c, "Contact not found") }, false
	}
	if ct.LocationID != c.tok.locationID {
		loc := ct.LocationID
		return "", func() { otherLocation(c, loc) }, false
	}
	return ct.ID, nil, true
}

// hCreateNote is POST /contacts/{contactId}/notes: it adds a note (newest
// last) and answers 201 with it. Like records, nothing de-duplicates: a
// client whose answer was lost must look before posting again.
func (s *Server) hCreateNote(c *reqCtx) {
	var body struct {
		UserID string `json:"userId"`
		Body   string `json:"body"`
		Title  string `json:"title"`
		Color  string `json:"color"`
		Pinned bool   `json:"pinned"`
	}
	if !decodeBody(c, &body) {
		return
	}
	now := ms(s.now())
	s.mu.Lock()
	id, fail, ok := s.noteContactLocked(c)
	if !ok {
		s.mu.Unlock()
		fail()
		return
	}
	user := body.UserID
	if user == "" {
		user = c.tok.userID
	}
	n := &Note{ID: s.st.newID(), Body: body.Body, UserID: user, DateAdded: now, ContactID: id, Title: body.Title, Color: body.Color, Pinned: body.Pinned}
	if s.st.notes == nil {
		s.st.notes = map[string][]*Note{}
	}
	s.st.notes[id] = append(s.st.notes[id], n)
	v := n.view()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusCreated, struct {
		Note noteView `json:"note"`
	}{v})
}

// hListNotes is GET /contacts/{contactId}/notes: every note, newest first,
// unpaged, as the live API answers.
func (s *Server) hListNotes(c *reqCtx) {
	s.mu.Lock()
	id, fail, ok := s.noteContactLocked(c)
	if !ok {
		s.mu.Unlock()
		fail()
		return
	}
	list := s.st.notes[id]
	out := make([]noteView, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].view())
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Notes []noteView `json:"notes"`
	}{out})
}

// Notes lists a contact's notes, oldest first.
func (s *Server) Notes(contactID string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.st.notes[contactID] {
		out = append(out, *n)
	}
	return slices.Clip(out)
}
