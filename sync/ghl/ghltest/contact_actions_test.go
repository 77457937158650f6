package ghltest

import (
	"slices"
	"testing"
)

// TestContactActionEndpoints drives the routing actions' routes over HTTP;
// every answer is checked against the spec by the test client.
func TestContactActionEndpoints(t *testing.T) {
	srv, c := seeded(t, Options{})
	srv.ExpectRejections() // two requests below break the spec on purpose
	ct := srv.Contacts()[2]
	base := "/contacts/" + ct.ID

	type tagsAnswer struct {
		Tags []string `json:"tags"`
	}
	var tags tagsAnswer
	c.mustDo(201, "POST", base+"/tags", map[string]any{"tags": []string{"team-support", "escalated"}}).decode(t, &tags)
	c.mustDo(201, "POST", base+"/tags", map[string]any{"tags": []string{"team-support"}}).decode(t, &tags)
	want := append(slices.Clone(ct.Tags), "team-support", "escalated")
	if !slices.Equal(tags.Tags, want) {
		t.Fatalf("tags after adding twice: %v, want %v", tags.Tags, want)
	}
	c.mustDo(200, "DELETE", base+"/tags", map[string]any{"tags": []string{"escalated", "never-had"}}).decode(t, &tags)
	if want = want[:len(want)-1]; !slices.Equal(tags.Tags, want) {
		t.Fatalf("tags after removing: %v, want %v", tags.Tags, want)
	}
	c.mustDo(422, "POST", base+"/tags", map[string]any{"tag": "x"})

	var upd struct {
		Succeded bool `json:"succeded"`
		Contact  struct {
			ID         string `json:"id"`
			AssignedTo string `json:"assignedTo"`
		} `json:"contact"`
	}
	c.mustDo(200, "PUT", base, map[string]any{"assignedTo": "user_jo"}).decode(t, &upd)
	if !upd.Succeded || upd.Contact.AssignedTo != "user_jo" {
		t.Fatalf("assign: %+v", upd)
	}
	var got struct {
		Contact struct {
			AssignedTo string   `json:"assignedTo"`
			Tags       []string `json:"tags"`
		} `json:"contact"`
	}
	c.mustDo(200, "GET", base, nil).decode(t, &got)
	if got.Contact.AssignedTo != "user_jo" || !slices.Equal(got.Contact.Tags, want) {
		t.Fatalf("contact after actions: %+v", got)
	}

	type taskJSON struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Body      string `json:"body"`
		DueDate   string `json:"dueDate"`
		ContactID string `json:"contactId"`
	}
	var created struct {
		Task taskJSON `json:"task"`
	}
	c.mustDo(201, "POST", base+"/tasks", map[string]any{"title": "Call back", "body": "about a refund", "dueDate": "2025-06-01T10:00:00Z", "completed": false}).decode(t, &created)
	if created.Task.ID == "" || created.Task.ContactID != ct.ID || created.Task.DueDate != "2025-06-01T10:00:00.000Z" {
		t.Fatalf("created task: %+v", created)
	}
	c.mustDo(422, "POST", base+"/tasks", map[string]any{"title": "no due date"})
	c.mustDo(422, "POST", base+"/tasks", map[string]any{"title": "bad due", "dueDate": "tomorrow", "completed": false})
	var list struct {
		Tasks []taskJSON `json:"tasks"`
	}
	c.mustDo(200, "GET", base+"/tasks", nil).decode(t, &list)
	if len(list.Tasks) != 1 || list.Tasks[0] != created.Task {
		t.Fatalf("tasks: %+v", list.Tasks)
	}
	if ts := srv.Tasks(ct.ID); len(ts) != 1 || ts[0].Body != "about a refund" {
		t.Fatalf("Tasks(): %+v", ts)
	}
	c.mustDo(404, "GET", "/contacts/nobody/tasks", nil)
	c.mustDo(404, "POST", "/contacts/nobody/tags", map[string]any{"tags": []string{"x"}})
	if n := len(srv.Rejections()); n != 2 {
		t.Fatalf("%d requests rejected by the spec, want the 2 sent without required fields", n)
	}
}
