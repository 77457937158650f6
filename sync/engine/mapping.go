package engine

// The field mapping at job time, and the API the console's mapping editor
// calls. The mapping is data in the store (versioned); the engine compiles
// the current version once and reads only its number per job.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
	"parley/sync/mapping"
)

// OpContactMap is the history operation of a mapping link left out of a
// contact (a field deleted in ActiveDEMAND, a value a lookup lacks): the
// rest of the contact is still sent.
const OpContactMap store.Operation = "contact.map"

// ContactFieldLister reads ActiveDEMAND's contact field definitions;
// *activedemand.Client is one.
type ContactFieldLister interface {
	ContactFields(ctx context.Context) ([]activedemand.ContactField, error)
}

// How long ActiveDEMAND's field list is trusted at job time, and how soon
// a failed read is tried again. Fields are added and deleted rarely; a
// deleted one is reported at most adFieldsTTL late.
const (
	adFieldsTTL   = 5 * time.Minute
	adFieldsRetry = time.Minute
)

// mappingCache holds the compiled current mapping and ActiveDEMAND's
// field list. Its zero value is empty.
type mappingCache struct {
	mu sync.Mutex
	// m was compiled from version (0: the default, built from the
	// catalog of generation gen).
	m       *mapping.Mapping
	version int
	gen     int

	catalog mapping.Catalog
	catGen  int       // grows each time catalog is rebuilt from ActiveDEMAND
	readAt  time.Time // when ActiveDEMAND was last asked
	haveAD  bool      // catalog holds ActiveDEMAND's list
}

// adCatalog is the catalog with ActiveDEMAND's fields, read again when
// older than adFieldsTTL (or when fresh is set). ok is false when
// ActiveDEMAND's list is not known: no AD client, or reading it failed.
func (e *Engine) adCatalog(ctx context.Context, fresh bool) (cat mapping.Catalog, gen int, ok bool) {
	c := &e.maps
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.cfg.ADFields == nil {
		return mapping.NewCatalog(nil, errors.New("no ActiveDEMAND connection is configured")), 0, false
	}
	wait := adFieldsTTL
	if !c.haveAD {
		wait = adFieldsRetry
	}
	if fresh || c.readAt.IsZero() || e.now().Sub(c.readAt) >= wait {
		// Under the lock: jobs wait for one read rather than all asking.
		defs, err := e.cfg.ADFields.ContactFields(ctx)
		if ctx.Err() != nil {
			return mapping.NewCatalog(nil, ctx.Err()), 0, false
		}
		c.readAt = e.now()
		if err != nil {
			if !c.haveAD {
				c.catalog = mapping.NewCatalog(nil, err)
			}
			e.log.Warn("sync engine: could not read ActiveDEMAND's contact fields; the field mapping goes on with what it knew", "err", err)
		} else {
			c.catalog, c.haveAD = mapping.NewCatalog(defs, nil), true
			c.catGen++
		}
	}
	return c.catalog, c.catGen, c.haveAD
}

// currentMapping is the compiled mapping jobs use now (the newest saved
// version, or the default when none is), with the check of the fields it
// reads: nil while ActiveDEMAND's field list is unknown.
func (e *Engine) currentMapping(ctx context.Context) (*mapping.Mapping, func(string) error, error) {
	v, err := e.st.LatestMappingVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	cat, gen, haveAD := e.adCatalog(ctx, false)
	var check func(string) error
	if haveAD {
		check = runCheck(cat)
	}
	c := &e.maps
	c.mu.Lock()
	m := c.m
	hit := m != nil && c.version == v && (v > 0 || c.gen == gen)
	c.mu.Unlock()
	if hit {
		return m, check, nil
	}
	var links []mapping.Link
	if v == 0 {
		var ad []mapping.Field
		if haveAD {
			ad = cat.AD
		}
		links = mapping.Default(ad)
	} else {
		saved, err := e.st.MappingsAt(ctx, v)
		if err != nil {
			return nil, nil, err
		}
		links = mapping.FromStore(saved)
	}
	m = mapping.Compile(links, mapping.Options{PhoneRegion: e.cfg.PhoneRegion})
	c.mu.Lock()
	c.m, c.version, c.gen = m, v, gen
	c.mu.Unlock()
	return m, check, nil
}

// runCheck is the job-time check of an ActiveDEMAND field: a custom field
// the list lacks was deleted; other keys the list lacks (an export's own
// columns) are let through, since ActiveDEMAND does not list them.
func runCheck(cat mapping.Catalog) func(string) error {
	return func(k string) error {
		if _, ok := cat.ADField(k); !ok && !activedemand.IsCustomField(k) {
			return nil
		}
		return cat.Check(k)
	}
}

