package ghl

import (
	"errors"
	"slices"
	"testing"
	"time"

	"parley/sync/internal/sandboxkit"
)

func TestContactActions(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	ctx := ctxT(t)
	ct := srv.Contacts()[1]

	tags, err := c.AddContactTags(ctx, ct.ID, "team-billing")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.AddContactTags(ctx, ct.ID, "team-billing"); err != nil || !slices.Equal(again, tags) {
		t.Fatalf("adding a tag twice: %v, %v (first %v)", again, err, tags)
	}
	if !slices.Contains(tags, "team-billing") {
		t.Fatalf("tags %v", tags)
	}
	if tags, err = c.RemoveContactTags(ctx, ct.ID, "team-billing"); err != nil || slices.Contains(tags, "team-billing") {
		t.Fatalf("remove: %v, %v", tags, err)
	}

	got, err := c.AssignContact(ctx, ct.ID, "user_jo")
	if err != nil || got.ID != ct.ID || got.AssignedTo != "user_jo" {
		t.Fatalf("assign: %+v, %v", got, err)
	}
	if back, err := c.GetContact(ctx, ct.ID); err != nil || back.AssignedTo != "user_jo" {
		t.Fatalf("after assign: %+v, %v", back, err)
	}

	due := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	task, err := c.CreateContactTask(ctx, ct.ID, NewTask{Title: "Call back", Body: "refund [m1]", Due: due, AssignedTo: "user_jo"})
	if err != nil || task.ID == "" || task.Title != "Call back" || !task.DueDate.Equal(due) || task.AssignedTo != "user_jo" || task.ContactID != ct.ID {
		t.Fatalf("create task: %+v, %v", task, err)
	}
	found, ok, err := c.FindContactTask(ctx, ct.ID, "[m1]")
	if err != nil || !ok || found != task {
		t.Fatalf("find task: %+v %v %v, want %+v", found, ok, err, task)
	}
	if _, ok, err := c.FindContactTask(ctx, ct.ID, "[m2]"); err != nil || ok {
		t.Fatalf("find a task that is not there: %v %v", ok, err)
	}

	for _, bad := range []func() error{
		func() error { _, err := c.AddContactTags(ctx, "", "x"); return err },
		func() error { _, err := c.AddContactTags(ctx, ct.ID); return err },
		func() error { _, err := c.AssignContact(ctx, ct.ID, ""); return err },
		func() error { _, err := c.CreateContactTask(ctx, ct.ID, NewTask{Title: "x"}); return err },
		func() error { _, err := c.CreateContactTask(ctx, ct.ID, NewTask{Due: due}); return err },
	} {
		if err := bad(); err == nil {
			t.Error("a call with a missing argument was sent")
		}
	}
	if _, err := c.AddContactTags(ctx, "nobody", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
}

// TestCreateTaskAfterDropLooksFirst: the task is created but the answer is
// lost; the client finds it among the contact's tasks instead of posting
// it a second time.
func TestCreateTaskAfterDropLooksFirst(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	ct := srv.Contacts()[1]
	route := "POST /contacts/{contactId}/tasks"
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropAfter}); err != nil {
		t.Fatal(err)
	}
	task, err := c.CreateContactTask(ctxT(t), ct.ID, NewTask{Title: "Call back", Body: "b", Due: time.Now()})
	if err != nil || task.ID == "" {
		t.Fatalf("create: %+v, %v", task, err)
	}
	if n := len(srv.Tasks(ct.ID)); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
	if n := srv.Calls(route); n != 1 {
		t.Fatalf("%d creates sent, want 1", n)
	}
}

// TestTagsAfterDropRepeat: adding a tag is repeated after a lost answer,
// which is harmless because tags are a set.
func TestTagsAfterDropRepeat(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	ct := srv.Contacts()[1]
	route := "POST /contacts/{contactId}/tags"
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropAfter}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.AddContactTags(ctxT(t), ct.ID, "team-x")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tag := range tags {
		if tag == "team-x" {
			n++
		}
	}
	if n != 1 || srv.Calls(route) != 2 {
		t.Fatalf("tags %v after %d calls", tags, srv.Calls(route))
	}
}
