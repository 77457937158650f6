package engine_test

import (
	"context"
	"errors"
	"testing"

	"parley/sync/engine"
)

// TestControlRunsTheSyncTools: the Sync screen's Dry run, Verify and
// Backfill run through the console's Control on the engine it holds, and
// say so when no sync runs.
func TestControlRunsTheSyncTools(t *testing.T) {
	ctx := context.Background()
	r := newADRig(t)
	ctl := engine.NewControl(r.st)
	if _, err := ctl.DryRun(ctx); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Fatalf("DryRun without an engine = %v, want ErrSyncNotRunning", err)
	}
	ctl.Attach(r.engine())

	writes := r.writes()
	dry, err := ctl.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := dry.Counts[engine.DryRecordMessage]; n != 6 || r.writes() != writes {
		t.Errorf("dry run: %d messages to record (want 6), %d writes to HighLevel (want 0)", n, r.writes()-writes)
	}
	rep, err := ctl.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ADMessages != 6 || r.writes() != writes {
		t.Errorf("verify read %d ActiveDEMAND messages (want 6) and made %d writes", rep.ADMessages, r.writes()-writes)
	}

	var last engine.BackfillProgress
	calls := 0
	got, err := ctl.BackfillAll(ctx, func(p engine.BackfillProgress) { last = p; calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || got.Done != got.Total || got.Total != 3 || got.Messages != 6 || last.Done != 3 {
		t.Errorf("backfill = %+v after %d progress calls (last %+v); want 3 of 3 conversations, 6 messages", got, calls, last)
	}
	if counts, err := r.st.OutboxCounts(ctx); err != nil || counts["pending"] < 6 {
		t.Errorf("outbox after the backfill = %v, %v; want the 6 messages queued", counts, err)
	}
}
