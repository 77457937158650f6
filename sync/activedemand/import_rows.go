package activedemand

// Rows to contacts, messages and timeline entries: validation, the contact
// index, and linking activity to its contact.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"parley/sync/internal/phone"
)

// contactCols is a contacts header indexed once per file, so that a row
// is read by position: a map of the row's values, and a regular expression
// per custom column, cost more than the rest of the row's checks.
type contactCols struct {
	// at holds the column of each field of contactColumnCanon's order,
	// -1 when the header has none.
	at [len(contactKnown)]int
	// custom and other list the remaining columns, by their key: custom
	// fields (custom_N) and other contact fields.
	custom, other []keyedCol
}

type keyedCol struct {
	key string
	i   int
}

// contactKnown are the canonical contact keys handled explicitly.
var contactKnown = [...]string{"id", "first_name", "last_name", "email", "phone", "created_at", "updated_at"}

const (
	colID = iota
	colFirst
	colLast
	colEmail
	colPhone
	colCreated
	colUpdated
)

// indexContactCols indexes canon, a contacts header's canonical keys (""
// for a column not used).
func indexContactCols(canon []string) *contactCols {
	cc := &contactCols{}
	for k := range cc.at {
		cc.at[k] = -1
	}
	for i, k := range canon {
		if k == "" {
			continue
		}
		if j := slices.Index(contactKnown[:], k); j >= 0 {
			cc.at[j] = i
		} else if IsCustomField(k) {
			cc.custom = append(cc.custom, keyedCol{k, i})
		} else {
			cc.other = append(cc.other, keyedCol{k, i})
		}
	}
	return cc
}

// contactRow imports one CSV contact row, its values trimmed, by the
// columns of cc.
func (im *importer) contactRow(line int, cc *contactCols, vals []string) {
	get := func(k int) string {
		if i := cc.at[k]; i >= 0 {
			return vals[i]
		}
		return ""
	}
	c := Contact{ID: ID(get(colID)), FirstName: get(colFirst), LastName: get(colLast), Email: get(colEmail), Phone: get(colPhone)}
	for _, k := range []int{colCreated, colUpdated} {
		v := get(k)
		if v == "" {
			continue
		}
		t, err := parseTimeIn(v, im.opts.Location)
		if err == nil {
			err = plausibleDate(t)
		}
		if err != nil {
			im.reject(line, "%s: %v", contactKnown[k], err)
			return
		}
		if k == colCreated {
			c.CreatedAt = t
		} else {
			c.UpdatedAt = t
		}
	}
	c.Custom = keyed(cc.custom, vals)
	c.Fields = keyed(cc.other, vals)
	im.addContact(line, c, false)
}

// keyed returns the non-empty values of cols by key, nil when there are
// none.
func keyed(cols []keyedCol, vals []string) map[string]string {
	var m map[string]string
	for _, c := range cols {
		if v := vals[c.i]; v != "" {
			if m == nil {
				m = make(map[string]string, len(cols))
			}
			m[c.key] = v
		}
	}
	return m
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n,;<>") && strings.Contains(s[at:], ".")
}

// checkAddress rejects the row when its email or phone (named by their
// columns) is not one, and returns the phone in E.164.
func (im *importer) checkAddress(line int, emailCol, email, phoneCol, number string) (string, bool) {
	if email != "" && !validEmail(email) {
		im.reject(line, "%s %q is not an email address", emailCol, truncate(email, 60))
		return "", false
	}
	if number == "" {
		return "", true
	}
	// A number that is not one rejects the row rather than travelling on
	// as written: the sync finds HighLevel contacts by phone, and HighLevel
	// refuses what is not E.164, so it would fail later, one job at a
	// time, far from the file and line that can be fixed.
	p, err := phone.Normalize(number, im.opts.DefaultRegion)
	if err != nil {
		im.reject(line, "%s %q is not a phone number (%s numbers may omit the country code)", phoneCol, truncate(number, 40), im.opts.DefaultRegion)
		return "", false
	}
	return p, true
}

// Dates an export can plausibly hold. No conversation in an ActiveDEMAND
// account predates 1990 (the platform and the SMS it mirrors are far
// younger), and a date more than a year ahead is a typo or a unit mix-up
// (milliseconds read as seconds), not a scheduled message: a year of slack
// covers clocks and time zones. Outside the range, a date would either be
// queued and then fail every worker (0001-01-01 is the zero time, which a
// job may not have) or not encode at all (years past 9999).
var earliestDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

func latestDate() time.Time { return time.Now().AddDate(1, 0, 0) }

// plausibleDate rejects a date outside earliestDate .. a year from now.
func plausibleDate(t time.Time) error {
	if latest := latestDate(); t.Before(earliestDate) || t.After(latest) {
		return fmt.Errorf("%s is outside %s .. %s, the dates an export can hold; correct it in the export or remove the row",
			t.Format(time.RFC3339), earliestDate.Format(time.DateOnly), latest.Format(time.DateOnly))
	}
	return nil
}

