package activedemand_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"parley/sync/activedemand"
)

func td(name string) activedemand.ImportSource {
	return activedemand.FileSource(filepath.Join("testdata", name))
}

func rowErrors(r activedemand.ExportCounts) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("%s:%d", e.File, e.Line))
	}
	return out
}

func TestImportCSV(t *testing.T) {
	ctx := t.Context()
	data, rep, err := activedemand.Import(ctx, activedemand.ImportOptions{MediaDir: "testdata"}, td("activity.csv"), td("contacts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contacts != 5 || rep.ContactsFromActivity != 1 || rep.Messages != 6 || rep.Conversations != 4 || rep.Timeline != 1 || rep.Rejected != 0 {
		t.Fatalf("report:\n%s", rep)
	}

	// contacts.csv has a BOM, CRLF line ends, a quoted newline, quoted
	// separators and doubled quotes.
	liam, ok := data.Contact("4100002")
	if !ok || liam.Fields["notes"] != "Prefers texts.\nCall after 5pm." || liam.Phone != "+19025551037" {
		t.Errorf("Liam = %+v", liam)
	}
	if emma, _ := data.Contact("4100003"); emma.LastName != "Smith, Jr." || emma.Custom["custom_1"] != "Harbour Realty" {
		t.Errorf("Emma = %+v", emma)
	}
	if ava, _ := data.Contact("4100005"); ava.LastName != "Côté" || ava.Fields["notes"] != `She said "hi"` || ava.Custom["custom_1"] != "Pine & Co" {
		t.Errorf("Ava = %+v", ava)
	}
	if first := data.Contacts()[0]; first.ID != "4100001" || first.FirstName != "Olivia" {
		t.Errorf("the BOM spoiled the first column: %+v", first)
	}

	// The activity became conversations per contact and channel, read
	// through the same interface as the API.
	var cv activedemand.Conversations = data
	convs := collect(t, activedemand.AllChangedConversations(ctx, cv, ""))
	if len(convs) != 4 {
		t.Fatalf("%d conversations", len(convs))
	}
	byChannel := map[activedemand.Channel]activedemand.Conversation{}
	for _, c := range convs {
		byChannel[c.Channel] = c
	}
	sms := collect(t, activedemand.AllMessages(ctx, cv, byChannel[activedemand.ChannelSMS].ID))
	if len(sms) != 2 || sms[0].Direction != activedemand.Inbound || sms[1].Direction != activedemand.Outbound || sms[0].ContactID != "4100001" ||
		sms[0].Body != "Hi, is anyone available for a quote?" || !sms[0].SentAt.Equal(time.Date(2025, 3, 1, 9, 15, 0, 0, time.UTC)) || sms[0].SenderName != "Olivia Roy" {
		t.Errorf("sms = %+v", sms)
	}
	email := collect(t, activedemand.AllMessages(ctx, cv, byChannel[activedemand.ChannelEmail].ID))
	if len(email) != 2 || email[0].Body != "Hello Liam,\n\nPlease find the quote attached." || len(email[0].Media) != 1 || byChannel[activedemand.ChannelEmail].Subject != "Quote for your renovation" {
		t.Fatalf("email = %+v", email)
	}
	var buf bytes.Buffer
	if _, err := cv.DownloadMedia(ctx, email[0].Media[0].URL, &buf); err != nil || !strings.HasPrefix(buf.String(), "%PDF") {
		t.Errorf("attachment from the export: %q, %v", buf.String(), err)
	}
	call := collect(t, activedemand.AllMessages(ctx, cv, byChannel[activedemand.ChannelCall].ID))
	if len(call) != 1 || call[0].Call == nil || call[0].Call.Duration != 125*time.Second || call[0].Call.RecordingURL == "" {
		t.Errorf("call = %+v", call)
	}
	if _, err := cv.DownloadMedia(ctx, call[0].Call.RecordingURL, io.Discard); !errors.Is(err, activedemand.ErrMediaUnavailable) {
		t.Errorf("remote recording: err = %v, want ErrMediaUnavailable", err)
	}
	if _, err := cv.DownloadMedia(ctx, "../routes-override.toml", io.Discard); !errors.Is(err, activedemand.ErrMediaUnavailable) {
		t.Errorf("a path outside the media folder: err = %v", err)
	}
	hist := collect(t, activedemand.AllHistory(ctx, cv, "4100002"))
	if len(hist) != 1 || hist[0].Type != "Note" || hist[0].Subject != "Site visit" {
		t.Errorf("history = %+v", hist)
	}
	stub := slices.IndexFunc(data.Contacts(), func(c activedemand.Contact) bool { return c.Email == "new.person@example.com" })
	if stub < 0 {
		t.Error("no contact made for the chat from an unknown address")
	}

	// Cursors work like the API's.
	_, cur, err := cv.ChangedConversations(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := cv.ChangedConversations(ctx, cur, ""); len(p.Items) != 1 {
		t.Errorf("changed since the last cursor: %d, want just the latest", len(p.Items))
	}

	// Writes are refused clearly.
	writes := map[string]error{}
	writes["status"] = cv.SetMessageStatus(ctx, sms[0].ID, activedemand.MessageRead)
	_, writes["history"] = cv.AddHistory(ctx, activedemand.NewHistoryEntry{ContactID: "4100001", Type: "note"})
	_, writes["task"] = cv.RaiseTask(ctx, activedemand.NewTask{Title: "x"})
	_, writes["subscribe"] = cv.SubscribeWebhook(ctx, "http://x", activedemand.EventContactCreated)
	writes["unsubscribe"] = cv.UnsubscribeWebhook(ctx, "1")
	for name, err := range writes {
		if !errors.Is(err, activedemand.ErrReadOnly) || !strings.Contains(err.Error(), "read-only import") {
			t.Errorf("%s: err = %v, want ErrReadOnly", name, err)
		}
	}
}

// TestImportPhonesInE164: phones are stored in E.164, numbers without a
// country code read in the default region.
func TestImportPhonesInE164(t *testing.T) {
	const contacts = "email_address,phone_number\n" +
		"a@example.com,020 7946 0018\n" +
		"b@example.com,+1 (902) 555-1037\n" +
		"c@example.com,12ab\n"
	data, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{DefaultRegion: "GB"}, activedemand.BytesSource("c.csv", []byte(contacts)))
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for _, c := range data.Contacts() {
		phones = append(phones, c.Phone)
	}
	if !slices.Equal(phones, []string{"+442079460018", "+19025551037"}) || rep.Rejected != 1 {
		t.Fatalf("phones %q, report:\n%s", phones, rep)
	}
}

func TestImportJSON(t *testing.T) {
	data, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, td("export.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contacts != 2 || rep.Messages != 3 || rep.Conversations != 2 || rep.Timeline != 1 || rep.Rejected != 2 {
		t.Fatalf("report:\n%s", rep)
	}
	if got, want := rowErrors(rep), []string{"export.json:5", "export.json:12"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rejected rows at %v, want %v\n%s", got, want, rep)
	}
	if !strings.Contains(rep.Errors[0].Reason, "not-an-email") || !strings.Contains(rep.Errors[1].Reason, `channel "fax"`) {
		t.Errorf("reasons:\n%s", rep)
	}
	mason, ok := data.Contact("4100011")
	if !ok || mason.Email != "mason.patel11@example.com" || mason.Phone != "+19025551370" {
		t.Errorf("nested emails/phones: %+v", mason)
	}
	var call activedemand.Message
	for m, err := range activedemand.AllMessages(t.Context(), data, mustConv(t, data, "4100011", activedemand.ChannelCall)) {
		if err != nil {
			t.Fatal(err)
		}
		call = m
	}
	if call.Call == nil || call.Call.Duration != 65*time.Second || call.Direction != activedemand.Outbound {
		t.Errorf("call = %+v", call)
	}
}

func mustConv(t *testing.T, d *activedemand.ImportedData, contact activedemand.ID, ch activedemand.Channel) activedemand.ID {
	t.Helper()
	for c, err := range activedemand.AllChangedConversations(t.Context(), d, "") {
		if err != nil {
			t.Fatal(err)
		}
		if c.ContactID == contact && c.Channel == ch {
			return c.ID
		}
	}
	t.Fatalf("no %s conversation for %s", ch, contact)
	return ""
}

func TestImportBadRows(t *testing.T) {
	tests := []struct {
		file    string
		good    int
		blank   int
		lines   []int
		reasons []string
	}{
		{"contacts-bad.csv", 2, 1, []int{3, 4, 5, 6, 7, 9},
			[]string{"no email_address, phone_number or id", `"bad-at-example.com" is not an email address`, `"12ab" is not a phone number`,
				"5 fields, the header has 4", "duplicate of contacts-bad.csv line 2", `extraneous or missing " in quoted-field`}},
		{"activity-bad.csv", 1, 0, []int{3, 4, 5, 6, 7, 8, 9},
			[]string{"no contact", "date:", "direction is empty", `channel "fax"`, "neither channel nor type", "duplicate of activity-bad.csv line 2", `direction "sideways"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, td(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Contacts + rep.Messages; got != tt.good || rep.Blank != tt.blank || rep.Rejected != len(tt.lines) {
				t.Fatalf("imported %d, blank %d, rejected %d:\n%s", got, rep.Blank, rep.Rejected, rep)
			}
			for i, e := range rep.Errors {
				if e.File != tt.file || e.Line != tt.lines[i] || !strings.Contains(e.Reason, tt.reasons[i]) {
					t.Errorf("error %d = %v, want line %d saying %q", i, e, tt.lines[i], tt.reasons[i])
				}
			}
			if s := rep.String(); !strings.Contains(s, fmt.Sprintf("%d rows rejected", len(tt.lines))) || !strings.Contains(s, tt.file+" line") {
				t.Errorf("report text:\n%s", s)
			}
		})
	}
}

func TestImportSeparatorsAndLineEnds(t *testing.T) {
	const body = "first_name{s}last_name{s}email_address{s}phone_number\n" +
		"Zoe{s}Fraser{s}zoe@example.com{s}+19025552000\n" +
		"\"Jack{s} Jr\"{s}Reid{s}jack@example.com{s}\n" +
		"Ann{s}\"Multi\nLine\"{s}ann@example.com{s}\n" +
		"Bad{s}Row{s}bad{s}\n"
	for _, sep := range []string{",", ";", "\t"} {
		for _, eol := range []string{"\n", "\r\n"} {
			for _, bom := range []string{"", "\uFEFF"} {
				name := fmt.Sprintf("sep %q eol %q bom %v", sep, eol, bom != "")
				t.Run(name, func(t *testing.T) {
					content := bom + strings.ReplaceAll(strings.ReplaceAll(body, "{s}", sep), "\n", eol)
					src := activedemand.BytesSource("c.csv", []byte(content))
					pv, err := activedemand.PreviewImport(t.Context(), src, 2, activedemand.ImportOptions{}, activedemand.ImportHandler{})
					if err != nil {
						t.Fatal(err)
					}
					if pv.Separator != rune(sep[0]) || pv.Kind != activedemand.KindContactsCSV || len(pv.Rows) != 2 || pv.Columns[0] != "first_name" {
						t.Fatalf("preview = %+v", pv)
					}
					// A reader that hands out one byte at a time must not
					// change what is read.
					trickle := activedemand.ImportSource{Name: "c.csv", Open: func() (io.ReadCloser, error) {
						return io.NopCloser(iotest.OneByteReader(strings.NewReader(content))), nil
					}}
					data, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, trickle)
					if err != nil {
						t.Fatal(err)
					}
					if rep.Contacts != 3 || rep.Rejected != 1 || rep.Errors[0].Line != 6 {
						t.Fatalf("report:\n%s", rep)
					}
					cs := data.Contacts()
					if cs[1].FirstName != "Jack"+sep+" Jr" || cs[2].LastName != "Multi\nLine" {
						t.Errorf("contacts = %+v", cs)
					}
				})
			}
		}
	}
	data, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, td("contacts-semicolon.csv"))
	if err != nil || rep.Contacts != 2 || rep.Rejected != 0 {
		t.Fatalf("semicolon sample: %v\n%s", err, rep)
	}
	if jack := data.Contacts()[1]; jack.Fields["custom_4"] != "" || jack.Custom["custom_4"] != "Trade show; booth 4" {
		t.Errorf("jack = %+v", jack)
	}
}

func TestImportInvalidUTF8(t *testing.T) {
	content := "first_name,last_name,email_address\n\xff\xfeAnn,B\xc3,ann@example.com\n"
	data, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, activedemand.BytesSource("u.csv", []byte(content)))
	if err != nil || rep.Contacts != 1 {
		t.Fatalf("%v\n%s", err, rep)
	}
	if c := data.Contacts()[0]; c.FirstName != "\uFFFDAnn" || c.LastName != "B\uFFFD" {
		t.Errorf("contact = %q %q", c.FirstName, c.LastName)
	}
}

func TestImportFatalErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty"},
		{"neither kind", "name,city\nA,B\n", "neither a contacts nor an activity export"},
		{"activity without dates", "contact_email,type,body\na@example.com,sms,hi\n", "no date column"},
		{"duplicate columns", "email,email_address\na@example.com,b@example.com\n", "both give email"},
		{"JSON array", "[1,2]", "want a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, activedemand.BytesSource("f", []byte(tt.content)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "f") {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	// Broken JSON part-way: what came before is kept, the rest is reported.
	content := `{"contacts": [
{"first_name": "A", "emails.email_address": "a@example.com"},
{"first_name": "B", "emails.email_address": "b@example.com"
]}`
	_, rep, err := activedemand.Import(t.Context(), activedemand.ImportOptions{}, activedemand.BytesSource("broken.json", []byte(content)))
	if err != nil || rep.Contacts != 1 || rep.Rejected != 1 || rep.Errors[0].Line != 4 || !strings.Contains(rep.Errors[0].Reason, "rest of the file was not read") {
		t.Errorf("%v\n%s", err, rep)
	}
}

func TestImportPreviewAndProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString("contact_email,type,channel,direction,date,body\n")
	const rows = 2600
	for i := range rows {
		fmt.Fprintf(&b, "p%d@example.com,SMS Received,sms,inbound,2025-01-01 10:%02d:%02d,Hello %d\n", i%40, (i/60)%60, i%60, i)
	}
	src := activedemand.BytesSource("big-activity.csv", []byte(b.String()))
	var progress []activedemand.ImportProgress
	pv, err := activedemand.PreviewImport(t.Context(), src, 3, activedemand.ImportOptions{Progress: func(p activedemand.ImportProgress) { progress = append(progress, p) }}, activedemand.ImportHandler{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Kind != activedemand.KindActivityCSV || len(pv.Rows) != 3 || pv.Rows[2][5] != "Hello 2" || pv.Report.Messages != rows || pv.Report.ContactsFromActivity != 40 {
		t.Fatalf("preview: kind %s rows %v report %s", pv.Kind, pv.Rows, pv.Report)
	}
	if len(progress) != rows/500+1 || !progress[len(progress)-1].Done || progress[len(progress)-1].Rows != rows || progress[len(progress)-1].Bytes != src.Size {
		t.Errorf("progress = %+v", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Rows <= progress[i-1].Rows || progress[i].Bytes < progress[i-1].Bytes {
			t.Errorf("progress went backwards: %+v", progress)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := activedemand.Import(ctx, activedemand.ImportOptions{}, src); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled import: err = %v", err)
	}

	jpv, err := activedemand.PreviewImport(t.Context(), td("export.json"), 2, activedemand.ImportOptions{}, activedemand.ImportHandler{})
	if err != nil {
		t.Fatal(err)
	}
	if jpv.Kind != activedemand.KindJSON || len(jpv.Rows) != 2 || !slices.Contains(jpv.Columns, "first_name") || jpv.Report.Rejected != 2 {
		t.Errorf("JSON preview = %+v", jpv)
	}
}
