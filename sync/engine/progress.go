package engine

import (
	"context"
	"fmt"
	"io"
	"time"
)

// progress writes a plain summary line every ProgressEvery until ctx ends:
// plain lines, not a bar, so that a log file, journald and a terminal all
// read the same.
func (r *runner) progress(ctx context.Context) {
	if r.cfg.Progress == nil {
		return
	}
	every := r.cfg.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		snap, err := r.e.Snapshot(ctx)
		if err != nil {
			continue // the store is busy or closing; the next tick tries again
		}
		writeProgress(r.cfg.Progress, snap, time.Since(r.start), r.webhook)
	}
}

// writeProgress writes one line: queue depth, settled counts, rate.
func writeProgress(w io.Writer, s Snapshot, elapsed time.Duration, wh *webhookTrigger) {
	pending, inFlight := queued(s)
	var done, retried, failed int
	for _, k := range s.Jobs {
		done, retried, failed = done+k.Done, retried+k.Retried, failed+k.Failed
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	line := fmt.Sprintf("sync: %s · queue %d pending, %d in flight · done %d · retrying %d · failed %d · %.1f jobs/s",
		s.State, pending, inFlight, done, retried, failed, rate)
	if wh != nil {
		line += " · webhooks " + wh.stats().String()
	}
	if s.Reason != "" {
		line += " · paused: " + s.Reason
	}
	fmt.Fprintln(w, line)
}

// WriteSummary writes what a finished run did, for the terminal.
func (s Summary) WriteSummary(w io.Writer) {
	var done, retried, failed int
	for _, k := range s.Jobs {
		done, retried, failed = done+k.Done, retried+k.Retried, failed+k.Failed
	}
	fmt.Fprintf(w, "Summary: %d poll(s) found %d messages in %d conversations (%d new to the outbox).\n",
		s.Polls, s.Polled.Messages, s.Polled.Conversations, s.Polled.Queued)
	fmt.Fprintf(w, "Mirrored: %d messages recorded, %d contact jobs done; %d jobs done in all, %d failed for now, %d dead.\n",
		s.Messages(), s.Jobs[JobMirrorContact].Done, done, retried, failed)
	if s.Webhook != nil {
		fmt.Fprintf(w, "Webhooks: %s.\n", s.Webhook)
	}
	if s.Waiting > 0 {
		fmt.Fprintf(w, "%d jobs wait for a retry; the next run takes them.\n", s.Waiting)
	}
	if s.Dead > 0 {
		fmt.Fprintf(w, "%d jobs in the outbox are dead letters: see History and replay them once the cause is fixed.\n", s.Dead)
	}
	if s.Paused != "" {
		fmt.Fprintf(w, "Paused: %s\n", s.Paused)
	}
}