// controlChar finds a control character (a NUL included) in s: a name or an
// address with one is damaged, and would reach HighLevel as such. Tabs and
// line breaks are white space a quoted CSV value may hold, not damage; an
// email address with one is refused by validEmail.
func controlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return r, true
		}
	}
	return 0, false
}

// addContact validates and stores a contact, rejecting duplicates.
// It reports whether the contact was added.
func (im *importer) addContact(line int, c Contact, fromActivity bool) bool {
	c.Email = strings.TrimSpace(c.Email)
	for _, f := range []struct{ name, v string }{{"id", string(c.ID)}, {"first_name", c.FirstName}, {"last_name", c.LastName}, {"email_address", c.Email}} {
		if r, bad := controlChar(f.v); bad {
			im.reject(line, "%s contains the control character %U; remove it from the export", f.name, r)
			return false
		}
	}
	for _, t := range []time.Time{c.CreatedAt, c.UpdatedAt} {
		if !t.IsZero() {
			if err := plausibleDate(t); err != nil {
				im.reject(line, "date: %v", err)
				return false
			}
		}
	}
	var ok bool
	if c.Phone, ok = im.checkAddress(line, "email_address", c.Email, "phone_number", c.Phone); !ok {
		return false
	}
	if c.Email == "" && c.Phone == "" && c.ID == "" {
		im.reject(line, "no email_address, phone_number or id: a contact needs one of them")
		return false
	}
	if strings.ContainsAny(string(c.ID), "/?#") {
		im.reject(line, "id %q contains / ? or #", truncate(string(c.ID), 40))
		return false
	}
	email := strings.ToLower(c.Email)
	if c.ID != "" {
		if i, dup := im.byID[im.hash(string(c.ID))]; dup {
			im.reject(line, "duplicate of %s (same id %s)", im.where(im.origin[i]), c.ID)
			return false
		}
	}
	if i, dup := im.byEmail[im.hash(email)]; dup && email != "" {
		im.reject(line, "duplicate of %s (same email address)", im.where(im.origin[i]))
		return false
	}
	if c.ID == "" {
		c.ID = ID("imp-" + shortHash(email, c.Phone))
	}
	c.Emails, c.Phones = emailsAndPhones(c.Email, c.Phone)
	if im.h.Contact != nil && !im.handled(line, im.h.Contact(Origin{File: im.file, Line: line}, c, fromActivity)) {
		return false
	}
	i := int32(im.contacts.len()) // #nosec G115 -- 2^31 contacts would take over 80 GB of index first (at, origin, byID, records)
	im.contacts.add(string(c.ID), c.FirstName, c.LastName, c.Email, c.Phone)
	im.origin = append(im.origin, origin{file: uint32(im.fileIx), line: uint32(line)}) // #nosec G115 -- fileIx counts the files of one import; line is only quoted in reject messages
	im.byID[im.hash(string(c.ID))] = i
	if email != "" {
		im.byEmail[im.hash(email)] = i
	}
	if im.byPhone != nil {
		im.indexPhone(i, c.Phone)
	}
	im.report.Contacts++
	return true
}

// indexPhones builds the phone index from the contacts so far, when the
// first activity row needs it: only activity rows look contacts up by
// phone, so reading contacts alone (a preview, or a contacts export
// imported before its activity) does without it. Built in the contacts'
// order, it keeps the first contact of each number, as adding them one by
// one does.
func (im *importer) indexPhones() {
	im.byPhone = make(map[uint64]int32, im.contacts.len())
	for i := range im.contacts.len() {
		im.indexPhone(int32(i), im.contact(int32(i)).Phone)
	}
}

// indexPhone adds contact i under phone unless an earlier contact has it.
func (im *importer) indexPhone(i int32, phone string) {
	if phone == "" {
		return
	}
	if _, taken := im.byPhone[im.hash(phone)]; !taken {
		im.byPhone[im.hash(phone)] = i
	}
}

