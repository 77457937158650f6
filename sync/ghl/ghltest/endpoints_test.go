package ghltest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

type searchAnswer struct {
	Conversations []struct {
		ID              string `json:"id"`
		ContactID       string `json:"contactId"`
		LastMessageDate int64  `json:"lastMessageDate"`
		LastMessageBody string `json:"lastMessageBody"`
		UnreadCount     int    `json:"unreadCount"`
		Starred         bool   `json:"starred"`
		Email           string `json:"email"`
	} `json:"conversations"`
	Total int `json:"total"`
}

func TestConversationEndpoints(t *testing.T) {
	for _, specShapes := range []bool{false, true} {
		t.Run(fmt.Sprintf("SpecShapes=%v", specShapes), func(t *testing.T) {
			srv, c := seeded(t, Options{SpecShapes: specShapes})
			loc := srv.LocationID()
			all := srv.Conversations()

			var sa searchAnswer
			c.mustDo(200, "GET", "/conversations/search?limit=100&locationId="+loc, nil).decode(t, &sa)
			if sa.Total != len(all) || len(sa.Conversations) != len(all) {
				t.Fatalf("search: %d of total %d, want %d", len(sa.Conversations), sa.Total, len(all))
			}
			for i := 1; i < len(sa.Conversations); i++ {
				if sa.Conversations[i-1].LastMessageDate <= sa.Conversations[i].LastMessageDate {
					t.Fatalf("search is not newest first at %d", i)
				}
			}

			target := all[len(all)/2]
			var contact Contact
			for _, ct := range srv.Contacts() {
				if ct.ID == target.ContactID {
					contact = ct
				}
			}
			filters := []struct {
				query string
				keep  func(Conversation) bool
			}{
				{"contactId=" + target.ContactID, func(cv Conversation) bool { return cv.ID == target.ID }},
				{"query=" + url.QueryEscape(strings.ToUpper(contact.Email)), func(cv Conversation) bool { return cv.ID == target.ID }},
				{"status=unread", func(cv Conversation) bool { return cv.UnreadCount > 0 }},
				{"status=read", func(cv Conversation) bool { return cv.UnreadCount == 0 }},
				{"status=all", func(Conversation) bool { return true }},
			}
			for _, f := range filters {
				var got searchAnswer
				c.mustDo(200, "GET", "/conversations/search?limit=100&locationId="+loc+"&"+f.query, nil).decode(t, &got)
				var want []string
				for _, cv := range all {
					if f.keep(cv) {
						want = append(want, cv.ID)
					}
				}
				var ids []string
				for _, cv := range got.Conversations {
					ids = append(ids, cv.ID)
				}
				slices.Sort(want)
				slices.Sort(ids)
				if !slices.Equal(ids, want) || got.Total != len(want) {
					t.Errorf("search %s: got %d (total %d), want %d", f.query, len(ids), got.Total, len(want))
				}
			}

			var byID struct {
				ID          string `json:"id"`
				Type        int    `json:"type"`
				UnreadCount int    `json:"unreadCount"`
			}
			c.mustDo(200, "GET", "/conversations/"+target.ID, nil).decode(t, &byID)
			if byID.ID != target.ID || byID.Type != 1 && byID.Type != 2 {
				t.Errorf("get conversation: %+v", byID)
			}

			var upd struct {
				Success      bool `json:"success"`
				Conversation struct {
					Starred     bool `json:"starred"`
					UnreadCount int  `json:"unreadCount"`
				} `json:"conversation"`
			}
			c.mustDo(200, "PUT", "/conversations/"+target.ID, map[string]any{"locationId": loc, "starred": true, "unreadCount": 0}).decode(t, &upd)
			if !upd.Success || !upd.Conversation.Starred || upd.Conversation.UnreadCount != 0 {
				t.Errorf("update: %+v", upd)
			}
			if cv, _ := srv.Conversation(target.ID); !cv.Starred || cv.UnreadCount != 0 {
				t.Errorf("update not kept: %+v", cv)
			}

			// One conversation per contact.
			ct := srv.AddContact(Contact{FirstName: "Nadia", LastName: "Osei", Email: "nadia@example.com", Phone: "+19025550199"})
			var created struct {
				Success      bool `json:"success"`
				Conversation struct {
					ID        string `json:"id"`
					ContactID string `json:"contactId"`
				} `json:"conversation"`
			}
			c.mustDo(201, "POST", "/conversations/", map[string]any{"locationId": loc, "contactId": ct.ID}).decode(t, &created)
			if !created.Success || created.Conversation.ContactID != ct.ID {
				t.Fatalf("create: %+v", created)
			}
			var dup struct {
				Message        string `json:"message"`
				ConversationID string `json:"conversationId"`
			}
			c.mustDo(400, "POST", "/conversations/", map[string]any{"locationId": loc, "contactId": ct.ID}).decode(t, &dup)
			if dup.Message != "Conversation already exists" || dup.ConversationID != created.Conversation.ID {
				t.Errorf("second create: %+v", dup)
			}
			// The new conversation has no messages and still lists.
			var one searchAnswer
			c.mustDo(200, "GET", "/conversations/search?locationId="+loc+"&contactId="+ct.ID, nil).decode(t, &one)
			if one.Total != 1 || one.Conversations[0].ID != created.Conversation.ID {
				t.Errorf("search for the new conversation: %+v", one)
			}

			var del struct {
				Success bool `json:"success"`
			}
			c.mustDo(200, "DELETE", "/conversations/"+created.Conversation.ID, nil).decode(t, &del)
			if !del.Success {
				t.Error("delete: not successful")
			}
			c.mustDo(404, "GET", "/conversations/"+created.Conversation.ID, nil)
			if _, ok := srv.Conversation(created.Conversation.ID); ok {
				t.Error("deleted conversation still in state")
			}
		})
	}
}

