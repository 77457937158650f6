package adtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/sync/activedemand"
	"parley/sync/internal/demobiz"
)

// call is one authorised request being handled.
type call struct {
	route string
	rt    activedemand.Route
	path  map[string]string
	body  []byte
	r     *http.Request
	base  string
	vals  url.Values
}

// params returns the request's parameters from where the route table says
// they travel: the query, a form body or a JSON object body.
func (c *call) params() (url.Values, error) {
	if c.vals != nil {
		return c.vals, nil
	}
	switch {
	case c.rt.ParamsIn == activedemand.ParamsInQuery || c.r.Method == http.MethodGet:
		c.vals = c.r.URL.Query()
	case c.rt.ParamsIn == activedemand.ParamsInJSON:
		c.vals = url.Values{}
		if len(c.body) > 0 {
			var obj map[string]any
			if err := json.Unmarshal(c.body, &obj); err != nil {
				return nil, fmt.Errorf("body is not a JSON object: %v", err)
			}
			for k, v := range obj {
				c.vals.Set(k, fmt.Sprint(v))
			}
		}
	default:
		if ct := c.r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") && len(c.body) > 0 {
			return nil, fmt.Errorf("want a form-encoded body, got Content-Type %q", ct)
		}
		v, err := url.ParseQuery(string(c.body))
		if err != nil {
			return nil, fmt.Errorf("body is not form-encoded: %v", err)
		}
		c.vals = v
	}
	return c.vals, nil
}

// arg reads a route argument from the path or from its parameter.
func (c *call) arg(name string) string {
	if v, ok := c.path[name]; ok {
		return v
	}
	wire := c.rt.Params[name]
	if wire == "" {
		return ""
	}
	v, err := c.params()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v.Get(wire))
}

func (s *Server) dispatch(w http.ResponseWriter, c *call) {
	if _, err := c.params(); err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	switch c.route {
	case activedemand.RouteContactsList:
		s.listContacts(w, c)
	case activedemand.RouteContactsCreate:
		s.createContact(w, c)
	case activedemand.RouteContactFields:
		writePage(w, c, contactFieldDefs)
	case activedemand.RouteContactLists:
		s.listLists(w, c)
	case activedemand.RouteListAddMembers:
		s.addMembers(w, c)
	case activedemand.RouteFormsList:
		s.listForms(w, c)
	case activedemand.RouteFormFields:
		s.formFields(w, c)
	case activedemand.RouteFormSubmit:
		s.submitForm(w, c)
	case activedemand.RouteConversations:
		s.listConversations(w, c)
	case activedemand.RouteMessagesList:
		s.listMessages(w, c)
	case activedemand.RouteMessageStatus:
		s.setStatus(w, c)
	case activedemand.RouteHistoryList:
		s.listHistory(w, c)
	case activedemand.RouteHistoryCreate:
		s.createHistory(w, c)
	case activedemand.RouteTaskCreate:
		s.createTask(w, c)
	case activedemand.RouteWebhookSubscribe:
		s.subscribe(w, c)
	case activedemand.RouteWebhookDelete:
		s.unsubscribe(w, c)
	default:
		apiError(w, http.StatusNotFound, "no handler for %s", c.route)
	}
}

// cursorToken is the sandbox's opaque cursor: an offset in disguise.
func cursorToken(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("off:" + strconv.Itoa(off)))
}

func cursorOffset(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "off:")
	n, err := strconv.Atoi(s)
	return n, ok && err == nil && n >= 0
}

