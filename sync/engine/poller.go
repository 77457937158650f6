package engine

// The ActiveDEMAND poller: one trigger of the engine. It reads the
// conversations that changed since its saved cursor, queues their messages
// (and the contacts they belong to) as outbox jobs, and only then saves
// the cursor, like a Singer tap: a crash between the two reads the same
// page again, and the outbox's keys make that harmless.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/mapping"
)

// DefaultPollEvery is how often the poller looks for changes.
const DefaultPollEvery = 15 * time.Second

// PollCursor is the store cursor stream of the poller.
const PollCursor = "ad.conversations"

// ContactSource lists ActiveDEMAND contacts; *activedemand.Client is one.
// The Conversations interface names a conversation's contact by id only,
// and a message job needs the contact's email and phone to find or create
// it in HighLevel.
type ContactSource interface {
	AllContacts(ctx context.Context) iter.Seq2[activedemand.Contact, error]
}

// PollerConfig configures a Poller. Store, AD and Contacts are required.
type PollerConfig struct {
	Store    *store.Store
	AD       activedemand.Conversations
	Contacts ContactSource
	// Every is the interval between polls (default DefaultPollEvery).
	Every time.Duration
	// Queued, if set, is called after a poll queued new jobs, e.g. with
	// Engine.Wake.
	Queued func()
	Logger *slog.Logger
}

// Poller queues the messages of changed ActiveDEMAND conversations.
type Poller struct {
	cfg PollerConfig
	log *slog.Logger
}

// NewPoller checks cfg and returns a poller. It reads nothing.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Store == nil || cfg.AD == nil || cfg.Contacts == nil {
		return nil, errors.New("sync poller: store, ActiveDEMAND conversations and contacts are all required")
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultPollEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, log: cfg.Logger}, nil
}

// Run polls every Config.Every until ctx ends. A failed poll is logged and
// tried again at the next tick; it returns nil when ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("sync poller: poll failed; trying again at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PollResult counts what one poll did.
type PollResult struct {
	Conversations, Messages int
	// Queued counts the jobs that were new to the outbox.
	Queued int
}

// Poll reads every conversation changed since the saved cursor and queues
// its contact and messages, one page at a time: a page's jobs are stored
// in one transaction, then the page's cursor is saved. An error stops the
// poll with the cursor after the last page whose jobs are stored.
func (p *Poller) Poll(ctx context.Context) (PollResult, error) {
	var res PollResult
	st := p.cfg.Store
	saved, _, err := st.Cursor(ctx, PollCursor)
	if err != nil {
		return res, err
	}
	cursor := activedemand.Cursor(saved)
	book := p.contactBook()
	var token activedemand.PageToken
	for {
		page, next, err := p.cfg.AD.ChangedConversations(ctx, cursor, token)
		if err != nil {
			return res, fmt.Errorf("sync poller: list changed conversations since %q: %w", cursor, err)
		}
		var jobs []store.OutboxJob
		for _, cv := range page.Items {
			res.Conversations++
			cj, n, err := p.conversationJobs(ctx, book, cv, nil)
			if err != nil {
				return res, err
			}
			jobs = append(jobs, cj...)
			res.Messages += n
		}
		n, err := st.EnqueueBatch(ctx, jobs)
		if err != nil {
			return res, fmt.Errorf("sync poller: %w", err)
		}
		res.Queued += n
		if next != "" && next != cursor {
			// Saved only now that the page's jobs are durable.
			if err := st.SaveCursor(ctx, PollCursor, string(next)); err != nil {
				return res, fmt.Errorf("sync poller: %w", err)
			}
		}
		if n > 0 && p.cfg.Queued != nil {
			p.cfg.Queued()
		}
		if page.Next == "" {
			return res, nil
		}
		token = page.Next
	}
}

