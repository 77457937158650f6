package activedemand

// ImportedData: an import held in memory and served through the
// Conversations interface.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ImportedData is an imported export, served through the Conversations
// interface. It is read-only: writes fail with ErrReadOnly. It is safe for
// concurrent reads.
type ImportedData struct {
	contacts  []Contact
	contactIx map[ID]int
	convs     []Conversation
	messages  map[ID][]Message
	history   map[ID][]HistoryEntry
	mediaDir  string
}

var _ Conversations = (*ImportedData)(nil)

// collector builds an ImportedData from what Stream hands it.
type collector struct {
	d      *ImportedData
	convIx map[ID]int
}

func newCollector(mediaDir string) *collector {
	return &collector{d: &ImportedData{messages: map[ID][]Message{}, history: map[ID][]HistoryEntry{}, contactIx: map[ID]int{}, mediaDir: mediaDir},
		convIx: map[ID]int{}}
}

func (c *collector) handler() ImportHandler {
	d := c.d
	return ImportHandler{
		Contact: func(_ Origin, ct Contact, _ bool) error {
			d.contactIx[ct.ID] = len(d.contacts)
			d.contacts = append(d.contacts, ct)
			return nil
		},
		History: func(_ Origin, h HistoryEntry) error {
			d.history[h.ContactID] = append(d.history[h.ContactID], h)
			return nil
		},
		Message: func(_ Origin, m Message, cv Conversation, _ Contact) error {
			i, ok := c.convIx[cv.ID]
			if !ok {
				i = len(d.convs)
				c.convIx[cv.ID] = i
				d.convs = append(d.convs, cv)
			}
			if m.SentAt.After(d.convs[i].UpdatedAt) {
				d.convs[i].UpdatedAt = m.SentAt
			}
			if d.convs[i].Subject == "" {
				d.convs[i].Subject = cv.Subject
			}
			d.messages[cv.ID] = append(d.messages[cv.ID], m)
			return nil
		},
	}
}

// done orders what was collected: messages and history oldest first,
// conversations by their last message.
func (c *collector) done() *ImportedData {
	d := c.d
	for id := range d.messages {
		sort.SliceStable(d.messages[id], func(i, j int) bool { return d.messages[id][i].SentAt.Before(d.messages[id][j].SentAt) })
	}
	for id := range d.history {
		sort.SliceStable(d.history[id], func(i, j int) bool { return d.history[id][i].At.Before(d.history[id][j].At) })
	}
	sort.SliceStable(d.convs, func(i, j int) bool {
		if !d.convs[i].UpdatedAt.Equal(d.convs[j].UpdatedAt) {
			return d.convs[i].UpdatedAt.Before(d.convs[j].UpdatedAt)
		}
		return d.convs[i].ID < d.convs[j].ID
	})
	return d
}

const importPageSize = 500

// Contacts returns every imported contact, stubs included.
func (d *ImportedData) Contacts() []Contact { return slices.Clone(d.contacts) }

// Contact finds a contact by id.
func (d *ImportedData) Contact(id ID) (Contact, bool) {
	i, ok := d.contactIx[id]
	if !ok {
		return Contact{}, false
	}
	return d.contacts[i], true
}

func slicePage[T any](op string, all []T, tok PageToken) (Page[T], error) {
	var off int64
	if tok != "" {
		s, ok := strings.CutPrefix(string(tok), "o:")
		n, err := strconv.ParseInt(s, 10, 64)
		if !ok || err != nil || n < 0 || n > int64(len(all)) {
			return Page[T]{}, fmt.Errorf("activedemand: %s: page token %q is not from this import", op, tok)
		}
		off = n
	}
	end := min(off+importPageSize, int64(len(all)))
	p := Page[T]{Items: slices.Clone(all[off:end])}
	if end < int64(len(all)) {
		p.Next = PageToken("o:" + strconv.FormatInt(end, 10))
	}
	return p, nil
}