// window works out which items [off, end) of n a list request asks for by
// the route's paging scheme, and the next cursor; on a bad request it
// writes the error and returns ok false.
func window(w http.ResponseWriter, c *call, n int) (off, end int, next string, ok bool) {
	p := c.rt.Paging
	q := c.r.URL.Query()
	size := p.PageSize
	if p.SizeParam != "" {
		if v := q.Get(p.SizeParam); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil || k < 1 {
				apiError(w, http.StatusBadRequest, "%s must be a positive number", p.SizeParam)
				return 0, 0, "", false
			}
			size = k
		}
	}
	if p.MaxPageSize > 0 && size > p.MaxPageSize {
		size = p.MaxPageSize
	}
	size = max(size, 1)
	num := func(name string, def int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		k, err := strconv.Atoi(v)
		return k, err == nil
	}
	switch p.Scheme {
	case activedemand.PagingPage:
		page, good := num(p.PageParam, p.FirstPage)
		if !good || page < p.FirstPage || page > 1<<30 {
			apiError(w, http.StatusBadRequest, "%s must be a number from %d", p.PageParam, p.FirstPage)
			return 0, 0, "", false
		}
		off = min((page-p.FirstPage)*size, n)
	case activedemand.PagingOffset:
		o, good := num(p.PageParam, 0)
		if !good || o < 0 {
			apiError(w, http.StatusBadRequest, "%s must be a number from 0", p.PageParam)
			return 0, 0, "", false
		}
		off = min(o, n)
	case activedemand.PagingCursor:
		if tok := q.Get(p.PageParam); tok != "" {
			o, good := cursorOffset(tok)
			if !good {
				apiError(w, http.StatusBadRequest, "bad cursor")
				return 0, 0, "", false
			}
			off = min(o, n)
		}
	default:
		return 0, n, "", true
	}
	end = min(off+size, n)
	if p.Scheme == activedemand.PagingCursor && end < n {
		next = cursorToken(end)
	}
	return off, end, next, true
}

// writeWindow sends one page, wrapped and with its cursor as the route's
// paging says.
func writeWindow[T any](w http.ResponseWriter, c *call, page []T, next string) {
	p := c.rt.Paging
	if page == nil {
		page = []T{}
	}
	if p.Scheme == activedemand.PagingCursor && p.CursorIn == activedemand.CursorInHeader && next != "" {
		w.Header().Set(p.CursorName, next)
	}
	if p.ItemsField == "" {
		writeJSON(w, http.StatusOK, page)
		return
	}
	obj := map[string]any{p.ItemsField: page}
	if p.Scheme == activedemand.PagingCursor && p.CursorIn == activedemand.CursorInField {
		if next != "" {
			obj[p.CursorName] = next
		} else {
			obj[p.CursorName] = nil
		}
	}
	writeJSON(w, http.StatusOK, obj)
}

// writePage answers a list request with the page of items it asks for.
func writePage[T any](w http.ResponseWriter, c *call, items []T) {
	off, end, next, ok := window(w, c, len(items))
	if !ok {
		return
	}
	writeWindow(w, c, items[off:end], next)
}

func (s *Server) listContacts(w http.ResponseWriter, c *call) {
	s.mu.Lock()
	cs := sortedByID(s.st.contacts)
	items := make([]map[string]any, len(cs))
	for i, ct := range cs {
		items[i] = ct.json()
	}
	s.mu.Unlock()
	writePage(w, c, items)
}

// contactFields reads contact[<field>] style parameters by the route's
// field template.
func contactFields(c *call) map[string]string {
	tmpl := c.rt.Params["field"]
	prefix, suffix, _ := strings.Cut(tmpl, "{field}")
	out := map[string]string{}
	for k, v := range c.vals {
		if len(k) <= len(prefix)+len(suffix) || !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, suffix) {
			continue
		}
		out[k[len(prefix):len(k)-len(suffix)]] = strings.TrimSpace(v[0])
	}
	return out
}

func (s *Server) createContact(w http.ResponseWriter, c *call) {
	f := contactFields(c)
	email, phone := f["emails.email_address"], f["phones.phone_number"]
	if email == "" && phone == "" {
		apiError(w, http.StatusUnprocessableEntity, "a contact needs emails.email_address or phones.phone_number")
		return
	}
	now := s.clock()
	s.mu.Lock()
	ct := s.st.contactByEmail(email)
	ev := activedemand.EventContactUpdated
	if ct == nil {
		ct = s.st.newContact(f["first_name"], f["last_name"], email, phone, nil, now)
		ev = activedemand.EventContactCreated
	}
	for k, v := range f {
		switch {
		case k == "first_name":
			ct.first = v
		case k == "last_name":
			ct.last = v
		case k == "phones.phone_number":
			ct.phone = v
		case activedemand.IsCustomField(k):
			ct.custom[k] = v
		}
	}
	ct.updatedAt = now.Truncate(time.Second)
	out := []map[string]any{ct.json()}
	id := ct.id
	s.mu.Unlock()
	s.notify(activedemand.Event{Type: ev, ContactID: idText(id)})
	writeJSON(w, http.StatusOK, out)
}

type namedJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (s *Server) listLists(w http.ResponseWriter, c *call) {
	s.mu.Lock()
	items := make([]namedJSON, len(s.st.lists))
	for i, l := range s.st.lists {
		items[i] = namedJSON{l.id, l.name}
	}
	s.mu.Unlock()
	writePage(w, c, items)
}

func (s *Server) addMembers(w http.ResponseWriter, c *call) {
	listID, _ := parseID(activedemand.ID(c.arg("list_id")))
	raw := c.arg("contact_ids")
	if raw == "" {
		apiError(w, http.StatusUnprocessableEntity, "contact_ids is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list *contactList
	for _, l := range s.st.lists {
		if l.id == listID {
			list = l
		}
	}
	if list == nil {
		apiError(w, http.StatusNotFound, "contact list %s not found", c.arg("list_id"))
		return
	}
	var ids []int64
	for _, p := range strings.Split(raw, ",") {
		id, ok := parseID(activedemand.ID(p))
		if !ok || s.st.contacts[id] == nil {
			apiError(w, http.StatusUnprocessableEntity, "contact %q not found", p)
			return
		}
		ids = append(ids, id)
	}
	added := 0
	for _, id := range ids {
		if !slices.Contains(list.members, id) {
			list.members = append(list.members, id)
			added++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "added": added})
}

func (s *Server) listForms(w http.ResponseWriter, c *call) {
	s.mu.Lock()
	items := make([]namedJSON, len(s.st.forms))
	for i, f := range s.st.forms {
		items[i] = namedJSON{f.id, f.name}
	}
	s.mu.Unlock()
	writePage(w, c, items)
}

func (s *Server) form(raw string) *form {
	id, _ := parseID(activedemand.ID(raw))
	for _, f := range s.st.forms {
		if f.id == id {
			return f
		}
	}
	return nil
}

func (s *Server) formFields(w http.ResponseWriter, c *call) {
	s.mu.Lock()
	f := s.form(c.arg("form_id"))
	var fields []formField
	if f != nil {
		fields = slices.Clone(f.fields)
	}
	s.mu.Unlock()
	if f == nil {
		apiError(w, http.StatusNotFound, "form %q not found", c.arg("form_id"))
		return
	}
	writePage(w, c, fields)
}

func (s *Server) submitForm(w http.ResponseWriter, c *call) {
	now := s.clock()
	s.mu.Lock()
	f := s.form(c.arg("form_id"))
	if f == nil {
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "form %q not found", c.arg("form_id"))
		return
	}
	vals := url.Values{}
	for k, v := range c.vals {
		vals[k] = slices.Clone(v)
	}
	s.st.submissions = append(s.st.submissions, Submission{FormID: idText(f.id), Values: vals, At: now})
	// A submission with a new email address creates the contact, as
	// AD's form posts do for the plugins that use them.
	email := firstOf(vals, "email_address", "email", "emails.email_address")
	var ev activedemand.Event
	if email != "" && s.st.contactByEmail(email) == nil {
		ct := s.st.newContact(firstOf(vals, "first_name"), firstOf(vals, "last_name"), email, firstOf(vals, "phone_number", "phone"), nil, now)
		ev = activedemand.Event{Type: activedemand.EventContactCreated, ContactID: idText(ct.id)}
	}
	s.mu.Unlock()
	if ev.Type != "" {
		s.notify(ev)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func firstOf(v url.Values, keys ...string) string {
	for _, k := range keys {
		if s := strings.TrimSpace(v.Get(k)); s != "" {
			return s
		}
	}
	return ""
}

func (s *Server) listConversations(w http.ResponseWriter, c *call) {
	var since time.Time
	if raw := c.arg("since"); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			apiError(w, http.StatusBadRequest, "%s must be an RFC 3339 time", c.rt.Params["since"])
			return
		}
		since = t
	}
	s.mu.Lock()
	var convs []*conversation
	for _, cv := range s.st.convs {
		if !cv.updatedAt.Before(since) {
			convs = append(convs, cv)
		}
	}
	slices.SortFunc(convs, func(a, b *conversation) int {
		if d := a.updatedAt.Compare(b.updatedAt); d != 0 {
			return d
		}
		return int(a.id - b.id)
	})
	items := make([]conversationJSON, len(convs))
	for i, cv := range convs {
		items[i] = cv.json()
	}
	s.mu.Unlock()
	writePage(w, c, items)
}

func (s *Server) listMessages(w http.ResponseWriter, c *call) {
	raw := c.arg("conversation_id")
	id, _ := parseID(activedemand.ID(raw))
	s.mu.Lock()
	cv := s.st.convs[id]
	if cv == nil {
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "conversation %q not found", raw)
		return
	}
	off, end, next, ok := window(w, c, len(cv.msgs))
	if !ok {
		s.mu.Unlock()
		return
	}
	out := make([]messageJSON, 0, end-off)
	for _, m := range cv.msgs[off:end] {
		out = append(out, m.json(c.base, s.sizes))
	}
	s.mu.Unlock()
	writeWindow(w, c, out, next)
}