// emailsAndPhones returns the one-element lists of email and phone (nil
// when empty), sharing one array: one allocation a contact, not two.
func emailsAndPhones(email, phone string) (emails, phones []string) {
	both := []string{email, phone}
	if email != "" {
		emails = both[0:1:1]
	}
	if phone != "" {
		phones = both[1:2:2]
	}
	return emails, phones
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// channelFromType reads a channel and a direction out of an activity type
// such as "SMS Received" or "email_sent".
func channelFromType(t string) (Channel, Direction) {
	t = strings.ToLower(t)
	var ch Channel
	switch {
	case strings.Contains(t, "sms") || strings.Contains(t, "text"):
		ch = ChannelSMS
	case strings.Contains(t, "email") || strings.Contains(t, "e-mail") || strings.Contains(t, "mail"):
		ch = ChannelEmail
	case strings.Contains(t, "call") || strings.Contains(t, "phone") || strings.Contains(t, "voicemail"):
		ch = ChannelCall
	case strings.Contains(t, "chat"):
		ch = ChannelChat
	}
	var dir Direction
	switch {
	case strings.Contains(t, "received") || strings.Contains(t, "inbound") || strings.Contains(t, "incoming") || strings.Contains(t, "repl"):
		dir = Inbound
	case strings.Contains(t, "sent") || strings.Contains(t, "outbound") || strings.Contains(t, "outgoing"):
		dir = Outbound
	}
	return ch, dir
}

// parseDuration reads seconds ("95", "95.5") or a clock ("1:35", "0:01:35").
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e7 {
		return time.Duration(f * float64(time.Second)), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) == 2 || len(parts) == 3 {
		var total int64
		for _, p := range parts {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil || n < 0 || n >= 1e6 {
				return 0, fmt.Errorf("duration %q is not seconds or h:mm:ss", truncate(s, 20))
			}
			total = total*60 + n
		}
		return time.Duration(total) * time.Second, nil
	}
	return 0, fmt.Errorf("duration %q is not seconds or h:mm:ss", truncate(s, 20))
}

// activityRow validates one activity row (keys already canonical).
func (im *importer) activityRow(line int, v map[string]string) {
	a := activity{
		file: im.file, line: line, id: v["id"],
		contactID: v["contact_id"], email: v["email"], phone: v["phone"], first: v["first_name"], last: v["last_name"],
		typ: v["type"], subject: v["subject"], body: v["body"], status: strings.ToLower(v["status"]),
		recordingURL: v["recording_url"], transcription: v["transcription"],
		senderName: v["sender_name"], senderEmail: v["sender_email"], senderPhone: v["sender_phone"],
	}
	if a.contactID == "" && a.email == "" && a.phone == "" {
		im.reject(line, "no contact: give contact_id, contact_email or contact_phone")
		return
	}
	for _, f := range []struct{ name, v string }{{"first_name", a.first}, {"last_name", a.last}, {"contact_email", a.email},
		{"sender_name", a.senderName}, {"sender_email", a.senderEmail}} {
		if r, bad := controlChar(f.v); bad {
			im.reject(line, "%s contains the control character %U; remove it from the export", f.name, r)
			return
		}
	}
	var ok bool
	if a.phone, ok = im.checkAddress(line, "contact_email", a.email, "contact_phone", a.phone); !ok {
		return
	}
	if strings.ContainsAny(a.contactID+a.id, "/?#") {
		im.reject(line, "an id contains / ? or #")
		return
	}
	if v["date"] == "" {
		im.reject(line, "date is empty")
		return
	}
	at, err := parseTimeIn(v["date"], im.opts.Location)
	if err == nil {
		err = plausibleDate(at)
	}
	if err != nil {
		im.reject(line, "date: %v", err)
		return
	}
	a.at = at
	tch, tdir := channelFromType(a.typ)
	if c := strings.ToLower(v["channel"]); c != "" {
		switch c {
		case "text":
			c = "sms"
		case "phone":
			c = "call"
		}
		a.channel = Channel(c)
		if !a.channel.Valid() {
			im.reject(line, "channel %q is not sms, email, call or chat", truncate(v["channel"], 20))
			return
		}
	} else {
		a.channel = tch
	}
	a.message = a.channel != ""
	if !a.message {
		if a.typ == "" {
			im.reject(line, "neither channel nor type is set: a message needs a channel, a history entry a type")
			return
		}
		im.link(a)
		return
	}
	if d := v["direction"]; d != "" {
		dir, ok := normDirection(d)
		if !ok {
			im.reject(line, "direction %q is not inbound or outbound", truncate(d, 20))
			return
		}
		a.direction = dir
	} else if tdir != "" {
		a.direction = tdir
	} else {
		im.reject(line, "direction is empty: use inbound or outbound")
		return
	}
	if a.duration, err = parseDuration(v["duration"]); err != nil {
		im.reject(line, "%v", err)
		return
	}
	if u := v["attachment_url"]; u != "" {
		name := v["attachment_name"]
		if name == "" {
			name = filepath.Base(strings.SplitN(u, "?", 2)[0])
		}
		a.media = &MediaRef{URL: u, Name: name, ContentType: v["attachment_type"]}
	}
	if (a.channel == ChannelSMS || a.channel == ChannelChat) && a.body == "" && a.media == nil {
		im.reject(line, "the %s message has no body and no attachment", a.channel)
		return
	}
	im.link(a)
}