type listAnswer struct {
	LastMessageID string    `json:"lastMessageId"`
	NextPage      bool      `json:"nextPage"`
	Messages      []Message `json:"messages"`
}

// listMessages reads one page in either shape.
func listMessages(t *testing.T, c *client, convID, query string) listAnswer {
	t.Helper()
	r := c.mustDo(200, "GET", "/conversations/"+convID+"/messages?"+query, nil)
	var page listAnswer
	if c.srv.opts.SpecShapes {
		r.decode(t, &page)
		return page
	}
	var wrapped struct {
		Messages listAnswer `json:"messages"`
		TraceID  string     `json:"traceId"`
	}
	r.decode(t, &wrapped)
	if wrapped.TraceID == "" {
		t.Error("wrapped list without traceId")
	}
	return wrapped.Messages
}

func getMessage(t *testing.T, c *client, id string) Message {
	t.Helper()
	r := c.mustDo(200, "GET", "/conversations/messages/"+id, nil)
	if c.srv.opts.SpecShapes {
		var m Message
		r.decode(t, &m)
		return m
	}
	var wrapped struct {
		Message Message `json:"message"`
		TraceID string  `json:"traceId"`
	}
	r.decode(t, &wrapped)
	return wrapped.Message
}

func TestMessageListAndGet(t *testing.T) {
	for _, specShapes := range []bool{false, true} {
		t.Run(fmt.Sprintf("SpecShapes=%v", specShapes), func(t *testing.T) {
			srv, c := seeded(t, Options{SpecShapes: specShapes})
			// The conversation with the most messages pages best.
			var conv Conversation
			for _, cv := range srv.Conversations() {
				if len(srv.Messages(cv.ID)) > len(srv.Messages(conv.ID)) {
					conv = cv
				}
			}
			want := srv.Messages(conv.ID)
			slices.Reverse(want) // the API lists newest first
			var got []Message
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
				q := "limit=2"
				if cursor != "" {
					q += "&lastMessageId=" + cursor
				}
				page := listMessages(t, c, conv.ID, q)
				got = append(got, page.Messages...)
				if !page.NextPage {
					break
				}
				cursor = page.LastMessageID
			}
			if len(got) != len(want) {
				t.Fatalf("paged %d messages, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].ID != want[i].ID || got[i].AltID != want[i].AltID || got[i].AltID == "" {
					t.Fatalf("message %d: got %s/%s, want %s/%s", i, got[i].ID, got[i].AltID, want[i].ID, want[i].AltID)
				}
			}

			callConv, call := firstWith(t, srv, func(m Message) bool { return m.MessageType == "TYPE_CALL" })
			page := listMessages(t, c, callConv.ID, "limit=100&type=TYPE_CALL,TYPE_INTERNAL_COMMENTS")
			if len(page.Messages) == 0 {
				t.Fatal("type filter found no calls")
			}
			for _, m := range page.Messages {
				if m.MessageType != "TYPE_CALL" {
					t.Errorf("type filter let %s through", m.MessageType)
				}
			}

			m := getMessage(t, c, call.ID)
			if m.ID != call.ID || m.AltID != call.AltID || m.Meta == nil || m.Meta.CallStatus == "" || m.Type != 1 {
				t.Errorf("get message: %+v", m)
			}
			c.mustDo(404, "GET", "/conversations/messages/nosuchmessage0000000", nil)
		})
	}
}