func (s *Server) setStatus(w http.ResponseWriter, c *call) {
	raw := c.arg("message_id")
	status := activedemand.MessageStatus(strings.ToLower(c.arg("status")))
	switch status {
	case activedemand.MessagePending, activedemand.MessageSent, activedemand.MessageDelivered, activedemand.MessageRead,
		activedemand.MessageFailed, activedemand.MessageReceived, activedemand.MessageCompleted:
	default:
		apiError(w, http.StatusUnprocessableEntity, "status %q is not one of pending, sent, delivered, read, failed, received, completed", status)
		return
	}
	id, _ := parseID(activedemand.ID(raw))
	now := s.clock()
	s.mu.Lock()
	m := s.st.msgs[id]
	if m == nil {
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "message %q not found", raw)
		return
	}
	m.status = status
	if cv := s.st.convs[m.convID]; cv != nil && now.After(cv.updatedAt) {
		cv.updatedAt = now
	}
	ev := activedemand.Event{Type: activedemand.EventMessageStatus, ContactID: idText(m.contactID), ConversationID: idText(m.convID), MessageID: idText(m.id), Status: status}
	s.mu.Unlock()
	s.notify(ev)
	writeJSON(w, http.StatusOK, []map[string]any{{"id": id, "status": status}})
}

func (s *Server) listHistory(w http.ResponseWriter, c *call) {
	raw := c.arg("contact_id")
	id, _ := parseID(activedemand.ID(raw))
	s.mu.Lock()
	if s.st.contacts[id] == nil {
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "contact %q not found", raw)
		return
	}
	hs := s.st.history[id]
	items := make([]historyJSON, len(hs))
	for i, h := range hs {
		items[i] = h.json()
	}
	s.mu.Unlock()
	writePage(w, c, items)
}

func (s *Server) createHistory(w http.ResponseWriter, c *call) {
	raw, typ := c.arg("contact_id"), c.arg("type")
	if typ == "" {
		apiError(w, http.StatusUnprocessableEntity, "%s is required", c.rt.Params["type"])
		return
	}
	at := s.clock()
	if v := c.arg("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			apiError(w, http.StatusUnprocessableEntity, "%s must be an RFC 3339 time", c.rt.Params["at"])
			return
		}
		at = t
	}
	id, _ := parseID(activedemand.ID(raw))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.contacts[id] == nil {
		apiError(w, http.StatusNotFound, "contact %q not found", raw)
		return
	}
	s.st.historySeq++
	h := &historyEntry{id: historyBase + s.st.historySeq, contactID: id, typ: typ, subject: c.arg("subject"), body: c.arg("body"), at: at.Truncate(time.Second)}
	s.st.history[id] = append(s.st.history[id], h)
	writeJSON(w, http.StatusOK, []historyJSON{h.json()})
}

