package engine

import (
	"context"
	"fmt"
	"time"
)

// The Sync screen's Backfill, Dry run and Verify buttons run the same code
// as `parley sync --backfill/--dry-run` and `parley verify`, with the
// clients of the engine the console's Control holds.

// toolsEngine is the attached engine and its ActiveDEMAND contacts, which
// the three tools need beside the conversations.
func (c *Control) toolsEngine(verb string) (*Engine, ContactSource, error) {
	e, err := c.mappingEngine(verb)
	if err != nil {
		return nil, nil, err
	}
	contacts, ok := e.cfg.AD.(ContactSource)
	if !ok {
		return nil, nil, fmt.Errorf("%s: the sync has no ActiveDEMAND account to read; connect it in Connections", verb)
	}
	return e, contacts, nil
}

// DryRun predicts what the running sync would change now, changing nothing.
func (c *Control) DryRun(ctx context.Context) (DryRunResult, error) {
	e, contacts, err := c.toolsEngine("dry run")
	if err != nil {
		return DryRunResult{}, err
	}
	return DryRun(ctx, DryRunConfig{Store: c.st, GHL: e.ghl, AD: e.cfg.AD, Contacts: contacts, PhoneRegion: e.cfg.PhoneRegion})
}

// Verify reconciles both sides and the id map, read-only.
func (c *Control) Verify(ctx context.Context) (VerifyReport, error) {
	e, contacts, err := c.toolsEngine("verify")
	if err != nil {
		return VerifyReport{}, err
	}
	return Verify(ctx, VerifyConfig{Store: c.st, GHL: e.ghl, AD: e.cfg.AD, Contacts: contacts})
}

// backfillFrom is where a backfill of everything starts: the importer's
// earliest plausible date, before any account the sync can meet.
var backfillFrom = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// BackfillAll queues every message ActiveDEMAND holds through the running
// engine (what is already mirrored is skipped by the outbox's keys), with
// progress as it goes.
func (c *Control) BackfillAll(ctx context.Context, progress func(BackfillProgress)) (BackfillProgress, error) {
	e, contacts, err := c.toolsEngine("backfill")
	if err != nil {
		return BackfillProgress{}, err
	}
	to := c.now().Add(24 * time.Hour)
	queued := func() {
		c.queue.forget()
		e.Wake()
	}
	return Backfill(ctx, BackfillConfig{Store: c.st, AD: e.cfg.AD, Contacts: contacts,
		Range: DateRange{From: backfillFrom, To: to}, Queued: queued, Progress: progress})
}