// mapContact builds the HighLevel contact for ActiveDEMAND contact adID
// from rec through the current mapping. Each link left out becomes a
// skipped history row of the job, saying which link and what to fix.
func (e *Engine) mapContact(ctx context.Context, j *job, adID string, rec mapping.Record) (ghl.ContactInput, error) {
	m, check, err := e.currentMapping(ctx)
	if err != nil {
		return ghl.ContactInput{}, err
	}
	res := m.Apply(rec, check)
	for _, le := range res.Errors() {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: OpContactMap, System: store.SystemGHL,
			LocalID: adID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts, Error: le.Error()})
	}
	return res.Input, nil
}

// contactRecord is a contact job's data as the mapping reads it.
func contactRecord(cj ContactJob) mapping.Record {
	return mapping.ContactRecord(activedemand.Contact{ID: activedemand.ID(cj.ContactID), FirstName: cj.FirstName, LastName: cj.LastName,
		Email: cj.Email, Phone: cj.Phone, Emails: cj.Emails, Phones: cj.Phones, Custom: cj.Custom, Fields: cj.Fields,
		CreatedAt: cj.CreatedAt, UpdatedAt: cj.UpdatedAt})
}

// messageRecord is what a message job knows of its contact, and the
// message, as the mapping reads them. The job names the contact by its
// full name: the first word is taken as the first name.
func messageRecord(mj MessageJob) mapping.Record {
	first, last, _ := strings.Cut(strings.TrimSpace(mj.Contact.Name), " ")
	r := mapping.ContactRecord(activedemand.Contact{ID: activedemand.ID(mj.Contact.ID), FirstName: first, LastName: strings.TrimSpace(last),
		Email: mj.Contact.Email, Phone: mj.Contact.Phone})
	mapping.AddMessage(r, activedemand.Message{Channel: activedemand.Channel(mj.Channel), Direction: activedemand.Direction(mj.Direction),
		SenderName: mj.SenderName, SenderAddress: mj.SenderAddress, SenderPhone: mj.SenderPhone, Subject: mj.Subject, Body: mj.Body,
		SentAt: mj.SentAt, Status: activedemand.MessageStatus(mj.Status)}, activedemand.Conversation{Subject: mj.Conversation.Subject})
	return r
}

// MappingState is the mapping jobs use now.
type MappingState struct {
	// Version is the saved version; 0 with Default set when none was
	// saved and the default mapping applies.
	Version int
	Default bool
	Links   []mapping.Link
}

// MappingCatalog lists both sides' fields for the mapping editor, reading
// ActiveDEMAND's field list afresh. When it cannot be read, the catalog
// says so (ADChecked false, ADNote) and custom fields go unchecked; the
// error is only the context's.
func (e *Engine) MappingCatalog(ctx context.Context) (mapping.Catalog, error) {
	cat, _, _ := e.adCatalog(ctx, true)
	return cat, ctx.Err()
}

// CurrentMapping is the mapping jobs use now.
func (e *Engine) CurrentMapping(ctx context.Context) (MappingState, error) {
	v, saved, err := e.st.CurrentMappings(ctx)
	if err != nil {
		return MappingState{}, err
	}
	if v == 0 {
		cat, _, haveAD := e.adCatalog(ctx, false)
		var ad []mapping.Field
		if haveAD {
			ad = cat.AD
		}
		return MappingState{Default: true, Links: mapping.Default(ad)}, nil
	}
	return MappingState{Version: v, Links: mapping.FromStore(saved)}, nil
}

// ValidateMapping checks links against a fresh catalog; no problems means
// SaveMapping takes them.
func (e *Engine) ValidateMapping(ctx context.Context, links []mapping.Link) (mapping.Problems, error) {
	cat, err := e.MappingCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return mapping.Validate(links, cat, mapping.Options{PhoneRegion: e.cfg.PhoneRegion}), nil
}

// SaveMapping validates links and saves them as a new version, which jobs
// use from then on. A mapping with problems is not saved: the error is
// mapping.Problems (errors.As), one per problem, each naming its link.
func (e *Engine) SaveMapping(ctx context.Context, links []mapping.Link, note string) (version int, err error) {
	ps, err := e.ValidateMapping(ctx, links)
	if err != nil {
		return 0, err
	}
	if len(ps) > 0 {
		return 0, ps
	}
	return e.st.SaveMappings(ctx, mapping.ToStore(links), note)
}

// MappingVersions lists the saved versions, newest first.
func (e *Engine) MappingVersions(ctx context.Context) ([]store.MappingVersion, error) {
	return e.st.MappingVersions(ctx)
}

// MappingAt is a saved version's links.
func (e *Engine) MappingAt(ctx context.Context, version int) ([]mapping.Link, error) {
	saved, err := e.st.MappingsAt(ctx, version)
	if err != nil {
		return nil, err
	}
	return mapping.FromStore(saved), nil
}

// RevertMapping saves an earlier version again as the newest, so the
// history of versions stays whole. It is validated like any save: a
// version naming a field deleted since is refused with its problems.
func (e *Engine) RevertMapping(ctx context.Context, version int) (int, error) {
	links, err := e.MappingAt(ctx, version)
	if err != nil {
		return 0, fmt.Errorf("revert the field mapping: %w", err)
	}
	return e.SaveMapping(ctx, links, fmt.Sprintf("revert to version %d", version))
}

