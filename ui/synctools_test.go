package ui

import (
	"context"
	"errors"
	"io"
	"testing"

	"parley/sync/engine"
)

func TestSyncToolsSayWhenNoSyncRuns(t *testing.T) {
	tools := SyncTools{Control: engine.NewControl(newTestStore(t))}
	if _, err := tools.DryRun(context.Background()); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Errorf("DryRun = %v, want ErrSyncNotRunning", err)
	}
	if err := tools.Backfill(context.Background(), func(BackfillProgress) {}); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Errorf("Backfill = %v, want ErrSyncNotRunning", err)
	}
}

func TestReportOfAHeadlessSummary(t *testing.T) {
	r := reportOf(func(w io.Writer) { io.WriteString(w, "Verified 3 conversations: 1 problem.\n\n  missing: ad-m1\r\n") })
	if r.Summary != "Verified 3 conversations: 1 problem." || len(r.Lines) != 1 || r.Lines[0] != "  missing: ad-m1" {
		t.Errorf("report = %+v", r)
	}
	if r := reportOf(func(io.Writer) {}); r.Summary == "" {
		t.Error("an empty summary gives an empty report")
	}
}
