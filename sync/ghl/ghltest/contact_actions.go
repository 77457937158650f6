package ghltest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Task is a task on a contact (TaskSchema), as POST
// /contacts/{contactId}/tasks created it.
type Task struct {
	ID         string    `json:"id"`
	ContactID  string    `json:"contactId"`
	Title      string    `json:"title"`
	Body       string    `json:"body,omitempty"`
	AssignedTo string    `json:"assignedTo,omitempty"`
	DueDate    time.Time `json:"-"`
	Completed  bool      `json:"completed"`
}

// taskView is TaskSchema on the wire: dates as the live API writes them.
type taskView struct {
	Task
	DueDate string `json:"dueDate"`
}

func viewTask(t *Task) taskView { return taskView{Task: *t, DueDate: isoTime(t.DueDate)} }

// Tasks returns a contact's tasks, oldest first.
func (s *Server) Tasks(contactID string) []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, 0, len(s.st.tasks[contactID]))
	for _, t := range s.st.tasks[contactID] {
		out = append(out, *t)
	}
	return out
}

// contactFor returns the contact of the path's contactId, or answers 404 (or
// 403 for another location's contact) and returns nil. The caller holds
// s.mu.
func (s *Server) contactFor(c *reqCtx) *Contact {
	ct := s.st.contacts[c.pathParams["contactId"]]
	if ct == nil {
		notFound(c, "Contact not found")
		return nil
	}
	if otherLocation(c, ct.LocationID) {
		return nil
	}
	return ct
}

// hContactTags is POST (add) and DELETE (remove) /contacts/{contactId}/tags:
// the contact's tags are a set, so adding a tag it has changes nothing. The
// answer lists the contact's tags afterwards.
func (s *Server) hContactTags(c *reqCtx) {
	var body struct {
		Tags []string `json:"tags"`
	}
	if !decodeBody(c, &body) {
		return
	}
	s.mu.Lock()
	ct := s.contactFor(c)
	if ct == nil {
		s.mu.Unlock()
		return
	}
	for _, tag := range body.Tags {
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		i := slices.Index(ct.Tags, tag)
		switch {
		case c.r.Method == http.MethodPost && i < 0:
			ct.Tags = append(ct.Tags, tag)
		case c.r.Method == http.MethodDelete && i >= 0:
			ct.Tags = slices.Delete(ct.Tags, i, i+1)
		}
	}
	ct.DateUpdated = ms(s.now())
	tags := slices.Clone(ct.Tags)
	s.mu.Unlock()
	if tags == nil {
		tags = []string{}
	}
	status := http.StatusOK
	if c.r.Method == http.MethodPost {
		status = http.StatusCreated // as the spec documents for add-tags
	}
	writeJSON(c.w, status, struct {
		Tags []string `json:"tags"`
	}{tags})
}

// hUpdateContact is PUT /contacts/{contactId}: the fields sent replace the
// contact's, assignedTo included.
func (s *Server) hUpdateContact(c *reqCtx) {
	var body struct {
		contactBody
		AssignedTo *string `json:"assignedTo"`
	}
	if !decodeBody(c, &body) {
		return
	}
	s.mu.Lock()
	ct := s.contactFor(c)
	if ct == nil {
		s.mu.Unlock()
		return
	}
	body.apply(ct)
	if body.AssignedTo != nil {
		ct.AssignedTo = *body.AssignedTo
	}
	ct.DateUpdated = ms(s.now())
	v := viewContact(ct)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Succeded bool        `json:"succeded"` // sic, as the spec spells it
		Contact  contactView `json:"contact"`
	}{true, v})
}

// hListTasks is GET /contacts/{contactId}/tasks.
func (s *Server) hListTasks(c *reqCtx) {
	s.mu.Lock()
	if s.contactFor(c) == nil {
		s.mu.Unlock()
		return
	}
	tasks := make([]taskView, 0, len(s.st.tasks[c.pathParams["contactId"]]))
	for _, t := range s.st.tasks[c.pathParams["contactId"]] {
		tasks = append(tasks, viewTask(t))
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Tasks []taskView `json:"tasks"`
	}{tasks})
}

// hCreateTask is POST /contacts/{contactId}/tasks. The spec requires a due
// date; one that is not a date is refused as GHL refuses bad fields.
func (s *Server) hCreateTask(c *reqCtx) {
	var body struct {
		Title      string `json:"title"`
		Body       string `json:"body"`
		DueDate    string `json:"dueDate"`
		Completed  bool   `json:"completed"`
		AssignedTo string `json:"assignedTo"`
	}
	if !decodeBody(c, &body) {
		return
	}
	due, err := time.Parse(time.RFC3339, body.DueDate)
	if err != nil {
		writeJSON(c.w, http.StatusUnprocessableEntity, apiError{StatusCode: http.StatusUnprocessableEntity,
			Message: []string{"dueDate must be a valid ISO 8601 date string"}, Error: errorText(http.StatusUnprocessableEntity)})
		return
	}
	s.mu.Lock()
	ct := s.contactFor(c)
	if ct == nil {
		s.mu.Unlock()
		return
	}
	t := &Task{ID: s.st.newID(), ContactID: ct.ID, Title: body.Title, Body: body.Body, AssignedTo: body.AssignedTo,
		DueDate: ms(due), Completed: body.Completed}
	if s.st.tasks == nil {
		s.st.tasks = map[string][]*Task{}
	}
	s.st.tasks[ct.ID] = append(s.st.tasks[ct.ID], t)
	v := viewTask(t)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusCreated, struct {
		Task taskView `json:"task"`
	}{v})
}
