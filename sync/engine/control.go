package engine

// Control is the console's handle on the sync: what the Sync screen reads
// (the engine's state, the queue, throughput, errors, HighLevel's budget,
// dead jobs) and what it asks for (pause, resume, replay), as plain data.
// It works before the engine starts and after it stops: everything but
// the engine's own state comes from the store, so the numbers survive a
// restart.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/store"
)

// ErrSyncNotRunning is what Pause and Resume return when no engine is
// attached to the Control.
var ErrSyncNotRunning = errors.New("the sync is not running in this window; start it (parley sync, or the demo) and try again")

// Control watches and drives one sync for the console. Build it with
// NewControl before the engine exists; RunConfig.Control attaches the
// engine Run builds. It is safe for concurrent use.
type Control struct {
	st    *store.Store
	now   func() time.Time
	meter budgetMeter

	mu sync.Mutex
	e  *Engine
	// standby builds an engine that does not run, for the mapping and
	// the tools while none is attached (SetStandby).
	standby func() (*Engine, error)

	// tallyMu guards the last hour's history, kept between readings so
	// that each reads only the rows added since the one before.
	tallyMu sync.Mutex
	groups  []store.TallyGroup
	through int64

	queue queueCounts
}

// queueCounts keeps the outbox's counts by kind between dashboard
// readings. Counting reads every job (done ones are kept: they are what
// makes a message queued once), 130 ms at 100,000 jobs, and the Sync
// screen asks every 2 s; so a count is reused until 1/countShare times
// what it cost has passed. What changes the queue from the console
// (Replay, the backfill) forgets it.
type queueCounts struct {
	mu     sync.Mutex
	counts map[string]map[store.OutboxState]int
	at     time.Time
	cost   time.Duration
}

// countShare is the most of one core the dashboard spends counting the
// outbox: a count is reused for 1/countShare times what it cost.
const countShare = 0.05

func (q *queueCounts) get(ctx context.Context, st *store.Store, now time.Time) (map[string]map[store.OutboxState]int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.counts != nil && now.Sub(q.at) >= 0 && now.Sub(q.at) < time.Duration(float64(q.cost)/countShare) {
		return q.counts, nil
	}
	start := time.Now()
	counts, err := st.OutboxCountsByKind(ctx)
	if err != nil {
		return nil, err
	}
	q.counts, q.at, q.cost = counts, now, time.Since(start)
	return counts, nil
}

func (q *queueCounts) forget() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.counts = nil
}

// NewControl returns a control reading st, with no engine attached yet.
func NewControl(st *store.Store) *Control {
	return &Control{st: st, now: time.Now}
}

// Wire makes a run report to c: Run attaches its engine and meters
// HighLevel's answers. It is RunDemo's way in for the console.
func (c *Control) Wire(cfg *RunConfig) { cfg.Control = c }

// Attach hands the control the engine it pauses, resumes and wakes.
func (c *Control) Attach(e *Engine) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.e = e
}

func (c *Control) engine() *Engine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.e
}

// KindQueue is the outbox's depth for one job kind.
type KindQueue struct {
	Kind                          string
	Pending, InFlight, Dead, Done int
}

// Budget is what HighLevel's last answer said about the location's rate
// limits (X-RateLimit-* headers), brought forward to now: a burst window
// or a day that has ended since is full again.
type Budget struct {
	// Known is false until the sync has had an answer from HighLevel.
	Known bool
	// BurstLeft of BurstMax requests remain in the current window of
	// BurstWindow.
	BurstLeft, BurstMax int
	BurstWindow         time.Duration
	// DailyLeft of DailyMax requests remain today; DailyReset is when
	// the day's count starts over.
	DailyLeft, DailyMax int
	DailyReset          time.Time
	// At is when HighLevel's answer arrived.
	At time.Time
}

// Failure classes of ErrorClass, in words for the dashboard.
const (
	ClassNoAnswer    = "No answer (network or timeout)"
	ClassRateLimited = "Rate limited (429)"
	ClassAuth        = "Credentials or scope refused (401/403)"
	ClassRefused     = "Refused as invalid (400/422)"
	ClassNotFound    = "Not found (404)"
	ClassMedia       = "Media refused (413/415)"
	ClassServer      = "Server errors (5xx)"
	ClassOther       = "Other HTTP errors"
)

// ErrorClass counts the failed calls of one class over the last hour.
type ErrorClass struct {
	Class string
	Count int
	// LastError and LastAt are the latest failure of the class.
	LastError string
	LastAt    time.Time
}

