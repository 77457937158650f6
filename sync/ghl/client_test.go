package ghl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
	"parley/sync/internal/demobiz"
)

// fixture is what the sandbox tests arrange: a conversation with messages,
// a call with a recording, a contact without a conversation.
type fixture struct {
	conv     ghltest.Conversation
	call     ghltest.Message
	loner    ghltest.Contact
	provider string
}

func arrange(t *testing.T, srv *ghltest.Server) fixture {
	t.Helper()
	var f fixture
	for _, conv := range srv.Conversations() {
		if len(srv.Messages(conv.ID)) >= 3 {
			f.conv = conv
			break
		}
	}
	if f.conv.ID == "" {
		t.Fatal("the seeded sandbox has no conversation with 3 messages")
	}
	call := &demobiz.Call{Duration: 3 * time.Second, Status: "completed", Sentences: []demobiz.Sentence{
		{Speaker: "agent", Text: "Hello, thanks for calling.", Start: 200 * time.Millisecond, End: 1400 * time.Millisecond, Confidence: 0.93},
		{Speaker: "customer", Text: "Hi, about my quote.", Start: 1600 * time.Millisecond, End: 2800 * time.Millisecond, Confidence: 0.88},
	}}
	f.call = srv.AddCall(f.conv.ID, "inbound", call, time.Now().Add(-time.Minute))
	if f.call.ID == "" {
		t.Fatal("AddCall returned no message")
	}
	f.loner = srv.AddContact(ghltest.Contact{FirstName: "Nadia", LastName: "Lone", Email: "nadia.lone@example.com", Phone: "+19025550142"})
	f.provider = srv.ConversationProviderID()
	return f
}