func TestDeliverMessages(t *testing.T) {
	clock := newFakeClock()
	srv, c := seeded(t, Options{Clock: clock.Now, SpecShapes: true})
	conv := srv.Conversations()[0]
	provider := srv.ConversationProviderID()

	type sendAnswer struct {
		ConversationID string `json:"conversationId"`
		MessageID      string `json:"messageId"`
		EmailMessageID string `json:"emailMessageId"`
		Status         string `json:"status"`
	}
	var sms sendAnswer
	c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "SMS", "contactId": conv.ContactID, "message": "See you Thursday"}).decode(t, &sms)
	m, ok := srv.Message(sms.MessageID)
	if !ok || sms.ConversationID != conv.ID || m.Direction != "outbound" || m.MessageType != "TYPE_SMS" || m.Body != "See you Thursday" {
		t.Fatalf("sms: %+v / %+v", sms, m)
	}
	if cv, _ := srv.Conversation(conv.ID); cv.LastMessageBody != "See you Thursday" || !cv.LastMessageDate.Equal(clock.Now()) {
		t.Errorf("conversation not updated: %+v", cv)
	}

	// Delivering to a contact without a conversation creates it.
	ct := srv.AddContact(Contact{FirstName: "Ines", LastName: "Paquet", Email: "ines@example.com", Phone: "+19025550142"})
	var first sendAnswer
	c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "WhatsApp", "contactId": ct.ID, "message": "Bonjour"}).decode(t, &first)
	if cv, ok := srv.ConversationForContact(ct.ID); !ok || cv.ID != first.ConversationID {
		t.Errorf("no conversation created for the contact: %+v", first)
	}

	// A scheduled email stays scheduled until its time, and can be cancelled
	// before.
	sendEmail := func(at time.Time) sendAnswer {
		var a sendAnswer
		c.mustDo(200, "POST", "/conversations/messages", map[string]any{
			"type": "Email", "contactId": conv.ContactID, "subject": "Your quote", "html": "<p>Attached.</p>",
			"emailTo": "someone@example.com", "scheduledTimestamp": at.Unix(),
		}).decode(t, &a)
		if a.EmailMessageID == "" {
			t.Fatalf("email without emailMessageId: %+v", a)
		}
		return a
	}
	later := sendEmail(clock.Now().Add(time.Hour))
	if m, _ := srv.Message(later.MessageID); m.Status != "scheduled" || m.Subject != "Your quote" || m.EmailMessageID() != later.EmailMessageID {
		t.Fatalf("scheduled email: %+v", m)
	}
	var email struct {
		ID      string   `json:"id"`
		Subject string   `json:"subject"`
		Status  string   `json:"status"`
		To      []string `json:"to"`
	}
	c.mustDo(200, "GET", "/conversations/messages/email/"+later.EmailMessageID, nil).decode(t, &email)
	if email.ID != later.EmailMessageID || email.Status != "scheduled" || email.Subject != "Your quote" {
		t.Errorf("get email: %+v", email)
	}
	var cancelled struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	c.mustDo(200, "DELETE", "/conversations/messages/email/"+later.EmailMessageID+"/schedule", nil).decode(t, &cancelled)
	if cancelled.Status != 200 {
		t.Errorf("cancel: %+v", cancelled)
	}
	c.mustDo(400, "DELETE", "/conversations/messages/email/"+later.EmailMessageID+"/schedule", nil)
	c.mustDo(404, "DELETE", "/conversations/messages/email/nosuchemail/schedule", nil)

	soon := sendEmail(clock.Now().Add(time.Minute))
	clock.Advance(2 * time.Minute)
	if m, _ := srv.Message(soon.MessageID); m.Status != "delivered" {
		t.Errorf("email past its time is %q", m.Status)
	}
	c.mustDo(400, "DELETE", "/conversations/messages/email/"+soon.EmailMessageID+"/schedule", nil)

	// Custom: the location's provider delivers and reports the status.
	var custom sendAnswer
	c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "Custom", "contactId": conv.ContactID, "message": "via provider", "conversationProviderId": provider}).decode(t, &custom)
	if custom.Status != "pending" {
		t.Errorf("custom send status %q", custom.Status)
	}
	c.mustDo(400, "POST", "/conversations/messages", map[string]any{"type": "Custom", "contactId": conv.ContactID, "message": "x", "conversationProviderId": "someoneelse"})
	var st struct {
		MessageID string `json:"messageId"`
		Status    string `json:"status"`
	}
	c.mustDo(200, "PUT", "/conversations/messages/"+custom.MessageID+"/status", map[string]any{
		"status": "failed", "error": map[string]string{"code": "30003", "type": "carrier", "message": "Unreachable"},
	}).decode(t, &st)
	if m, _ := srv.Message(custom.MessageID); m.Status != "failed" || m.Error == nil || m.Error.Code != "30003" || st.Status != "failed" {
		t.Errorf("status update: %+v", m)
	}
	// Messages GHL delivered itself are not the provider's to update.
	c.mustDo(403, "PUT", "/conversations/messages/"+sms.MessageID+"/status", map[string]any{"status": "read"})
	c.mustDo(400, "POST", "/conversations/messages", map[string]any{"type": "SMS", "contactId": "nosuchcontact", "message": "x"})
}

