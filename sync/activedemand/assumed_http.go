package activedemand

// ASSUMED LAYER, HTTP side: Conversations over ActiveDEMAND's API. Paths,
// methods, parameter names and paging come from the route table; the reply
// field names below are Parley's assumption, chosen to match the known
// endpoints' style (flat snake_case, ids as numbers, JSON arrays back).
//
// Assumed reply shapes, one JSON object per item:
//
//	conversation: id, contact_id, channel, status, subject, updated_at,
//	              unread, starred (booleans; absent means false)
//	message:      id, conversation_id, contact_id, channel, direction,
//	              sender_name, sender_email, sender_phone, subject, body,
//	              sent_at, status, attachments: [{url, name, content_type,
//	              size}], call: {duration (seconds), status, recording_url,
//	              transcription}
//	history:      id, contact_id, history_type, subject, description,
//	              occurred_at
//	created:      [{"id": ...}] (like POST contacts.json)

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func decodeConversation(f *fields) Conversation {
	c := Conversation{
		ID:        f.id("id", "conversation_id"),
		ContactID: f.id("contact_id"),
		Channel:   Channel(strings.ToLower(strings.TrimSpace(f.str("channel", "type")))),
		Status:    ConversationStatus(strings.ToLower(strings.TrimSpace(f.str("status")))),
		Subject:   f.str("subject"),
		UpdatedAt: f.time("updated_at", "last_activity_at"),
		Unread:    f.boolean("unread"),
		Starred:   f.boolean("starred"),
	}
	if c.ID == "" && f.err == nil {
		f.fail("id", "missing; a conversation needs its id")
	}
	if c.Status == "" {
		c.Status = StatusOpen
	}
	return c
}

// normDirection accepts the spellings a system may use for a direction.
func normDirection(s string) (Direction, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "inbound", "in", "incoming", "received", "receive":
		return Inbound, true
	case "outbound", "out", "outgoing", "sent", "send":
		return Outbound, true
	}
	return "", false
}

func decodeMessage(f *fields) Message {
	m := Message{
		ID:             f.id("id", "message_id"),
		ConversationID: f.id("conversation_id"),
		ContactID:      f.id("contact_id"),
		Channel:        Channel(strings.ToLower(strings.TrimSpace(f.str("channel")))),
		SenderName:     f.str("sender_name"),
		SenderAddress:  f.str("sender_email", "sender_address"),
		SenderPhone:    f.str("sender_phone"),
		Subject:        f.str("subject"),
		Body:           f.str("body", "text", "content"),
		SentAt:         f.time("sent_at", "created_at", "date"),
		Status:         MessageStatus(strings.ToLower(strings.TrimSpace(f.str("status")))),
	}
	if m.ID == "" && f.err == nil {
		f.fail("id", "missing; a message needs its id")
	}
	if d := f.str("direction"); d != "" {
		dir, ok := normDirection(d)
		if !ok {
			f.fail("direction", fmt.Sprintf("want inbound or outbound, got %q", truncate(d, 40)))
		}
		m.Direction = dir
	} else if f.err == nil {
		f.fail("direction", "missing; want inbound or outbound")
	}
	key := "attachments"
	if _, ok := f.obj[key]; !ok {
		key = "media"
	}
	for i, v := range f.list(key) {
		o, ok := v.(object)
		if !ok {
			f.fail(fmt.Sprintf("%s[%d]", key, i), "want an object, got "+kindOf(v))
			break
		}
		mf := f.nested(fmt.Sprintf("%s[%d]", key, i), o)
		ref := MediaRef{URL: mf.str("url"), Name: mf.str("name", "filename"), ContentType: mf.str("content_type", "mime_type", "type"), Size: mf.int("size", "bytes")}
		if mf.err != nil {
			break
		}
		if ref.URL == "" {
			f.fail(fmt.Sprintf("%s[%d].url", key, i), "missing; an attachment needs its URL")
			break
		}
		m.Media = append(m.Media, ref)
	}
	if co := f.object("call"); co != nil {
		cf := f.nested("call", co)
		secs := cf.float("duration", "duration_seconds")
		if secs < 0 || secs > 1e7 {
			cf.fail("duration", fmt.Sprintf("%v seconds is not a call length", secs))
		}
		m.Call = &CallData{
			Duration:      time.Duration(secs * float64(time.Second)),
			Status:        cf.str("status"),
			RecordingURL:  cf.str("recording_url"),
			Transcription: cf.str("transcription", "transcript"),
		}
		if m.Channel == "" {
			m.Channel = ChannelCall
		}
	}
	return m
}

func decodeHistory(f *fields) HistoryEntry {
	h := HistoryEntry{
		ID:        f.id("id"),
		ContactID: f.id("contact_id"),
		Type:      f.str("history_type", "type"),
		Subject:   f.str("subject", "title"),
		Body:      f.str("description", "body"),
		At:        f.time("occurred_at", "created_at", "date"),
	}
	if h.ID == "" && f.err == nil {
		f.fail("id", "missing; a history entry needs its id")
	}
	return h
}

