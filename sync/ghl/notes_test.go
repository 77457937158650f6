package ghl

import (
	"errors"
	"strings"
	"testing"

	"parley/sync/internal/sandboxkit"
)

const noteRoute = "POST /contacts/{contactId}/notes"

// TestNotes creates notes on a contact and reads them back, newest first.
func TestNotes(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	ctx := ctxT(t)
	first, err := c.CreateNote(ctx, NoteRequest{ContactID: f.conv.ContactID, Title: "Call", Body: "Call on Monday [m1]", Marker: "[m1]"})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == "" || first.ContactID != f.conv.ContactID || first.Recovered || first.DateAdded.IsZero() {
		t.Errorf("created note = %+v", first)
	}
	if _, err := c.CreateNote(ctx, NoteRequest{ContactID: f.conv.ContactID, Body: "Second"}); err != nil {
		t.Fatal(err)
	}
	notes, err := c.ListNotes(ctx, f.conv.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].Body != "Second" || notes[1].ID != first.ID {
		t.Errorf("notes = %+v, want the second then the first", notes)
	}
	n, found, err := c.FindNote(ctx, f.conv.ContactID, "[m1]")
	if err != nil || !found || n.ID != first.ID {
		t.Errorf("FindNote = %+v, %v, %v; want the first note", n, found, err)
	}
	if _, found, _ := c.FindNote(ctx, f.conv.ContactID, "[m2]"); found {
		t.Error("FindNote found a marker no note has")
	}
	if _, err := c.ListNotes(ctx, "no-such-contact"); !errors.Is(err, ErrNotFound) {
		t.Errorf("notes of a missing contact: %v, want ErrNotFound", err)
	}
	if got := srv.Notes(f.conv.ContactID); len(got) != 2 {
		t.Errorf("the sandbox holds %d notes, want 2", len(got))
	}
	if rej := srv.Rejections(); len(rej) != 0 {
		t.Errorf("the sandbox rejected requests: %+v", rej)
	}
}

// TestCreateNoteAnswerLost: the note is created and the connection drops
// before the answer. With a marker the client finds the note instead of
// posting again; without one it says the outcome is unknown.
func TestCreateNoteAnswerLost(t *testing.T) {
	for _, marked := range []bool{true, false} {
		name := "marker"
		if !marked {
			name = "no marker"
		}
		t.Run(name, func(t *testing.T) {
			srv := sandbox(t)
			c := client(t, srv)
			f := arrange(t, srv)
			if err := srv.InjectFault(sandboxkit.Fault{Route: noteRoute, Kind: sandboxkit.FaultDropAfter}); err != nil {
				t.Fatal(err)
			}
			req := NoteRequest{ContactID: f.conv.ContactID, Body: "Transcript [parley:x]"}
			if marked {
				req.Marker = "[parley:x]"
			}
			n, err := c.CreateNote(ctxT(t), req)
			notes := srv.Notes(f.conv.ContactID)
			if len(notes) != 1 {
				t.Fatalf("%d notes, want 1", len(notes))
			}
			if srv.Calls(noteRoute) != 1 {
				t.Errorf("%d creates, want 1", srv.Calls(noteRoute))
			}
			if !marked {
				if !errors.Is(err, ErrOutcomeUnknown) {
					t.Errorf("err = %v, want ErrOutcomeUnknown", err)
				}
				return
			}
			if err != nil || !n.Recovered || n.ID != notes[0].ID {
				t.Errorf("CreateNote = %+v, %v; want the note found by its marker", n, err)
			}
		})
	}
}

// TestCreateNoteMarkerNotInBody: a marker the body lacks could never be
// found, so the note is refused before anything is sent.
func TestCreateNoteMarkerNotInBody(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	_, err := c.CreateNote(ctxT(t), NoteRequest{ContactID: f.conv.ContactID, Body: "text", Marker: "[m]"})
	if err == nil || !strings.Contains(err.Error(), "marker") || srv.Calls(noteRoute) != 0 {
		t.Errorf("err = %v after %d requests, want a refusal before sending", err, srv.Calls(noteRoute))
	}
}