// contactKey names the row's contact by what the row itself says, so that
// ids made from it do not depend on which other files are imported with it:
// resolved through a contacts export, the same row's contact would get that
// export's id, and an id made from that would change between imports.
func (a activity) contactKey() string {
	switch {
	case a.contactID != "":
		return "id:" + a.contactID
	case a.email != "":
		return "email:" + strings.ToLower(a.email)
	default:
		return "phone:" + a.phone
	}
}

// link finds or makes an activity row's contact and hands the row on as a
// message or a timeline entry.
func (im *importer) link(a activity) {
	ci, ok := im.findContact(a)
	if !ok {
		return
	}
	c := im.contact(ci)
	at := Origin{File: a.file, Line: a.line}
	here := origin{file: uint32(im.fileIx), line: uint32(a.line)} // #nosec G115 -- fileIx counts the files of one import; line is only quoted in reject messages
	if !a.message {
		id := ID(a.id)
		if id == "" {
			id = ID("imp-" + shortHash(a.contactKey(), a.typ, a.at.Format(time.RFC3339Nano), a.subject, a.body))
		}
		key := maphash.String(im.seed, string(id))
		if o, dup := im.histSeen.get(key); dup {
			im.reject(a.line, "duplicate of %s", im.where(o))
			return
		}
		if im.h.History != nil && !im.handled(a.line, im.h.History(at, HistoryEntry{ID: id, ContactID: c.ID, Type: a.typ, Subject: a.subject, Body: a.body, At: a.at})) {
			return
		}
		im.histSeen.put(key, here)
		im.report.Timeline++
		return
	}
	convID := ID("imp-" + shortHash(string(c.ID), string(a.channel)))
	id := ID(a.id)
	if id == "" {
		id = ID("imp-" + shortHash(a.contactKey(), string(a.channel), string(a.direction), a.at.Format(time.RFC3339Nano), a.subject, a.body))
	}
	key := maphash.String(im.seed, string(id))
	if o, dup := im.msgSeen.get(key); dup {
		im.reject(a.line, "duplicate of %s", im.where(o))
		return
	}
	m := Message{ID: id, ConversationID: convID, ContactID: c.ID, Channel: a.channel, Direction: a.direction,
		Subject: a.subject, Body: a.body, SentAt: a.at, Status: MessageStatus(a.status)}
	if a.direction == Inbound {
		m.SenderName, m.SenderAddress, m.SenderPhone = c.Name(), c.Email, c.Phone
		if m.Status == "" {
			m.Status = MessageReceived
		}
	} else {
		m.SenderName, m.SenderAddress, m.SenderPhone = a.senderName, a.senderEmail, a.senderPhone
		if m.Status == "" {
			m.Status = MessageSent
		}
	}
	if a.media != nil {
		m.Media = []MediaRef{*a.media}
	}
	if a.channel == ChannelCall || a.duration > 0 || a.recordingURL != "" {
		m.Call = &CallData{Duration: a.duration, Status: a.status, RecordingURL: a.recordingURL, Transcription: a.transcription}
	}
	subject, ok := im.convs[convID]
	if subject == "" && a.subject != "" {
		subject, ok = strings.Clone(a.subject), false
	}
	cv := Conversation{ID: convID, ContactID: c.ID, Channel: a.channel, Status: StatusOpen, Subject: subject}
	if im.h.Message != nil && !im.handled(a.line, im.h.Message(at, m, cv, c)) {
		return
	}
	if !ok {
		im.convs[convID] = subject
	}
	im.msgSeen.put(key, here)
	im.report.Messages++
}

// findContact finds an activity row's contact by id, email or phone, and
// creates a stub contact from the row when it has an email or phone.
func (im *importer) findContact(a activity) (int32, bool) {
	if a.contactID != "" {
		if i, ok := im.byID[im.hash(a.contactID)]; ok {
			return i, true
		}
	}
	if a.email != "" {
		if i, ok := im.byEmail[im.hash(strings.ToLower(a.email))]; ok {
			return i, true
		}
	}
	if a.phone != "" {
		if im.byPhone == nil {
			im.indexPhones()
		}
		if i, ok := im.byPhone[im.hash(a.phone)]; ok {
			return i, true
		}
	}
	if a.email == "" && a.phone == "" {
		im.reject(a.line, "contact_id %s is not in any contacts export and the row has no contact_email or contact_phone to create it from", a.contactID)
		return 0, false
	}
	c := Contact{ID: ID(a.contactID), FirstName: a.first, LastName: a.last, Email: a.email, Phone: a.phone}
	before := int32(im.contacts.len()) // #nosec G115 -- 2^31 contacts would take over 80 GB of index first (at, origin, byID, records)
	if !im.addContact(a.line, c, true) {
		return 0, false
	}
	im.report.Contacts--
	im.report.ContactsFromActivity++
	return before, true
}