// ChangedConversations implements Conversations over the
// conversations.changed route.
//
// With a page or offset scheme (the default) it pages by key, not by page
// number: each request asks for conversations updated at or after the last
// one seen (updated_since), skipping the ids already returned at that
// instant. Page numbers over a list sorted by update time skip a
// conversation whenever an earlier one is updated during the listing (it
// moves to the end and the rest shift up a place), and the cursor would
// then move past the skipped one for good. The page number is only used
// while a whole page shares one timestamp. This needs the server to sort
// by updated_at, oldest first, and to honour updated_since; a reply that
// does not is an error. With a cursor scheme the server's cursor is
// followed as is. page, once set, carries the position: since is then
// ignored.
func (c *Client) ChangedConversations(ctx context.Context, since Cursor, page PageToken) (Page[Conversation], Cursor, error) {
	const op = "list changed conversations"
	rt, _ := c.routes.Route(RouteConversations)
	if s := rt.Paging.Scheme; s != PagingPage && s != PagingOffset {
		return c.changedByServerCursor(ctx, since, page)
	}
	ks := keyset{Since: string(since)}
	if page != "" {
		var err error
		if ks, err = decodeKeyset(page); err != nil {
			return Page[Conversation]{}, since, fmt.Errorf("activedemand: %s: page token %q is not from this listing; start again from the saved cursor", op, page)
		}
	}
	sinceT, err := Cursor(ks.Since).Time()
	if err != nil {
		return Page[Conversation]{}, since, fmt.Errorf("activedemand: %s: cursor: %w", op, err)
	}
	p := rt.Paging
	q := url.Values{}
	if p.SizeParam != "" {
		q.Set(p.SizeParam, strconv.Itoa(p.PageSize))
	}
	if p.Scheme == PagingPage {
		q.Set(p.PageParam, strconv.Itoa(p.FirstPage+ks.Page))
	} else {
		q.Set(p.PageParam, strconv.Itoa(ks.Page*p.PageSize))
	}
	args := map[string]string{}
	if ks.Since != "" {
		args["since"] = ks.Since
	}
	raw, _, _, err := fetchPage(ctx, c, op, RouteConversations, args, q, p.ItemsField, decodeConversation)
	if err != nil {
		return Page[Conversation]{}, Cursor(ks.Since), err
	}
	seen := make(map[ID]bool, len(ks.Seen))
	for _, id := range ks.Seen {
		seen[id] = true
	}
	var fresh []Conversation
	for i, cv := range raw {
		if cv.UpdatedAt.Before(sinceT) || (i > 0 && cv.UpdatedAt.Before(raw[i-1].UpdatedAt)) {
			return Page[Conversation]{}, Cursor(ks.Since), fmt.Errorf("activedemand: %s: conversation %s is out of order (updated %s, listing from %s): the server does not sort by updated_at or ignores %s; %w",
				op, cv.ID, cv.UpdatedAt.Format(time.RFC3339), ks.Since, rt.Params["since"], ErrPagingIgnored)
		}
		if !seen[cv.ID] {
			fresh = append(fresh, cv)
		}
	}
	// The end: nothing at all, or nothing new even when paging forward.
	if len(raw) == 0 || (len(fresh) == 0 && ks.Page > 0) {
		return Page[Conversation]{Items: fresh}, Cursor(ks.Since), nil
	}
	last := raw[len(raw)-1].UpdatedAt
	sameKey := ks.Since != "" && last.Equal(sinceT)
	next := keyset{Since: string(CursorAt(last))}
	if sameKey {
		next.Seen = ks.Seen
	}
	for _, cv := range raw {
		if cv.UpdatedAt.Equal(last) && !seen[cv.ID] {
			next.Seen = append(next.Seen, cv.ID)
		}
	}
	// A page that is all one timestamp cannot move the key forward: page
	// on at that timestamp instead.
	if len(fresh) == 0 || raw[0].UpdatedAt.Equal(last) {
		next.Page = 1
		if sameKey {
			next.Page = ks.Page + 1
		}
	}
	return Page[Conversation]{Items: fresh, Next: next.token()}, Cursor(next.Since), nil
}

// keyset is a position in a changed-conversations listing: the update
// time reached, the ids already returned at exactly that time, and how
// many pages have been read at it.
type keyset struct {
	Since string `json:"s"`
	Page  int    `json:"p,omitempty"`
	Seen  []ID   `json:"x,omitempty"`
}

func (k keyset) token() PageToken {
	b, _ := json.Marshal(k)
	return PageToken("k:" + base64.RawURLEncoding.EncodeToString(b))
}

func decodeKeyset(tok PageToken) (keyset, error) {
	var k keyset
	s, ok := strings.CutPrefix(string(tok), "k:")
	if !ok {
		return k, errors.New("not a key token")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return k, err
	}
	if k.Page < 0 || k.Page > 1<<20 {
		return k, errors.New("bad page")
	}
	return k, nil
}