// PreviewMapping shows what links would send for sample (see
// mapping.ContactRecord and mapping.AddMessage), with their problems.
func (e *Engine) PreviewMapping(ctx context.Context, links []mapping.Link, sample mapping.Record) (mapping.Preview, error) {
	cat, err := e.MappingCatalog(ctx)
	if err != nil {
		return mapping.Preview{}, err
	}
	return mapping.PreviewOf(links, cat, mapping.Options{PhoneRegion: e.cfg.PhoneRegion}, sample), nil
}

// contactPager lists ActiveDEMAND contacts a page at a time;
// *activedemand.Client is one.
type contactPager interface {
	ListContacts(ctx context.Context, page activedemand.PageToken) (activedemand.Page[activedemand.Contact], error)
}

// MappingSample is an ActiveDEMAND contact to preview a mapping on.
type MappingSample struct {
	ContactID string
	// Label is the name and email to show in a picker.
	Label string
	// Record is the contact's fields without its passwords; add a
	// message's with mapping.AddMessage.
	Record mapping.Record
}

// MappingSamples reads up to limit contacts from ActiveDEMAND (through
// Config.ADFields, when it can list contacts) for the editor's preview.
func (e *Engine) MappingSamples(ctx context.Context, limit int) ([]MappingSample, error) {
	pager, ok := e.cfg.ADFields.(contactPager)
	if !ok {
		return nil, errors.New("mapping samples: no ActiveDEMAND connection to read contacts from; connect ActiveDEMAND in Connections, or type a sample")
	}
	cat, _, haveAD := e.adCatalog(ctx, false)
	if !haveAD {
		// Without the field list, password fields cannot be told apart
		// and left out.
		return nil, fmt.Errorf("mapping samples: %s; try again once ActiveDEMAND answers", cat.ADNote)
	}
	var out []MappingSample
	var tok activedemand.PageToken
	for len(out) < limit {
		p, err := pager.ListContacts(ctx, tok)
		if err != nil {
			return out, fmt.Errorf("mapping samples: %w", err)
		}
		for _, c := range p.Items {
			if len(out) == limit {
				break
			}
			r := mapping.ContactRecord(c)
			for k := range r {
				if f, ok := cat.ADField(k); ok && f.Type == mapping.Secret {
					delete(r, k)
				}
			}
			label := c.Name()
			if c.Email != "" {
				label = strings.TrimSpace(label + " <" + c.Email + ">")
			}
			out = append(out, MappingSample{ContactID: string(c.ID), Label: label, Record: r})
		}
		if p.Next == "" {
			break
		}
		tok = p.Next
	}
	return out, nil
}

// MappingMessage is a stored ActiveDEMAND message of a sample contact, for
// the editor's preview.
type MappingMessage struct {
	// Label says which message it is, e.g. "SMS in, 2 Jan 2026 15:04".
	Label string
	// Record is the message's fields alone (mapping.AddMessage's); add
	// them to the contact's record.
	Record mapping.Record
}

// MappingSampleMessage is the newest message of ActiveDEMAND contact
// contactID that the sync has read (from the outbox, so no call to
// ActiveDEMAND), with ok false when it has read none.
func (e *Engine) MappingSampleMessage(ctx context.Context, contactID string) (m MappingMessage, ok bool, err error) {
	items, err := e.st.OutboxWithValue(ctx, JobMirrorMessage, "$.contact.id", contactID, sampleMessageScan)
	if err != nil {
		return MappingMessage{}, false, fmt.Errorf("mapping sample message: %w", err)
	}
	var newest *MessageJob
	for _, it := range items {
		mj, err := DecodeMessageJob(it.Payload)
		if err != nil {
			continue // a job the engine cannot read says so in History when it runs
		}
		if newest == nil || mj.SentAt.After(newest.SentAt) {
			newest = &mj
		}
	}
	if newest == nil {
		return MappingMessage{}, false, nil
	}
	r := mapping.Record{}
	mapping.AddMessage(r, activedemand.Message{Channel: activedemand.Channel(newest.Channel), Direction: activedemand.Direction(newest.Direction),
		SenderName: newest.SenderName, SenderAddress: newest.SenderAddress, SenderPhone: newest.SenderPhone, Subject: newest.Subject,
		Body: newest.Body, SentAt: newest.SentAt, Status: activedemand.MessageStatus(newest.Status)},
		activedemand.Conversation{Subject: newest.Conversation.Subject})
	label := strings.TrimSpace(strings.ToUpper(newest.Channel) + " " + map[string]string{"inbound": "in", "outbound": "out"}[newest.Direction])
	return MappingMessage{Label: label + ", " + newest.SentAt.Local().Format("2 Jan 2006 15:04"), Record: r}, true, nil
}

// sampleMessageScan bounds the jobs MappingSampleMessage reads for one
// contact.
const sampleMessageScan = 5_000
