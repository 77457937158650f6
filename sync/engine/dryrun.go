package engine

// The dry run: what a sync would do now (create, update, record, upload)
// without doing any of it. It builds the jobs a poll (or a backfill) would
// queue, adds the work already pending in the outbox, and walks them the
// way the workers would, with HighLevel's read routes only (duplicate
// search, conversation search). It writes nothing anywhere: not to
// HighLevel, not to the outbox, the id map or the poller's cursor.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// DryRunCategory is one kind of change a sync would make.
type DryRunCategory string

// Dry-run categories.
const (
	DryCreateContact DryRunCategory = "create contact"
	// DryLinkContact: HighLevel already has the contact (same email or
	// phone); the sync links it and writes nothing.
	DryLinkContact        DryRunCategory = "link existing contact"
	DryUpdateContact      DryRunCategory = "update contact"
	DryCreateConversation DryRunCategory = "create conversation"
	DryUpdateConversation DryRunCategory = "update conversation"
	DryRecordMessage      DryRunCategory = "record message"
	DryUploadAttachment   DryRunCategory = "upload attachment"
)

// DryRunCategories lists the categories in the order a summary shows them.
var DryRunCategories = []DryRunCategory{DryCreateContact, DryLinkContact, DryUpdateContact, DryCreateConversation,
	DryUpdateConversation, DryRecordMessage, DryUploadAttachment}

// DryRunItem is one predicted change.
type DryRunItem struct {
	// ADID is the ActiveDEMAND id the change is for.
	ADID string
	// Detail says what would happen, in words.
	Detail string
}

// DryRunResult is what a sync would do.
type DryRunResult struct {
	// Conversations and Messages count what was read from ActiveDEMAND;
	// Pending the jobs already waiting in the outbox, included below.
	Conversations, Messages, Pending int
	// Counts are the predicted changes by category; Items the first
	// DryRunConfig.MaxItems of each.
	Counts map[DryRunCategory]int
	Items  map[DryRunCategory][]DryRunItem
}

// DefaultDryRunItems is how many items per category a dry run lists.
const DefaultDryRunItems = 20

// DryRunConfig configures [DryRun]. Store, GHL, AD and Contacts are
// required.
type DryRunConfig struct {
	Store    *store.Store
	GHL      *ghl.Client
	AD       activedemand.Conversations
	Contacts ContactSource
	// Range, if set, predicts a backfill of it instead of a poll from the
	// saved cursor.
	Range *DateRange
	// MaxItems is how many items per category to list (default
	// DefaultDryRunItems).
	MaxItems int
	// PhoneRegion is Config.PhoneRegion: the duplicate search must look
	// for the number the worker would send.
	PhoneRegion string
}