// changedByServerCursor lists changed conversations when the route pages
// by a server cursor (or not at all): the server keeps the listing
// consistent.
func (c *Client) changedByServerCursor(ctx context.Context, since Cursor, page PageToken) (Page[Conversation], Cursor, error) {
	const op = "list changed conversations"
	sinceT, err := since.Time()
	if err != nil {
		return Page[Conversation]{}, since, fmt.Errorf("activedemand: %s: cursor: %w", op, err)
	}
	args := map[string]string{}
	if since != "" {
		args["since"] = string(since)
	}
	p, err := listPage(ctx, c, op, RouteConversations, args, page, decodeConversation)
	if err != nil {
		return p, since, err
	}
	latest := sinceT
	for _, cv := range p.Items {
		if cv.UpdatedAt.After(latest) {
			latest = cv.UpdatedAt
		}
	}
	if latest.IsZero() {
		return p, since, nil
	}
	return p, CursorAt(latest), nil
}

// Messages implements Conversations over the messages.list route.
func (c *Client) Messages(ctx context.Context, conversationID ID, page PageToken) (Page[Message], error) {
	if conversationID == "" {
		return Page[Message]{}, errors.New("activedemand: list messages: conversation id is empty")
	}
	return listPage(ctx, c, "list messages", RouteMessagesList, map[string]string{"conversation_id": string(conversationID)}, page, decodeMessage)
}

// SetMessageStatus implements Conversations over the messages.status route.
func (c *Client) SetMessageStatus(ctx context.Context, messageID ID, status MessageStatus) error {
	const op = "report message status"
	if messageID == "" || status == "" {
		return fmt.Errorf("activedemand: %s: need a message id and a status", op)
	}
	_, err := c.do(ctx, call{op: op, route: RouteMessageStatus, args: map[string]string{"message_id": string(messageID), "status": string(status)}})
	return err
}

// History implements Conversations over the histories.list route.
func (c *Client) History(ctx context.Context, contactID ID, page PageToken) (Page[HistoryEntry], error) {
	if contactID == "" {
		return Page[HistoryEntry]{}, errors.New("activedemand: list history: contact id is empty")
	}
	return listPage(ctx, c, "list history", RouteHistoryList, map[string]string{"contact_id": string(contactID)}, page, decodeHistory)
}

// create runs a POST route that replies with [{"id": ...}].
func (c *Client) create(ctx context.Context, op, route string, args map[string]string) (ID, error) {
	var id ID
	_, err := c.do(ctx, call{op: op, route: route, args: args, decode: func(rep reply) error {
		var err error
		id, err = firstID(op, rep.body)
		return err
	}})
	return id, err
}

// AddHistory implements Conversations over the histories.create route.
func (c *Client) AddHistory(ctx context.Context, e NewHistoryEntry) (ID, error) {
	const op = "create history entry"
	if e.ContactID == "" || e.Type == "" {
		return "", fmt.Errorf("activedemand: %s: need a contact id and a history type", op)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	return c.create(ctx, op, RouteHistoryCreate, map[string]string{
		"contact_id": string(e.ContactID), "type": e.Type, "subject": e.Subject, "body": e.Body, "at": at.UTC().Format(time.RFC3339),
	})
}

// RaiseTask implements Conversations over the tasks.create route.
func (c *Client) RaiseTask(ctx context.Context, t NewTask) (ID, error) {
	const op = "raise task"
	if strings.TrimSpace(t.Title) == "" {
		return "", fmt.Errorf("activedemand: %s: a task needs a title", op)
	}
	args := map[string]string{"contact_id": string(t.ContactID), "title": t.Title, "body": t.Body, "priority": t.Priority}
	if !t.Due.IsZero() {
		args["due_at"] = t.Due.UTC().Format(time.RFC3339)
	}
	return c.create(ctx, op, RouteTaskCreate, args)
}

// SubscribeWebhook implements Conversations over the webhooks.subscribe
// route.
func (c *Client) SubscribeWebhook(ctx context.Context, url string, event EventType) (ID, error) {
	const op = "subscribe webhook"
	if url == "" || event == "" {
		return "", fmt.Errorf("activedemand: %s: need a URL and an event", op)
	}
	return c.create(ctx, op, RouteWebhookSubscribe, map[string]string{"url": url, "event": string(event)})
}

// UnsubscribeWebhook implements Conversations over the
// webhooks.unsubscribe route.
func (c *Client) UnsubscribeWebhook(ctx context.Context, id ID) error {
	const op = "unsubscribe webhook"
	if id == "" {
		return fmt.Errorf("activedemand: %s: subscription id is empty", op)
	}
	_, err := c.do(ctx, call{op: op, route: RouteWebhookDelete, args: map[string]string{"webhook_id": string(id)}})
	return err
}
