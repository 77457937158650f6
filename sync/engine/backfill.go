package engine

// Backfill: queue the ActiveDEMAND messages sent in a date range, through
// the poller's own job building and the outbox, so that the engine mirrors
// them like any other work. It leaves the poller's cursor alone: a
// backfill of last year neither skips nor repeats today's polling.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"parley/store"
	"parley/sync/activedemand"
)

// DateRange is a half-open span of time [From, To).
type DateRange struct {
	From, To time.Time
}

// Contains reports whether t falls in the range.
func (r DateRange) Contains(t time.Time) bool { return !t.Before(r.From) && t.Before(r.To) }

func (r DateRange) String() string {
	return r.From.Format(time.DateOnly) + ".." + r.To.Add(-time.Nanosecond).Format(time.DateOnly)
}

// dateRangeHelp is how a bad range is explained.
const dateRangeHelp = "write the range as FROM..TO with dates as YYYY-MM-DD, both days included, e.g. 2026-01-01..2026-03-31"

// ParseDateRange reads "FROM..TO" (dates as YYYY-MM-DD, both days
// included) in loc: FROM's midnight to the midnight after TO.
func ParseDateRange(s string, loc *time.Location) (DateRange, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "..")
	if !ok {
		return DateRange{}, fmt.Errorf("backfill range %q has no \"..\": %s", s, dateRangeHelp)
	}
	day := func(what, v string) (time.Time, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return time.Time{}, fmt.Errorf("backfill range %q has no %s date: %s", s, what, dateRangeHelp)
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("backfill range %q: %s date %q is not a date as YYYY-MM-DD (or no such day): %s", s, what, v, dateRangeHelp)
		}
		return t, nil
	}
	f, err := day("FROM", from)
	if err != nil {
		return DateRange{}, err
	}
	t, err := day("TO", to)
	if err != nil {
		return DateRange{}, err
	}
	if t.Before(f) {
		return DateRange{}, fmt.Errorf("backfill range %q: FROM is after TO: %s", s, dateRangeHelp)
	}
	return DateRange{From: f, To: t.AddDate(0, 0, 1)}, nil
}

// BackfillProgress is how far a backfill is, for a bar.
type BackfillProgress struct {
	// Done and Total count the conversations read; Messages the
	// messages in the range so far, Queued the jobs new to the outbox.
	Done, Total, Messages, Queued int
	Elapsed                       time.Duration
	// Rate is conversations per second; ETA the time left at that rate.
	Rate float64
	ETA  time.Duration
}

// BackfillConfig configures [Backfill]. Store, AD, Contacts and Range are
// required.
type BackfillConfig struct {
	Store    *store.Store
	AD       activedemand.Conversations
	Contacts ContactSource
	Range    DateRange
	// Queued, if set, is called after jobs were queued (Engine.Wake).
	Queued func()
	// Progress, if set, is called once the conversations are counted and
	// after each one.
	Progress func(BackfillProgress)
}

