package smoke

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the parent reads the outbox between kills

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// crashPlan sizes one crash test. `make test` runs the short plan; `make
// crash` sets PARLEY_CRASH=full. PARLEY_CRASH_SEED replays a run.
type crashPlan struct {
	messages, contacts, kills int
	seed                      uint64
	// meanLife is the mean time a child runs before its kill; lives are
	// uniform in [0, 2·meanLife], so some children die while starting,
	// some mid-poll, some with jobs in flight or a commit under way. The
	// kill loop adapts it to spread the kills over the work.
	meanLife time.Duration
	// waitLeases waits out the leases the killed children held, in real
	// time (2 minutes, then the store's stall backoff). Otherwise each
	// kill is followed by moving the dead child's leases an hour into the
	// past, as if the restart came an hour later: the next child settles
	// them exactly as it would then (a stall counted, the job looks
	// before it writes again), without the short test waiting minutes.
	waitLeases bool
}

func crashPlanFromEnv(t *testing.T) crashPlan {
	p := crashPlan{messages: 500, contacts: 10, kills: 20, meanLife: 300 * time.Millisecond}
	if os.Getenv("PARLEY_CRASH") == "full" {
		p = crashPlan{messages: 10_000, contacts: 100, kills: 200, meanLife: 300 * time.Millisecond, waitLeases: true}
	}
	p.seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PARLEY_CRASH_SEED=%q: %v", s, err)
		}
		p.seed = n
	}
	return p
}

// crashRig is the crash test's world: both sandboxes in this process,
// a data folder, and the real parley binary run against them.
type crashRig struct {
	t   *testing.T
	bin string
	dir string
	as  *adtest.Server
	gs  *ghltest.Server
	db  *sql.DB // the outbox, read between children
}

// TestCrashLosesAndDuplicatesNothing is issue 11's crash test: a real
// `parley sync` mirroring messages from the ActiveDEMAND sandbox into the
// HighLevel sandbox is SIGKILLed at random moments and restarted each
// time; a final `parley sync --once` catches up. HighLevel then holds
// every message exactly once, by altId, nothing was delivered, and the
// history agrees with the id map.
func TestCrashLosesAndDuplicatesNothing(t *testing.T) {
	bin := binary(t)
	plan := crashPlanFromEnv(t)
	t.Logf("crash test: seed %d (PARLEY_CRASH_SEED=%d replays it): %d messages across %d contacts, %d kills, leases %s",
		plan.seed, plan.seed, plan.messages, plan.contacts, plan.kills, map[bool]string{true: "waited out", false: "moved into the past"}[plan.waitLeases])
	start := time.Now()
	r := newCrashRig(t, bin)
	ids := r.seedAD(plan)
	rng := rand.New(rand.NewPCG(plan.seed, plan.seed^0x9e3779b97f4a7c15))

	inFlightAtKill, life := 0, plan.meanLife
	for k := range plan.kills {
		before, todo := r.progress(), r.claimable(len(ids))
		// Each child dies at a random moment or, sooner, a random moment
		// after it recorded a random share of what is left: the records
		// are the work's own clock, so the kills spread over the whole
		// mirror, not only over the poll that precedes it.
		left := len(ids) - r.gs.Traffic().Records
		records := 1 + rng.IntN(2*max(left/(plan.kills-k), 1))
		born := time.Now().UnixMilli()
		r.runAndKill(k, time.Duration(rng.Int64N(int64(2*life)+1)), records, time.Duration(rng.Int64N(int64(20*time.Millisecond))))
		if r.count(fmt.Sprintf(`SELECT count(*) FROM outbox WHERE state = 'in_flight' AND updated_at >= %d`, born)) > 0 {
			inFlightAtKill++
		}
		if !plan.waitLeases {
			r.expireLeases()
		}
		// Spread the kills over the work: a child that got nowhere gets
		// twice the time (a poll stores nothing until it has read a whole
		// page of conversations, at ActiveDEMAND's gentle 4 requests/s),
		// one that did much more than its share of what is left gets half.
		switch made, share := r.progress()-before, todo/int64(plan.kills-k); {
		case todo == 0: // what is left waits for leases: keep killing
			life = plan.meanLife
		case made == 0:
			life = min(2*life, 2*time.Minute)
		case made > 2*share+1:
			life = max(life/2, 50*time.Millisecond)
		}
	}
	killPhase := time.Since(start)
	r.catchUp(plan)
	wall := time.Since(start)

	lost, duplicated, foundAfterKill := r.verify(ids)
	t.Logf("crash test: %d messages, %d kills (%d with jobs in flight), lost %d, duplicated %d, %d found by altId after a kill; wall time %s (kills %s)",
		len(ids), plan.kills, inFlightAtKill, lost, duplicated, foundAfterKill, wall.Round(time.Second), killPhase.Round(time.Second))
	if inFlightAtKill == 0 {
		t.Errorf("no kill landed with jobs in flight: the kills missed the work (mean life %s)", plan.meanLife)
	}
}