// DryRun predicts what a sync would change now, and changes nothing.
func DryRun(ctx context.Context, cfg DryRunConfig) (DryRunResult, error) {
	res := DryRunResult{Counts: map[DryRunCategory]int{}, Items: map[DryRunCategory][]DryRunItem{}}
	if cfg.Store == nil || cfg.GHL == nil || cfg.AD == nil || cfg.Contacts == nil {
		return res, errors.New("dry run: store, HighLevel client, ActiveDEMAND conversations and contacts are all required")
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultDryRunItems
	}
	d := &dryRun{cfg: cfg, res: &res, contacts: map[string]*dryContact{}}
	// The outbox's pending work first: it goes out before anything new.
	err := cfg.Store.PendingOutbox(ctx, engineKinds(), func(it store.OutboxItem) error {
		res.Pending++
		return d.job(ctx, it.Kind, it.Payload)
	})
	if err != nil {
		return res, fmt.Errorf("dry run: %w", err)
	}
	since := activedemand.Cursor("")
	var keep func(activedemand.Message) bool
	if cfg.Range != nil {
		since = activedemand.CursorAt(cfg.Range.From)
		keep = func(m activedemand.Message) bool { return cfg.Range.Contains(m.SentAt) }
	} else {
		saved, _, err := cfg.Store.Cursor(ctx, PollCursor)
		if err != nil {
			return res, fmt.Errorf("dry run: %w", err)
		}
		since = activedemand.Cursor(saved)
	}
	p := &Poller{cfg: PollerConfig{Store: cfg.Store, AD: cfg.AD, Contacts: cfg.Contacts}}
	book := p.contactBook()
	for cv, err := range activedemand.AllChangedConversations(ctx, cfg.AD, since) {
		if err != nil {
			return res, fmt.Errorf("dry run: list changed conversations: %w", err)
		}
		res.Conversations++
		jobs, n, err := p.conversationJobs(ctx, book, cv, keep)
		if err != nil {
			return res, fmt.Errorf("dry run: %w", err)
		}
		res.Messages += n
		for _, j := range jobs {
			// A job the outbox knows is done, or counted above as pending.
			states, err := cfg.Store.OutboxStatesByKey(ctx, j.Key, repairSep)
			if err != nil {
				return res, fmt.Errorf("dry run: %w", err)
			}
			if _, known := states[j.Key]; known {
				continue
			}
			if err := d.job(ctx, j.Kind, j.Payload); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// dryRun walks jobs as the workers would, remembering per AD contact what
// it predicted, so that the second message of a new contact does not
// create it again.
type dryRun struct {
	cfg      DryRunConfig
	res      *DryRunResult
	contacts map[string]*dryContact
}

type dryContact struct {
	// ghlContact is the HighLevel contact, when it exists; created is
	// set when the sync would create it (then its conversation too).
	ghlContact string
	created    bool
	// resolved is set once the contact was looked up; conv once its
	// conversation was.
	resolved, conv bool
}

func (d *dryRun) add(cat DryRunCategory, adID, detail string) {
	d.res.Counts[cat]++
	if len(d.res.Items[cat]) < d.cfg.MaxItems {
		d.res.Items[cat] = append(d.res.Items[cat], DryRunItem{ADID: adID, Detail: detail})
	}
}

func (d *dryRun) job(ctx context.Context, kind string, payload []byte) error {
	switch kind {
	case JobMirrorContact:
		cj, err := DecodeContactJob(payload)
		if err != nil {
			return nil // the worker would kill it; nothing is written
		}
		_, known, err := d.cfg.Store.GHLIDFor(ctx, store.KindContact, cj.ContactID)
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		if known {
			d.add(DryUpdateContact, cj.ContactID, fmt.Sprintf("update %s %s (%s) in HighLevel: its details changed in ActiveDEMAND", cj.FirstName, cj.LastName, firstNonEmpty(cj.Email, cj.Phone)))
			return nil
		}
		_, err = d.contact(ctx, cj.ContactID, cj.FirstName+" "+cj.LastName, cj.Email, cj.Phone)
		return err
	case JobMirrorMessage:
		mj, err := DecodeMessageJob(payload)
		if err != nil {
			return nil
		}
		c, err := d.contact(ctx, mj.Contact.ID, mj.Contact.Name, mj.Contact.Email, mj.Contact.Phone)
		if err != nil {
			return err
		}
		if err := d.conversation(ctx, mj.Contact.ID, c); err != nil {
			return err
		}
		d.add(DryRecordMessage, mj.MessageID, fmt.Sprintf("record the %s %s of %s with %s", mj.Direction, mj.Channel, mj.SentAt.UTC().Format(time.RFC3339), mj.Contact.Name))
		for _, m := range mj.Media {
			d.add(DryUploadAttachment, mj.MessageID, fmt.Sprintf("upload %s (%s) for message %s", firstNonEmpty(m.Name, m.URL), firstNonEmpty(m.ContentType, "type unknown"), mj.MessageID))
		}
	default:
		if pr, ok := dryRunKinds[kind]; ok {
			return pr(d, ctx, payload)
		}
	}
	return nil
}

// dryRunKinds predicts the other job kinds; files adding a kind register
// its prediction in an init function, as they register its worker.
var dryRunKinds = map[string]func(*dryRun, context.Context, []byte) error{}

// contact finds the AD contact's HighLevel twin as the worker would (id
// map, then duplicate search), or predicts its creation.
func (d *dryRun) contact(ctx context.Context, adID, name, email, phone string) (*dryContact, error) {
	c := d.contacts[adID]
	if c == nil {
		c = &dryContact{}
		d.contacts[adID] = c
	}
	if c.resolved {
		return c, nil
	}
	c.resolved = true
	id, ok, err := d.cfg.Store.GHLIDFor(ctx, store.KindContact, adID)
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	if ok {
		c.ghlContact = id
		return c, nil
	}
	e := &Engine{cfg: Config{PhoneRegion: d.cfg.PhoneRegion}}
	// The duplicate search reads email and phone as the mapping's
	// defaults send them: lower-cased, and E.164.
	in := ghl.ContactInput{Email: strings.ToLower(strings.TrimSpace(email)), Phone: e.e164(phone)}
	if in.Email == "" && in.Phone == "" {
		return c, nil // the worker would fail it for a person to fix; nothing is written
	}
	found, ok, err := d.cfg.GHL.FindDuplicateContact(ctx, in.Email, in.Phone)
	if err != nil {
		return nil, fmt.Errorf("dry run: look for ActiveDEMAND contact %s in HighLevel: %w", adID, err)
	}
	if ok {
		c.ghlContact = found.ID
		d.add(DryLinkContact, adID, fmt.Sprintf("link %s to HighLevel contact %s (same email or phone)", firstNonEmpty(name, email, phone), found.ID))
		return c, nil
	}
	c.created = true
	d.add(DryCreateContact, adID, fmt.Sprintf("create %s (%s) in HighLevel", firstNonEmpty(name, adID), firstNonEmpty(in.Email, in.Phone)))
	return c, nil
}

// conversation finds the contact's HighLevel conversation as the worker
// would (id map, then search by contact), or predicts its creation.
func (d *dryRun) conversation(ctx context.Context, adContact string, c *dryContact) error {
	if c.conv {
		return nil
	}
	c.conv = true
	if _, ok, err := d.cfg.Store.GHLIDFor(ctx, store.KindConversation, conversationKey(adContact)); err != nil || ok {
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		return nil
	}
	if c.ghlContact != "" {
		page, err := d.cfg.GHL.SearchConversationsPage(ctx, ghl.SearchConversationsRequest{ContactID: c.ghlContact, Limit: 5})
		if err != nil {
			return fmt.Errorf("dry run: search the conversation of HighLevel contact %s: %w", c.ghlContact, err)
		}
		for _, cv := range page.Conversations {
			if cv.ContactID == c.ghlContact {
				return nil
			}
		}
	}
	if c.ghlContact == "" && !c.created {
		return nil // the contact cannot be made; neither can its conversation
	}
	d.add(DryCreateConversation, adContact, fmt.Sprintf("create the HighLevel conversation of ActiveDEMAND contact %s", adContact))
	return nil
}