// ChangedConversations lists imported conversations updated at or after since.
func (d *ImportedData) ChangedConversations(ctx context.Context, since Cursor, page PageToken) (Page[Conversation], Cursor, error) {
	const op = "list changed conversations"
	if err := ctx.Err(); err != nil {
		return Page[Conversation]{}, since, err
	}
	t, err := since.Time()
	if err != nil {
		return Page[Conversation]{}, since, fmt.Errorf("activedemand: %s: cursor: %w", op, err)
	}
	start := sort.Search(len(d.convs), func(i int) bool { return !d.convs[i].UpdatedAt.Before(t) })
	p, err := slicePage(op, d.convs[start:], page)
	if err != nil {
		return p, since, err
	}
	cur := since
	if n := len(p.Items); n > 0 && p.Items[n-1].UpdatedAt.After(t) {
		cur = CursorAt(p.Items[n-1].UpdatedAt)
	}
	return p, cur, nil
}

// Messages lists an imported conversation's messages, oldest first.
func (d *ImportedData) Messages(ctx context.Context, conversationID ID, page PageToken) (Page[Message], error) {
	if err := ctx.Err(); err != nil {
		return Page[Message]{}, err
	}
	msgs, ok := d.messages[conversationID]
	if !ok {
		return Page[Message]{}, fmt.Errorf("activedemand: list messages: conversation %s: %w", conversationID, ErrNotFound)
	}
	return slicePage("list messages", msgs, page)
}

// History lists an imported contact's history entries, oldest first.
func (d *ImportedData) History(ctx context.Context, contactID ID, page PageToken) (Page[HistoryEntry], error) {
	if err := ctx.Err(); err != nil {
		return Page[HistoryEntry]{}, err
	}
	if _, ok := d.contactIx[contactID]; !ok {
		return Page[HistoryEntry]{}, fmt.Errorf("activedemand: list history: contact %s: %w", contactID, ErrNotFound)
	}
	return slicePage("list history", d.history[contactID], page)
}

// DownloadMedia streams a file the export included (a relative path under
// ImportOptions.MediaDir); URLs fail with ErrMediaUnavailable.
func (d *ImportedData) DownloadMedia(ctx context.Context, mediaURL string, w io.Writer) (int64, error) {
	const op = "download media"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if d.mediaDir == "" || strings.Contains(mediaURL, "://") || filepath.IsAbs(mediaURL) || mediaURL == "" {
		return 0, fmt.Errorf("activedemand: %s %q: %w; fetch it with API access", op, mediaURL, ErrMediaUnavailable)
	}
	root, err := os.OpenRoot(d.mediaDir)
	if err != nil {
		return 0, fmt.Errorf("activedemand: %s: %w", op, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(mediaURL))
	if err != nil {
		return 0, fmt.Errorf("activedemand: %s %q: %w (%w)", op, mediaURL, ErrMediaUnavailable, err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("activedemand: %s: %w", op, err)
	}
	return n, nil
}

func readOnly(op string) error { return fmt.Errorf("activedemand: %s: %w", op, ErrReadOnly) }

// SetMessageStatus fails: imported data is read-only.
func (d *ImportedData) SetMessageStatus(context.Context, ID, MessageStatus) error {
	return readOnly("report message status")
}

// AddHistory fails: imported data is read-only.
func (d *ImportedData) AddHistory(context.Context, NewHistoryEntry) (ID, error) {
	return "", readOnly("create history entry")
}

// RaiseTask fails: imported data is read-only.
func (d *ImportedData) RaiseTask(context.Context, NewTask) (ID, error) {
	return "", readOnly("raise task")
}

// SubscribeWebhook fails: imported data is read-only.
func (d *ImportedData) SubscribeWebhook(context.Context, string, EventType) (ID, error) {
	return "", readOnly("subscribe webhook")
}

// UnsubscribeWebhook fails: imported data is read-only.
func (d *ImportedData) UnsubscribeWebhook(context.Context, ID) error {
	return readOnly("unsubscribe webhook")
}