func newCrashRig(t *testing.T, bin string) *crashRig {
	t.Helper()
	// Limits high rather than off: the sandbox still sends its headers,
	// and a client paces itself by them, so "off" would leave it at
	// HighLevel's published 100 requests per 10 s.
	var opts ghltest.Options
	opts.RateLimit.Burst, opts.RateLimit.Window, opts.RateLimit.Daily = 1_000_000, 10*time.Second, 10_000_000
	gs := ghltest.NewTestServer(t, opts)
	as := adtest.NewTestServer(t, adtest.Options{})
	r := &crashRig{t: t, bin: bin, dir: t.TempDir(), as: as, gs: gs}
	return r
}

// seedAD adds plan.messages messages across plan.contacts contacts, one
// SMS conversation each, and returns the messages' ids.
func (r *crashRig) seedAD(plan crashPlan) []string {
	r.t.Helper()
	conv := make([]activedemand.ID, plan.contacts)
	contact := make([]activedemand.ID, plan.contacts)
	for i := range plan.contacts {
		c, err := r.as.AddContact(adtest.NewContact{FirstName: "Crash", LastName: fmt.Sprint(i),
			Email: fmt.Sprintf("crash%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
		if err != nil {
			r.t.Fatal(err)
		}
		contact[i] = c.ID
	}
	at := time.Now().Add(-time.Duration(plan.messages) * time.Second)
	ids := make([]string, 0, plan.messages)
	for i := range plan.messages {
		k := i % plan.contacts
		dir := activedemand.Inbound
		if i%3 == 0 {
			dir = activedemand.Outbound
		}
		m, err := r.as.AddMessage(adtest.NewMessage{ConversationID: conv[k], ContactID: contact[k], Channel: "sms",
			Direction: dir, Body: fmt.Sprintf("crash test message %d", i), At: at.Add(time.Duration(i) * time.Second)})
		if err != nil {
			r.t.Fatal(err)
		}
		conv[k] = m.ConversationID
		ids = append(ids, string(m.ID))
	}
	return ids
}

// command is `parley sync` against the sandboxes, credentials in the
// environment as a cron job or container would pass them.
func (r *crashRig) command(ctx context.Context, extra ...string) *exec.Cmd {
	args := append([]string{"sync", "--demo=false", "--data-dir", r.dir,
		"--ghl-base-url", r.gs.URL(), "--ghl-location", r.gs.LocationID(), "--ghl-provider", r.gs.ConversationProviderID(),
		"--ad-base-url", r.as.URL()}, extra...)
	cmd := exec.CommandContext(ctx, r.bin, args...)
	for _, kv := range withoutDisplay() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"PARLEY_ACTIVEDEMAND_APPLICATION_KEY="+adtest.DefaultAppKey,
		"PARLEY_ACTIVEDEMAND_API_KEY="+adtest.DefaultAPIKey,
		"PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN="+r.gs.PrivateToken())
	return cmd
}

// runAndKill starts `parley sync` (polling, running until stopped) and
// SIGKILLs it after life, or after it has made records more records in
// HighLevel and then run for extra. A child that ends by itself fails the
// test.
func (r *crashRig) runAndKill(k int, life time.Duration, records int, extra time.Duration) {
	r.t.Helper()
	r.closeDB() // the parent never holds the database while a child runs
	cmd := r.command(context.Background())
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	target := r.gs.Traffic().Records + records
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(life)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-exited:
			r.t.Fatalf("child %d ended by itself (%v):\n%s", k, err, out.String())
		case <-deadline.C:
			break wait
		case <-tick.C:
			if r.gs.Traffic().Records >= target {
				time.Sleep(extra)
				break wait
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatal(err)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		r.t.Fatalf("child %d: %v after SIGKILL, want killed:\n%s", k, err, out.String())
	}
}

// catchUp runs `parley sync --once` until no message or contact job is
// pending or in flight, waiting in between for the jobs a kill left to
// become due again.
func (r *crashRig) catchUp(plan crashPlan) {
	r.t.Helper()
	for round := 1; ; round++ {
		r.closeDB()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		out, err := r.command(ctx, "--once").CombinedOutput()
		cancel()
		if err != nil {
			r.t.Fatalf("parley sync --once (round %d): %v\n%s", round, err, out)
		}
		left := r.count(`SELECT count(*) FROM outbox WHERE state IN ('pending', 'in_flight')`)
		if left == 0 {
			return
		}
		if round == 20 {
			r.t.Fatalf("%d jobs still waiting after %d catch-up runs:\n%s", left, round, out)
		}
		if !plan.waitLeases {
			r.t.Fatalf("%d jobs left after a catch-up run with no lease to wait out:\n%s", left, out)
		}
		// Sleep until the next job is due (leases are settled at the
		// next claim, then wait their backoff).
		due := r.count(`SELECT coalesce(min(CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END), 0)
			FROM outbox WHERE state IN ('pending', 'in_flight')`)
		wait := max(time.Until(time.UnixMilli(int64(due))), 0) + time.Second
		r.t.Logf("catch-up run %d left %d jobs waiting; next due in %s", round, left, wait.Round(time.Second))
		time.Sleep(wait)
	}
}

// verify checks the end state and returns the figures: messages missing
// from HighLevel, messages recorded more than once, and messages whose
// record a restarted child found by altId instead of recording again.
func (r *crashRig) verify(ids []string) (lost, duplicated, foundAfterKill int) {
	r.t.Helper()
	r.closeDB()
	t := r.t
	byAlt := map[string]int{}
	ghlMsg := map[string]string{} // GHL message id -> altId
	for _, cv := range r.gs.Conversations() {
		for _, m := range r.gs.Messages(cv.ID) {
			if m.AltID != "" {
				byAlt[m.AltID]++
				ghlMsg[m.ID] = m.AltID
			}
		}
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		switch n := byAlt[id]; {
		case n == 0:
			lost++
		case n > 1:
			duplicated++
		}
	}
	for alt := range byAlt {
		if !want[alt] {
			t.Errorf("HighLevel holds altId %s, which is no ActiveDEMAND message", alt)
		}
	}
	if lost+duplicated > 0 {
		t.Errorf("%d of %d messages lost, %d duplicated in HighLevel", lost, len(ids), duplicated)
	}
	if tr := r.gs.Traffic(); tr.Deliveries != 0 {
		t.Errorf("HighLevel delivered %d messages to customers; mirroring must only record", tr.Deliveries)
	}
	if n, want := len(r.gs.Contacts()), len(r.as.Contacts()); n != want {
		t.Errorf("HighLevel has %d contacts for ActiveDEMAND's %d", n, want)
	}

	db, err := store.Open(context.Background(), filepath.Join(store.ModeDir(r.dir, false), store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := db.OutboxCountsByKind(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if q := counts[engine.JobMirrorMessage]; q[store.OutboxDone] != len(ids) || q[store.OutboxPending]+q[store.OutboxInFlight]+q[store.OutboxDead] != 0 {
		t.Errorf("message jobs = %v, want all %d done", q, len(ids))
	}
	// History agrees with the id map: each message has one settled record
	// row (ok, or skipped when a restarted child found the record a
	// killed one made), naming the GHL message the id map links it to,
	// which carries the message's id as altId.
	settled := map[string][]store.HistoryEntry{}
	f := store.HistoryFilter{Limit: store.MaxHistoryLimit}
	for {
		page, err := db.HistoryPage(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page {
			if (h.Operation == store.OpInboundRecord || h.Operation == store.OpOutboundRecord) &&
				(h.Outcome == store.OutcomeOK || h.Outcome == store.OutcomeSkipped) {
				settled[h.LocalID] = append(settled[h.LocalID], h)
			}
		}
		if len(page) < f.Limit {
			break
		}
		f.BeforeID = page[len(page)-1].ID
	}
	bad := 0
	for _, id := range ids {
		linked, ok, err := db.GHLIDFor(context.Background(), store.KindMessage, id)
		if err != nil {
			t.Fatal(err)
		}
		rows := settled[id]
		if !ok || len(rows) != 1 || rows[0].RemoteID != linked || ghlMsg[linked] != id {
			if bad++; bad <= 10 {
				t.Errorf("message %s: history %+v, id map %q (linked %v), GHL message's altId %q", id, rows, linked, ok, ghlMsg[linked])
			}
			continue
		}
		if rows[0].Outcome == store.OutcomeSkipped {
			foundAfterKill++
		}
	}
	if bad > 10 {
		t.Errorf("... %d messages in all where history and the id map disagree", bad)
	}
	if len(settled) != len(ids) {
		t.Errorf("history has settled record rows for %d messages, want %d", len(settled), len(ids))
	}
	return lost, duplicated, foundAfterKill
}

func (r *crashRig) open() *sql.DB {
	r.t.Helper()
	if r.db == nil {
		db, err := sql.Open("sqlite", filepath.Join(store.ModeDir(r.dir, false), store.DatabaseFile)+"?_pragma=busy_timeout(5000)")
		if err != nil {
			r.t.Fatal(err)
		}
		r.db = db
	}
	return r.db
}

func (r *crashRig) closeDB() {
	if r.db != nil {
		_ = r.db.Close()
		r.db = nil
	}
}

// count runs a query answering one number; before the first child has
// made the database, it is 0.
func (r *crashRig) count(query string) int64 {
	r.t.Helper()
	path := filepath.Join(store.ModeDir(r.dir, false), store.DatabaseFile)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return 0
	}
	var n int64
	if err := r.open().QueryRow(query).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0 // killed before its migrations committed
		}
		r.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// progress is how many jobs are queued plus how many are done.
func (r *crashRig) progress() int64 {
	return r.count(`SELECT count(*) + coalesce(sum(state = 'done'), 0) FROM outbox`)
}

// claimable is how much work a child could do now: messages not yet
// queued and jobs due. Jobs a killed child holds wait for their lease.
func (r *crashRig) claimable(messages int) int64 {
	queued := r.count(`SELECT count(*) FROM outbox WHERE kind = '` + engine.JobMirrorMessage + `'`)
	due := r.count(fmt.Sprintf(`SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= %d`, time.Now().UnixMilli()))
	return int64(messages) - queued + due
}

// expireLeases moves the leases a killed child held an hour into the
// past (see crashPlan.waitLeases).
func (r *crashRig) expireLeases() {
	r.t.Helper()
	if r.count(`SELECT count(*) FROM outbox WHERE state = 'in_flight'`) == 0 {
		return
	}
	past := time.Now().Add(-time.Hour).UnixMilli()
	if _, err := r.open().Exec(`UPDATE outbox SET lease_until = ? WHERE state = 'in_flight'`, past); err != nil {
		r.t.Fatal(err)
	}
}