// Backfill queues the messages ActiveDEMAND sent in cfg.Range and returns
// the final progress. A conversation with a message in the range was
// updated at or after it, so it lists the conversations changed since
// Range.From, counts them for the progress, then queues each one's
// messages in the range (and its contact). Stopped early, what it queued
// stays queued; run again, the outbox's keys make it harmless.
func Backfill(ctx context.Context, cfg BackfillConfig) (BackfillProgress, error) {
	var pr BackfillProgress
	if cfg.Store == nil || cfg.AD == nil || cfg.Contacts == nil || !cfg.Range.From.Before(cfg.Range.To) {
		return pr, errors.New("backfill: store, ActiveDEMAND conversations and contacts and a date range are all required")
	}
	p := &Poller{cfg: PollerConfig{Store: cfg.Store, AD: cfg.AD, Contacts: cfg.Contacts}}
	start := time.Now()
	var convs []activedemand.Conversation
	for cv, err := range activedemand.AllChangedConversations(ctx, cfg.AD, activedemand.CursorAt(cfg.Range.From)) {
		if err != nil {
			return pr, fmt.Errorf("backfill: list conversations changed since %s: %w", cfg.Range.From.Format(time.DateOnly), err)
		}
		convs = append(convs, cv)
	}
	pr.Total = len(convs)
	report := func() {
		pr.Elapsed = time.Since(start)
		if s := pr.Elapsed.Seconds(); s > 0 && pr.Done > 0 {
			pr.Rate = float64(pr.Done) / s
			pr.ETA = time.Duration(float64(pr.Total-pr.Done) / pr.Rate * float64(time.Second)).Round(time.Second)
		}
		if cfg.Progress != nil {
			cfg.Progress(pr)
		}
	}
	report()
	book := p.contactBook()
	in := func(m activedemand.Message) bool { return cfg.Range.Contains(m.SentAt) }
	// Conversations are queued in groups, one transaction each: the
	// store's cost is per commit far more than per row.
	const group = 50
	var jobs []store.OutboxJob
	flush := func() error {
		n, err := cfg.Store.EnqueueBatch(ctx, jobs)
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		jobs = jobs[:0]
		pr.Queued += n
		if n > 0 && cfg.Queued != nil {
			cfg.Queued()
		}
		return nil
	}
	for i, cv := range convs {
		js, n, err := p.conversationJobs(ctx, book, cv, in)
		if err != nil {
			return pr, fmt.Errorf("backfill: %w", err)
		}
		jobs = append(jobs, js...)
		pr.Messages += n
		if (i+1)%group == 0 || i == len(convs)-1 {
			if err := flush(); err != nil {
				return pr, err
			}
		}
		pr.Done = i + 1
		report()
	}
	return pr, nil
}

// progressMeter writes done/total progress for a person at a terminal: a
// bar redrawn in place on a TTY, plain lines at most every `every`
// elsewhere (a log file, journald), so both read well.
type progressMeter struct {
	w     io.Writer
	tty   bool
	every time.Duration
	label string // what is counted, e.g. "conversations"
	last  time.Time
	drawn bool
}

// newProgressMeter is a meter on w, drawing a bar when w is a terminal.
func newProgressMeter(w io.Writer, label string, every time.Duration) *progressMeter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressMeter{w: w, tty: tty, every: orDefaultDuration(every, DefaultProgressEvery), label: label}
}

// update shows done of total; the last call (done == total) always shows.
func (m *progressMeter) update(prefix string, done, total int, rate float64, eta time.Duration) {
	final := done >= total
	now := time.Now()
	if m.tty {
		if !final && now.Sub(m.last) < 100*time.Millisecond {
			return // redrawing faster than the eye reads costs the terminal
		}
		m.last = now
		fmt.Fprintf(m.w, "\r%s %s", prefix, progressLine(done, total, rate, eta, m.label, 30))
		m.drawn = true
		if final {
			fmt.Fprintln(m.w)
			m.drawn = false
		}
		return
	}
	if !final && !m.last.IsZero() && now.Sub(m.last) < m.every {
		return
	}
	m.last = now
	fmt.Fprintf(m.w, "%s %s\n", prefix, progressLine(done, total, rate, eta, m.label, 0))
}

// progressLine is "[#####-----] 12/40 conversations (30%) · 4.0/s · ETA 7s",
// without the bar when width is 0.
func progressLine(done, total int, rate float64, eta time.Duration, label string, width int) string {
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	s := fmt.Sprintf("%d/%d %s (%d%%)", done, total, label, pct)
	if width > 0 {
		fill := width
		if total > 0 {
			fill = done * width / total
		}
		s = "[" + strings.Repeat("#", fill) + strings.Repeat("-", width-fill) + "] " + s
	}
	if rate > 0 {
		s += fmt.Sprintf(" · %.1f/s", rate)
	}
	if done < total && eta > 0 {
		s += " · ETA " + eta.String()
	}
	return s
}