// conversationJobs reads one conversation's messages and returns the jobs
// that mirror them (those keep accepts; nil keeps all) and the contact
// they belong to, with how many messages they cover. The poller, the
// backfill and the dry run all build their jobs here, so the three agree.
func (p *Poller) conversationJobs(ctx context.Context, book *contactBook, cv activedemand.Conversation, keep func(activedemand.Message) bool) ([]store.OutboxJob, int, error) {
	var jobs []store.OutboxJob
	c, ok, err := book.get(ctx, cv.ContactID)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		c = activedemand.Contact{ID: cv.ContactID}
	}
	n := 0
	for m, err := range activedemand.AllMessages(ctx, p.cfg.AD, cv.ID) {
		if err != nil {
			return nil, 0, fmt.Errorf("sync poller: list messages of conversation %s: %w", cv.ID, err)
		}
		if keep != nil && !keep(m) {
			continue
		}
		mj, err := APIMessageJob(m, cv, c)
		if err != nil {
			return nil, 0, err
		}
		jobs = append(jobs, mj)
		n++
	}
	if ok && (n > 0 || keep == nil) {
		cj, err := APIContactJob(c)
		if err != nil {
			return nil, 0, err
		}
		jobs = append([]store.OutboxJob{cj}, jobs...)
	}
	if keep == nil {
		// Marks are the conversation's state now, not part of a range:
		// only a poll mirrors them.
		fj, ok, err := flagsJob(ctx, p.cfg.Store, cv)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			jobs = append(jobs, fj)
		}
	}
	return jobs, n, nil
}

func (p *Poller) contactBook() *contactBook {
	return &contactBook{src: p.cfg.Contacts, missing: map[activedemand.ID]bool{}, log: p.log}
}

// contactBook reads ActiveDEMAND's contacts once per pass, and again when
// a contact created since shows up; a contact that is still unknown after
// a fresh read is not looked for again in the same pass.
type contactBook struct {
	src     ContactSource
	m       map[activedemand.ID]activedemand.Contact
	missing map[activedemand.ID]bool
	log     *slog.Logger
}

// withoutPasswords returns scrub, which takes out of a contact every field
// ActiveDEMAND types as a password, before the contact's job is stored
// (see passwordScrub). Without the field list scrub drops every custom
// field; the contact's job key covers its fields, so the next poll that
// can read the list queues it again with them.
func (b *contactBook) withoutPasswords(ctx context.Context) func(*activedemand.Contact) {
	fl, _ := b.src.(ContactFieldLister)
	scrub, err := passwordScrub(ctx, fl, nil)
	if err != nil {
		b.log.Warn("sync poller: ActiveDEMAND's field list is unreadable, so contacts' custom fields wait for a later poll (passwords cannot be told apart)", "err", err)
	}
	return func(c *activedemand.Contact) { scrub(c) }
}

// errNoFieldList is passwordScrub's error when nothing can list
// ActiveDEMAND's fields.
var errNoFieldList = errors.New("no ActiveDEMAND account is connected to list its fields")

// passwordScrub returns scrub, which takes out of a contact every field
// ActiveDEMAND types as a password and reports whether it took anything:
// Parley never copies a password to HighLevel, so it has no reason to
// hold one. Without the field list (fl nil, or its read failing: err says
// why) passwords cannot be told apart, and scrub takes out every custom
// field, where accounts keep them, but those in keep.
func passwordScrub(ctx context.Context, fl ContactFieldLister, keep map[string]bool) (scrub func(*activedemand.Contact) bool, err error) {
	var defs []activedemand.ContactField
	err = errNoFieldList
	if fl != nil {
		defs, err = fl.ContactFields(ctx)
	}
	if err != nil {
		return func(c *activedemand.Contact) bool {
			took := false
			for k := range c.Custom {
				if !keep[k] {
					delete(c.Custom, k)
					took = true
				}
			}
			for k := range c.Fields {
				if activedemand.IsCustomField(k) && !keep[k] {
					delete(c.Fields, k)
					took = true
				}
			}
			return took
		}, err
	}
	var secret []string
	for _, d := range defs {
		if mapping.IsSecretField(d) {
			secret = append(secret, d.Key)
		}
	}
	return func(c *activedemand.Contact) bool {
		took := false
		for _, k := range secret {
			_, inCustom := c.Custom[k]
			_, inFields := c.Fields[k]
			took = took || inCustom || inFields
			delete(c.Custom, k)
			delete(c.Fields, k)
		}
		return took
	}, nil
}

func (b *contactBook) get(ctx context.Context, id activedemand.ID) (activedemand.Contact, bool, error) {
	if c, ok := b.m[id]; ok {
		return c, true, nil
	}
	if b.m != nil && b.missing[id] {
		return activedemand.Contact{}, false, nil
	}
	m := map[activedemand.ID]activedemand.Contact{}
	scrub := b.withoutPasswords(ctx)
	for c, err := range b.src.AllContacts(ctx) {
		if err != nil {
			return activedemand.Contact{}, false, fmt.Errorf("sync poller: list contacts: %w", err)
		}
		scrub(&c)
		m[c.ID] = c
	}
	b.m = m
	c, ok := m[id]
	if !ok {
		b.missing[id] = true
	}
	return c, ok, nil
}