// Dashboard is the Sync screen's numbers, taken at one moment.
type Dashboard struct {
	// State and Reason are the engine's (StateStopped when none is
	// attached or it is not running).
	State  State
	Reason string
	// Attached is true when an engine is attached, so Pause and Resume
	// can work.
	Attached bool
	// Queue is the outbox's depth by job kind, sorted by kind.
	Queue []KindQueue
	// Dead counts dead jobs of every kind.
	Dead int
	// Jobs are the attached engine's counts since it was built.
	Jobs map[string]KindStats
	// Throughput is the last hour, one entry a minute, oldest first; the
	// last is the current minute.
	Throughput []store.ThroughputMinute
	// Errors are the last hour's failed calls by class, most first.
	Errors []ErrorClass
	// Budget is HighLevel's rate-limit headroom.
	Budget Budget
	// At is when the numbers were read.
	At time.Time
}

// throughputWindow is how far back the dashboard looks.
const throughputWindow = time.Hour

// Dashboard reads the sync's numbers: from the engine when one is
// attached, from the store for the rest.
func (c *Control) Dashboard(ctx context.Context) (Dashboard, error) {
	now := c.now()
	d := Dashboard{State: StateStopped, At: now, Budget: c.meter.budget(now)}
	if e := c.engine(); e != nil {
		snap := e.state()
		d.Attached, d.State, d.Reason, d.Jobs = true, snap.State, snap.Reason, snap.Jobs
	}
	byKind, err := c.queue.get(ctx, c.st, now)
	if err != nil {
		return Dashboard{}, fmt.Errorf("sync dashboard: %w", err)
	}
	for kind, n := range byKind {
		d.Queue = append(d.Queue, KindQueue{Kind: kind, Pending: n[store.OutboxPending], InFlight: n[store.OutboxInFlight],
			Dead: n[store.OutboxDead], Done: n[store.OutboxDone]})
		d.Dead += n[store.OutboxDead]
	}
	slices.SortFunc(d.Queue, func(a, b KindQueue) int { return cmp.Compare(a.Kind, b.Kind) })

	until := now.Truncate(time.Minute).Add(time.Minute)
	since := until.Add(-throughputWindow)
	groups, err := c.tally(ctx, since, until)
	if err != nil {
		return Dashboard{}, fmt.Errorf("sync dashboard: %w", err)
	}
	d.Throughput = store.ThroughputOf(groups, since, until)
	d.Errors = errorClasses(store.FailuresOf(groups, since, until))
	return d, nil
}

// tally brings the kept history up to date and drops what is older than
// since.
func (c *Control) tally(ctx context.Context, since, until time.Time) ([]store.TallyGroup, error) {
	c.tallyMu.Lock()
	defer c.tallyMu.Unlock()
	// since is a whole minute, so every reading's minutes line up.
	t, err := c.st.TallyHistory(ctx, c.through, since, until)
	if err != nil {
		return nil, err
	}
	kept := c.groups[:0]
	for _, g := range c.groups {
		if !g.Minute.Before(since) {
			kept = append(kept, g)
		}
	}
	for _, g := range t.Groups {
		i := slices.IndexFunc(kept, func(k store.TallyGroup) bool {
			return k.Minute.Equal(g.Minute) && k.Operation == g.Operation && k.HTTPStatus == g.HTTPStatus && k.OK == g.OK
		})
		if i < 0 {
			kept = append(kept, g)
			continue
		}
		kept[i].Count += g.Count
		if g.LastAt.After(kept[i].LastAt) {
			kept[i].LastAt, kept[i].LastError = g.LastAt, g.LastError
		}
	}
	c.groups, c.through = kept, t.ThroughID
	return slices.Clone(kept), nil
}

// errorClasses sums failures by class, most frequent first.
func errorClasses(failures []store.FailureCount) []ErrorClass {
	var out []ErrorClass
	for _, f := range failures {
		class := failureClass(f.HTTPStatus)
		i := slices.IndexFunc(out, func(e ErrorClass) bool { return e.Class == class })
		if i < 0 {
			out = append(out, ErrorClass{Class: class})
			i = len(out) - 1
		}
		out[i].Count += f.Count
		if f.LastAt.After(out[i].LastAt) || out[i].LastError == "" {
			out[i].LastError, out[i].LastAt = f.LastError, f.LastAt
		}
	}
	slices.SortStableFunc(out, func(a, b ErrorClass) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class)) })
	return out
}

