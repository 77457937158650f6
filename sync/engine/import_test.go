package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/engine"
)

// td is a file of the parser's test exports.
func td(name string) string { return filepath.Join("..", "activedemand", "testdata", name) }

func newStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// queued claims every due outbox item, in outbox order.
func queued(t testing.TB, s *store.Store) []store.OutboxItem {
	t.Helper()
	items, err := s.ClaimDue(context.Background(), time.Now().Add(time.Hour), 1<<20, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func importHistory(t testing.TB, s *store.Store, text string) []store.HistoryEntry {
	t.Helper()
	rows, err := s.HistoryPage(context.Background(), store.HistoryFilter{Operation: store.OpImport, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestImportQueuesContactsThenMessagesOldestFirst(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{})
	res, err := im.Import(ctx, []string{td("activity.csv"), td("contacts.csv")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.ImportResult{
		Files:          []string{"activity.csv", "contacts.csv"},
		ExportCounts:   engine.ExportCounts{Contacts: 5, ContactsFromActivity: 1, Conversations: 4, Messages: 6, Timeline: 1, Errors: []activedemand.RowError{}},
		ContactsQueued: 5, MessagesQueued: 6,
	}
	got := res
	got.Took, got.Notes = 0, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("result = %+v\nwant     %+v", got, want)
	}
	if res.Took <= 0 {
		t.Error("Took not measured")
	}

	items := queued(t, s)
	if len(items) != 11 {
		t.Fatalf("%d outbox items, want 5 contacts and 6 messages", len(items))
	}
	// Contacts first, in file order, then messages oldest first.
	var contactIDs []string
	for _, it := range items[:5] {
		if it.Kind != engine.JobMirrorContact {
			t.Fatalf("item %s is %s, want the contacts first", it.Key, it.Kind)
		}
		j, err := engine.DecodeContactJob(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if it.Key != j.Key() || !strings.HasPrefix(it.Key, "ad:contact:"+j.ContactID+"@") {
			t.Errorf("contact key %q, payload key %q", it.Key, j.Key())
		}
		contactIDs = append(contactIDs, j.ContactID)
		if j.ContactID == "4100002" && (j.Fields["notes"] != "Prefers texts.\nCall after 5pm." || j.Phone != "+19025551037" || j.Source != engine.SourceImport) {
			t.Errorf("Liam's contact job = %+v", j)
		}
	}
	if !slices.Equal(contactIDs, []string{"4100001", "4100002", "4100003", "4100004", "4100005"}) {
		t.Errorf("contacts queued %v", contactIDs)
	}
	var last time.Time
	byChannel := map[string]engine.MessageJob{}
	for _, it := range items[5:] {
		if it.Kind != engine.JobMirrorMessage {
			t.Fatalf("item %s is %s after the contacts", it.Key, it.Kind)
		}
		j, err := engine.DecodeMessageJob(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if it.Key != engine.MessageKey(j.MessageID) {
			t.Errorf("message key %q for id %s", it.Key, j.MessageID)
		}
		if j.SentAt.Before(last) {
			t.Errorf("message at %v queued after one at %v", j.SentAt, last)
		}
		last = j.SentAt
		if _, seen := byChannel[j.Channel]; !seen {
			byChannel[j.Channel] = j
		}
	}
	sms := byChannel["sms"]
	if sms.Contact.ID != "4100001" || sms.Contact.Name != "Olivia Roy" || sms.Direction != "inbound" ||
		sms.Body != "Hi, is anyone available for a quote?" || !sms.SentAt.Equal(time.Date(2025, 3, 1, 9, 15, 0, 0, time.UTC)) {
		t.Errorf("first sms = %+v", sms)
	}
	email := byChannel["email"]
	quote, _ := filepath.Abs(td("files/quote.pdf"))
	if email.Conversation.Subject != "Quote for your renovation" || len(email.Media) != 1 ||
		email.Media[0].URL != "files/quote.pdf" || email.Media[0].File != quote || email.Media[0].Size == 0 {
		t.Errorf("email = %+v", email)
	}
	call := byChannel["call"]
	if call.Call == nil || call.Call.Duration() != 125*time.Second || call.Call.RecordingURL != "https://files.example.com/rec/1.wav" || call.Call.RecordingFile != "" {
		t.Errorf("call = %+v %+v", call, call.Call)
	}
	// The chat came from an address no contacts export has: the message
	// carries the contact so the worker can create it.
	if chat := byChannel["chat"]; chat.Contact.Email != "new.person@example.com" || chat.Contact.ID == "" {
		t.Errorf("chat contact = %+v", chat.Contact)
	}

	// One history entry, found by the file name in the history search.
	hist := importHistory(t, s, "activity.csv")
	if len(hist) != 1 {
		t.Fatalf("history = %+v", hist)
	}
	h := hist[0]
	// No ActiveDEMAND account here, so the custom fields wait (see
	// TestImportNeverStoresPasswordFields).
	wantSummary := "activity.csv, contacts.csv: 5 contacts, 6 messages queued, 0 already queued, 0 rows rejected, 1 timeline entry not mirrored, " +
		"custom fields the field mapping does not send left out of 5 contacts: ActiveDEMAND's field list could not be read to tell passwords apart; " +
		"map them (or connect ActiveDEMAND) and import the same files again to bring them"
	if h.Outcome != store.OutcomeOK || h.System != store.SystemAD || h.Error != wantSummary || h.LocalID != "activity.csv, contacts.csv" {
		t.Errorf("history entry = %+v\nwant summary %q", h, wantSummary)
	}
}

func TestImportNeverQueuesTwice(t *testing.T) {
	tests := []struct {
		name string
		// runs are imported one after the other into one store.
		runs [][]string
		// want is the last run's queued contacts, messages and already queued.
		wantContacts, wantMessages, wantAlready int
	}{
		{"the same files again", [][]string{{"contacts.csv", "activity.csv"}, {"contacts.csv", "activity.csv"}}, 0, 0, 11},
		{"the same file picked twice", [][]string{{"contacts.csv", "contacts.csv"}}, 5, 0, 0},
		{"contacts first, then contacts with activity", [][]string{{"contacts.csv"}, {"activity.csv", "contacts.csv"}}, 0, 6, 5},
		// Alone, the call of contact 4100003 (named by id only) has no
		// contact and is rejected; with the contacts it is queued, once.
		{"activity alone, then with its contacts", [][]string{{"activity.csv"}, {"activity.csv", "contacts.csv"}}, 5, 1, 5},
		{"an export overlapping the last", [][]string{{"contacts.csv", "contacts-semicolon.csv"}, {"contacts-semicolon.csv"}}, 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			im := engine.NewImporter(s, engine.ImporterOptions{})
			var res engine.ImportResult
			for _, run := range tt.runs {
				var paths []string
				for _, f := range run {
					paths = append(paths, td(f))
				}
				var err error
				if res, err = im.Import(t.Context(), paths, nil); err != nil {
					t.Fatal(err)
				}
			}
			if res.ContactsQueued != tt.wantContacts || res.MessagesQueued != tt.wantMessages || res.AlreadyQueued != tt.wantAlready {
				t.Errorf("last run queued %d contacts, %d messages, %d already queued; want %d, %d, %d",
					res.ContactsQueued, res.MessagesQueued, res.AlreadyQueued, tt.wantContacts, tt.wantMessages, tt.wantAlready)
			}
			keys := map[string]bool{}
			for _, it := range queued(t, s) {
				if keys[it.Key] {
					t.Errorf("%s queued twice", it.Key)
				}
				keys[it.Key] = true
			}
			if n := len(importHistory(t, s, "")); n != len(tt.runs) {
				t.Errorf("%d history entries for %d imports", n, len(tt.runs))
			}
		})
	}
}

// A contact whose details changed since an earlier import is queued again,
// so the change reaches HighLevel; an unchanged one is not.
func TestImportQueuesChangedContactsAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "contacts.csv")
	write := func(body string) {
		if err := os.WriteFile(path, []byte("id,first_name,last_name,email_address\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{})
	write("1,Ann,Lee,ann@example.com\n2,Bo,Ng,bo@example.com\n")
	if _, err := im.Import(t.Context(), []string{path}, nil); err != nil {
		t.Fatal(err)
	}
	write("1,Ann,Lee-Park,ann@example.com\n2,Bo,Ng,bo@example.com\n")
	res, err := im.Import(t.Context(), []string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ContactsQueued != 1 || res.AlreadyQueued != 1 {
		t.Fatalf("after Ann's name changed: %d queued, %d already queued; want 1 and 1", res.ContactsQueued, res.AlreadyQueued)
	}
	items := queued(t, s)
	last, err := engine.DecodeContactJob(items[len(items)-1].Payload)
	if err != nil || last.ContactID != "1" || last.LastName != "Lee-Park" {
		t.Fatalf("last queued contact = %+v, %v", last, err)
	}
}

// writeExport writes a contacts and an activity export with the given
// numbers of contacts and messages, messages spread over the contacts.
func writeExport(t testing.TB, dir string, contacts, messages int) (string, string) {
	t.Helper()
	var c strings.Builder
	c.WriteString("id,first_name,last_name,email_address,phone_number,custom_1\n")
	for i := range contacts {
		fmt.Fprintf(&c, "%d,First%d,Last%d,person%d@example.com,+1902555%04d,Company %d\n", 5000000+i, i, i, i, i%10000, i%97)
	}
	var a strings.Builder
	a.WriteString("id,contact_id,type,channel,direction,date,subject,body\n")
	base := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	channels := []string{"sms", "email", "sms", "chat"}
	for i := range messages {
		ch := channels[i%len(channels)]
		dir := "inbound"
		if i%3 == 0 {
			dir = "outbound"
		}
		subject := ""
		if ch == "email" {
			subject = fmt.Sprintf("Quote %d", i)
		}
		fmt.Fprintf(&a, "%d,%d,%s %s,%s,%s,%s,%s,\"Message %d, about the job at %d Main St.\"\n",
			9000000+i, 5000000+i%contacts, ch, dir, ch, dir, base.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), subject, i, i%500)
	}
	cp, ap := filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "activity.csv")
	if err := os.WriteFile(cp, []byte(c.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ap, []byte(a.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cp, ap
}

func TestImportCancelledPartWayThenRunAgain(t *testing.T) {
	t.Parallel()
	const contacts, messages, batch = 40, 3000, 100
	tests := []struct {
		name string
		// stop reports whether to cancel at this progress report.
		stop func(engine.ImportProgress) bool
		// wantQueued checks how much the cancelled run queued.
		wantQueued func(n int) bool
	}{
		{
			name:       "while reading",
			stop:       func(p engine.ImportProgress) bool { return p.Phase == engine.PhaseReading && p.Done > 0 },
			wantQueued: func(n int) bool { return n == 0 },
		},
		{
			name: "after the contacts",
			stop: func(p engine.ImportProgress) bool { return p.Phase == engine.PhaseQueueing && p.Done == contacts },
			// The contacts are one batch; no message batch started.
			wantQueued: func(n int) bool { return n == contacts },
		},
		{
			name: "half-way through the messages",
			stop: func(p engine.ImportProgress) bool {
				return p.Phase == engine.PhaseQueueing && p.Done >= (contacts+messages)/2
			},
			wantQueued: func(n int) bool { return n > contacts && n < contacts+messages && (n-contacts)%batch == 0 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, ap := writeExport(t, t.TempDir(), contacts, messages)
			s := newStore(t)
			im := engine.NewImporter(s, engine.ImporterOptions{BatchSize: batch})

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			first, err := im.Import(ctx, []string{cp, ap}, func(p engine.ImportProgress) {
				if tt.stop(p) {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled import: err = %v", err)
			}
			n := first.ContactsQueued + first.MessagesQueued
			if !tt.wantQueued(n) {
				t.Fatalf("cancelled import queued %d (%d contacts, %d messages)", n, first.ContactsQueued, first.MessagesQueued)
			}
			// What the result says was queued is exactly what is in the outbox.
			counts, err := s.OutboxCounts(t.Context())
			if err != nil || counts[store.OutboxPending] != n {
				t.Fatalf("outbox has %v after the cancel, result says %d", counts, n)
			}
			hist := importHistory(t, s, "")
			if len(hist) != 1 || hist[0].Outcome != store.OutcomeFailed || !strings.Contains(hist[0].Error, "cancelled") {
				t.Fatalf("history after the cancel = %+v", hist)
			}

			second, err := im.Import(t.Context(), []string{cp, ap}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if second.AlreadyQueued != n || second.ContactsQueued+second.MessagesQueued != contacts+messages-n {
				t.Errorf("second run: %+v after %d were queued", second, n)
			}
			perMessage := map[string]int{}
			items := queued(t, s)
			for _, it := range items {
				if it.Kind == engine.JobMirrorMessage {
					j, err := engine.DecodeMessageJob(it.Payload)
					if err != nil {
						t.Fatal(err)
					}
					perMessage[j.MessageID]++
				}
			}
			if len(items) != contacts+messages || len(perMessage) != messages {
				t.Fatalf("outbox has %d items for %d messages; want %d items, %d messages", len(items), len(perMessage), contacts+messages, messages)
			}
			for id, k := range perMessage {
				if k != 1 {
					t.Errorf("message %s queued %d times", id, k)
				}
			}
		})
	}
}

func TestImportProgress(t *testing.T) {
	cp, ap := writeExport(t, t.TempDir(), 30, 2000)
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{BatchSize: 250})
	var reports []engine.ImportProgress
	res, err := im.Import(t.Context(), []string{cp, ap}, func(p engine.ImportProgress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) < 4 {
		t.Fatalf("only %d progress reports", len(reports))
	}
	cs, _ := os.Stat(cp)
	as, _ := os.Stat(ap)
	var lastReading, lastQueueing engine.ImportProgress
	prev := -1.0
	for _, p := range reports {
		if f := p.Fraction(); f < prev || f > 1 {
			t.Fatalf("fraction went from %v to %v at %+v", prev, f, p)
		} else {
			prev = f
		}
		switch p.Phase {
		case engine.PhaseReading:
			if lastQueueing.Phase != "" {
				t.Fatal("a reading report after queueing began")
			}
			lastReading = p
		case engine.PhaseQueueing:
			lastQueueing = p
		default:
			t.Fatalf("unknown phase in %+v", p)
		}
	}
	if lastReading.Done != cs.Size()+as.Size() || lastReading.Total != lastReading.Done {
		t.Errorf("reading ended at %d of %d bytes, files have %d", lastReading.Done, lastReading.Total, cs.Size()+as.Size())
	}
	if want := int64(res.ContactsQueued + res.MessagesQueued); lastQueueing.Done != want || lastQueueing.Total != want || lastQueueing.Fraction() != 1 {
		t.Errorf("queueing ended at %+v (fraction %v), want %d of %d", lastQueueing, lastQueueing.Fraction(), want, want)
	}
}

func TestImportRejectedRowsAreReported(t *testing.T) {
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{})
	res, err := im.Import(t.Context(), []string{td("contacts-bad.csv"), td("activity-bad.csv")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected == 0 || len(res.Errors) != res.Rejected {
		t.Fatalf("rejected %d, errors %v", res.Rejected, res.Errors)
	}
	for _, e := range res.Errors {
		if (e.File != "contacts-bad.csv" && e.File != "activity-bad.csv") || e.Line < 2 || e.Reason == "" {
			t.Errorf("row error without file, line or reason: %+v", e)
		}
	}
	if !slices.ContainsFunc(res.Errors, func(e activedemand.RowError) bool {
		return e.Error() == "contacts-bad.csv:4: email_address \"bad-at-example.com\" is not an email address"
	}) {
		t.Errorf("the bad email's row is not reported as contacts-bad.csv:4: %v", res.Errors)
	}
	hist := importHistory(t, s, "")
	if len(hist) != 1 || hist[0].Outcome != store.OutcomeOK || !strings.Contains(hist[0].Error, fmt.Sprintf("%d rows rejected", res.Rejected)) {
		t.Errorf("history = %+v", hist)
	}
}

func TestImportRefusesFilesThatAreNotExports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		// want are parts of the message the user sees.
		want []string
	}{
		{"not an export", write("orders.csv", "order,total\n1,20\n"), []string{"orders.csv: ", "neither a contacts nor an activity export", "first_name, email_address"}},
		{"empty", write("empty.csv", ""), []string{"empty.csv: the file is empty"}},
		{"a JSON array", write("list.json", `[{"a":1}]`), []string{"list.json: ", "JSON object"}},
		{"missing", filepath.Join(dir, "gone.csv"), []string{"gone.csv: the file is not there any more; pick it again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			im := engine.NewImporter(s, engine.ImporterOptions{})
			for _, op := range []string{"preview", "import"} {
				var err error
				if op == "preview" {
					_, err = im.Preview(t.Context(), tt.path)
				} else {
					_, err = im.Import(t.Context(), []string{td("contacts.csv"), tt.path}, nil)
				}
				var fe *engine.ImportFileError
				if !errors.As(err, &fe) {
					t.Fatalf("%s: err = %v, want an ImportFileError", op, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(fe.Error(), w) {
						t.Errorf("%s: message %q lacks %q", op, fe.Error(), w)
					}
				}
			}
			// Nothing was queued, not even the good file's contacts, and
			// the failure is on record.
			if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != 0 {
				t.Errorf("a failed import queued %v", counts)
			}
			hist := importHistory(t, s, "")
			if len(hist) != 1 || hist[0].Outcome != store.OutcomeFailed || !strings.Contains(hist[0].Error, tt.want[0]) {
				t.Errorf("history = %+v", hist)
			}
		})
	}
	if _, err := engine.NewImporter(newStore(t), engine.ImporterOptions{}).Import(t.Context(), nil, nil); err == nil {
		t.Error("an import of no files succeeded")
	}
}

func TestPreview(t *testing.T) {
	im := engine.NewImporter(newStore(t), engine.ImporterOptions{PreviewRows: 2})
	tests := []struct {
		file      string
		kind      activedemand.ExportKind
		separator string
		columns   int
		rows      int
		// contacts, fromActivity, messages, timeline, rejected
		counts [5]int
	}{
		{"contacts.csv", activedemand.KindContactsCSV, "comma", 8, 2, [5]int{5, 0, 0, 0, 0}},
		{"contacts-semicolon.csv", activedemand.KindContactsCSV, "semicolon", 5, 2, [5]int{2, 0, 0, 0, 0}},
		// On its own, the activity export has rows naming contacts only
		// by id, which are in contacts.csv: see TestCheck.
		{"activity.csv", activedemand.KindActivityCSV, "comma", 11, 2, [5]int{0, 3, 5, 0, 2}},
		{"contacts-bad.csv", activedemand.KindContactsCSV, "comma", 4, 2, [5]int{-1, 0, 0, 0, -1}},
		{"export.json", activedemand.KindJSON, "", -1, 2, [5]int{2, 0, -1, 1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := im.Preview(t.Context(), td(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.File != tt.file || p.Kind != tt.kind || p.Separator != tt.separator || len(p.Rows) != tt.rows || p.Size == 0 {
				t.Errorf("preview = file %q kind %q separator %q, %d rows, %d bytes", p.File, p.Kind, p.Separator, len(p.Rows), p.Size)
			}
			if tt.columns >= 0 && len(p.Columns) != tt.columns {
				t.Errorf("columns = %v", p.Columns)
			}
			for _, r := range p.Rows {
				if len(r) != len(p.Columns) {
					t.Errorf("row %v does not line up with columns %v", r, p.Columns)
				}
			}
			got := [5]int{p.Contacts, p.ContactsFromActivity, p.Messages, p.Timeline, p.Rejected}
			for i, w := range tt.counts {
				if w >= 0 && got[i] != w {
					t.Errorf("counts (contacts, from activity, messages, timeline, rejected) = %v, want %v", got, tt.counts)
					break
				}
			}
			if p.Rejected != len(p.Errors) {
				t.Errorf("rejected %d but %d errors listed", p.Rejected, len(p.Errors))
			}
			if tt.counts[4] < 0 && p.Rejected == 0 {
				t.Errorf("%s has bad rows but none were rejected", tt.file)
			}
		})
	}
	// Nothing is queued or recorded by a preview.
	s := newStore(t)
	if _, err := engine.NewImporter(s, engine.ImporterOptions{}).Preview(t.Context(), td("activity.csv")); err != nil {
		t.Fatal(err)
	}
	if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != 0 || len(importHistory(t, s, "")) != 0 {
		t.Error("a preview queued or recorded something")
	}
}

// pngHead is the start of a PNG file.
const pngHead = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

// Attachments named by relative paths are found next to the export, and
// only there.
func TestImportFindsMediaInTheExportFolderOnly(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "export")
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"export/files/plan.png": pngHead, "secret.txt": "secret"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	activity := "contact_email,channel,direction,date,body,attachment_url\n" +
		"a@example.com,email,inbound,2025-01-01 10:00,one,files/plan.png\n" +
		"a@example.com,email,inbound,2025-01-01 11:00,two,../secret.txt\n" +
		"a@example.com,email,inbound,2025-01-01 12:00,three,files/missing.png\n" +
		"a@example.com,email,inbound,2025-01-01 13:00,four,https://cdn.example.com/x.png\n"
	path := filepath.Join(dir, "activity.csv")
	if err := os.WriteFile(path, []byte(activity), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	if _, err := engine.NewImporter(s, engine.ImporterOptions{}).Import(t.Context(), []string{path}, nil); err != nil {
		t.Fatal(err)
	}
	files := map[string]engine.MediaJob{}
	for _, it := range queued(t, s) {
		j, err := engine.DecodeMessageJob(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		files[j.Body] = j.Media[0]
	}
	plan, _ := filepath.Abs(filepath.Join(dir, "files", "plan.png"))
	if m := files["one"]; m.File != plan || m.Size != int64(len(pngHead)) {
		t.Errorf("attachment in the export folder: %+v", m)
	}
	for _, body := range []string{"two", "three", "four"} {
		if m := files[body]; m.File != "" || m.URL == "" {
			t.Errorf("message %q: attachment resolved to %+v", body, m)
		}
	}
}

// An export saved in the home folder cannot send what else is there: a
// path through a hidden folder, or a file HighLevel would not take as
// media (judged by name and by content), rejects its row; the preview
// lists every file the import would upload.
func TestImportRefusesAttachmentsThatAreNotMedia(t *testing.T) {
	home := t.TempDir()
	for name, body := range map[string]string{
		".ssh/id_rsa":        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n",
		".config/photo.png":  pngHead,
		"Documents/tax.json": `{"sin": "123 456 789"}`,
		"Pictures/fake.png":  "-----BEGIN OPENSSH PRIVATE KEY-----\n",
		"Pictures/deck.png":  pngHead,
	} {
		p := filepath.Join(home, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	activity := "contact_email,channel,direction,date,body,attachment_url\n" +
		"a@example.com,email,inbound,2025-01-01 10:00,key,.ssh/id_rsa\n" +
		"a@example.com,email,inbound,2025-01-01 11:00,hidden,.config/photo.png\n" +
		"a@example.com,email,inbound,2025-01-01 12:00,json,Documents/tax.json\n" +
		"a@example.com,email,inbound,2025-01-01 13:00,renamed,Pictures/fake.png\n" +
		"a@example.com,email,inbound,2025-01-01 14:00,deck,Pictures/deck.png\n"
	path := filepath.Join(home, "activity.csv")
	if err := os.WriteFile(path, []byte(activity), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{})
	pv, err := im.Preview(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	deck := filepath.Join(home, "Pictures", "deck.png")
	if pv.AttachmentFiles != 1 || len(pv.Attachments) != 1 || pv.Attachments[0].Path != deck || pv.Rejected != 4 {
		t.Errorf("preview lists %d attachments %+v with %d rows rejected; want only %s and 4 rejected", pv.AttachmentFiles, pv.Attachments, pv.Rejected, deck)
	}
	res, err := im.Import(t.Context(), []string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.MessagesQueued != 1 || res.Rejected != 4 {
		t.Fatalf("queued %d messages, rejected %d: %v", res.MessagesQueued, res.Rejected, res.Errors)
	}
	for i, want := range []string{"hidden", "hidden", "not sent", "not sent"} {
		if e := res.Errors[i]; e.Line != i+2 || !strings.Contains(e.Reason, want) {
			t.Errorf("row error %d = %v, want line %d saying %q", i, e, i+2, want)
		}
	}
	for _, it := range queued(t, s) {
		if j, err := engine.DecodeMessageJob(it.Payload); err != nil || j.Media[0].File != deck {
			t.Errorf("queued %+v, %v", j.Media, err)
		}
	}
}

// Check reads files together, as an import does: activity rows that name
// a contact only by id find it in the contacts export.
func TestCheck(t *testing.T) {
	s := newStore(t)
	im := engine.NewImporter(s, engine.ImporterOptions{})
	tests := []struct {
		files []string
		want  engine.ExportCounts
	}{
		{[]string{"activity.csv"}, engine.ExportCounts{ContactsFromActivity: 3, Conversations: 3, Messages: 5, Rejected: 2}},
		{[]string{"activity.csv", "contacts.csv"}, engine.ExportCounts{Contacts: 5, ContactsFromActivity: 1, Conversations: 4, Messages: 6, Timeline: 1}},
	}
	for _, tt := range tests {
		var paths []string
		for _, f := range tt.files {
			paths = append(paths, td(f))
		}
		got, err := im.Check(t.Context(), paths)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Errors) != got.Rejected {
			t.Errorf("%v: %d rejected, %d listed", tt.files, got.Rejected, len(got.Errors))
		}
		if got.AttachmentFiles != 1 || len(got.Attachments) != 1 || filepath.Base(got.Attachments[0].Path) != "quote.pdf" {
			t.Errorf("%v: attachments %d %+v, want quote.pdf", tt.files, got.AttachmentFiles, got.Attachments)
		}
		got.Errors, got.Notes, got.Attachments, got.AttachmentFiles = nil, nil, nil, 0
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%v: counts %+v, want %+v", tt.files, got, tt.want)
		}
	}
	if counts, _ := s.OutboxCounts(t.Context()); counts[store.OutboxPending] != 0 || len(importHistory(t, s, "")) != 0 {
		t.Error("a check queued or recorded something")
	}
	var fe *engine.ImportFileError
	if _, err := im.Check(t.Context(), []string{td("contacts.csv"), filepath.Join(t.TempDir(), "gone.csv")}); !errors.As(err, &fe) || fe.File != "gone.csv" {
		t.Errorf("check of a missing file: %v", err)
	}
}

// An import holds a bounded number of outbox items and sorts the rest on
// disk; the messages still reach the outbox oldest first, ties in file
// order, however the export is ordered.
func TestImportSortsMessagesOnDisk(t *testing.T) {
	const messages = 500
	var b strings.Builder
	b.WriteString("id,contact_email,channel,direction,date,body\n")
	base := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := range messages {
		// Newest first, every minute twice: rows 2k and 2k+1 tie.
		at := base.Add(time.Duration(messages/2-i/2) * time.Minute)
		fmt.Fprintf(&b, "m%03d,p%d@example.com,sms,inbound,%s,row %d\n", i, i%7, at.Format(time.RFC3339), i)
	}
	path := filepath.Join(t.TempDir(), "activity.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	im := engine.NewImporter(s, engine.WithSpillRun(engine.ImporterOptions{BatchSize: 64}, 37))
	res, err := im.Import(t.Context(), []string{path}, nil)
	if err != nil || res.MessagesQueued != messages {
		t.Fatalf("queued %d: %v", res.MessagesQueued, err)
	}
	var prev engine.MessageJob
	for i, it := range queued(t, s) {
		j, err := engine.DecodeMessageJob(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && (j.SentAt.Before(prev.SentAt) || j.SentAt.Equal(prev.SentAt) && j.MessageID < prev.MessageID) {
			t.Fatalf("%s (%v) queued after %s (%v)", j.MessageID, j.SentAt, prev.MessageID, prev.SentAt)
		}
		prev = j
	}
}