func (s *Server) createTask(w http.ResponseWriter, c *call) {
	title := c.arg("title")
	if title == "" {
		apiError(w, http.StatusUnprocessableEntity, "%s is required", c.rt.Params["title"])
		return
	}
	t := Task{Title: title, Body: c.arg("body"), Priority: c.arg("priority")}
	if v := c.arg("due_at"); v != "" {
		due, err := time.Parse(time.RFC3339, v)
		if err != nil {
			apiError(w, http.StatusUnprocessableEntity, "%s must be an RFC 3339 time", c.rt.Params["due_at"])
			return
		}
		t.Due = due
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if raw := c.arg("contact_id"); raw != "" {
		id, _ := parseID(activedemand.ID(raw))
		if s.st.contacts[id] == nil {
			apiError(w, http.StatusNotFound, "contact %q not found", raw)
			return
		}
		t.ContactID = idText(id)
	}
	s.st.taskSeq++
	t.ID = idText(taskBase + s.st.taskSeq)
	s.st.tasks = append(s.st.tasks, t)
	writeJSON(w, http.StatusOK, []map[string]any{{"id": taskBase + s.st.taskSeq, "title": t.Title}})
}

func (s *Server) subscribe(w http.ResponseWriter, c *call) {
	target, event := c.arg("url"), c.arg("event")
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		apiError(w, http.StatusUnprocessableEntity, "%s must be an http(s) URL", c.rt.Params["url"])
		return
	}
	if event == "" {
		apiError(w, http.StatusUnprocessableEntity, "%s is required", c.rt.Params["event"])
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.subSeq++
	sub := Subscription{ID: idText(webhookBase + s.st.subSeq), URL: target, Event: activedemand.EventType(event)}
	s.st.subs = append(s.st.subs, sub)
	writeJSON(w, http.StatusOK, []map[string]any{{"id": webhookBase + s.st.subSeq, "url": target, "event": event}})
}

func (s *Server) unsubscribe(w http.ResponseWriter, c *call) {
	raw := c.arg("webhook_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.st.subs, func(sub Subscription) bool { return string(sub.ID) == raw })
	if i < 0 {
		apiError(w, http.StatusNotFound, "webhook %q not found", raw)
		return
	}
	s.st.subs = slices.Delete(s.st.subs, i, i+1)
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

// serveMedia serves recordings (rendered as they stream) and attachments.
func (s *Server) serveMedia(w http.ResponseWriter, c *call, rel string) {
	parts := strings.Split(strings.TrimPrefix(rel, "media/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "recordings" && strings.HasSuffix(parts[1], ".wav"):
		id, _ := parseID(activedemand.ID(strings.TrimSuffix(parts[1], ".wav")))
		s.mu.Lock()
		m := s.st.msgs[id]
		var call *demobiz.Call
		if m != nil {
			call = m.call
		}
		s.mu.Unlock()
		if call == nil || call.Duration <= 0 {
			apiError(w, http.StatusNotFound, "no recording for message %s", parts[1])
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Content-Length", strconv.FormatInt(demobiz.WAVSize(call), 10))
		w.WriteHeader(http.StatusOK)
		if err := demobiz.RenderWAV(w, call); err != nil {
			s.log.Debug("adtest: recording", "err", err)
		}
	case len(parts) == 3 && parts[0] == "files":
		id, _ := parseID(activedemand.ID(parts[1]))
		name, err := url.PathUnescape(parts[2])
		if err != nil {
			apiError(w, http.StatusBadRequest, "bad file name")
			return
		}
		s.mu.Lock()
		m := s.st.msgs[id]
		ok := m != nil && m.attachment == name
		s.mu.Unlock()
		b := s.files[name]
		if !ok || b == nil {
			apiError(w, http.StatusNotFound, "no file %q on message %s", name, parts[1])
			return
		}
		w.Header().Set("Content-Type", demobiz.Attachments[name])
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	default:
		apiError(w, http.StatusNotFound, "no media at %s", rel)
	}
}