func TestRecordMessages(t *testing.T) {
	srv, c := seeded(t, Options{SpecShapes: true})
	conv := srv.Conversations()[0]
	provider := srv.ConversationProviderID()
	before := len(srv.Messages(conv.ID))
	unread := conv.UnreadCount

	type recordAnswer struct {
		Success        bool   `json:"success"`
		ConversationID string `json:"conversationId"`
		MessageID      string `json:"messageId"`
		EmailMessageID string `json:"emailMessageId"`
	}
	at := time.Date(2025, 7, 1, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		name  string
		route string
		body  map[string]any
		check func(Message) bool
	}{
		{"inbound sms", "/conversations/messages/inbound",
			map[string]any{"type": "SMS", "message": "Is Tuesday free?", "direction": "inbound", "altId": "ad-101", "date": at.Format(time.RFC3339)},
			func(m Message) bool {
				return m.Direction == "inbound" && m.AltID == "ad-101" && m.DateAdded.Equal(at) && m.MessageType == "TYPE_SMS"
			}},
		{"outbound via inbound, default direction", "/conversations/messages/inbound",
			map[string]any{"type": "Custom", "message": "Yes, 10am.", "altId": "ad-102"},
			func(m Message) bool { return m.Direction == "outbound" && m.MessageType == "TYPE_CUSTOM_SMS" }},
		{"email record", "/conversations/messages/inbound",
			map[string]any{"type": "Email", "html": "<p>Thanks</p>", "subject": "Re: quote", "direction": "inbound", "altId": "ad-103"},
			func(m Message) bool {
				return m.Subject == "Re: quote" && m.EmailMessageID() != "" && m.ContentType == "text/html"
			}},
		{"call record", "/conversations/messages/outbound",
			map[string]any{"type": "Call", "altId": "ad-104", "call": map[string]string{"to": "+19025550100", "from": "+19025551000", "status": "completed"}},
			func(m Message) bool {
				return m.Direction == "outbound" && m.MessageType == "TYPE_CALL" && m.Meta != nil && m.Meta.CallStatus == "completed"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"conversationId": conv.ID, "conversationProviderId": provider}
			if tc.route == "/conversations/messages/inbound" {
				body["contactId"] = conv.ContactID
			}
			for k, v := range tc.body {
				body[k] = v
			}
			var a recordAnswer
			c.mustDo(200, "POST", tc.route, body).decode(t, &a)
			m, ok := srv.Message(a.MessageID)
			if !a.Success || !ok || a.ConversationID != conv.ID || !tc.check(m) {
				t.Fatalf("answer %+v, stored %+v", a, m)
			}
			if len(m.ID) != 20 {
				t.Errorf("message id %q is not 20 characters", m.ID)
			}
		})
	}
	after, _ := srv.Conversation(conv.ID)
	if got := len(srv.Messages(conv.ID)); got != before+len(cases) {
		t.Errorf("%d messages, want %d", got, before+len(cases))
	}
	if after.UnreadCount != unread+2 {
		t.Errorf("unread %d, want %d (two inbound records)", after.UnreadCount, unread+2)
	}

	// ERRATA 20: a Custom record without a valid provider: empty 201,
	// nothing recorded.
	r := c.do("POST", "/conversations/messages/inbound", map[string]any{
		"type": "Custom", "conversationId": conv.ID, "contactId": conv.ContactID, "conversationProviderId": "notmyprovider", "message": "lost",
	}, nil)
	if r.status != http.StatusCreated || len(r.body) != 0 {
		t.Errorf("invalid provider: %d %q", r.status, r.body)
	}
	if got := len(srv.Messages(conv.ID)); got != before+len(cases) {
		t.Error("a record without a valid provider was stored")
	}
	// Other types are refused outright.
	c.mustDo(400, "POST", "/conversations/messages/inbound", map[string]any{
		"type": "SMS", "conversationId": conv.ID, "contactId": conv.ContactID, "conversationProviderId": "notmyprovider", "message": "x",
	})
	c.mustDo(400, "POST", "/conversations/messages/inbound", map[string]any{
		"type": "SMS", "conversationId": "nosuchconversation", "contactId": conv.ContactID, "conversationProviderId": provider, "message": "x",
	})
	// No de-duplication by altId (ERRATA 19).
	for range 2 {
		c.mustDo(200, "POST", "/conversations/messages/inbound", map[string]any{
			"type": "SMS", "conversationId": conv.ID, "contactId": conv.ContactID, "conversationProviderId": provider, "message": "twice", "altId": "ad-dup",
		})
	}
	n := 0
	for _, m := range srv.Messages(conv.ID) {
		if m.AltID == "ad-dup" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d messages with the repeated altId, want 2", n)
	}
}

