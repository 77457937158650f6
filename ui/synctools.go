package ui

import (
	"bytes"
	"context"
	"io"
	"strings"

	"parley/sync/engine"
)

// SyncTools runs the Sync screen's Backfill, Dry run and Verify on the
// engine the console's Control holds: the code `parley sync --backfill`,
// `--dry-run` and `parley verify` run, with the same words in the report.
type SyncTools struct {
	Control *engine.Control
}

// Backfill queues everything ActiveDEMAND holds that was never mirrored.
func (t SyncTools) Backfill(ctx context.Context, progress func(BackfillProgress)) error {
	_, err := t.Control.BackfillAll(ctx, func(p engine.BackfillProgress) {
		progress(BackfillProgress{Done: p.Done, Total: p.Total})
	})
	return err
}

// DryRun says what the sync would change now.
func (t SyncTools) DryRun(ctx context.Context) (SyncReport, error) {
	r, err := t.Control.DryRun(ctx)
	if err != nil {
		return SyncReport{}, err
	}
	return reportOf(r.WriteSummary), nil
}

// Verify reconciles both sides, changing nothing.
func (t SyncTools) Verify(ctx context.Context) (SyncReport, error) {
	r, err := t.Control.Verify(ctx)
	if err != nil {
		return SyncReport{}, err
	}
	return reportOf(r.WriteSummary), nil
}

// reportOf turns a headless summary into the screen's report: its first
// line, then the rest one a line.
func reportOf(write func(io.Writer)) SyncReport {
	var b bytes.Buffer
	write(&b)
	var lines []string
	for l := range strings.Lines(b.String()) {
		if l = strings.TrimRight(l, "\r\n"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return SyncReport{Summary: "Nothing to report."}
	}
	return SyncReport{Summary: lines[0], Lines: lines[1:]}
}
