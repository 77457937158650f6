package ghl

// What routing rules do to a contact: tag it with a team, assign it to a
// user, create a task on it. Tags and assignment are idempotent (a tag set,
// a field set); a task is not, so creating one looks for it among the
// contact's tasks before posting again after an uncertain attempt.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	routeAddTags       = route{http.MethodPost, "/contacts/{contactId}/tags", versionContacts, scopeContactWrite}
	routeRemoveTags    = route{http.MethodDelete, "/contacts/{contactId}/tags", versionContacts, scopeContactWrite}
	routeListTasks     = route{http.MethodGet, "/contacts/{contactId}/tasks", versionContacts, scopeContactRead}
	routeCreateTask    = route{http.MethodPost, "/contacts/{contactId}/tasks", versionContacts, scopeContactWrite}
	routeUpdateContact = route{http.MethodPut, "/contacts/{contactId}", versionContacts, scopeContactWrite}
)

// AddContactTags adds tags to a contact's tags and returns the tags
// HighLevel reports. Tags are a set, so adding one it has is harmless and
// the call is repeated freely after an uncertain attempt.
func (c *Client) AddContactTags(ctx context.Context, contactID string, tags ...string) ([]string, error) {
	return c.contactTags(ctx, "ghl: add contact tags", routeAddTags, contactID, tags)
}

// RemoveContactTags removes tags from a contact; tags it does not have are
// ignored.
func (c *Client) RemoveContactTags(ctx context.Context, contactID string, tags ...string) ([]string, error) {
	return c.contactTags(ctx, "ghl: remove contact tags", routeRemoveTags, contactID, tags)
}

func (c *Client) contactTags(ctx context.Context, op string, rt route, contactID string, tags []string) ([]string, error) {
	if err := needIDs(op, "contact id", contactID); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("%s: give at least one tag", op)
	}
	b, err := jsonBody(op, struct {
		Tags []string `json:"tags"`
	}{tags})
	if err != nil {
		return nil, err
	}
	var out []string
	err = c.do(ctx, &request{
		op: op, rt: rt, path: fill(rt.path, contactID), class: idempotent, body: b, contentType: "application/json",
		decode: func(b []byte) error {
			var w struct {
				Tags []string `json:"tags"`
			}
			err := unmarshalAt(b, &w, "")
			out = w.Tags
			return err
		},
	})
	return out, err
}

// AssignContact assigns a contact to a HighLevel user (PUT
// /contacts/{contactId} with assignedTo) and returns the contact as
// updated.
func (c *Client) AssignContact(ctx context.Context, contactID, userID string) (Contact, error) {
	const op = "ghl: assign contact"
	if err := needIDs(op, "contact id", contactID, "user id", userID); err != nil {
		return Contact{}, err
	}
	b, err := jsonBody(op, struct {
		AssignedTo string `json:"assignedTo"`
	}{userID})
	if err != nil {
		return Contact{}, err
	}
	var out Contact
	err = c.do(ctx, &request{
		op: op, rt: routeUpdateContact, path: fill(routeUpdateContact.path, contactID), class: idempotent, body: b, contentType: "application/json",
		decode: func(b []byte) error {
			ct, found, _, err := decodeContactAnswer(b)
			if err == nil && !found {
				err = &fieldError{field: "contact", err: fmt.Errorf("missing")}
			}
			out = ct
			return err
		},
	})
	return out, err
}

// Task is a task on a contact (TaskSchema).
type Task struct {
	ID         string
	ContactID  string
	Title      string
	Body       string
	AssignedTo string
	DueDate    time.Time
	Completed  bool
}

// NewTask is a task to create on a contact (CreateTaskParams).
type NewTask struct {
	Title string
	Body  string
	// Due is required by HighLevel.
	Due time.Time
	// AssignedTo is a user id; empty leaves the task unassigned.
	AssignedTo string
}