func TestContactEndpoints(t *testing.T) {
	srv, c := seeded(t, Options{})
	loc := srv.LocationID()
	known := srv.Contacts()[3]

	type dupAnswer struct {
		Contact *struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"contact"`
	}
	dupCases := []struct {
		query string
		want  string
	}{
		{"email=" + url.QueryEscape(strings.ToUpper(known.Email)), known.ID},
		{"number=" + url.QueryEscape(known.Phone), known.ID},
		{"number=" + strings.TrimPrefix(known.Phone, "+1"), known.ID},
		{"email=nobody%40example.com", ""},
	}
	for _, tc := range dupCases {
		var a dupAnswer
		c.mustDo(200, "GET", "/contacts/search/duplicate?locationId="+loc+"&"+tc.query, nil).decode(t, &a)
		got := ""
		if a.Contact != nil {
			got = a.Contact.ID
		}
		if got != tc.want {
			t.Errorf("duplicate %s: got %q, want %q", tc.query, got, tc.want)
		}
	}

	type upsertAnswer struct {
		New     bool `json:"new"`
		Contact struct {
			ID        string   `json:"id"`
			FirstName string   `json:"firstName"`
			City      string   `json:"city"`
			Tags      []string `json:"tags"`
		} `json:"contact"`
		TraceID string `json:"traceId"`
	}
	var up upsertAnswer
	c.mustDo(200, "POST", "/contacts/upsert", map[string]any{"locationId": loc, "email": known.Email, "city": "Sydney", "tags": []string{"synced"}}).decode(t, &up)
	if up.New || up.Contact.ID != known.ID || up.Contact.City != "Sydney" || !slices.Equal(up.Contact.Tags, []string{"synced"}) || up.TraceID == "" {
		t.Errorf("upsert of a known contact: %+v", up)
	}
	c.mustDo(200, "POST", "/contacts/upsert", map[string]any{"locationId": loc, "firstName": "Remy", "email": "remy@example.com", "phone": "902 555 0177"}).decode(t, &up)
	if !up.New || up.Contact.FirstName != "Remy" {
		t.Errorf("upsert of a new contact: %+v", up)
	}
	// The phone was normalised, so a duplicate search in E.164 finds it.
	var a dupAnswer
	c.mustDo(200, "GET", "/contacts/search/duplicate?locationId="+loc+"&number=%2B19025550177", nil).decode(t, &a)
	if a.Contact == nil || a.Contact.ID != up.Contact.ID {
		t.Errorf("upserted phone not found: %+v", a)
	}

	var created struct {
		Contact struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"contact"`
	}
	c.mustDo(201, "POST", "/contacts/", map[string]any{"locationId": loc, "name": "Ada Byron", "email": "ada@example.com"}).decode(t, &created)
	if created.Contact.ID == "" || created.Contact.Name != "Ada Byron" {
		t.Errorf("create: %+v", created)
	}
	var dupErr struct {
		Message string            `json:"message"`
		Meta    map[string]string `json:"meta"`
	}
	c.mustDo(400, "POST", "/contacts/", map[string]any{"locationId": loc, "email": "ADA@example.com"}).decode(t, &dupErr)
	if dupErr.Meta["contactId"] != created.Contact.ID || dupErr.Meta["matchingField"] != "email" {
		t.Errorf("duplicate create: %+v", dupErr)
	}

	var got struct {
		Contact struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"contact"`
	}
	c.mustDo(200, "GET", "/contacts/"+known.ID, nil).decode(t, &got)
	if got.Contact.ID != known.ID || got.Contact.Email != known.Email {
		t.Errorf("get contact: %+v", got)
	}
	c.mustDo(404, "GET", "/contacts/nosuchcontact", nil)

	var found struct {
		Contacts []struct {
			ID string `json:"id"`
		} `json:"contacts"`
		Total int `json:"total"`
	}
	c.mustDo(200, "POST", "/contacts/search", map[string]any{"locationId": loc, "query": known.LastName, "pageLimit": 50, "page": 1}).decode(t, &found)
	if found.Total == 0 || !slices.ContainsFunc(found.Contacts, func(x struct {
		ID string `json:"id"`
	}) bool {
		return x.ID == known.ID
	}) {
		t.Errorf("search by last name: %+v", found)
	}
	c.mustDo(200, "POST", "/contacts/search", map[string]any{"locationId": loc, "pageLimit": 5, "page": 2, "filters": []map[string]string{{"field": "email", "operator": "eq", "value": known.Email}}}).decode(t, &found)
	if found.Total != 1 || len(found.Contacts) != 0 {
		t.Errorf("filter with page 2 of 1 result: %+v", found)
	}
	c.mustDo(422, "POST", "/contacts/search", map[string]any{"query": "x"})
}
