package engine

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"parley/store"
	"parley/sync/ghl"
)

// resolver remembers, per ActiveDEMAND contact, the HighLevel contact and
// conversation this process has found or made, and serialises their
// resolution: the messages of one contact run on several workers at once,
// and without it each would search and create on its own (the calls per
// message would grow with the workers, and two creates race). What it
// remembers are facts read from HighLevel, true whether or not the job that
// learnt them completed; the id map stays the durable record.
type resolver struct {
	mu       sync.Mutex
	contacts map[string]*resolved
}

type resolved struct {
	mu                  sync.Mutex
	ghlContact, ghlConv string
	// contactLinked and convLinked are set once the id map holds the
	// links, so later jobs need not write them again.
	contactLinked, convLinked bool
	// created says this process's upsert made ghlContact: it had no
	// conversation a moment ago, so its conversation is created without
	// a search first. Only an answer read from HighLevel sets it, never
	// the id map: after a restart the search comes back.
	created bool
}

func newResolver() *resolver { return &resolver{contacts: map[string]*resolved{}} }

// lock returns the contact's entry, locked; the caller unlocks it.
func (r *resolver) lock(adContactID string) *resolved {
	r.mu.Lock()
	c := r.contacts[adContactID]
	if c == nil {
		c = &resolved{}
		r.contacts[adContactID] = c
	}
	r.mu.Unlock()
	c.mu.Lock()
	return c
}

// mirrorContact is a JobMirrorContact: link the contact to its HighLevel
// twin (id map, then a duplicate search by email and phone, then an
// upsert), or update the twin when the contact is known and changed.
func (e *Engine) mirrorContact(ctx context.Context, j *job) error {
	cj, err := DecodeContactJob(j.item.Payload)
	if err != nil {
		return err
	}
	if e.off(ctx, j, SwitchMirror, cj.ContactID, "") {
		return nil
	}
	// Through the field mapping; a link that fails is a history row and
	// the rest of the contact still goes.
	in, err := e.mapContact(ctx, j, cj.ContactID, contactRecord(cj))
	if err != nil {
		return err
	}
	if in.Email == "" && in.Phone == "" {
		// HighLevel matches contacts by email or phone only: without
		// either, a retry after an uncertain create would make a second
		// contact, and nothing could find the first.
		return fmt.Errorf("contact %s: %w: it has neither an email nor a usable phone number to find or create it by in HighLevel; add one in ActiveDEMAND (a new job is queued when it changes), or map one in Mapping",
			cj.ContactID, errPermanent)
	}
	c := e.res.lock(cj.ContactID)
	defer c.mu.Unlock()
	known, ok, err := e.st.GHLIDFor(ctx, store.KindContact, cj.ContactID)
	if err != nil {
		return err
	}
	if ok {
		// A new job for a known contact carries changed details (the job
		// key hashes them): bring HighLevel up to date.
		id, _, err := e.upsert(ctx, j, cj.ContactID, in)
		if err != nil {
			return err
		}
		if id != known {
			return fmt.Errorf("update contact %s: %w: HighLevel matched its email or phone to contact %s, not to %s, which it is linked to; merge the two in HighLevel or fix the contact in ActiveDEMAND, then replay the job",
				cj.ContactID, errPermanent, id, known)
		}
		c.ghlContact, c.contactLinked = id, true
		return nil
	}
	id, created, err := e.findOrUpsert(ctx, j, cj.ContactID, in)
	if err != nil {
		return err
	}
	c.ghlContact, c.created = id, created
	j.link(store.KindContact, cj.ContactID, id)
	j.onDone(func() { c.mu.Lock(); c.contactLinked = true; c.mu.Unlock() })
	return nil
}

// findOrUpsert finds the HighLevel contact matching in's email or phone,
// or creates it; created says the upsert made it.
func (e *Engine) findOrUpsert(ctx context.Context, j *job, adID string, in ghl.ContactInput) (id string, created bool, err error) {
	if in.Email != "" || in.Phone != "" {
		id, err := e.call(ctx, j, store.OpContactLookup, http.MethodGet, adID, false, func(ctx context.Context) (string, error) {
			ct, found, err := e.ghl.FindDuplicateContact(ctx, in.Email, in.Phone)
			if err != nil || !found {
				return "", err
			}
			return ct.ID, nil
		})
		if err != nil || id != "" {
			return id, false, err
		}
	}
	return e.upsert(ctx, j, adID, in)
}

// upsert creates or updates the contact; created says HighLevel made it.
func (e *Engine) upsert(ctx context.Context, j *job, adID string, in ghl.ContactInput) (id string, created bool, err error) {
	id, err = e.call(ctx, j, store.OpContactUpsert, http.MethodPost, adID, true, func(ctx context.Context) (string, error) {
		ct, isNew, err := e.ghl.UpsertContact(ctx, in)
		created = isNew
		return ct.ID, err
	})
	return id, created && err == nil, err
}