// failureClass names what a failed call's HTTP status says happened.
func failureClass(status int) string {
	switch {
	case status == 0:
		return ClassNoAnswer
	case status == http.StatusTooManyRequests:
		return ClassRateLimited
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ClassAuth
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return ClassRefused
	case status == http.StatusNotFound:
		return ClassNotFound
	case status == http.StatusRequestEntityTooLarge, status == http.StatusUnsupportedMediaType:
		return ClassMedia
	case status >= 500:
		return ClassServer
	}
	return ClassOther
}

// DeadLetters returns up to limit dead jobs with an id below beforeID (0:
// the newest), newest first, without payloads.
func (c *Control) DeadLetters(ctx context.Context, beforeID int64, limit int) ([]store.OutboxItem, error) {
	return c.st.DeadOutboxPage(ctx, beforeID, limit)
}

// Replay gives one dead job another run, once its cause is fixed, and
// wakes the engine for it.
func (c *Control) Replay(ctx context.Context, id int64) error {
	if err := c.st.ReplayOutbox(ctx, id); err != nil {
		return err
	}
	c.queue.forget()
	c.wake()
	return nil
}

// ReplayAll replays every dead job and returns how many.
func (c *Control) ReplayAll(ctx context.Context) (int, error) {
	n, err := c.st.ReplayDeadOutbox(ctx, "")
	if err != nil {
		return 0, err
	}
	c.queue.forget()
	c.wake()
	return n, nil
}

func (c *Control) wake() {
	if e := c.engine(); e != nil {
		e.Wake()
	}
}

// Pause stops the attached engine claiming jobs, with reason shown to the
// user; running jobs finish.
func (c *Control) Pause(reason string) error {
	e := c.engine()
	if e == nil {
		return fmt.Errorf("pause the sync: %w", ErrSyncNotRunning)
	}
	e.Pause(reason)
	return nil
}

// Resume lets the attached engine claim jobs again.
func (c *Control) Resume() error {
	e := c.engine()
	if e == nil {
		return fmt.Errorf("resume the sync: %w", ErrSyncNotRunning)
	}
	e.Resume()
	return nil
}

// Meter wraps next (nil: http.DefaultTransport) so that the control reads
// HighLevel's rate-limit headers from every answer. The HighLevel client
// paces itself from the same headers but keeps no reading of them.
func (c *Control) Meter(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if c == nil {
		return next
	}
	return meterTransport{next: next, m: &c.meter}
}

type meterTransport struct {
	next http.RoundTripper
	m    *budgetMeter
}

func (t meterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if err == nil {
		t.m.observe(res.Header, time.Now())
	}
	return res, err
}

// CloseIdleConnections passes on to next (see tracingTransport's).
func (t meterTransport) CloseIdleConnections() { closeIdle(t.next) }

// budgetMeter keeps the last answer's rate-limit headers.
type budgetMeter struct {
	mu   sync.Mutex
	last Budget
}

// observe records h's X-RateLimit-* headers, if it has them.
func (m *budgetMeter) observe(h http.Header, now time.Time) {
	num := func(name string) (int, bool) {
		v, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > math.MaxInt32 {
			return 0, false
		}
		return int(v), true
	}
	burstMax, okMax := num("X-RateLimit-Max")
	burstLeft, okLeft := num("X-RateLimit-Remaining")
	if !okMax || !okLeft {
		return
	}
	b := Budget{Known: true, BurstMax: burstMax, BurstLeft: burstLeft, At: now}
	if ms, ok := num("X-RateLimit-Interval-Milliseconds"); ok {
		b.BurstWindow = time.Duration(ms) * time.Millisecond
	}
	b.DailyMax, _ = num("X-RateLimit-Limit-Daily")
	b.DailyLeft, _ = num("X-RateLimit-Daily-Remaining")
	if ms, ok := num("X-RateLimit-Daily-Reset"); ok {
		b.DailyReset = now.Add(time.Duration(ms) * time.Millisecond)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Answers to concurrent requests arrive out of order. The day's count
	// only falls until the day resets, so an answer with more left is
	// older than the one kept.
	if m.last.Known && b.DailyMax == m.last.DailyMax && b.DailyLeft > m.last.DailyLeft && now.Before(m.last.DailyReset) {
		return
	}
	m.last = b
}

// budget is the last reading brought forward to now.
func (m *budgetMeter) budget(now time.Time) Budget {
	m.mu.Lock()
	b := m.last
	m.mu.Unlock()
	if !b.Known {
		return b
	}
	if b.BurstWindow > 0 && now.Sub(b.At) >= b.BurstWindow {
		b.BurstLeft = b.BurstMax
	}
	if !b.DailyReset.IsZero() && !now.Before(b.DailyReset) {
		b.DailyLeft = b.DailyMax
	}
	return b
}
