package ghltest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"parley/sync/internal/demobiz"
)

func TestSeedMatchesDemobiz(t *testing.T) {
	clock := newFakeClock()
	srv, err := New(Options{Seed: 7, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b := demobiz.Seed(7, clock.Now())

	inGHL := 0
	for _, dc := range b.Contacts {
		if dc.InGHL {
			inGHL++
			id, ok := srv.ContactIDForKey(dc.Key)
			if !ok {
				t.Fatalf("contact %s not seeded", dc.Key)
			}
			var got Contact
			for _, c := range srv.Contacts() {
				if c.ID == id {
					got = c
				}
			}
			if got.Email != dc.Email || got.Phone != dc.Phone || got.FirstName != dc.FirstName || got.LastName != dc.LastName ||
				got.City != dc.City || got.CompanyName != dc.Company || got.Source != dc.Source || !slices.Equal(got.Tags, dc.Tags) {
				t.Errorf("contact %s: %+v", dc.Key, got)
			}
		} else if _, ok := srv.ContactIDForKey(dc.Key); ok {
			t.Errorf("contact %s is not in HighLevel but was seeded", dc.Key)
		}
	}
	if len(srv.Contacts()) != inGHL {
		t.Errorf("%d contacts, want %d", len(srv.Contacts()), inGHL)
	}

	contactsWithConv := map[string]bool{}
	mirrored := 0
	idPattern := regexp.MustCompile(`^[0-9A-Za-z]{20}$`)
	for _, dv := range b.Conversations {
		for i, dm := range dv.Messages {
			id, ok := srv.MessageIDForKey(dm.Key)
			if want := dv.Mirrored && i < dv.MirroredUpTo; ok != want {
				t.Fatalf("message %s seeded = %v, want %v", dm.Key, ok, want)
			}
			if !ok {
				continue
			}
			mirrored++
			contactsWithConv[dv.ContactKey] = true
			m, _ := srv.Message(id)
			if !idPattern.MatchString(m.ID) || m.AltID != dm.Key || m.Direction != string(dm.Direction) || !m.DateAdded.Equal(dm.At) ||
				m.Body != dm.Body || m.ConversationProviderID != srv.ConversationProviderID() {
				t.Errorf("message %s: %+v", dm.Key, m)
			}
			switch dv.Channel {
			case demobiz.ChannelEmail:
				if m.MessageType != "TYPE_EMAIL" || m.Subject != dv.Subject || m.EmailMessageID() == "" {
					t.Errorf("email %s: %+v", dm.Key, m)
				}
			case demobiz.ChannelCall:
				if m.MessageType != "TYPE_CALL" || m.HasRecording() != (dm.Call.Duration > 0) || m.Meta.CallStatus != dm.Call.Status ||
					m.Meta.CallDuration != strconv.Itoa(int(dm.Call.Duration/time.Second)) {
					t.Errorf("call %s: %+v", dm.Key, m)
				}
			}
			if (dm.Attachment != "") != (len(m.Attachments) == 1) {
				t.Errorf("message %s attachments %v, demo %q", dm.Key, m.Attachments, dm.Attachment)
			}
		}
	}
	convs := srv.Conversations()
	if len(convs) != len(contactsWithConv) {
		t.Errorf("%d conversations, want one per contact with mirrored messages: %d", len(convs), len(contactsWithConv))
	}
	total := 0
	for _, cv := range convs {
		msgs := srv.Messages(cv.ID)
		total += len(msgs)
		last := msgs[len(msgs)-1]
		trailingInbound := 0
		for i := len(msgs) - 1; i >= 0 && msgs[i].Direction == "inbound"; i-- {
			trailingInbound++
		}
		if cv.LastMessageBody != last.Body || !cv.LastMessageDate.Equal(last.DateAdded) || cv.LastMessageType != last.MessageType ||
			cv.UnreadCount != trailingInbound || cv.DateAdded.After(msgs[0].DateAdded) {
			t.Errorf("conversation %s is inconsistent with its messages: %+v", cv.ID, cv)
		}
		for i := 1; i < len(msgs); i++ {
			if msgs[i].DateAdded.Before(msgs[i-1].DateAdded) {
				t.Errorf("conversation %s messages are not oldest first", cv.ID)
			}
		}
	}
	if total != mirrored {
		t.Errorf("%d messages, want %d", total, mirrored)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	clock := newFakeClock()
	ids := func(seed uint64) []string {
		srv, err := New(Options{Seed: seed, Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range srv.Contacts() {
			out = append(out, c.ID)
		}
		for _, cv := range srv.Conversations() {
			out = append(out, cv.ID)
			for _, m := range srv.Messages(cv.ID) {
				out = append(out, m.ID, m.EmailMessageID())
			}
		}
		return append(out, srv.ConversationProviderID())
	}
	a, b, other := ids(3), ids(3), ids(4)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different ids")
	}
	if slices.Equal(a, other) {
		t.Error("different seeds gave the same ids")
	}
	empty, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Contacts()) != 0 || len(empty.Conversations()) != 0 {
		t.Error("an unseeded sandbox has data")
	}
}

func TestSearchPagingCoversEveryConversationOnce(t *testing.T) {
	clock := newFakeClock()
	srv, c := seeded(t, Options{Clock: clock.Now})
	// Conversations whose last messages share a millisecond must not be
	// skipped or repeated by startAfterDate paging.
	for i := range 5 {
		ct := srv.AddContact(Contact{FirstName: "Same", LastName: fmt.Sprint("Moment", i), Email: fmt.Sprintf("same%d@example.com", i)})
		c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "Email", "contactId": ct.ID, "message": "hello", "subject": "Hi"})
	}
	want := map[string]bool{}
	for _, cv := range srv.Conversations() {
		want[cv.ID] = true
	}
	for _, order := range []string{"desc", "asc"} {
		t.Run(order, func(t *testing.T) {
			seen := map[string]int{}
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
				q := "/conversations/search?limit=3&sort=" + order + "&locationId=" + srv.LocationID()
				if cursor != "" {
					q += "&startAfterDate=" + cursor
				}
				var page searchAnswer
				c.mustDo(200, "GET", q, nil).decode(t, &page)
				if page.Total != len(want) {
					t.Fatalf("total %d, want %d", page.Total, len(want))
				}
				if len(page.Conversations) == 0 {
					break
				}
				for _, cv := range page.Conversations {
					seen[cv.ID]++
				}
				cursor = strconv.FormatInt(page.Conversations[len(page.Conversations)-1].LastMessageDate, 10)
			}
			for id := range want {
				if seen[id] != 1 {
					t.Errorf("conversation %s seen %d times", id, seen[id])
				}
			}
			if len(seen) != len(want) {
				t.Errorf("saw %d conversations, want %d", len(seen), len(want))
			}
		})
	}
}