// TestEveryMethod runs every client method once against the sandbox, in
// both response shapes, checks the results against the sandbox's state,
// and asserts that the spec validator rejected none of the requests.
func TestEveryMethod(t *testing.T) {
	for _, specShapes := range []bool{false, true} {
		t.Run(fmt.Sprintf("SpecShapes=%v", specShapes), func(t *testing.T) {
			srv := sandbox(t, func(o *ghltest.Options) { o.SpecShapes = specShapes })
			obs := &calls{}
			c := client(t, srv, func(cfg *Config) { cfg.Observer = obs.observe })
			ctx := ctxT(t)
			f := arrange(t, srv)

			// Conversations.
			got, err := c.GetConversation(ctx, f.conv.ID)
			if err != nil {
				t.Fatalf("GetConversation: %v", err)
			}
			if got.ID != f.conv.ID || got.ContactID != f.conv.ContactID || got.LocationID != srv.LocationID() {
				t.Errorf("GetConversation = %+v, want id %s contact %s", got, f.conv.ID, f.conv.ContactID)
			}
			var ids []string
			for conv, err := range c.SearchConversations(ctx, SearchConversationsRequest{Limit: 5}) {
				if err != nil {
					t.Fatalf("SearchConversations: %v", err)
				}
				ids = append(ids, conv.ID)
			}
			want := srv.Conversations()
			if len(ids) != len(want) {
				t.Fatalf("search paged %d conversations, sandbox has %d", len(ids), len(want))
			}
			for i := range want {
				if ids[i] != want[i].ID {
					t.Fatalf("search result %d = %s, want %s (latest activity first)", i, ids[i], want[i].ID)
				}
			}
			page, err := c.SearchConversationsPage(ctx, SearchConversationsRequest{ContactID: f.conv.ContactID})
			if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != f.conv.ID {
				t.Errorf("search by contact = %+v, %v; want just %s", page, err, f.conv.ID)
			}
			created, err := c.CreateConversation(ctx, f.loner.ID)
			if err != nil {
				t.Fatalf("CreateConversation: %v", err)
			}
			if sc, ok := srv.Conversation(created.ID); !ok || sc.ContactID != f.loner.ID {
				t.Errorf("created conversation %s not in the sandbox for contact %s", created.ID, f.loner.ID)
			}
			unread, starred := 0, true
			upd, err := c.UpdateConversation(ctx, f.conv.ID, UpdateConversationRequest{UnreadCount: &unread, Starred: &starred})
			if err != nil {
				t.Fatalf("UpdateConversation: %v", err)
			}
			if sc, _ := srv.Conversation(f.conv.ID); !sc.Starred || sc.UnreadCount != 0 || !upd.Starred {
				t.Errorf("after update: sandbox starred=%v unread=%d, answer starred=%v", sc.Starred, sc.UnreadCount, upd.Starred)
			}

			// Messages.
			var listed []Message
			for m, err := range c.ListMessages(ctx, f.conv.ID, ListMessagesRequest{Limit: 2}) {
				if err != nil {
					t.Fatalf("ListMessages: %v", err)
				}
				listed = append(listed, m)
			}
			sm := srv.Messages(f.conv.ID)
			if len(listed) != len(sm) {
				t.Fatalf("listed %d messages, sandbox has %d", len(listed), len(sm))
			}
			for i := range sm {
				if listed[i].ID != sm[len(sm)-1-i].ID {
					t.Fatalf("message %d = %s, want %s (newest first)", i, listed[i].ID, sm[len(sm)-1-i].ID)
				}
			}
			msg, err := c.GetMessage(ctx, f.call.ID)
			if err != nil {
				t.Fatalf("GetMessage: %v", err)
			}
			if msg.ID != f.call.ID || msg.MessageType != "TYPE_CALL" || msg.Meta.CallDuration != 3*time.Second || msg.Direction != Inbound {
				t.Errorf("GetMessage = %+v", msg)
			}

			sms, err := c.DeliverMessage(ctx, DeliveryRequest{Type: ChannelSMS, ContactID: f.conv.ContactID, Message: "See you Thursday."})
			if err != nil {
				t.Fatalf("DeliverMessage: %v", err)
			}
			if m, ok := srv.Message(sms.MessageID); !ok || m.Body != "See you Thursday." || m.ConversationID != sms.ConversationID {
				t.Errorf("delivered message %s not in the sandbox as sent", sms.MessageID)
			}
			custom, err := c.DeliverMessage(ctx, DeliveryRequest{Type: ChannelCustom, ContactID: f.conv.ContactID, Message: "via provider", ConversationProviderID: f.provider})
			if err != nil {
				t.Fatalf("DeliverMessage Custom: %v", err)
			}
			if _, err := c.UpdateMessageStatus(ctx, custom.MessageID, StatusUpdate{Status: StatusDelivered}); err != nil {
				t.Fatalf("UpdateMessageStatus: %v", err)
			}
			if m, _ := srv.Message(custom.MessageID); m.Status != "delivered" {
				t.Errorf("status after update = %q, want delivered", m.Status)
			}
			email, err := c.DeliverMessage(ctx, DeliveryRequest{Type: ChannelEmail, ContactID: f.conv.ContactID, Subject: "Quote",
				HTML: "<p>Attached.</p>", EmailTo: "someone@example.com", ScheduledAt: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatalf("DeliverMessage scheduled email: %v", err)
			}
			if email.EmailMessageID == "" {
				t.Fatal("scheduled email has no emailMessageId")
			}
			if err := c.CancelScheduledEmail(ctx, email.EmailMessageID); err != nil {
				t.Fatalf("CancelScheduledEmail: %v", err)
			}
			if m, _ := srv.Message(email.MessageID); m.Status == "scheduled" {
				t.Error("email still scheduled after cancel")
			}

			rec, err := c.RecordMessage(ctx, RecordRequest{Type: ChannelSMS, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
				ConversationProviderID: f.provider, AltID: "ad-msg-1001", Direction: Inbound, Date: time.Now().Add(-time.Hour),
				Message: "Is the offer still on?"})
			if err != nil {
				t.Fatalf("RecordMessage: %v", err)
			}
			if m, ok := srv.Message(rec.MessageID); !ok || m.AltID != "ad-msg-1001" || m.Direction != "inbound" || rec.Recovered {
				t.Errorf("recorded message = %+v (recovered %v)", m, rec.Recovered)
			}
			callRec, err := c.RecordCall(ctx, CallRecord{ConversationID: f.conv.ID, ConversationProviderID: f.provider, AltID: "ad-call-77",
				Date: time.Now().Add(-30 * time.Minute), Call: CallData{To: "+19025550100", From: "+19025550199", Status: CallCompleted}})
			if err != nil {
				t.Fatalf("RecordCall: %v", err)
			}
			if m, ok := srv.Message(callRec.MessageID); !ok || m.AltID != "ad-call-77" || m.Direction != "outbound" {
				t.Errorf("recorded call = %+v", m)
			}
			found, ok, err := c.FindMessageByAltID(ctx, f.conv.ID, "ad-msg-1001")
			if err != nil || !ok || found.ID != rec.MessageID {
				t.Errorf("FindMessageByAltID = %s, %v, %v; want %s", found.ID, ok, err, rec.MessageID)
			}
			if _, ok, err := c.FindMessageByAltID(ctx, f.conv.ID, "never-recorded"); ok || err != nil {
				t.Errorf("FindMessageByAltID(unknown) = %v, %v; want not found", ok, err)
			}

			png, _ := demobiz.AttachmentBytes("site-photo.png")
			up, err := c.UploadAttachment(ctx, UploadRequest{ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
				FileName: "site-photo.png", Body: bytes.NewReader(png)})
			if err != nil {
				t.Fatalf("UploadAttachment: %v", err)
			}
			uploads := srv.Uploads()
			sum := sha256.Sum256(png)
			if len(uploads) != 1 || uploads[0].SHA256 != hex.EncodeToString(sum[:]) || up.URL() == "" {
				t.Errorf("uploads = %+v, answer %+v; want the PNG's bytes", uploads, up)
			}

			// Media.
			var wav bytes.Buffer
			recd, err := c.DownloadRecording(ctx, f.call.ID, &wav)
			if err != nil {
				t.Fatalf("DownloadRecording: %v", err)
			}
			var want2 bytes.Buffer
			if err := demobiz.RenderWAV(&want2, f.call.Call()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wav.Bytes(), want2.Bytes()) || recd.Bytes != int64(want2.Len()) {
				t.Errorf("recording: %d bytes (reported %d), want the %d-byte WAV the sandbox renders", wav.Len(), recd.Bytes, want2.Len())
			}
			sentences, err := c.GetTranscription(ctx, f.call.ID)
			if err != nil {
				t.Fatalf("GetTranscription: %v", err)
			}
			if len(sentences) != 2 || sentences[1].Start != 1600*time.Millisecond || sentences[1].End != 2800*time.Millisecond ||
				sentences[0].Text != "Hello, thanks for calling." || sentences[0].Confidence < 0.9 {
				t.Errorf("transcription = %+v", sentences)
			}
			text, err := c.DownloadTranscription(ctx, f.call.ID)
			if err != nil || !strings.Contains(text, "about my quote") {
				t.Errorf("DownloadTranscription = %q, %v", text, err)
			}

			// Contacts.
			seeded := srv.Contacts()[0]
			dup, ok, err := c.FindDuplicateContact(ctx, seeded.Email, "")
			if err != nil || !ok || dup.ID != seeded.ID {
				t.Errorf("FindDuplicateContact(%s) = %s, %v, %v; want %s", seeded.Email, dup.ID, ok, err, seeded.ID)
			}
			if _, ok, err := c.FindDuplicateContact(ctx, "", "+19025550000"); ok || err != nil {
				t.Errorf("FindDuplicateContact(unknown phone) = %v, %v; want not found", ok, err)
			}
			ct, isNew, err := c.UpsertContact(ctx, ContactInput{FirstName: "Ada", LastName: "Newcomb", Email: "ada.newcomb@example.com", Source: "ActiveDEMAND"})
			if err != nil || !isNew || ct.ID == "" {
				t.Fatalf("UpsertContact(new) = %+v, %v, %v", ct, isNew, err)
			}
			again, isNew, err := c.UpsertContact(ctx, ContactInput{Email: "ada.newcomb@example.com", City: "Halifax"})
			if err != nil || isNew || again.ID != ct.ID {
				t.Errorf("UpsertContact(existing) = %s new=%v, %v; want %s not new", again.ID, isNew, err, ct.ID)
			}
			gotC, err := c.GetContact(ctx, ct.ID)
			if err != nil || gotC.Email != "ada.newcomb@example.com" {
				t.Errorf("GetContact = %+v, %v", gotC, err)
			}

			if err := c.DeleteConversation(ctx, created.ID); err != nil {
				t.Fatalf("DeleteConversation: %v", err)
			}
			if _, err := c.GetConversation(ctx, created.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("GetConversation after delete: %v, want ErrNotFound", err)
			}

			if rej := srv.Rejections(); len(rej) > 0 {
				t.Errorf("the spec validator rejected %d requests: %+v", len(rej), rej)
			}
			for _, ci := range obs.all() {
				if ci.Attempts != 1 || ci.Latency <= 0 || (ci.Err == nil && (ci.Status < 200 || ci.Status > 299)) {
					t.Errorf("observer report %+v: want one attempt, a latency and a 2xx", ci)
				}
			}
		})
	}
}