type wireTask struct {
	ID         string   `json:"id"`
	ContactID  string   `json:"contactId"`
	Title      string   `json:"title"`
	Body       string   `json:"body"`
	AssignedTo string   `json:"assignedTo"`
	DueDate    flexTime `json:"dueDate"`
	Completed  flexBool `json:"completed"`
}

func (w wireTask) task() Task {
	return Task{ID: w.ID, ContactID: w.ContactID, Title: w.Title, Body: w.Body, AssignedTo: w.AssignedTo,
		DueDate: time.Time(w.DueDate), Completed: bool(w.Completed)}
}

// ContactTasks lists a contact's tasks.
func (c *Client) ContactTasks(ctx context.Context, contactID string) ([]Task, error) {
	const op = "ghl: list contact tasks"
	if err := needIDs(op, "contact id", contactID); err != nil {
		return nil, err
	}
	var out []Task
	err := c.getJSON(ctx, op, routeListTasks, fill(routeListTasks.path, contactID), nil, func(b []byte) error {
		var w struct {
			Tasks []wireTask `json:"tasks"`
		}
		if err := unmarshalAt(b, &w, ""); err != nil {
			return err
		}
		out = make([]Task, 0, len(w.Tasks))
		for _, t := range w.Tasks {
			out = append(out, t.task())
		}
		return nil
	})
	return out, err
}

// FindContactTask returns the contact's first task whose body contains
// marker, so a caller that writes a unique marker into each task's body
// can tell whether it created the task already.
func (c *Client) FindContactTask(ctx context.Context, contactID, marker string) (Task, bool, error) {
	if strings.TrimSpace(marker) == "" {
		return Task{}, false, fmt.Errorf("ghl: find contact task: the marker is empty")
	}
	tasks, err := c.ContactTasks(ctx, contactID)
	if err != nil {
		return Task{}, false, err
	}
	for _, t := range tasks {
		if strings.Contains(t.Body, marker) {
			return t, true, nil
		}
	}
	return Task{}, false, nil
}

// CreateContactTask creates a task on a contact. Creating is not
// idempotent: after an uncertain attempt the client looks among the
// contact's tasks for one with the same title and body before posting
// again, and returns ErrOutcomeUnknown when it cannot tell.
func (c *Client) CreateContactTask(ctx context.Context, contactID string, t NewTask) (Task, error) {
	const op = "ghl: create contact task"
	if err := needIDs(op, "contact id", contactID); err != nil {
		return Task{}, err
	}
	switch {
	case strings.TrimSpace(t.Title) == "":
		return Task{}, fmt.Errorf("%s: a task needs a title", op)
	case t.Due.IsZero():
		return Task{}, fmt.Errorf("%s: a task needs a due date", op)
	}
	b, err := jsonBody(op, struct {
		Title      string `json:"title"`
		Body       string `json:"body,omitempty"`
		DueDate    string `json:"dueDate"`
		Completed  bool   `json:"completed"`
		AssignedTo string `json:"assignedTo,omitempty"`
	}{t.Title, t.Body, t.Due.UTC().Format(time.RFC3339), false, t.AssignedTo})
	if err != nil {
		return Task{}, err
	}
	var out Task
	err = c.do(ctx, &request{
		op: op, rt: routeCreateTask, path: fill(routeCreateTask.path, contactID), class: record, body: b, contentType: "application/json",
		decode: func(b []byte) error {
			var w struct {
				Task *wireTask `json:"task"`
			}
			if err := unmarshalAt(b, &w, ""); err != nil {
				return err
			}
			if w.Task == nil || w.Task.ID == "" {
				return &fieldError{field: "task.id", err: fmt.Errorf("missing")}
			}
			out = w.Task.task()
			return nil
		},
		recover: func(ctx context.Context) (bool, error) {
			tasks, err := c.ContactTasks(ctx, contactID)
			if err != nil {
				return false, err
			}
			for _, have := range tasks {
				if have.Title == t.Title && have.Body == t.Body {
					out = have
					return true, nil
				}
			}
			return false, nil
		},
	})
	return out, err
}
